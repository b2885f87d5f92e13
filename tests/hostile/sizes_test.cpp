// Huge declared sizes, truncated and corrupted inputs, under a memory limit: a header's
// claim is checked against the file and the machine before anything is allocated; a model
// that cannot fit is refused with the figure and the limit. The runs under a limit go
// through a shell with `ulimit -v` (3 GiB: tether itself, its libraries included, trains
// in less than 1.6 GiB of address space).
#include "tests/hostile/hostile.hpp"

#include <zlib.h>

#include <random>

using namespace tether::hostile;

namespace {

constexpr long limit_kib = 3L << 20; // ulimit -v 3 GiB

/// One gzip member of `bytes` (zlib reads a file of several members as one stream).
std::string gzip_member(const std::string& bytes) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, bytes.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// A gzip file of `header` then `mib` MiB of zeros: one member of 1 MiB of zeros, repeated
/// (made in milliseconds; about 1 KiB of file per MiB of zeros, as deflate at its best).
void write_zero_bomb(const std::string& path, const std::string& header, size_t mib) {
  std::ofstream out(path, std::ios::binary);
  out << gzip_member(header);
  const auto zeros = gzip_member(std::string(size_t{1} << 20, '\0'));
  for (size_t i = 0; i < mib; ++i)
    out << zeros;
  REQUIRE(out.good());
}

std::string random_bytes(size_t n) {
  std::mt19937_64 rng{7};
  std::string out(n, '\0');
  for (auto& c : out)
    c = static_cast<char>(rng());
  return out;
}

/// A tiny IDX set with the training images replaced by `images` (a path to move in).
std::vector<std::string> idx_job(const temp_dir& data, const temp_dir& dir) {
  return {"train",     "--dataset=idx", "--data-dir=" + data.str(),        "--epochs=1",
          "--batch=8", "--quiet",       "--checkpoint-dir=" + (dir / "ck")};
}

} // namespace

TEST_CASE("a gzip IDX file announcing 2^30 images is refused from its header (ulimit -v)") {
  // The file: 1.5 MB of gzip holding 1.5 GiB of zeros, announcing 2^30 images
  // of 28x28 (784 GiB). The loader grew to 3.3 GB and, under a 3 GB limit, aborted with
  // std::bad_alloc (exit 134). Here: 1.25 GiB of zeros, the same announcement.
  temp_dir data, dir;
  write_tiny_idx(data);
  fs::remove(data / "train-images-idx3-ubyte");
  write_zero_bomb(data / "train-images-idx3-ubyte.gz", idx_images_header(1u << 30), 1280);
  REQUIRE(fs::file_size(data / "train-images-idx3-ubyte.gz") < (size_t{2} << 20));
  auto o = run_tether(idx_job(data, dir), limit_kib);
  expect_refusal(o, 3, "announces 1073741824 images (784 GiB), more than a gzip file of");
  CHECK(contains(o.output, "it is truncated or corrupt"));
  CHECK(o.seconds < 20);
  CHECK_FALSE(fs::exists(dir / "ck"));
}

TEST_CASE("an IDX file announcing more than the memory limit allows is refused (ulimit -v)") {
  // 2^22 images (3 GiB of bytes, 15 GiB loaded as floats) in a gzip file large enough to
  // hold them as far as deflate's bound goes (4 MiB that does not compress), cut short.
  temp_dir data, dir;
  write_tiny_idx(data);
  fs::remove(data / "train-images-idx3-ubyte");
  gzFile f = gzopen((data / "train-images-idx3-ubyte.gz").c_str(), "wb1");
  REQUIRE(f != nullptr);
  auto header = idx_images_header(1u << 22);
  auto noise = random_bytes(size_t{4} << 20);
  gzwrite(f, header.data(), static_cast<unsigned>(header.size()));
  gzwrite(f, noise.data(), static_cast<unsigned>(noise.size()));
  gzclose(f);
  auto o = run_tether(idx_job(data, dir), limit_kib);
  expect_refusal(o, 3, "which needs 15.3 GiB of memory to load, more than this process may use");
  CHECK(contains(o.output, "RLIMIT_AS (ulimit -v)"));
  // Without the limit the file still cannot hold what it announces: truncated, and the
  // loader's memory stayed in proportion to the 4 MiB it holds (chunks of 64 MiB).
  auto free_run = run_tether(idx_job(data, dir));
  INFO(free_run.output);
  CHECK(free_run.code == 3);
  CHECK(free_run.signal == 0);
  CHECK((contains(free_run.output, "is truncated") || contains(free_run.output, "more than this")));
}

