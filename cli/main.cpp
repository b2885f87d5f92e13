// The `tether` binary: parses the command line and runs the subcommand.
#include "cli/coordinator_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/export_command.hpp"
#include "cli/generate_command.hpp"
#include "cli/inspect_command.hpp"
#include "cli/node_command.hpp"
#include "cli/options.hpp"
#include "cli/simulate_command.hpp"
#include "cli/train_command.hpp"
#include "core/blas.hpp"

#include <cstdlib>
#include <iostream>
#include <malloc.h>
#include <unistd.h>

int main(int argc, char** argv) {
  using namespace tether;
  restart_with_better_blas(argv);
  // Gradient and parameter slices are a few hundred KB each. glibc would serve them
  // with mmap and hand them back to the kernel on free, so every step paid page faults
  // (about 15% of a shard's time in bench/throughput). Keep them on the heap instead.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  if (argc > 1 && std::string(argv[1]) == "export")
    return export_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "generate")
    return generate_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "inspect")
    return inspect_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "coordinator")
    return coordinator_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "node")
    return node_command(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "simulate")
    return simulate_command(argc - 1, argv + 1);
  auto parsed = parse_command_line(argc, argv);
  if (!parsed) {
    std::cerr << "tether: " << parsed.error().message() << "\n";
    return exit_usage;
  }
  if (parsed->show_version) {
    std::cout << version_text() << "\n";
    return exit_ok;
  }
  if (parsed->show_help) {
    std::cout << help_text(parsed->command);
    return exit_ok;
  }
  if (parsed->command == "train")
    return train_command(parsed->config);
  std::cerr << help_text("");
  return exit_usage;
}
