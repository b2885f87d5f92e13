// A main() for the fuzz targets where libFuzzer is not available (the GCC build): runs
// LLVMFuzzerTestOneInput over seed files, then over deterministic pseudo-random
// mutations of them (bit flips, byte and word overwrites, truncation, insertion,
// deletion, duplication, splicing). No coverage feedback: a smoke fuzzer that runs as a
// plain test, and a way to replay a libFuzzer crash file under GCC.
//
//   tether_fuzz_<target> [--mutations=N] [--seed=S] [--max-seconds=T]
//                        [--artifact-prefix=P] PATH...
//
// PATH is a seed file or a directory of them. The same N and S give the same inputs.
// When an input crashes (abort, an escaping exception, a sanitizer report, a fatal
// signal), it is written to <P>crash-<target>-<n> (P defaults to "./") and its path and
// hex are printed; the exit status is then non-zero.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "core/splitmix64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Present when a sanitizer runtime is linked in (GCC's or clang's): called before a
// sanitizer report ends the process, where no signal handler of ours would run.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

// -- crash reporting (async-signal-safe: only write, open, close) --------------------------

const std::vector<char>* current_input = nullptr;
const char* current_origin = "";
char crash_path[4096] = "";

void say(const char* text) {
  ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

void report_crash() {
  if (!current_input)
    return;
  const auto& in = *current_input;
  current_input = nullptr; // once, even if the report itself fails
  say("\n== standalone fuzz: crash on ");
  say(current_origin);
  int fd = ::open(crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t ignored = ::write(fd, in.data(), in.size());
    (void)ignored;
    ::close(fd);
    say("\n== input written to ");
    say(crash_path);
  }
  say("\n== input hex (first 256 bytes): ");
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < in.size() && i < 256; ++i) {
    char hex[2] = {digits[(in[i] >> 4) & 15], digits[in[i] & 15]};
    ssize_t ignored = ::write(STDERR_FILENO, hex, 2);
    (void)ignored;
  }
  say("\n");
}

void on_signal(int sig) {
  report_crash();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_crash_reporting() {
  if (__sanitizer_set_death_callback)
    __sanitizer_set_death_callback(report_crash);
  // With a sanitizer its own SEGV handler reports better; abort is ours either way.
  std::signal(SIGABRT, on_signal);
  if (!__sanitizer_set_death_callback)
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE})
      std::signal(sig, on_signal);
}

// -- deterministic mutations --------------------------------------------------------------

using tether::splitmix64;


// Values that sit on the edges of sizes, counts and pointer fields.
constexpr uint32_t interesting[] = {0,          1,          2,          4,          7,
                                    8,          16,         0x7f,       0x80,       0xff,
                                    0x100,      0xffff,     0x10000,    0x7fffffff, 0x80000000,
                                    0xfffffffe, 0xffffffff, 0x1fffffff, 0x20000000};

void mutate_once(std::vector<char>& b, const std::vector<std::vector<char>>& seeds,
                 splitmix64& rng) {
  switch (rng.below(9)) {
  case 0: // flip one bit
    if (!b.empty())
      b[rng.below(b.size())] ^= static_cast<char>(1u << rng.below(8));
    break;
  case 1: // one byte: random or interesting
    if (!b.empty())
      b[rng.below(b.size())] =
          static_cast<char>(rng.below(2) ? rng.next() : interesting[rng.below(10)]);
    break;
  case 2: // an aligned 32-bit word (segment tables, pointer halves, list sizes)
    if (b.size() >= 4) {
      uint32_t v = interesting[rng.below(std::size(interesting))];
      if (rng.below(4) == 0)
        v = static_cast<uint32_t>(b.size() / 8 + rng.below(3)) - 1;
      std::memcpy(b.data() + rng.below(b.size() / 4) * 4, &v, 4);
    }
    break;
  case 3: // truncate, half the time to whole words
    if (!b.empty()) {
      size_t n = rng.below(b.size());
      b.resize(rng.below(2) ? n / 8 * 8 : n);
    }
    break;
  case 4: { // insert 1..16 random bytes, or one word at a word boundary
    bool word = rng.below(2);
    size_t at = rng.below(b.size() + 1), n = word ? 8 : 1 + rng.below(16);
    if (word)
      at = at / 8 * 8;
    std::vector<char> bytes(n);
    for (auto& c : bytes)
      c = static_cast<char>(rng.below(4) == 0 ? 0 : rng.next());
    b.insert(b.begin() + static_cast<ptrdiff_t>(at), bytes.begin(), bytes.end());
    break;
  }
  case 5: // delete a range
    if (!b.empty()) {
      size_t at = rng.below(b.size()), n = 1 + rng.below(std::min<size_t>(b.size() - at, 64));
      b.erase(b.begin() + static_cast<ptrdiff_t>(at), b.begin() + static_cast<ptrdiff_t>(at + n));
    }
    break;
  case 6: // copy one chunk over another
    if (b.size() >= 2) {
      size_t n = 1 + rng.below(std::min<size_t>(b.size() / 2, 32));
      size_t from = rng.below(b.size() - n + 1), to = rng.below(b.size() - n + 1);
      std::memmove(b.data() + to, b.data() + from, n);
    }
    break;
  case 7: { // splice: our head, another seed's tail
    const auto& other = seeds[rng.below(seeds.size())];
    size_t cut = rng.below(b.size() + 1), from = rng.below(other.size() + 1);
    b.resize(cut);
    b.insert(b.end(), other.begin() + static_cast<ptrdiff_t>(from), other.end());
    break;
  }
  case 8: // zero a word-aligned run (null pointers, empty data sections)
    if (b.size() >= 8) {
      size_t at = rng.below(b.size() / 8) * 8;
      std::memset(b.data() + at, 0, std::min<size_t>(8 * (1 + rng.below(2)), b.size() - at));
    }
    break;
  }
}

