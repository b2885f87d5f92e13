// Fuzz target: the checkpoint file reader, read_checkpoint (messages/checkpoint_file.hpp).
//
// read_checkpoint() takes a path (the in-memory decoder is internal to
// checkpoint_file.cpp), so each input is written to a file in a scratch directory of this
// process (in /dev/shm when it is writable: tmpfs, no disk) and read from there.
//
// Every file carries a crc32 of its body, so almost every mutation would stop at the
// checksum. To reach the code behind it, each input is tried twice: as it is, and, when
// the bytes parse as a Cap'n Proto message, with its crc32 field set to the checksum of
// its body (with_valid_crc below: the one place a test here reads checkpoint.capnp).
//
// Properties of one file:
// - a failure is errc::corrupt_data (the file exists and is readable) naming the file;
// - a success is a consistent checkpoint: shards contiguous over [0, total_params), every
//   tensor of its range's size, and no more payload than the traversal limit allows;
// - it round-trips: write_checkpoint() accepts it, reading that back gives the same value
//   bit for bit, and writing it again gives the same bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <zlib.h>

#include "checkpoint.capnp.h"
#include "messages/checkpoint_file.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace tether::fuzz {
namespace {

// This process's scratch directory, made on first use, removed at exit.
const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "";
    if (base.empty())
      base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
    std::string name = base + "/tether-fuzz-ckpt-XXXXXX";
    TETHER_FUZZ_CHECK(::mkdtemp(name.data()) != nullptr, "cannot make a scratch directory");
    return name;
  }();
  static const bool cleanup = [] {
    std::atexit([] {
      for (const auto& path : list_checkpoints(scratch_dir()))
        ::unlink(path.c_str());
      ::unlink((scratch_dir() + "/input").c_str());
      ::rmdir(scratch_dir().c_str());
    });
    return true;
  }();
  (void)cleanup;
  return dir;
}

void write_file(const std::string& path, std::span<const char> bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  TETHER_FUZZ_CHECK(fd >= 0, "cannot create the scratch file");
  const bool ok = bytes.empty() ||
                  ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  TETHER_FUZZ_CHECK(ok, "cannot write the scratch file");
}

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `bytes` with the CheckpointFile's crc32 set to the checksum of its body, or nothing if
// they do not parse far enough (or the root is not where a patch can reach it).
std::optional<std::vector<char>> with_valid_crc(std::span<const char> bytes) {
  if (bytes.size() < 16 || bytes.size() % 8 != 0)
    return std::nullopt;
  const size_t words = bytes.size() / 8;
  std::vector<capnp::word> aligned(words);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());
  uint32_t crc = 0;
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 2 * words + 4096; // as read_checkpoint's
    capnp::FlatArrayMessageReader reader({aligned.data(), words}, options);
    auto file = reader.getRoot<wire::CheckpointFile>();
    if (!file.hasBody())
      return std::nullopt;
    auto canonical = capnp::canonicalize(file.getBody());
    auto body = canonical.asBytes();
    crc = static_cast<uint32_t>(
        ::crc32(::crc32(0L, Z_NULL, 0), body.begin(), static_cast<uInt>(body.size())));
  } catch (...) { // the harness's own parse: a malformed input is simply not patched
    return std::nullopt;
  }
  // Where crc32 lives: the data section of the root struct, which segment 0's first word
  // points at (a struct pointer: offset in bits 2..31, data words in bits 32..47).
  const size_t segments = size_t{load_u32(bytes.data())} + 1;
  const size_t seg0 = (4 * (1 + segments) + 7) / 8 * 8;
  if (seg0 + 8 > bytes.size())
    return std::nullopt;
  uint64_t root;
  std::memcpy(&root, bytes.data() + seg0, 8);
  if ((root & 3) != 0 || ((root >> 32) & 0xffff) == 0)
    return std::nullopt; // a far pointer, or no data section
  const int64_t offset = static_cast<int32_t>(static_cast<uint32_t>(root)) >> 2;
  const int64_t at = static_cast<int64_t>(seg0) + 8 * (1 + offset);
  if (at < static_cast<int64_t>(seg0) || at + 4 > static_cast<int64_t>(bytes.size()))
    return std::nullopt;
  std::vector<char> patched(bytes.begin(), bytes.end());
  std::memcpy(patched.data() + at, &crc, 4);
  return patched;
}

