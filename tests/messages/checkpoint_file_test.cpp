// Tests of messages/checkpoint_file.hpp: round trips, checksum and truncation
// detection, the directory (listing, newest good, pruning, temp files, names that are not
// regular files, never replacing a file), and that the stock `capnp decode` tool reads a
// written file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "messages/checkpoint_file.hpp"

using namespace tether;
namespace fs = std::filesystem;

namespace {

// A fresh directory under /tmp, removed with everything in it.
struct temp_dir {
  std::string path;
  temp_dir() {
    char name[] = "/tmp/tether-ckpt-test-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<float> random_floats(size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v)
    x = dist(gen);
  return v;
}

// 3 shards over 3000 params (sizes 1000, 1200, 800), 2 adam slots each, 4 workers.
checkpoint_data sample(uint64_t updates) {
  std::mt19937 gen(static_cast<uint32_t>(updates));
  checkpoint_data d;
  d.updates = updates;
  d.model = "mlp:784,256,128,10";
  d.layout_fingerprint = 0x0123456789abcdefull;
  d.optimizer = "adam";
  d.consistency = "async";
  d.seed = 42;
  d.worker_steps = {updates / 4, updates / 4 + 1, 0, 7};
  d.config = "workers=4\nshards=3\n";
  d.created_unix_ms = 1700000000123;
  uint64_t begin = 0;
  uint32_t index = 0;
  for (uint64_t size : {1000u, 1200u, 800u}) {
    shard_state s;
    s.index = index++;
    s.range_begin = begin;
    s.range_end = begin + size;
    s.version = updates + index;
    s.params = random_floats(size, gen);
    s.slots = {random_floats(size, gen), random_floats(size, gen)};
    s.optimizer_steps = updates;
    s.applied_clocks = {1, 2, 3, updates};
    d.shards.push_back(std::move(s));
    begin += size;
  }
  d.total_params = begin;
  return d;
}

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

void check_equal(const checkpoint_data& a, const checkpoint_data& b) {
  CHECK(a.updates == b.updates);
  CHECK(a.model == b.model);
  CHECK(a.layout_fingerprint == b.layout_fingerprint);
  CHECK(a.total_params == b.total_params);
  CHECK(a.optimizer == b.optimizer);
  CHECK(a.consistency == b.consistency);
  CHECK(a.seed == b.seed);
  CHECK(a.worker_steps == b.worker_steps);
  CHECK(a.config == b.config);
  CHECK(a.created_unix_ms == b.created_unix_ms);
  REQUIRE(a.shards.size() == b.shards.size());
  for (size_t i = 0; i < a.shards.size(); ++i) {
    const auto &x = a.shards[i], &y = b.shards[i];
    CHECK(x.index == y.index);
    CHECK(x.range_begin == y.range_begin);
    CHECK(x.range_end == y.range_end);
    CHECK(x.version == y.version);
    CHECK(same_floats(x.params, y.params));
    REQUIRE(x.slots.size() == y.slots.size());
    for (size_t k = 0; k < x.slots.size(); ++k)
      CHECK(same_floats(x.slots[k], y.slots[k]));
    CHECK(x.optimizer_steps == y.optimizer_steps);
    CHECK(x.applied_clocks == y.applied_clocks);
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spill(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Flips one byte of shard 1's params[500] in the file at `path`.
void corrupt_params(const std::string& path, const checkpoint_data& d) {
  auto bytes = slurp(path);
  const auto& p = d.shards[1].params;
  std::string needle(reinterpret_cast<const char*>(&p[500]), 16);
  auto at = bytes.find(needle);
  REQUIRE(at != std::string::npos);
  bytes[at + 1] ^= 0x40;
  spill(path, bytes);
}

std::string file_in(const std::string& dir, uint64_t updates) {
  return dir + "/" + checkpoint_file_name(updates);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("checkpoint file names") {
  CHECK(checkpoint_file_name(1234) == "ckpt-000000001234.tether");
  CHECK(checkpoint_file_name(1234, 1) == "ckpt-000000001234.tether");
  CHECK(checkpoint_file_name(1234, 2) == "ckpt-000000001234-2.tether");
  CHECK(checkpoint_file_name(0) == "ckpt-000000000000.tether");
  CHECK(checkpoint_file_name(18446744073709551615ull) == "ckpt-18446744073709551615.tether");
}

TEST_CASE("checkpoint round trip, no temp file left") {
  temp_dir tmp;
  auto dir = tmp.path + "/a/b"; // created on demand
  auto d = sample(1234);
  REQUIRE(write_checkpoint(dir, d));
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"ckpt-000000001234.tether"});
  auto back = read_checkpoint(file_in(dir, 1234));
  REQUIRE_MESSAGE(back, back.error().message());
  check_equal(d, *back);
}

TEST_CASE("an inconsistent checkpoint is not written") {
  temp_dir tmp;
  auto d = sample(5);
  d.shards[1].range_begin += 1;
  auto st = write_checkpoint(tmp.path, d);
  REQUIRE_FALSE(st);
  CHECK(st.error().code() == errc::invalid_argument);
  d = sample(5);
  d.shards[2].slots[0].pop_back();
  CHECK(write_checkpoint(tmp.path, d).error().code() == errc::invalid_argument);
  d = sample(5);
  d.total_params += 1;
  CHECK(write_checkpoint(tmp.path, d).error().code() == errc::invalid_argument);
  CHECK(fs::is_empty(tmp.path));
}

TEST_CASE("a flipped byte in the params is a checksum mismatch") {
  temp_dir tmp;
  auto d = sample(10);
  REQUIRE(write_checkpoint(tmp.path, d));
  auto path = file_in(tmp.path, 10);
  corrupt_params(path, d);
  auto back = read_checkpoint(path);
  REQUIRE_FALSE(back);
  CHECK(back.error().code() == errc::corrupt_data);
  CHECK(contains(back.error().message(), "checksum mismatch"));
  CHECK(contains(back.error().message(), path));
}

TEST_CASE("truncated and garbage files are corrupt, not crashes") {
  temp_dir tmp;
  auto d = sample(11);
  REQUIRE(write_checkpoint(tmp.path, d));
  const auto whole = slurp(file_in(tmp.path, 11));
  const auto cut = tmp.path + "/cut.tether";
  std::vector<size_t> lengths;
  for (size_t n = 0; n < whole.size(); n += 97)
    lengths.push_back(n);
  lengths.insert(lengths.end(), {whole.size() - 1, whole.size() - 8, 8, 16});
  for (size_t n : lengths) {
    spill(cut, whole.substr(0, n));
    auto back = read_checkpoint(cut);
    CHECK_FALSE(back);
    if (!back)
      CHECK(back.error().code() == errc::corrupt_data);
  }
  spill(cut, whole.substr(0, whole.size() - 8));
  CHECK(contains(read_checkpoint(cut).error().message(), "truncated"));
  spill(cut, whole + std::string(8, '\0'));
  CHECK_FALSE(read_checkpoint(cut));

  std::mt19937 gen(3);
  for (int i = 0; i < 200; ++i) {
    std::string junk(8 * (1 + gen() % 100), '\0');
    for (auto& c : junk)
      c = static_cast<char>(gen());
    spill(cut, junk);
    auto back = read_checkpoint(cut);
    CHECK_FALSE(back);
  }
  auto missing = read_checkpoint(tmp.path + "/nope.tether");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == errc::not_found);
}

TEST_CASE("list_checkpoints: newest first, other names ignored") {
  temp_dir tmp;
  for (uint64_t u : {5, 100, 20})
    REQUIRE(write_checkpoint(tmp.path, sample(u)));
  spill(tmp.path + "/notes.txt", "x");
  spill(tmp.path + "/ckpt-abc.tether", "x");
  spill(tmp.path + "/ckpt-000000000007.tether.bak", "x");
  spill(tmp.path + "/.ckpt-000000000007.tether.tmp", "x");
  auto paths = list_checkpoints(tmp.path);
  CHECK(paths == std::vector<std::string>{file_in(tmp.path, 100), file_in(tmp.path, 20),
                                          file_in(tmp.path, 5)});
  CHECK(list_checkpoints(tmp.path + "/missing").empty());
}

TEST_CASE("load_newest_good skips a corrupt newest checkpoint") {
  temp_dir tmp;
  for (uint64_t u : {10, 20, 30})
    REQUIRE(write_checkpoint(tmp.path, sample(u)));
  corrupt_params(file_in(tmp.path, 30), sample(30));
  auto got = load_newest_good(tmp.path);
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->path == file_in(tmp.path, 20));
  check_equal(got->data, sample(20));
  REQUIRE(got->skipped.size() == 1);
  CHECK(contains(got->skipped[0], file_in(tmp.path, 30) + ": checksum mismatch"));
}

TEST_CASE("load_newest_good: none, all corrupt") {
  temp_dir tmp;
  auto none = load_newest_good(tmp.path);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == errc::not_found);
  CHECK(contains(none.error().message(), tmp.path));
  auto missing = load_newest_good(tmp.path + "/missing");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == errc::not_found);

