// Skipping a test case that cannot run here (a tool, a package or a permission missing).
// ctest runs one test case per process, and every test binary's cases are registered with
// SKIP_RETURN_CODE 77 (tests/CMakeLists.txt): exiting with 77 shows the case as skipped,
// with the reason, instead of as passed. Run by hand, a binary stops at the first skip; run
// one case with --test-case=NAME or go through ctest.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tether::testing {

[[noreturn]] inline void skip_test(const std::string& reason) {
  std::printf("skipped: %s\n", reason.c_str());
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(77);
}

} // namespace tether::testing