// -- command line ------------------------------------------------------------------------

struct options {
  uint64_t mutations = 1000;
  uint64_t seed = 1;
  double max_seconds = 0; // 0: no limit
  std::string artifact_prefix = "./";
  std::vector<std::string> paths;
};

bool starts(const std::string& arg, const char* prefix, std::string& value) {
  if (arg.rfind(prefix, 0) != 0)
    return false;
  value = arg.substr(std::strlen(prefix));
  return true;
}

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    char* end = nullptr;
    if (starts(arg, "--mutations=", value))
      opt.mutations = std::strtoull(value.c_str(), &end, 10);
    else if (starts(arg, "--seed=", value))
      opt.seed = std::strtoull(value.c_str(), &end, 10);
    else if (starts(arg, "--max-seconds=", value))
      opt.max_seconds = std::strtod(value.c_str(), &end);
    else if (starts(arg, "--artifact-prefix=", value))
      opt.artifact_prefix = value;
    else if (arg.rfind("-", 0) == 0) {
      std::fprintf(stderr, "unknown option %s\n", arg.c_str());
      return false;
    } else
      opt.paths.push_back(arg);
    if (end && (*end != '\0' || value.empty())) {
      std::fprintf(stderr, "not a number in %s\n", arg.c_str());
      return false;
    }
  }
  return !opt.paths.empty();
}

struct seed_file {
  std::string path;
  std::vector<char> bytes;
};

std::vector<seed_file> read_seeds(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& entry : fs::directory_iterator(p, ec))
        if (entry.is_regular_file(ec))
          in_dir.push_back(entry.path().string());
      std::sort(in_dir.begin(), in_dir.end()); // the same order everywhere
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "warning: %s is neither a file nor a directory\n", p.c_str());
    }
  }
  std::vector<seed_file> seeds;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    seeds.push_back({f, {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}});
  }
  return seeds;
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(stderr,
                 "usage: %s [--mutations=N] [--seed=S] [--max-seconds=T] "
                 "[--artifact-prefix=P] SEED_FILE_OR_DIR...\n",
                 argv[0]);
    return 2;
  }
  const auto seeds = read_seeds(opt.paths);
  if (seeds.empty()) {
    std::fprintf(stderr, "%s: no seed files found (generate them: see tests/fuzz/CMakeLists.txt)\n",
                 argv[0]);
    return 2;
  }
  std::vector<std::vector<char>> seed_bytes;
  for (const auto& s : seeds)
    seed_bytes.push_back(s.bytes);
  std::string target = std::filesystem::path(argv[0]).filename().string();
  install_crash_reporting();
  const auto start = std::chrono::steady_clock::now();

  // Each input is run from its own heap copy so that reading past its end is caught
  // by ASan (when built with it), as libFuzzer does.
  std::string origin;
  auto run = [&](const std::vector<char>& in, const std::string& what, const std::string& name) {
    origin = what;
    current_origin = origin.c_str();
    std::snprintf(crash_path, sizeof crash_path, "%scrash-%s-%s", opt.artifact_prefix.c_str(),
                  target.c_str(), name.c_str());
    current_input = &in;
    std::unique_ptr<uint8_t[]> copy(new uint8_t[in.size()]);
    std::copy(in.begin(), in.end(), copy.get());
    LLVMFuzzerTestOneInput(copy.get(), in.size());
    current_input = nullptr;
  };

  for (size_t i = 0; i < seeds.size(); ++i)
    run(seeds[i].bytes, "seed file " + seeds[i].path, "seed-" + std::to_string(i));

  splitmix64 rng{opt.seed};
  uint64_t done = 0;
  for (; done < opt.mutations; ++done) {
    if (opt.max_seconds > 0 && done % 256 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
            opt.max_seconds)
      break;
    const size_t from = rng.below(seeds.size());
    std::vector<char> input = seeds[from].bytes;
    const size_t steps = 1 + rng.below(4);
    for (size_t k = 0; k < steps; ++k)
      mutate_once(input, seed_bytes, rng);
    run(input,
        "mutation " + std::to_string(done) + " (--seed=" + std::to_string(opt.seed) + ") of " +
            seeds[from].path,
        std::to_string(done));
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %zu seed files + %llu mutations, no crash, %.1f s\n", target.c_str(),
              seeds.size(), static_cast<unsigned long long>(done), secs);
  return 0;
}