  for (uint64_t u : {1, 2})
    REQUIRE(write_checkpoint(tmp.path, sample(u)));
  corrupt_params(file_in(tmp.path, 2), sample(2));
  spill(file_in(tmp.path, 1), "garbage!");
  auto bad = load_newest_good(tmp.path);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == errc::corrupt_data);
  CHECK(contains(bad.error().message(), file_in(tmp.path, 1)));
  CHECK(contains(bad.error().message(), file_in(tmp.path, 2)));
}

TEST_CASE("prune keeps the K newest") {
  temp_dir tmp;
  for (uint64_t u : {1, 2, 3, 4, 5})
    REQUIRE(write_checkpoint(tmp.path, sample(u)));
  REQUIRE(prune_checkpoints(tmp.path, 2));
  CHECK(list_checkpoints(tmp.path) ==
        std::vector<std::string>{file_in(tmp.path, 5), file_in(tmp.path, 4)});
  REQUIRE(prune_checkpoints(tmp.path, 10));
  CHECK(list_checkpoints(tmp.path).size() == 2);
  REQUIRE(prune_checkpoints(tmp.path, 0));
  CHECK(list_checkpoints(tmp.path).empty());
}

TEST_CASE("remove_temp_files deletes only leftover temp files") {
  temp_dir tmp;
  REQUIRE(write_checkpoint(tmp.path, sample(3)));
  spill(tmp.path + "/.ckpt-000000000004.tether.tmp", "half");
  spill(tmp.path + "/keep.tmp", "mine");
  remove_temp_files(tmp.path);
  CHECK_FALSE(fs::exists(tmp.path + "/.ckpt-000000000004.tether.tmp"));
  CHECK(fs::exists(tmp.path + "/keep.tmp"));
  CHECK(fs::exists(file_in(tmp.path, 3)));
}

