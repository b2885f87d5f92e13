// The memory ceiling of this process (core/memory_limit.hpp).
#include "core/memory_limit.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>

#include <sys/resource.h>
#include <unistd.h>

namespace tether {

namespace {

/// A whole number at the start of the file, or UINT64_MAX ("max", missing, unreadable).
uint64_t read_limit_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text.empty() || text == "max")
    return UINT64_MAX;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return UINT64_MAX;
    value = saturating_add(saturating_mul(value, 10), static_cast<uint64_t>(c - '0'));
  }
  return value;
}

/// The lowest limit of `file` in the cgroup directory `dir` and each of its ancestors
/// below `root` (a parent's limit applies to its children).
uint64_t lowest_along(const std::string& root, std::string dir, const std::string& file) {
  uint64_t lowest = UINT64_MAX;
  for (;;) {
    lowest = std::min(lowest, read_limit_file(root + dir + "/" + file));
    if (dir.empty() || dir == "/")
      return lowest;
    auto slash = dir.rfind('/');
    dir = slash == std::string::npos ? "" : dir.substr(0, slash);
  }
}

/// The cgroup memory limit of this process: v2 ("0::/path"), else v1 ("N:memory:/path").
uint64_t cgroup_limit(std::string& which) {
  std::ifstream in("/proc/self/cgroup");
  uint64_t lowest = UINT64_MAX;
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos)
      continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      uint64_t v2 = lowest_along("/sys/fs/cgroup", path, "memory.max");
      if (v2 < lowest) {
        lowest = v2;
        which = "the cgroup's memory.max";
      }
    } else if (std::string_view(controllers).find("memory") != std::string_view::npos) {
      uint64_t v1 = lowest_along("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes");
      if (v1 < lowest) {
        lowest = v1;
        which = "the cgroup's memory.limit_in_bytes";
      }
    }
  }
  return lowest;
}

/// The address space this process has mapped (VmSize), or 0 when unknown.
uint64_t mapped_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("VmSize:"))
      continue;
    std::istringstream fields(line.substr(7));
    uint64_t kib = 0;
    if (fields >> kib)
      return saturating_mul(kib, 1024);
  }
  return 0;
}

} // namespace

memory_ceiling process_memory_ceiling() {
  memory_ceiling out;
  auto consider = [&](uint64_t bytes, const std::string& source) {
    if (bytes < out.bytes) {
      out.bytes = bytes;
      out.source = source;
    }
  };
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0)
    consider(saturating_mul(static_cast<uint64_t>(pages), static_cast<uint64_t>(page)),
             "the machine's physical memory");
  std::string which;
  uint64_t cgroup = cgroup_limit(which);
  consider(cgroup, which);
  struct rlimit lim;
  if (::getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    // The libraries and thread stacks already mapped count against it.
    uint64_t mapped = std::min<uint64_t>(mapped_bytes(), lim.rlim_cur);
    consider(lim.rlim_cur - mapped, "the address-space limit RLIMIT_AS (ulimit -v), less the " +
                                        format_bytes(mapped) + " already mapped");
  }
  if (::getrlimit(RLIMIT_DATA, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
    consider(lim.rlim_cur, "the data-segment limit RLIMIT_DATA (ulimit -d)");
  return out;
}

uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("MemAvailable:"))
      continue;
    std::istringstream fields(line.substr(13));
    uint64_t kib = 0;
    if (fields >> kib)
      return saturating_mul(kib, 1024);
  }
  return UINT64_MAX;
}

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " bytes";
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 6) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text,
                value < 10    ? "%.2f %s"
                : value < 100 ? "%.1f %s"
                              : "%.0f %s",
                value, units[unit]);
  return text;
}

} // namespace tether
