#include "cli/signals.hpp"

#include <atomic>
#include <csignal>

namespace tether {

namespace {

std::atomic<bool> stop_flag{false};

extern "C" void on_stop_signal(int sig) {
  stop_flag.store(true);
  std::signal(sig, SIG_DFL);
}

} // namespace

void install_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

bool stop_signal_received() {
  return stop_flag.load();
}

} // namespace tether