TEST_CASE("a second checkpoint at the same update count gets a name of its own") {
  temp_dir tmp;
  auto first = write_checkpoint(tmp.path, sample(40));
  REQUIRE(first);
  CHECK(first.value() == file_in(tmp.path, 40));
  const auto before = slurp(first.value());
  auto other = sample(40);
  other.seed = 99; // different content, same count: a resume that added no update
  auto second = write_checkpoint(tmp.path, other);
  REQUIRE(second);
  CHECK(second.value() == tmp.path + "/ckpt-000000000040-2.tether");
  CHECK(slurp(first.value()) == before); // the first file is untouched
  auto third = write_checkpoint(tmp.path, other);
  REQUIRE(third);
  CHECK(third.value() == tmp.path + "/ckpt-000000000040-3.tether");
  REQUIRE(write_checkpoint(tmp.path, sample(41)));
  // Newest first: by update count, then by copy.
  CHECK(list_checkpoints(tmp.path) == std::vector<std::string>{file_in(tmp.path, 41), third.value(),
                                                               second.value(), first.value()});
  auto newest_at_40 = read_checkpoint(third.value());
  REQUIRE(newest_at_40);
  CHECK(newest_at_40->seed == 99);
  REQUIRE(prune_checkpoints(tmp.path, 2));
  CHECK(list_checkpoints(tmp.path) ==
        std::vector<std::string>{file_in(tmp.path, 41), third.value()});
}

