// The node agent: the actor of a `tether node` process. It joins the coordinator,
// loads the job's training data from the node's own disk, checks it against the
// coordinator's fingerprint, and then spawns here whatever the supervisor places here
// (shards and workers), answering their handles. The supervisor monitors those actors
// itself; the loss of the node process is the loss of all of them.
//
//   hello --ticket--> load data --ready--> serving (place ...) --finished | drained--> done
//     \--refused--> done (failure)      \--data differs--> done (failure)
//
// SIGTERM on the node (the `drain` message from the node's main thread): the agent asks
// the supervisor, through the registrar, to move its work away and ends when the
// supervisor answers drained (at once when nothing was placed here).
// The coordinator lost (connection closed, heartbeat timeout) ends the agent with a
// failure; so does a refusal. The outcome is written to `outcome` before the agent ends.
#pragma once

#include "actors/job_plan.hpp"
#include "messages/cluster.hpp"
#include "messages/version.hpp"
#include "actors/job_config.hpp"
#include "core/dataset.hpp"
#include "core/model.hpp"

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

namespace tether {


/// How the agent ended. `code`: 0 done (finished or drained), 1 refused or coordinator
/// lost, 3 data problem (cli/exit_codes.hpp meanings).
struct node_outcome {
  int code = 1;
  std::string message;
};

struct node_agent_args {
  caf::actor registrar;
  node_hello hello;
  /// Builds the job's plan from the ticket (parses its options with the node's --data-dir,
  /// loads the data, builds the model: actors/job_plan.hpp). Runs inside the agent, once.
  std::function<result<std::shared_ptr<const job_plan>>(const node_ticket&)> make_plan;
  std::function<void(const std::string&)> note; ///< lines for the operator (any thread)
  std::shared_ptr<node_outcome> outcome;
};

struct node_agent_state {
  static inline const char* name = "tether.node";
  node_agent_args args;
  std::shared_ptr<const job_plan> plan;
  caf::actor supervisor;   ///< who placed work here (learned from the first placement)
  size_t shards = 0, workers = 0;
  std::vector<caf::actor> spawned;  ///< ended with the agent: nothing outlives the node's job
  bool draining = false;
  bool finished = false;   ///< the coordinator said the job is over
};

caf::behavior node_agent_behavior(caf::stateful_actor<node_agent_state>* self,
                                  node_agent_args args);

} // namespace tether
