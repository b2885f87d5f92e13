// The registrar: the coordinator's published actor, the door nodes come in by.
//
// A node says hello (version, schema, name, cores); the registrar refuses it with a
// reason (another build, a name already taken) or answers the job's ticket (options,
// model, the training set's fingerprint). Once the node has loaded and checked its data
// it says ready: the registrar monitors it and tells its subscriber (the job runner while
// the coordinator waits for --min-nodes, then the supervisor) node_up; a node's death
// (process gone, connection lost, heartbeat timeout) becomes node_down. At the end,
// (finished_atom) is passed to every live node, which then exits 0; the registrar
// answers once each has acknowledged or 3 s have passed.
//
// Lines for the operator ("node n1 joined ...") go to `runner` as (info_atom, text).
#pragma once

#include "messages/cluster.hpp"
#include "messages/version.hpp"

#include <caf/all.hpp>

#include <vector>

namespace tether {

struct registered_node {
  caf::actor agent;
  node_hello hello;
  bool alive = true;
};

struct registrar_state {
  static inline const char* name = "tether.registrar";
  node_ticket ticket;   ///< the accepted answer, sent to every compatible node
  caf::actor runner;
  caf::actor subscriber;
  std::vector<registered_node> nodes;
  bool finished = false;
};

caf::behavior registrar_behavior(caf::stateful_actor<registrar_state>* self, node_ticket ticket,
                                 caf::actor runner);

} // namespace tether
