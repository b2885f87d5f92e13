// The `--faults=PLAN` option: a small, seeded fault-injection plan.
//
// Grammar (statements separated by newlines or ';'; '#' starts a comment that runs to the
// end of the line; words separated by spaces or tabs; case-sensitive, lower case):
//   seed N                                    the seed of every random fault (default 1)
//   kill (worker|shard|standby) I TRIGGER     the actor ends
//   exit node I TRIGGER                       the node process ends abruptly
//   stop node I for D TRIGGER                 SIGSTOP the node for D (> 0), then SIGCONT
//   flip checkpoint TRIGGER                   flip bytes in the newest checkpoint file
//                                             written at or after the trigger
//   (drop|duplicate|flip) (push|pull) P       per message of that kind, with probability P
//   delay (push|pull) P D                     ... delayed by D (> 0)
//   straggler worker I F                      worker I's steps take F (>= 1) times as long
//   TRIGGER  := "at step" N | "at" T          N updates applied to the whole model, or T
//                                             after training starts
//   I, N     := a whole number ("0", "42"); an index is below 2^32, nodes count in join
//               order from 0
//   D, T     := a number with suffix "s" or "ms" ("2s", "1.5s", "300ms"), >= 0
//   P        := a probability "0.01" in [0, 1] or a percentage "1%" in [0%, 100%]
// A repeated message-fault statement (same fault, same kind) or straggler statement (same
// worker) replaces the earlier one; `seed` likewise. Timed faults stay in written order.
//
// Errors: errc::invalid_argument, naming the statement (1-based, counting statements, not
// lines), its text, what is wrong and what is expected. A plan with no statement is an
// error; a plan of `seed N` alone parses and is empty(). Plain functions, no shared state.
#pragma once

#include "core/status.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether {

enum class fault_action { kill, exit_node, stop_node, flip_checkpoint };
enum class fault_target { worker, shard, standby, node, checkpoint };

struct fault_trigger {
  bool at_time = false; ///< true: `seconds` after training starts; false: at `step`
  uint64_t step = 0;    ///< updates applied to the whole model
  double seconds = 0;
};

struct timed_fault {
  fault_action action = fault_action::kill;
  fault_target target = fault_target::worker;
  uint32_t index = 0; ///< worker/shard/standby index, or node index in join order (0-based)
  fault_trigger when;
  double duration_seconds = 0; ///< stop_node only
  std::string text;            ///< the statement as written (trimmed), for logs
};

struct message_faults { ///< per message of one kind, each a probability in [0, 1]
  double drop = 0, duplicate = 0, delay = 0, flip = 0;
  double delay_seconds = 0; ///< how long a delayed message waits
  bool any() const;
};

struct fault_plan {
  uint64_t seed = 1;
  std::vector<timed_fault> timed; ///< in the order written
  message_faults push, pull;
  std::vector<std::pair<uint32_t, double>> stragglers; ///< (worker, factor >= 1)
  bool empty() const;                                  ///< no fault at all (seed alone is empty)
  std::string describe() const; ///< one line per fault, seed first, for the log at start
};

/// Parses plan text: statements separated by newlines or ';', '#' starts a comment.
result<fault_plan> parse_fault_plan(std::string_view text);

/// The option's value: text containing a space, tab, newline or ';' (or nothing at all) is a
/// plan itself; otherwise it is the path of a plan file (errc::not_found / io_error naming
/// the path when it cannot be read; a parse error is prefixed with the path).
result<fault_plan> load_fault_plan(const std::string& value);

} // namespace tether
