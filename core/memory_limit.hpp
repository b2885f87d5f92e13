// How much memory this process may use, so that a size announced by a file or asked for
// by an option can be refused before it is allocated (rather than ending in
// std::bad_alloc or the OOM killer).
//
// The ceiling is the lowest of: the machine's physical memory (sysconf), the cgroup's
// limit (cgroup v2 memory.max, or v1 memory.limit_in_bytes, of this process's cgroup and
// its parents), RLIMIT_AS (ulimit -v) less the address space already mapped (libraries,
// thread stacks: VmSize) and RLIMIT_DATA (ulimit -d). Each is read once per call; a limit
// that cannot be read is left out. Thread-safety: plain functions, no shared state.
#pragma once

#include <cstdint>
#include <string>

namespace tether {

struct memory_ceiling {
  uint64_t bytes = UINT64_MAX; ///< the lowest limit found
  std::string source;          ///< which one: "physical memory", "cgroup memory.max", ...
};

/// The lowest memory limit of this process (see above).
memory_ceiling process_memory_ceiling();

/// The memory the kernel could give without swapping now (MemAvailable of /proc/meminfo),
/// or UINT64_MAX when unknown.
uint64_t available_memory();

/// "1.5 GiB", "312 MiB", "900 bytes": a size for messages, three significant digits.
std::string format_bytes(uint64_t bytes);

/// a * b, or UINT64_MAX when that overflows (sizes announced by hostile inputs).
constexpr uint64_t saturating_mul(uint64_t a, uint64_t b) {
  return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}
/// a + b, or UINT64_MAX when that overflows.
constexpr uint64_t saturating_add(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

} // namespace tether
