// What every benchmark prints about the machine it ran on: the CPU, the load average and
// the time, so that a figure in bench/RESULTS.md can be traced to its conditions.
#pragma once

#include <ctime>
#include <fstream>
#include <string>

namespace tether::bench {

/// The first line of a file ("" if it cannot be read): /proc/loadavg.
inline std::string read_first_line(const char* path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

/// The CPU's model name from /proc/cpuinfo, or "unknown".
inline std::string cpu_model() {
  std::ifstream in{"/proc/cpuinfo"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown";
}

/// "2026-11-28 02:37:30 UTC".
inline std::string now_text() {
  auto t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

} // namespace tether::bench
