// Running the built `tether` binary from a test, its output to files.
#pragma once

#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace tether::testing {

/// Runs the tether binary with `args` (no shell: the arguments go as they are); stdout to
/// `out`, stderr to `err` (both to `out` when `err` is empty or equal). Returns the exit
/// code (1000 when a signal ended it).
inline int run_tether(const std::vector<std::string>& args, const std::string& out,
                      const std::string& err = "") {
  const std::string bin = std::string(TETHER_BINARY_DIR) + "/cli/tether";
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen(out.c_str(), "w", stdout);
    (void)o;
    if (err.empty() || err == out) {
      dup2(fileno(stdout), fileno(stderr));
    } else {
      FILE* e = std::freopen(err.c_str(), "w", stderr);
      (void)e;
    }
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000;
}

} // namespace tether::testing