TEST_CASE("names that are not regular files are skipped, never opened blocking") {
  temp_dir tmp;
  REQUIRE(write_checkpoint(tmp.path, sample(10)));
  REQUIRE(::mkfifo(file_in(tmp.path, 30).c_str(), 0644) == 0);
  fs::create_directory(file_in(tmp.path, 20));
  fs::create_symlink(tmp.path + "/nowhere", file_in(tmp.path, 25));
  auto listing = scan_checkpoints(tmp.path);
  CHECK(listing.files == std::vector<std::string>{file_in(tmp.path, 10)});
  REQUIRE(listing.skipped.size() == 3);
  CHECK(contains(listing.skipped[0], file_in(tmp.path, 30) + ": a FIFO"));
  CHECK(contains(listing.skipped[1], file_in(tmp.path, 25) + ": a symbolic link to nothing"));
  CHECK(contains(listing.skipped[2], file_in(tmp.path, 20) + ": a directory"));
  // Reading the FIFO directly returns at once with the reason (no writer ever comes).
  auto fifo = read_checkpoint(file_in(tmp.path, 30));
  REQUIRE_FALSE(fifo);
  CHECK(fifo.error().code() == errc::io_error);
  CHECK(contains(fifo.error().message(), "FIFO"));
  auto loaded = load_newest_good(tmp.path);
  REQUIRE(loaded);
  CHECK(loaded->path == file_in(tmp.path, 10));
  CHECK(loaded->skipped.size() == 3);
  // Pruning deletes only checkpoints: the FIFO, the link and the directory stay.
  REQUIRE(prune_checkpoints(tmp.path, 0));
  CHECK(fs::is_fifo(file_in(tmp.path, 30)));
  CHECK(fs::is_directory(file_in(tmp.path, 20)));
  CHECK(fs::is_symlink(file_in(tmp.path, 25)));
  auto none = load_newest_good(tmp.path);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == errc::not_found);
  CHECK(contains(none.error().message(), "FIFO"));
}

TEST_CASE("a FIFO with the temp file's name does not block the writer") {
  temp_dir tmp;
  const std::string temp = tmp.path + "/.ckpt-000000000005.tether.tmp";
  REQUIRE(::mkfifo(temp.c_str(), 0644) == 0);
  auto written = write_checkpoint(tmp.path, sample(5));
  REQUIRE_FALSE(written);
  CHECK(written.error().code() == errc::io_error);
  CHECK(contains(written.error().message(), "is not a regular file"));
  CHECK(fs::is_fifo(temp));
  remove_temp_files(tmp.path); // a leftover of a crashed writer, whatever it is
  CHECK_FALSE(fs::exists(temp));
  REQUIRE(write_checkpoint(tmp.path, sample(5)));
}

TEST_CASE("check_writable_dir") {
  temp_dir tmp;
  auto fresh = tmp.path + "/x/y";
  REQUIRE(check_writable_dir(fresh));
  CHECK(fs::is_directory(fresh));
  CHECK(fs::is_empty(fresh)); // the probe is gone

  spill(tmp.path + "/plain", "a regular file");
  auto below = tmp.path + "/plain/ckpt";
  auto st = check_writable_dir(below);
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::io_error);
  CHECK(st.message() == "cannot create checkpoint directory \"" + below +
                            "\": Not a directory; choose another --checkpoint-dir");
  CHECK_FALSE(check_writable_dir(tmp.path + "/plain"));
  auto write = write_checkpoint(below, sample(1));
  REQUIRE_FALSE(write);
  CHECK(write.error().code() == errc::io_error);
  CHECK(contains(write.error().message(), "Not a directory"));
}

TEST_CASE("the stock capnp tool decodes a checkpoint") {
  if (std::system("command -v capnp > /dev/null 2>&1") != 0) {
    MESSAGE("capnp is not on PATH: skipping the `capnp decode` check");
    return;
  }
  temp_dir tmp;
  REQUIRE(write_checkpoint(tmp.path, sample(77)));
  const std::string out = tmp.path + "/decoded.txt";
  const std::string cmd = "capnp decode " TETHER_SOURCE_DIR "/messages/checkpoint.capnp "
                          "CheckpointFile < " +
                          file_in(tmp.path, 77) + " > " + out + " 2>&1";
  int rc = std::system(cmd.c_str());
  auto text = slurp(out);
  CHECK_MESSAGE(rc == 0, cmd << "\n" << text);
  CHECK(contains(text, "formatVersion = 1"));
  CHECK(contains(text, "model = \"mlp:784,256,128,10\""));
  CHECK(contains(text, "updates = 77"));
}
