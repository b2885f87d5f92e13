#include "core/text_corpus.hpp"
#include "tests/skip.hpp"

#include "tests/temp_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace tether;
using tether::testing::temp_dir;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string as_text(const std::vector<uint8_t>& v) {
  return {v.begin(), v.end()};
}

} // namespace

TEST_CASE("text corpus: one file splits 90/10 at the byte") {
  temp_dir dir;
  const auto path = dir.write("t.txt", std::string(95, 'a') + std::string(10, 'b')); // 105 bytes
  auto r = load_text_files(path, "", 4);
  REQUIRE(r.is_ok());
  CHECK(r->train.size() == 94); // floor(105 * 0.9)
  CHECK(r->valid.size() == 11);
  CHECK(as_text(r->valid) == "a" + std::string(10, 'b'));
}

TEST_CASE("text corpus: a training and a validation file") {
  temp_dir dir;
  auto r = load_text_files(dir.write("t", "0123456789"), dir.write("v", "abcde"), 4);
  REQUIRE(r.is_ok());
  CHECK(as_text(r->train) == "0123456789");
  CHECK(as_text(r->valid) == "abcde");
}

TEST_CASE("text corpus: bad files are refused with a message naming them") {
  temp_dir dir;
  auto fails = [](result<text_corpus> r, errc code, const std::string& part) {
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.error().code() == code);
    INFO(r.error().message());
    CHECK(contains(r.error().message(), part));
  };
  fails(load_text_files(dir / "missing.txt", "", 8), errc::not_found, "missing.txt");
  fails(load_text_files(dir.write("empty.txt", ""), "", 8), errc::mismatch, "empty.txt");
  fails(load_text_files(dir.write("short.txt", "12345678"), "", 8), errc::mismatch,
        "shorter than one context plus one byte (9)");
  // Long enough to train, but its last 10% is shorter than a window.
  fails(load_text_files(dir.write("nine.txt", std::string(20, 'x')), "", 8), errc::mismatch,
        "validation 10% of text file");
  fails(load_text_files(dir.write("ok.txt", std::string(20, 'x')), dir.write("v.txt", "abc"), 8),
        errc::mismatch, "v.txt");
  fails(load_text_files(dir.str(), "", 8), errc::io_error, "not a regular file");
  const auto fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fails(load_text_files(fifo, "", 8), errc::io_error, "not a regular file"); // does not block
  fails(load_text_files("/dev/zero", "", 8), errc::io_error, "/dev/zero");
  fails(load_text_files(dir.write("big.txt", std::string(100, 'x')), "", 8, 50), errc::io_error,
        "more than the 50");
  if (::geteuid() != 0) { // root reads anything
    const auto locked = dir.write("locked.txt", std::string(100, 'x'));
    ::chmod(locked.c_str(), 0);
    fails(load_text_files(locked, "", 8), errc::io_error, "locked.txt");
  }
  CHECK(max_text_bytes() > 0);
}

TEST_CASE("text corpus: the default corpus takes regular files, sorted, not .dat or links") {
  temp_dir dir;
  dir.write("b", "BBBBBBBBBB");
  dir.write("a", "AAAAAAAAAA");
  dir.write("a.dat", "index");
  std::filesystem::create_symlink(dir / "a", dir / "a.u8");
  std::filesystem::create_directory(dir / "off");
  dir.write("off/c", "CCCCCCCCCC");
  REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  auto r = load_default_corpus(1, dir.str());
  REQUIRE(r.is_ok());
  CHECK(as_text(r->train) + as_text(r->valid) == "AAAAAAAAAABBBBBBBBBB");
  CHECK(r->train.size() == 18);
  CHECK(contains(r->source, "2 files"));

  auto missing = load_default_corpus(8, dir / "nothing");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.error().code() == errc::not_found);
  CHECK(contains(missing.error().message(), "fortunes"));
  auto short_dir = load_default_corpus(64, dir.str());
  REQUIRE_FALSE(short_dir.is_ok());
  CHECK(contains(short_dir.error().message(), dir.str()));
}

TEST_CASE("text corpus: the fortunes package, where installed") {
  if (!std::filesystem::is_directory(default_corpus_dir)) {
    tether::testing::skip_test(std::string(default_corpus_dir) +
                               " is absent (Debian package fortunes)");
  }
  auto r = load_default_corpus(64);
  REQUIRE(r.is_ok());
  const size_t total = r->train.size() + r->valid.size();
  CHECK(total > 1000000);
  CHECK(r->train.size() == total / 10 * 9 + total % 10 * 9 / 10);
}

TEST_CASE("text corpus: samples are windows of context + 1 bytes at multiples of context") {
  CHECK(text_sample_count(0, 4) == 0);
  CHECK(text_sample_count(4, 4) == 0);
  CHECK(text_sample_count(5, 4) == 1);
  CHECK(text_sample_count(8, 4) == 1);
  CHECK(text_sample_count(9, 4) == 2);
  const std::string text = "abcdefghij"; // windows: abcde, efghi
  const std::vector<uint8_t> bytes(text.begin(), text.end());
  const std::vector<uint32_t> indices{1, 0};
  std::vector<uint8_t> out(10);
  gather_text_batch(bytes, 4, indices, out);
  CHECK(as_text(out) == "efghiabcde");
}

TEST_CASE("text corpus: the fingerprint sees every byte and the split") {
  text_corpus a;
  a.train = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  a.valid = {10};
  auto b = a;
  CHECK(fingerprint(a) == fingerprint(b));
  b.train[8] = 0;
  CHECK(fingerprint(a) != fingerprint(b));
  auto c = a;
  c.valid.insert(c.valid.begin(), c.train.back());
  c.train.pop_back();
  CHECK(fingerprint(a) != fingerprint(c));
}
