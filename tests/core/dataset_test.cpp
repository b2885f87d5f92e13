// Tests for core/dataset.cpp: IDX loading (valid and broken files, written here into a
// fresh temp directory), the real Fashion-MNIST set when installed, the synthetic
// linear-regression set and least squares.
#include "core/dataset.hpp"
#include "tests/skip.hpp"

#include <doctest/doctest.h>
#include "tests/temp_dir.hpp"
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace tether;

namespace {

using bytes = std::vector<uint8_t>;

/// A fresh directory under TMPDIR, removed with everything in it.
using tether::testing::temp_dir;

void put_be32(bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(v >> shift));
}

bytes idx_images(uint32_t count, uint32_t rows, uint32_t cols, const bytes& pixels) {
  bytes out;
  put_be32(out, 0x00000803);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

bytes idx_labels(uint32_t count, const bytes& labels) {
  bytes out;
  put_be32(out, 0x00000801);
  put_be32(out, count);
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

/// Writes `data` to `path`, gzip-compressed when `gz`.
void write_file(const std::string& path, const bytes& data, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    if (!data.empty())
      REQUIRE(gzwrite(f, data.data(), static_cast<unsigned>(data.size())) ==
              static_cast<int>(data.size()));
    REQUIRE(gzclose(f) == Z_OK);
  } else {
    std::ofstream out{path, std::ios::binary};
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    REQUIRE(out.good());
  }
}

/// Three 2x3 images with pixels 0, 1, ..., 17 scaled up to reach 255, labels 0 1 9.
bytes sample_pixels() {
  bytes px(18);
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<uint8_t>(i * 15);
  return px;
}
const bytes sample_labels = {0, 1, 9};

/// Loads images/labels written from the given bytes; returns the failure.
status load_failure(const temp_dir& dir, const bytes& images, const bytes& labels, bool gz) {
  auto ip = dir / (gz ? "img.gz" : "img");
  auto lp = dir / (gz ? "lbl.gz" : "lbl");
  write_file(ip, images, gz);
  write_file(lp, labels, gz);
  auto d = load_idx(ip, lp);
  REQUIRE_FALSE(d.is_ok());
  return d.error();
}

/// The failure message of r, or "" (safe to log when r holds a value).
template <class T>
std::string why(const result<T>& r) {
  return r.is_ok() ? std::string{} : r.error().message();
}

bool mentions(const status& s, const std::string& what) {
  return s.message().find(what) != std::string::npos;
}

} // namespace

TEST_SUITE_BEGIN("dataset");

TEST_CASE("load_idx reads a valid set (gzipped or plain) scaled by x / 255") {
  temp_dir dir;
  for (bool gz : {true, false}) {
    CAPTURE(gz);
    auto ip = dir / (gz ? "img.gz" : "img");
    auto lp = dir / (gz ? "lbl.gz" : "lbl");
    write_file(ip, idx_images(3, 2, 3, sample_pixels()), gz);
    write_file(lp, idx_labels(3, sample_labels), gz);
    auto d = load_idx(ip, lp);
    REQUIRE_MESSAGE(d.is_ok(), why(d));
    CHECK(d->count == 3);
    CHECK(d->features == 6);
    CHECK(d->classes == 10);
    REQUIRE(d->x.size() == 18);
    REQUIRE(d->y.size() == 3);
    auto px = sample_pixels();
    for (size_t i = 0; i < px.size(); ++i)
      CHECK(d->x[i] == static_cast<float>(px[i]) / 255.0f);
    CHECK(d->x.back() == 1.0f);
    CHECK(d->y == std::vector<float>{0, 1, 9});
  }
}

