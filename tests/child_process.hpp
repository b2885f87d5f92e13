// A child process for tests that run an outside tool (a Prometheus server, Chromium): its
// own process group, output to a log file, stopped and reaped at scope end whatever happens.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tether::testing {

namespace fs = std::filesystem;

/// A child process in its own process group, stopped (SIGTERM, then SIGKILL after 5 s) and
/// reaped at scope end whatever happens in the test.
struct child_process {
  pid_t pid = -1;
  child_process(const std::vector<std::string>& argv, const fs::path& log) {
    std::fflush(nullptr); // or the child would write the parent's buffered output again
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      FILE* out = std::freopen(log.c_str(), "w", stdout);
      (void)out;
      ::dup2(::fileno(stdout), ::fileno(stderr));
      std::vector<char*> args;
      for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::setpgid(pid, pid); // also here: no race with the child's own call
  }
  /// Whether the child still runs (reaps it when it has exited).
  bool running() {
    if (pid < 0)
      return false;
    if (::waitpid(pid, nullptr, WNOHANG) == pid)
      pid = -1;
    return pid >= 0;
  }
  /// Waits up to `limit` for the child to exit; its exit code, or -1 if it had to be stopped
  /// (then timed_out is set) or was killed by a signal (then signal holds it).
  int wait_for(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (pid >= 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        if (WIFSIGNALED(status))
          signal = WTERMSIG(status);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    timed_out = pid >= 0;
    stop();
    return -1;
  }
  int signal = 0;         ///< the signal that ended the child, if one did
  bool timed_out = false; ///< wait_for had to stop the child
  /// SIGTERM to the whole group, SIGKILL after 5 s (a browser leaves helpers behind).
  void stop() {
    if (!running())
      return;
    ::kill(-pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (running()) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~child_process() { stop(); }
};

} // namespace tether::testing