TEST_CASE("truncated and corrupted inputs: exit 3 or 4 with the file named, inputs kept") {
  temp_dir data, dir;
  write_tiny_idx(data);
  // A plain IDX file cut in the middle of its images.
  auto images = slurp(data / "train-images-idx3-ubyte");
  data.write("train-images-idx3-ubyte", images.substr(0, images.size() / 2));
  auto cut = run_tether(idx_job(data, dir));
  expect_refusal(cut, 3, "is truncated: expected 50176 image bytes, found 25080");
  // A header announcing 2^30 images in a file of a few bytes, and one past 1 TiB.
  data.write("train-images-idx3-ubyte", idx_images_header(1u << 30) + "abc");
  auto huge = run_tether(idx_job(data, dir));
  expect_refusal(huge, 3, "is truncated: expected 841813590016 image bytes, found 3");
  data.write("train-images-idx3-ubyte", idx_images_header(0xffffffffu) + "abc");
  expect_refusal(run_tether(idx_job(data, dir)), 3, "announces an implausible size");
  // A CSV with a NUL byte in a number, and one with a header only.
  write_csv_pair(dir);
  auto train = slurp(dir / "train.csv");
  train[train.find('\n') + 3] = '\0'; // in the second line: the first may be a header
  dir.write("train.csv", train);
  auto nul = run_tether(csv_job(dir));
  expect_refusal(nul, 3, "is not a number");
  // A config file of binary garbage.
  auto garbage = dir.write("garbage.conf", random_bytes(4096));
  expect_refusal(run_tether({"train", "--config=" + garbage}), 2, "garbage.conf:");

  // Checkpoints: truncated, and a segment table announcing 2^32 segments.
  auto made = run_tether(linreg_job(dir));
  REQUIRE(made.code == 0);
  auto files = names_in(dir / "ck");
  REQUIRE(files.size() == 1);
  const std::string ckpt = (dir / "ck") + "/" + files[0];
  auto whole = slurp(ckpt);
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 3);
  file_snapshot truncated(ckpt);
  expect_refusal(run_tether(with(linreg_job(dir), {"--resume", "--epochs=2"})), 4, "truncated");
  expect_refusal(run_tether({"export", "--checkpoint=" + (dir / "ck"), "--out=" + (dir / "w.npz")}),
                 4, "truncated");
  expect_refusal(run_tether({"inspect", "--checkpoint=" + ckpt}), 4, "truncated");
  CHECK(truncated.unchanged());
  CHECK_FALSE(fs::exists(dir / "w.npz"));
  auto table = whole; // the first segment's size: 2^32 - 1 words
  table[4] = table[5] = table[6] = table[7] = '\xff';
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << table;
  expect_refusal(run_tether({"inspect", "--checkpoint=" + ckpt}), 4, files[0]);
}

TEST_CASE("a model that cannot fit is refused with its figure and the limit, before allocation") {
  temp_dir data, dir;
  write_tiny_idx(data);
  auto args = with(idx_job(data, dir), {"--model=mlp:784,999999999,10"});
  auto o = run_tether(args);
  expect_refusal(o, 2, "model mlp:784,999999999,10 needs at least ");
  CHECK(contains(o.output, "TiB of memory (parameters 2.89 TiB, optimizer state 5.78 TiB, 2 "
                           "workers x 8.73 TiB, checkpoint 8.68 TiB)"));
  CHECK(contains(o.output, "but this process may use"));
  CHECK_FALSE(fs::exists(dir / "ck"));
  // Under ulimit -v the limit named is the address space, not the machine's memory.
  // (79.5 M parameters: 3.6 GiB with Adam's state, two workers and the checkpoint.)
  auto limited = run_tether(with(idx_job(data, dir), {"--model=mlp:784,100000,10"}), limit_kib);
  expect_refusal(limited, 2, "model mlp:784,100000,10 needs at least");
  CHECK(contains(limited.output, "RLIMIT_AS (ulimit -v)"));
  // A model that fits trains under the same limit.
  auto fits = run_tether(with(idx_job(data, dir), {"--model=mlp:784,32,10"}), limit_kib);
  INFO(fits.output);
  CHECK(fits.code == 0);
}

TEST_CASE("a CSV of one wide row and millions of blank lines reserves no memory for them") {
  // The sample reserve counted lines x columns: 4096 columns and 8 Mi blank lines asked
  // for 128 GiB (std::bad_alloc, exit 134). Now: one sample, too few for the job (exit 2).
  temp_dir dir;
  std::string wide;
  for (int c = 0; c < 4096; ++c)
    wide += "1,";
  wide += "0\n";
  std::string text = wide;
  text.append(size_t{8} << 20, '\n');
  dir.write("train.csv", text);
  dir.write("test.csv", wide + wide);
  auto o = run_tether({"train", "--dataset=csv", "--train=" + (dir / "train.csv"),
                       "--test=" + (dir / "test.csv"), "--model=softmax", "--quiet",
                       "--checkpoint-dir=" + (dir / "ck")},
                      limit_kib);
  expect_refusal(o, 3, "hold only class 0");
}