TEST_CASE("load_idx rejects broken files with a message naming the file") {
  const auto images = idx_images(3, 2, 3, sample_pixels());
  const auto labels = idx_labels(3, sample_labels);
  auto cut = [](const bytes& b, size_t n) {
    REQUIRE(n <= b.size());
    return bytes(b.begin(), b.end() - static_cast<std::ptrdiff_t>(n));
  };
  auto longer = images;
  longer.insert(longer.end(), {7, 7});
  const std::string text = "hello, world\n";
  struct bad_case {
    const char* name;
    bytes images, labels;
    errc code;
    std::vector<std::string> fragments; ///< the message must hold each
    bool names_images, names_labels;    ///< the message must name that file
  };
  const std::vector<bad_case> cases = {
      {"truncated images",
       cut(images, 5),
       labels,
       errc::corrupt_data,
       {"truncated: expected 18 image bytes, found 13"},
       true,
       false},
      {"truncated labels",
       images,
       cut(labels, 1),
       errc::corrupt_data,
       {"truncated: expected 3 label bytes, found 2"},
       false,
       true},
      {"truncated header", cut(images, 25), labels, errc::corrupt_data, {"truncated"}, true, false},
      {"text file",
       bytes(text.begin(), text.end()),
       labels,
       errc::corrupt_data,
       {"not an IDX image file (magic 0x68656c6c"},
       true,
       false},
      {"labels as images", labels, labels, errc::corrupt_data, {"magic 0x00000801"}, true, false},
      {"count mismatch",
       images,
       idx_labels(2, {0, 1}),
       errc::mismatch,
       {"3 images", "2 labels"},
       true,
       true},
      {"label 10 of 10 classes",
       images,
       idx_labels(3, {0, 10, 1}),
       errc::corrupt_data,
       {"sample 1 has label 10"},
       false,
       true},
      {"trailing bytes", longer, labels, errc::corrupt_data, {"2 trailing bytes"}, true, false},
      {"zero images",
       idx_images(0, 2, 3, {}),
       idx_labels(0, {}),
       errc::corrupt_data,
       {"no images"},
       true,
       false},
      {"zero-size image",
       idx_images(3, 0, 3, {}),
       labels,
       errc::corrupt_data,
       {"zero size"},
       true,
       false},
  };
  temp_dir dir;
  for (const auto& c : cases) {
    for (bool gz : {true, false}) {
      CAPTURE(c.name);
      CAPTURE(gz);
      auto s = load_failure(dir, c.images, c.labels, gz);
      INFO(s.message());
      CHECK(s.code() == c.code);
      for (const auto& fragment : c.fragments)
        CHECK(mentions(s, fragment));
      if (c.names_images)
        CHECK(mentions(s, dir / (gz ? "img.gz" : "img")));
      if (c.names_labels)
        CHECK(mentions(s, dir / (gz ? "lbl.gz" : "lbl")));
    }
  }
}

