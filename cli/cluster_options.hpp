// The command lines of `tether coordinator` and `tether node` (docs/cli.md):
//
//   tether coordinator --listen=HOST:PORT [--min-nodes=N] (--tls-dir=DIR | --insecure)
//                      [--heartbeat=1s] [--heartbeat-timeout=5s] [--place-timeout=10s]
//                      [--handshake-timeout=10s] [--max-frame=64M]
//                      <every tether train option>
//   tether node --join=HOST:PORT (--tls-dir=DIR | --insecure) [--cores=N] [--name=NAME]
//               [--data-dir=DIR] [--heartbeat=1s] [--heartbeat-timeout=5s]
//               [--join-timeout=60s] [--gpus=LIST] [--handshake-timeout=10s] [--max-frame=64M]
//
// The coordinator's cluster options are taken out of argv by name; everything else is
// parsed as `tether train` options (same table, same --config file). Durations are a
// number with ms or s ("500ms", "2s", "1.5s"). The network settings are checked by
// actors/network.hpp check_network() (files, loopback rule) in the commands, not here.
// Failures are errc::invalid_argument (exit code 2).
#pragma once

#include "actors/job.hpp"
#include "cli/export_command.hpp"
#include "core/status.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace tether {

struct coordinator_args {
  bool show_help = false;
  cluster_config cluster;
  std::vector<std::string> train_args; ///< the rest, parsed as `tether train` options
};

struct node_args {
  bool show_help = false;
  host_port join;
  network_options net;
  uint32_t cores = 0;                  ///< 0: the machine's hardware threads
  std::string name;                    ///< empty: the host name
  std::string data_dir;                ///< empty: the job's --data-dir
  std::chrono::milliseconds join_timeout{60000};
  std::string gpus;                    ///< refused in this build (no GPU workers yet)
};

/// "500ms", "2s", "1.5s" -> milliseconds; `option` names it in the message.
result<std::chrono::milliseconds> parse_duration(const std::string& text,
                                                 const std::string& option);

/// "64M", "1G", "1048576" -> bytes, for --max-frame: from net::min_max_frame to
/// net::max_max_frame; `option` names it in the message.
result<uint64_t> parse_max_frame(const std::string& text, const std::string& option);

/// argv[0] is "coordinator".
result<coordinator_args> parse_coordinator_args(int argc, const char* const* argv);
/// argv[0] is "node".
result<node_args> parse_node_args(int argc, const char* const* argv);

std::string coordinator_help();
std::string node_help();

} // namespace tether
