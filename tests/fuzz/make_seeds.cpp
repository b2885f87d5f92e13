// Writes the seed corpus of the fuzz targets: valid messages and checkpoint files made by
// tether's own encoders, so that fuzzing starts from inputs that decode.
//
//   tether_fuzz_seeds OUT_DIR   -> OUT_DIR/{pull,push,param_slice,checkpoint}/<name>
//
// Besides what encode() and write_checkpoint() produce (one segment), each kind gets a
// "scattered" copy: the same message spread over one segment per object, joined by far
// pointers, which another Cap'n Proto writer may send and tether's encoders never do.
// basp_frames gets BASP streams (net/basp_frames.hpp). Each wire kind also gets the other kinds' messages (they must be refused). Every file
// is well under 4 KB. Run at test time by the fuzz/seeds ctest fixture.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "messages/checkpoint_file.hpp"
#include "messages/codec.hpp"

namespace fs = std::filesystem;
using namespace tether;

namespace {

// `flat` (one flat message) rewritten with a one-word first segment and fixed-size
// segments: every object lands in a segment of its own. Schema-agnostic, and it keeps a
// checkpoint's crc32 valid (the checksum is over the canonical body).
std::vector<char> scattered(const std::vector<char>& flat) {
  std::vector<capnp::word> words(flat.size() / 8);
  std::memcpy(words.data(), flat.data(), words.size() * 8);
  capnp::FlatArrayMessageReader reader({words.data(), words.size()});
  capnp::MallocMessageBuilder builder(1, capnp::AllocationStrategy::FIXED_SIZE);
  builder.getRoot<capnp::AnyPointer>().set(reader.getRoot<capnp::AnyPointer>());
  auto out = capnp::messageToFlatArray(builder);
  auto chars = out.asChars();
  return {chars.begin(), chars.end()};
}

std::vector<float> ramp(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = scale * (static_cast<float>(i) - static_cast<float>(n) / 2);
  return v;
}

const std::vector<float> specials = {std::numeric_limits<float>::quiet_NaN(),
                                     -0.0f,
                                     std::numeric_limits<float>::infinity(),
                                     -std::numeric_limits<float>::infinity(),
                                     std::numeric_limits<float>::denorm_min(),
                                     std::numeric_limits<float>::max(),
                                     1.5f};

bool put(const fs::path& dir, const std::string& name, const std::vector<char>& bytes) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

std::vector<char> checkpoint_bytes(const checkpoint_data& data, const fs::path& scratch) {
  auto written = write_checkpoint(scratch.string(), data);
  if (!written) {
    std::fprintf(stderr, "tether_fuzz_seeds: %s\n", written.error().message().c_str());
    std::exit(1);
  }
  fs::path path = written.value();
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  fs::remove(path);
  return bytes;
}

shard_state shard(uint32_t index, uint64_t begin, uint64_t end, size_t slots, size_t workers) {
  shard_state s;
  s.index = index;
  s.range_begin = begin;
  s.range_end = end;
  s.version = 40 + index;
  s.params = ramp(end - begin, 0.25f);
  for (size_t k = 0; k < slots; ++k)
    s.slots.push_back(ramp(end - begin, 0.01f * static_cast<float>(k + 1)));
  s.optimizer_steps = s.version;
  for (size_t w = 0; w < workers; ++w)
    s.applied_clocks.push_back(10 + w);
  return s;
}

checkpoint_data checkpoint(uint64_t updates, const std::string& optimizer,
                           const std::vector<uint64_t>& bounds, size_t slots) {
  checkpoint_data data;
  data.updates = updates;
  data.model = "mlp:4,3,2";
  data.layout_fingerprint = 0x1234abcd5678ef00ull;
  data.total_params = bounds.back();
  data.optimizer = optimizer;
  data.consistency = "async";
  data.seed = 42;
  data.worker_steps = {updates / 2, updates - updates / 2};
  for (size_t i = 0; i + 1 < bounds.size(); ++i)
    data.shards.push_back(shard(static_cast<uint32_t>(i), bounds[i], bounds[i + 1], slots, 2));
  data.config = "lr=0.05\nbatch=32\noptimizer=" + optimizer + "\n";
  data.created_unix_ms = 1700000000000;
  return data;
}

/// A BASP stream for fuzz_basp_frames: `knob`, then each (operation, payload_len) as a
/// 32-byte header and that many payload bytes; cut to `keep` bytes when given.
std::vector<char> basp_stream(uint8_t knob, std::vector<std::pair<uint8_t, uint32_t>> frames,
                              size_t keep = ~size_t{0}) {
  std::vector<char> out{static_cast<char>(knob)};
  for (auto [op, len] : frames) {
    char header[32] = {static_cast<char>(op)};
    for (int i = 0; i < 4; ++i)
      header[4 + i] = static_cast<char>(len >> (24 - 8 * i));
    out.insert(out.end(), header, header + 32);
    out.resize(out.size() + std::min<uint32_t>(len, 8192), 'x'); // seeds stay small
  }
  if (out.size() > keep)
    out.resize(keep);
  return out;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path out = argv[1];
  for (const char* kind : {"pull", "push", "param_slice", "checkpoint", "basp_frames"})
    fs::create_directories(out / kind);

  const auto pull_zero = encode(pull_request{});
  const auto pull_typical = encode(pull_request{7, 123456789012345ull});
  const auto pull_max = encode(pull_request{0xffffffffu, ~uint64_t{0}});
  const auto push_empty = encode(push_request{});
  const auto push_one = encode(push_request{1, 2, 1, 0, {0.5f}});
  const auto push_specials = encode(push_request{3, 17, 12, 4096, specials});
  const auto push_64 = encode(push_request{2, 99, 97, 128, ramp(64, 0.125f)});
  const auto slice_empty = encode(param_slice{});
  const auto slice_odd = encode(param_slice{5, 8, {1.0f, -2.0f, 3.0f}});
  const auto slice_specials = encode(param_slice{77, 1024, specials});
  const auto slice_64 = encode(param_slice{1000, 0, ramp(64, -0.5f)});

  bool ok = true;
  const auto pull = out / "pull", push = out / "push", slice = out / "param_slice";
  ok &= put(pull, "zero", pull_zero) && put(pull, "typical", pull_typical) &&
        put(pull, "max", pull_max) && put(pull, "scattered", scattered(pull_typical)) &&
        put(pull, "other-push", push_one) && put(pull, "other-slice", slice_odd);
  ok &= put(push, "empty", push_empty) && put(push, "one", push_one) &&
        put(push, "specials", push_specials) && put(push, "ramp64", push_64) &&
        put(push, "scattered", scattered(push_specials)) && put(push, "other-pull", pull_typical) &&
        put(push, "other-slice", slice_odd);
  ok &= put(slice, "empty", slice_empty) && put(slice, "odd", slice_odd) &&
        put(slice, "specials", slice_specials) && put(slice, "ramp64", slice_64) &&
        put(slice, "scattered", scattered(slice_specials)) &&
        put(slice, "other-pull", pull_typical) && put(slice, "other-push", push_one);

  // Checkpoints go through write_checkpoint() in a scratch directory of our own.
  std::string scratch_name = (fs::temp_directory_path() / "tether-fuzz-seeds-XXXXXX").string();
  if (!::mkdtemp(scratch_name.data())) {
    std::perror("tether_fuzz_seeds: mkdtemp");
    return 1;
  }
  const fs::path scratch = scratch_name, ckpt = out / "checkpoint";
  const auto sgd = checkpoint_bytes(checkpoint(8, "sgd", {0, 6}, 0), scratch);
  const auto adam = checkpoint_bytes(checkpoint(120, "adam", {0, 3, 8}, 2), scratch);
  // momentum, with an empty shard in the middle (a range [5, 5) is allowed)
  const auto momentum = checkpoint_bytes(checkpoint(33, "momentum", {0, 5, 5, 9}, 1), scratch);
  ok &= put(ckpt, "sgd", sgd) && put(ckpt, "adam", adam) && put(ckpt, "momentum", momentum) &&
        put(ckpt, "scattered", scattered(adam));
  fs::remove_all(scratch);

  // BASP streams: byte 0 is the fuzz target's knob (cap and chunking), then frames.
  const fs::path basp = out / "basp_frames";
  ok &= put(basp, "handshake-then-message",
            basp_stream(0x08, {{0x01, 24}, {0x02, 200}, {0x06, 0}, {0x02, 2048}})) &&
        put(basp, "four-gib-header", basp_stream(0x04, {{0x01, 0xffffffffu}})) &&
        put(basp, "big-after-handshake", basp_stream(0x01, {{0x00, 10}, {0x02, 101}})) &&
        put(basp, "unknown-operation", basp_stream(0x10, {{0x01, 4}, {0x07, 4}})) &&
        put(basp, "truncated", basp_stream(0x02, {{0x01, 64}}, 40));

  if (!ok) {
    std::fprintf(stderr, "tether_fuzz_seeds: cannot write seeds under %s\n", out.c_str());
    return 1;
  }
  std::printf("tether_fuzz_seeds: seeds written under %s\n", out.c_str());
  return 0;
}