TEST_CASE("load_idx rejects a cut or damaged gzip stream") {
  temp_dir dir;
  bytes px(28 * 28 * 50);
  for (size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<uint8_t>((i * 7919) >> 3); // not too compressible
  const auto images = idx_images(50, 28, 28, px);
  write_file(dir / "img.gz", images, true);
  write_file(dir / "lbl", idx_labels(50, bytes(50, 3)), false);
  std::ifstream in{dir / "img.gz", std::ios::binary};
  bytes gz{std::istreambuf_iterator<char>{in}, {}};
  REQUIRE(gz.size() > 100);
  auto write_raw = [&](const bytes& b) {
    std::ofstream out{dir / "img.gz", std::ios::binary | std::ios::trunc};
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  SUBCASE("cut in the middle (a partial download)") {
    write_raw(bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
  }
  SUBCASE("cut before the gzip trailer") {
    write_raw(bytes(gz.begin(), gz.end() - 4));
  }
  SUBCASE("a damaged checksum") {
    auto bad = gz;
    bad[bad.size() - 6] ^= 0xff; // in the CRC-32 of the trailer
    write_raw(bad);
  }
  auto d = load_idx(dir / "img.gz", dir / "lbl");
  REQUIRE_FALSE(d.is_ok());
  INFO(d.error().message());
  CHECK(d.error().code() == errc::corrupt_data);
  CHECK(mentions(d.error(), dir / "img.gz"));
}

TEST_CASE("load_idx checks the announced size against the file before storing data") {
  temp_dir dir;
  write_file(dir / "lbl", idx_labels(3, sample_labels), false);
  // A gzip file announcing 2^30 images of 28x28 that holds 1 MiB of zeros (the issue's
  // attack, smaller): refused from the header, nothing of the data is stored.
  bytes header = idx_images(1u << 30, 28, 28, {});
  header.resize(header.size() + (size_t{1} << 20), 0);
  write_file(dir / "bomb.gz", header, true);
  auto bomb = load_idx(dir / "bomb.gz", dir / "lbl");
  REQUIRE_FALSE(bomb.is_ok());
  INFO(bomb.error().message());
  CHECK(bomb.error().code() == errc::corrupt_data);
  CHECK(mentions(bomb.error(), "announces 1073741824 images"));
  CHECK(mentions(bomb.error(), "more than a gzip file of"));
  // The same header in a plain file: it must hold every announced byte.
  write_file(dir / "bomb", idx_images(1u << 30, 28, 28, bytes(1000, 0)), false);
  auto plain = load_idx(dir / "bomb", dir / "lbl");
  REQUIRE_FALSE(plain.is_ok());
  INFO(plain.error().message());
  CHECK(mentions(plain.error(), "truncated: expected 841813590016 image bytes, found 1000"));
  // Dimensions whose product overflows 64 bits do not wrap to a small size.
  write_file(dir / "wrap", idx_images(0xffffffffu, 0xffffffffu, 0xffffffffu, {}), false);
  auto wrap = load_idx(dir / "wrap", dir / "lbl");
  REQUIRE_FALSE(wrap.is_ok());
  CHECK(mentions(wrap.error(), "implausible size"));
}

TEST_CASE("load_idx refuses what is not a regular file without blocking") {
  temp_dir dir;
  write_file(dir / "lbl", idx_labels(3, sample_labels), false);
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  auto fifo = load_idx(dir / "fifo", dir / "lbl"); // no writer: open() would block
  REQUIRE_FALSE(fifo.is_ok());
  CHECK(mentions(fifo.error(), "is a FIFO (named pipe), not a regular file"));
  auto zero = load_idx("/dev/zero", dir / "lbl");
  REQUIRE_FALSE(zero.is_ok());
  CHECK(mentions(zero.error(), "is a character device, not a regular file"));
  fs::create_symlink(dir / "gone", dir / "link");
  auto link = load_idx(dir / "link", dir / "lbl");
  REQUIRE_FALSE(link.is_ok());
  CHECK(link.error().code() == errc::not_found);
  CHECK(mentions(link.error(), "is a symbolic link to a file that does not exist"));
  auto directory = load_idx(dir.str(), dir / "lbl");
  REQUIRE_FALSE(directory.is_ok());
  CHECK(mentions(directory.error(), "is a directory, not a regular file"));
}

TEST_CASE("load_idx reports a missing file as not_found with its path") {
  temp_dir dir;
  write_file(dir / "lbl", idx_labels(3, sample_labels), false);
  auto d = load_idx(dir / "nope.gz", dir / "lbl");
  REQUIRE_FALSE(d.is_ok());
  CHECK(d.error().code() == errc::not_found);
  CHECK_MESSAGE(mentions(d.error(), dir / "nope.gz"), d.error().message());
}

TEST_CASE("load_idx_dir reports a missing directory or file and takes plain files") {
  temp_dir dir;
  SUBCASE("missing directory") {
    auto r = load_idx_dir(dir / "absent");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.error().code() == errc::not_found);
    CHECK_MESSAGE(mentions(r.error(), dir / "absent"), r.error().message());
    CHECK_MESSAGE(mentions(r.error(), "--data-dir"), r.error().message());
    CHECK_MESSAGE(mentions(r.error(), "dataset-fashion-mnist"), r.error().message());
  }
  SUBCASE("mixed .gz and plain files load; a missing one is named") {
    write_file(dir / "train-images-idx3-ubyte.gz", idx_images(3, 2, 3, sample_pixels()), true);
    write_file(dir / "train-labels-idx1-ubyte", idx_labels(3, sample_labels), false);
    write_file(dir / "t10k-images-idx3-ubyte", idx_images(1, 2, 3, bytes(6, 255)), false);
    auto r = load_idx_dir(dir.path.string());
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.error().code() == errc::not_found);
    CHECK_MESSAGE(mentions(r.error(), "t10k-labels-idx1-ubyte"), r.error().message());
    write_file(dir / "t10k-labels-idx1-ubyte.gz", idx_labels(1, {4}), true);
    r = load_idx_dir(dir.path.string());
    REQUIRE_MESSAGE(r.is_ok(), why(r));
    CHECK(r->train->count == 3);
    CHECK(r->test->count == 1);
    CHECK(r->test->x == std::vector<float>(6, 1.0f));
    CHECK(r->test->y == std::vector<float>{4});
  }
}

TEST_CASE("the installed Fashion-MNIST set loads") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) {
    tether::testing::skip_test(std::string(dir) + " is absent (package dataset-fashion-mnist)");
  }
  auto r = load_idx_dir(dir);
  REQUIRE_MESSAGE(r.is_ok(), why(r));
  for (const auto& d : {r->train, r->test}) {
    CHECK(d->features == 784);
    CHECK(d->classes == 10);
    CHECK(d->x.size() == d->count * 784);
    CHECK(d->y.size() == d->count);
    std::vector<size_t> seen(10, 0);
    size_t out_of_range = 0;
    for (float y : d->y) {
      if (y >= 0 && y <= 9 && y == std::floor(y))
        ++seen[static_cast<size_t>(y)];
      else
        ++out_of_range;
    }
    CHECK(out_of_range == 0);
    for (size_t c = 0; c < 10; ++c)
      CHECK(seen[c] == d->count / 10); // Fashion-MNIST is balanced
    auto [lo, hi] = std::minmax_element(d->x.begin(), d->x.end());
    CHECK(*lo == 0.0f);
    CHECK(*hi == 1.0f);
  }
  CHECK(r->train->count == 60000);
  CHECK(r->test->count == 10000);
}

