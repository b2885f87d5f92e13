// Which build this is, and whether another process's build understands ours: a node and
// the coordinator compare both in the hello, before anything else is exchanged (the CAF
// type-ID blocks and the Cap'n Proto schemas must match for the rest to be understood).
#pragma once

#include "messages/types.hpp"

#include <string>

namespace tether {

/// "0.1.0"-style version of this build, and the identity of its message schemas: a hash
/// of every file in messages/ that defines what crosses a process (the .capnp schemas and
/// the headers of the types, their serialization and the actor interfaces), made by CMake.
std::string tether_version();
std::string schema_identity();

/// The version this process announces in a hello or a ticket: tether_version(), unless
/// the environment variable TETHER_TEST_CLAIM_VERSION (tests only) names another.
std::string advertised_version();

/// The refusal text when `hello` does not match this build; empty when it does.
std::string compatibility_problem(const node_hello& hello);

/// The node's side: the refusal text when the coordinator's ticket says it runs another
/// build; empty when it runs this one.
std::string coordinator_problem(const node_ticket& ticket);

} // namespace tether