bool same(const shard_state& a, const shard_state& b) {
  if (a.index != b.index || a.range_begin != b.range_begin || a.range_end != b.range_end ||
      a.version != b.version || !same_floats(a.params, b.params) ||
      a.slots.size() != b.slots.size() || a.optimizer_steps != b.optimizer_steps ||
      a.applied_clocks != b.applied_clocks)
    return false;
  for (size_t k = 0; k < a.slots.size(); ++k)
    if (!same_floats(a.slots[k], b.slots[k]))
      return false;
  return true;
}

bool same(const checkpoint_data& a, const checkpoint_data& b) {
  if (a.updates != b.updates || a.model != b.model ||
      a.layout_fingerprint != b.layout_fingerprint || a.total_params != b.total_params ||
      a.optimizer != b.optimizer || a.consistency != b.consistency || a.seed != b.seed ||
      a.worker_steps != b.worker_steps || a.shards.size() != b.shards.size() ||
      a.config != b.config || a.created_unix_ms != b.created_unix_ms)
    return false;
  for (size_t i = 0; i < a.shards.size(); ++i)
    if (!same(a.shards[i], b.shards[i]))
      return false;
  return true;
}

void check_consistent(const checkpoint_data& data, size_t file_size) {
  TETHER_FUZZ_CHECK(!data.shards.empty(), "a checkpoint without shards was accepted");
  uint64_t next = 0;
  size_t payload = data.model.size() + data.optimizer.size() + data.consistency.size() +
                   data.config.size() + 8 * data.worker_steps.size();
  for (const auto& s : data.shards) {
    TETHER_FUZZ_CHECK(s.range_begin == next && s.range_end >= s.range_begin,
                      "accepted shards that are not contiguous");
    TETHER_FUZZ_CHECK(s.params.size() == s.range_end - s.range_begin,
                      "accepted params of the wrong size");
    for (const auto& slot : s.slots)
      TETHER_FUZZ_CHECK(slot.size() == s.params.size(), "accepted a slot of the wrong size");
    next = s.range_end;
    payload += 4 * s.params.size() * (1 + s.slots.size()) + 8 * s.applied_clocks.size();
  }
  TETHER_FUZZ_CHECK(next == data.total_params, "accepted shards that do not cover total_params");
  // The reader's traversal limit is 2 * words + 4096 words for the checksum and the
  // extraction together; more payload than that means something was read unchecked.
  TETHER_FUZZ_CHECK(payload <= 8 * (2 * (file_size / 8) + 4096),
                    "decoded more payload than the traversal limit allows");
}

// `sealed`: `bytes` is the input with its crc32 fixed up, not the input itself.
void check_file(std::span<const char> bytes, bool sealed) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/input";
  write_file(path, bytes);
  // On a violation the scratch folder stays, so the file can be read again.
  violation_context =
      sealed ? "the file read is " + path + ": the input with its crc32 set to its body's checksum"
             : "the file read is " + path + ": the input as it is";
  auto got = read_checkpoint(path);
  if (!got) {
    TETHER_FUZZ_CHECK(got.error().code() == errc::corrupt_data,
                      "a bad checkpoint failed with a code other than corrupt_data");
    TETHER_FUZZ_CHECK(got.error().message().find(path) != std::string::npos,
                      "a failure that does not name the file");
    return;
  }
  check_consistent(got.value(), bytes.size());

  auto written = write_checkpoint(dir, got.value());
  TETHER_FUZZ_CHECK(written.is_ok(), "write_checkpoint() refused a checkpoint it had read");
  const std::string out = written.value();
  auto back = read_checkpoint(out);
  TETHER_FUZZ_CHECK(back.is_ok(), "a rewritten checkpoint does not read");
  TETHER_FUZZ_CHECK(same(back.value(), got.value()),
                    "read(write(read(x))) != read(x): the checkpoint does not round-trip");
  const auto first = file_bytes(out);
  // The second write finds the name taken and writes a copy beside it (never over it).
  auto second = write_checkpoint(dir, back.value());
  TETHER_FUZZ_CHECK(second.is_ok(), "a second write failed");
  TETHER_FUZZ_CHECK(second.value() != out, "a second write replaced the first file");
  TETHER_FUZZ_CHECK(file_bytes(second.value()) == first,
                    "writing one checkpoint twice gave different bytes");
  ::unlink(out.c_str());
  ::unlink(second.value().c_str());
  violation_context.clear();
}

} // namespace
} // namespace tether::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = tether::fuzz::as_chars(data, size);
  tether::fuzz::check_file(bytes, false);
  if (auto sealed = tether::fuzz::with_valid_crc(bytes);
      sealed && !std::equal(sealed->begin(), sealed->end(), bytes.begin()))
    tether::fuzz::check_file(*sealed, true);
  return 0;
}