TEST_CASE("make_linreg is deterministic for a seed and has the asked sizes") {
  auto a = make_linreg(7, 100, 30, 5);
  auto b = make_linreg(7, 100, 30, 5);
  auto c = make_linreg(8, 100, 30, 5);
  CHECK(a.data.train->count == 100);
  CHECK(a.data.test->count == 30);
  CHECK(a.data.train->features == 5);
  CHECK(a.data.train->classes == 0);
  CHECK(a.data.train->x.size() == 500);
  CHECK(a.data.test->y.size() == 30);
  CHECK(a.true_weights.size() == 5);
  CHECK(a.data.train->x == b.data.train->x);
  CHECK(a.data.train->y == b.data.train->y);
  CHECK(a.data.test->x == b.data.test->x);
  CHECK(a.true_weights == b.true_weights);
  CHECK(a.true_bias == b.true_bias);
  CHECK(a.data.train->x != c.data.train->x);
  CHECK(a.true_weights != c.true_weights);
  CHECK(a.data.train->x != a.data.test->x);
}

TEST_CASE("least_squares recovers the true weights") {
  auto lr = make_linreg(42, 10000, 10, 20, 0.1);
  auto w = least_squares(*lr.data.train);
  REQUIRE_MESSAGE(w.is_ok(), why(w));
  REQUIRE(w->size() == 21);
  for (size_t j = 0; j < 20; ++j)
    CHECK(std::abs((*w)[j] - lr.true_weights[j]) < 0.01);
  CHECK(std::abs((*w)[20] - lr.true_bias) < 0.01);
}

TEST_CASE("least_squares solves a noiseless system exactly, singular is an error") {
  // y = 2 x0 - 3 x1 + 0.5
  dataset d;
  d.count = 4;
  d.features = 2;
  d.x = {0, 0, 1, 0, 0, 1, 1, 2};
  d.y = {0.5f, 2.5f, -2.5f, -3.5f};
  auto w = least_squares(d);
  REQUIRE_MESSAGE(w.is_ok(), why(w));
  CHECK((*w)[0] == doctest::Approx(2.0).epsilon(1e-9));
  CHECK((*w)[1] == doctest::Approx(-3.0).epsilon(1e-9));
  CHECK((*w)[2] == doctest::Approx(0.5).epsilon(1e-9));
  d.x = {1, 2, 2, 4, 3, 6, 4, 8}; // x1 = 2 x0: collinear
  auto s = least_squares(d);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.error().code() == errc::invalid_argument);
  CHECK_MESSAGE(mentions(s.error(), "singular"), s.error().message());
}

TEST_CASE("take_first keeps the first rows") {
  auto lr = make_linreg(1, 50, 0, 3);
  auto first = take_first(lr.data.train, 10);
  CHECK(first->count == 10);
  CHECK(first->features == 3);
  CHECK(first->x == std::vector<float>(lr.data.train->x.begin(), lr.data.train->x.begin() + 30));
  CHECK(first->y == std::vector<float>(lr.data.train->y.begin(), lr.data.train->y.begin() + 10));
  CHECK(take_first(lr.data.train, 50)->count == 50);
  CHECK(take_first(lr.data.train, 500)->x == lr.data.train->x);
}

TEST_SUITE_END();
