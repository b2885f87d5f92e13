#include "messages/version.hpp"

#include <cstdlib>

#ifndef TETHER_VERSION
#define TETHER_VERSION "unknown"
#endif
#ifndef TETHER_SCHEMA
#define TETHER_SCHEMA "unknown"
#endif

namespace tether {

std::string tether_version() {
  return TETHER_VERSION;
}

std::string schema_identity() {
  return TETHER_SCHEMA;
}

std::string advertised_version() {
  const char* claimed = std::getenv("TETHER_TEST_CLAIM_VERSION");
  return claimed ? claimed : tether_version();
}

std::string coordinator_problem(const node_ticket& t) {
  if (t.coordinator_version == tether_version() && t.coordinator_schema == schema_identity())
    return {};
  return "the coordinator runs tether " + t.coordinator_version + " (schema " + t.coordinator_schema
         + "), this node tether " + tether_version() + " (schema " + schema_identity()
         + "); install the same build on every machine";
}

std::string compatibility_problem(const node_hello& hello) {
  if (hello.version == tether_version() && hello.schema == schema_identity())
    return {};
  return "node " + hello.name + " runs tether " + hello.version + " (schema " + hello.schema
         + "), the coordinator tether " + tether_version() + " (schema " + schema_identity()
         + "); install the same build on every machine";
}

} // namespace tether
