#include "cli/coordinator_command.hpp"

#include "cli/cluster_options.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "cli/train_command.hpp"

#include <iostream>

namespace tether {

int coordinator_command(int argc, const char* const* argv) {
  auto parsed = parse_coordinator_args(argc, argv);
  if (!parsed) {
    std::cerr << "tether: " << parsed.error().message() << "\n";
    return exit_usage;
  }
  if (parsed->show_help) {
    std::cout << coordinator_help();
    return exit_ok;
  }
  auto& cluster = parsed->cluster;
  if (auto st = check_network(cluster.net, {cluster.listen.host}); !st) {
    std::cerr << "tether: " << st.message() << "\n";
    return exit_usage;
  }
  std::vector<const char*> train_argv{"tether", "train"};
  for (auto& a : parsed->train_args)
    train_argv.push_back(a.c_str());
  auto job = parse_command_line(static_cast<int>(train_argv.size()), train_argv.data());
  if (!job) {
    std::cerr << "tether: " << job.error().message() << "\n";
    return exit_usage;
  }
  if (!job->config.gpus.empty()) {
    std::cerr << "tether: --gpus: GPU workers run in `tether train --gpus` (one process) only; "
                 "placing them on cluster nodes is not built yet\n";
    return exit_usage;
  }
    return train_command(job->config, &cluster);
}

} // namespace tether
