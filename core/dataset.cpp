// IDX reading (Fashion-MNIST), the synthetic linear-regression set and its closed-form fit.
//
// IDX grammar (big-endian, http://yann.lecun.com/exdb/mnist/):
//   file   := magic dim{ndims} data
//   magic  := 0x00 0x00 type ndims      type 0x08 = unsigned byte
//   dim    := uint32                    images: count rows cols; labels: count
//   data   := byte{dim0 * dim1 * ...}   exactly; nothing may follow
// zlib's gzread reads gzip-compressed and plain files alike.
//
// A header is a claim, not a fact: before a byte of data is stored, the announced size is
// checked against the file (a plain file must hold it exactly; deflate expands at most
// 1032:1, so a gzip file of N bytes cannot hold more than about 1032 N) and against the
// memory this process may use (the bytes and their floats). Data is then read in chunks
// of at most 64 MiB that are only allocated as their bytes arrive, so a file that
// announces more than it holds costs memory in proportion to what it holds.
#include "core/dataset.hpp"

#include "core/file_input.hpp"
#include "core/memory_limit.hpp"

#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <random>

#include <unistd.h>

namespace tether {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t idx_images_magic = 0x00000803;
constexpr uint32_t idx_labels_magic = 0x00000801;
/// The largest expansion of deflate (zlib's technical details: 1032:1), plus room for
/// the gzip header and trailer.
constexpr uint64_t deflate_max_ratio = 1032;
constexpr uint64_t gzip_overhead = 64;
/// Data arrives in chunks of this size, each allocated only once it is being filled.
constexpr size_t idx_chunk_bytes = size_t{64} << 20;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::string in_quotes(const std::string& path) {
  return "\"" + path + "\"";
}

/// Owns a gzFile.
struct gz_closer {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using gz_ptr = std::unique_ptr<gzFile_s, gz_closer>;

/// Reads up to n bytes; returns the number read, or -1 on a zlib error.
int64_t gz_read_fully(gzFile f, uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    auto chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
    int got = gzread(f, out + done, chunk);
    if (got < 0)
      return -1;
    if (got == 0)
      break;
    done += static_cast<size_t>(got);
  }
  return static_cast<int64_t>(done);
}

status zlib_failure(gzFile f, const std::string& path) {
  int code = 0;
  const char* msg = gzerror(f, &code);
  std::string why = msg != nullptr && *msg != '\0' ? msg : "unknown zlib error";
  if (why.rfind(path + ": ", 0) == 0) // zlib puts the path in front
    why.erase(0, path.size() + 2);
  if (code == Z_BUF_ERROR)
    return {errc::corrupt_data, "file " + in_quotes(path) +
                                    " is truncated: its gzip stream is cut short (" + why + ")"};
  return {errc::corrupt_data, "file " + in_quotes(path) + " could not be decompressed: " + why};
}

/// True when zlib met an error, including the end of a cut gzip stream (Z_BUF_ERROR),
/// which gzread reports only through gzerror.
bool zlib_failed(gzFile f) {
  int code = Z_OK;
  gzerror(f, &code);
  return code != Z_OK;
}

/// An IDX file's dimensions and data bytes, in chunks of idx_chunk_bytes (the last one
/// shorter): never one allocation of a size only the header vouched for.
struct idx_file {
  std::vector<uint32_t> dims;
  std::vector<std::vector<uint8_t>> chunks;
  size_t size = 0; ///< data bytes, all chunks together

  uint8_t operator[](size_t i) const { return chunks[i / idx_chunk_bytes][i % idx_chunk_bytes]; }
};

/// Reads one IDX file of unsigned bytes with `ndims` dimensions. `what` is
/// "image" or "label" for the messages.
result<idx_file> read_idx(const std::string& path, uint32_t magic, size_t ndims, const char* what) {
  // A regular file only: a FIFO would block, /dev/zero never end.
  auto opened = open_regular_file(path, std::string{"IDX "} + what + " file");
  if (!opened)
    return opened.error();
  const uint64_t file_bytes = opened->size;
  uint8_t gzip_magic[2] = {0, 0};
  const bool gzip = ::pread(opened->fd.get(), gzip_magic, 2, 0) == 2 && gzip_magic[0] == 0x1f &&
                    gzip_magic[1] == 0x8b;
  errno = 0;
  gz_ptr f{gzdopen(opened->fd.get(), "rb")};
  if (!f)
    return status{errc::io_error, "cannot open " + in_quotes(path) + ": " +
                                      (errno != 0 ? std::strerror(errno) : "out of memory")};
  opened->fd.release(); // gzclose closes it now
  gzbuffer(f.get(), 1u << 20);
  // Header: magic and dimensions.
  std::vector<uint8_t> header(4 * (1 + ndims));
  auto got = gz_read_fully(f.get(), header.data(), header.size());
  if (got < 0)
    return zlib_failure(f.get(), path);
  auto be32 = [&](size_t i) {
    const uint8_t* p = header.data() + 4 * i;
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  };
  if (got < 4 || be32(0) != magic) {
    uint32_t found = got >= 4 ? be32(0) : 0;
    return status{errc::corrupt_data, "file " + in_quotes(path) + " is not an IDX " + what +
                                          " file (magic " +
                                          (got >= 4 ? hex32(found) : std::string{"missing"}) +
                                          ", expected " + hex32(magic) + ")"};
  }
  if (static_cast<size_t>(got) < header.size())
    return status{errc::corrupt_data, "file " + in_quotes(path) + " is truncated: its IDX header " +
                                          "ends after " + std::to_string(got) + " of " +
                                          std::to_string(header.size()) + " bytes"};
  idx_file out;
  uint64_t bytes = 1;
  for (size_t i = 0; i < ndims; ++i) {
    out.dims.push_back(be32(1 + i));
    if (out.dims.back() == 0)
      return status{errc::corrupt_data,
                    "file " + in_quotes(path) + " announces a zero size in dimension " +
                        std::to_string(i) + (i == 0 ? std::string{" (no "} + what + "s)" : "")};
    bytes = saturating_mul(bytes, out.dims.back());
    if (bytes > (uint64_t{1} << 40))
      return status{errc::corrupt_data,
                    "file " + in_quotes(path) + " announces an implausible size (over 1 TiB)"};
  }
  // The claim against the file and against the machine, before anything is stored.
  const uint64_t want = bytes;
  const uint64_t header_bytes = 4 * (1 + ndims);
  const std::string announced = "file " + in_quotes(path) + " announces " +
                                std::to_string(out.dims[0]) + " " + what + "s (" +
                                format_bytes(want) + ")";
  if (!gzip && file_bytes < header_bytes + want)
    return status{errc::corrupt_data, "file " + in_quotes(path) + " is truncated: expected " +
                                          std::to_string(want) + " " + what + " bytes, found " +
                                          std::to_string(file_bytes - header_bytes)};
  if (gzip && want + header_bytes > saturating_mul(file_bytes, deflate_max_ratio) + gzip_overhead)
    return status{errc::corrupt_data,
                  announced + ", more than a gzip file of " + format_bytes(file_bytes) +
                      " can hold (deflate expands at most " + std::to_string(deflate_max_ratio) +
                      ":1): it is truncated or corrupt"};
  // In memory: the bytes, then (images) a float32 per byte.
  const uint64_t need = saturating_mul(want, magic == idx_images_magic ? 5 : 1);
  const auto ceiling = process_memory_ceiling();
  if (need > ceiling.bytes)
    return status{errc::corrupt_data, announced + ", which needs " + format_bytes(need) +
                                          " of memory to load, more than this process may use: " +
                                          format_bytes(ceiling.bytes) + " (" + ceiling.source +
                                          "); check the file, or load it on a larger machine"};
  // Data: chunk by chunk, each allocated as it is filled.
  size_t have = 0;
  while (have < want) {
    size_t next = static_cast<size_t>(std::min<uint64_t>(want - have, idx_chunk_bytes));
    auto& chunk = out.chunks.emplace_back(next);
    auto n = gz_read_fully(f.get(), chunk.data(), next);
    if (n < 0)
      return zlib_failure(f.get(), path);
    have += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < next)
      break;
  }
  out.size = have;
  if (have < want) {
    // A cut gzip stream reports "unexpected end of file"; a cut plain file just ends.
    return status{errc::corrupt_data, "file " + in_quotes(path) + " is truncated: expected " +
                                          std::to_string(want) + " " + what + " bytes, found " +
                                          std::to_string(have)};
  }
  // Nothing may follow the announced data. (zlib itself ignores non-gzip bytes after a
  // complete gzip member, whose CRC has then been checked: those pass unseen.)
  size_t trailing = 0;
  uint8_t scratch[65536];
  for (;;) {
    auto n = gz_read_fully(f.get(), scratch, sizeof(scratch));
    if (n < 0)
      return zlib_failure(f.get(), path);
    if (n == 0)
      break;
    trailing += static_cast<size_t>(n);
  }
  if (zlib_failed(f.get())) // e.g. all data there, but the gzip trailer cut off
    return zlib_failure(f.get(), path);
  if (trailing > 0)
    return status{errc::corrupt_data, "file " + in_quotes(path) + " has " +
                                          std::to_string(trailing) + " trailing bytes after the " +
                                          std::to_string(want) + " announced " + what + " bytes"};
  return out;
}

std::string data_dir_hint() {
  return "install the Debian package dataset-fashion-mnist or pass --data-dir=DIR";
}

/// DIR/name.gz, or DIR/name when only the uncompressed file is there.
result<std::string> find_idx(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  // symlink_status: a dangling link is taken, so that opening it says what it is.
  auto gz = dir / (name + ".gz");
  if (fs::exists(fs::symlink_status(gz, ec)))
    return gz.string();
  auto plain = dir / name;
  if (fs::exists(fs::symlink_status(plain, ec)))
    return plain.string();
  return status{errc::not_found, "data directory " + in_quotes(dir.string()) + " has neither " +
                                     name + ".gz nor " + name + ": " + data_dir_hint()};
}

} // namespace

result<dataset> load_idx(const std::string& images_path, const std::string& labels_path,
                         size_t classes) {
  if (classes == 0 || classes > 256)
    return status{errc::invalid_argument,
                  "load_idx: classes must be between 1 and 256, not " + std::to_string(classes)};
  auto images = read_idx(images_path, idx_images_magic, 3, "image");
  if (!images)
    return images.error();
  auto labels = read_idx(labels_path, idx_labels_magic, 1, "label");
  if (!labels)
    return labels.error();
  size_t count = images->dims[0];
  if (labels->dims[0] != count)
    return status{errc::mismatch, "image file " + in_quotes(images_path) + " holds " +
                                      std::to_string(count) + " images but label file " +
                                      in_quotes(labels_path) + " holds " +
                                      std::to_string(labels->dims[0]) + " labels"};
  dataset d;
  d.count = count;
  d.features = size_t{images->dims[1]} * images->dims[2];
  d.classes = classes;
  d.y.resize(count);
  for (size_t i = 0; i < count; ++i) {
    uint8_t label = (*labels)[i];
    if (label >= classes)
      return status{errc::corrupt_data, "label file " + in_quotes(labels_path) + ": sample " +
                                            std::to_string(i) + " has label " +
                                            std::to_string(label) + ", but there are only " +
                                            std::to_string(classes) + " classes (labels 0.." +
                                            std::to_string(classes - 1) + ")"};
    d.y[i] = static_cast<float>(label);
  }
  // x / 255 and nothing else; the table gives exactly float(b) / 255.0f.
  float scale[256];
  for (int b = 0; b < 256; ++b)
    scale[b] = static_cast<float>(b) / 255.0f;
  d.x.resize(images->size);
  float* x = d.x.data();
  for (auto& chunk : images->chunks) {
    for (uint8_t b : chunk)
      *x++ = scale[b];
    std::vector<uint8_t>().swap(chunk); // its floats are made: free it now
  }
  return d;
}

result<train_test> load_idx_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return status{errc::not_found,
                  "data directory " + in_quotes(dir) + " does not exist: " + data_dir_hint()};
  if (!fs::is_directory(dir, ec))
    return status{errc::not_found,
                  "data directory " + in_quotes(dir) + " is not a directory: " + data_dir_hint()};
  std::string paths[4];
  const char* names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (int i = 0; i < 4; ++i) {
    auto p = find_idx(dir, names[i]);
    if (!p)
      return p.error();
    paths[i] = std::move(*p);
  }
  // The two sets decompress in parallel; the training set dominates.
  auto test_future = std::async(std::launch::async, [&] { return load_idx(paths[2], paths[3]); });
  auto train = load_idx(paths[0], paths[1]);
  auto test = test_future.get();
  if (!train)
    return train.error();
  if (!test)
    return test.error();
  if (train->features != test->features)
    return status{errc::mismatch, "training images in " + in_quotes(paths[0]) + " have " +
                                      std::to_string(train->features) +
                                      " pixels but test images in " + in_quotes(paths[2]) +
                                      " have " + std::to_string(test->features)};
  train_test out;
  out.train = std::make_shared<const dataset>(std::move(train).value());
  out.test = std::make_shared<const dataset>(std::move(test).value());
  return out;
}

linreg_data make_linreg(uint64_t seed, size_t train_count, size_t test_count, size_t features,
                        double noise) {
  assert(features >= 1 && noise >= 0);
  std::mt19937_64 rng{seed};
  std::normal_distribution<double> normal{0.0, 1.0};
  linreg_data out;
  std::vector<double> w(features);
  for (auto& wi : w)
    wi = normal(rng);
  double b = normal(rng);
  auto make = [&](size_t count) {
    dataset d;
    d.count = count;
    d.features = features;
    d.classes = 0;
    d.x.resize(count * features);
    d.y.resize(count);
    for (size_t i = 0; i < count; ++i) {
      float* row = d.x.data() + i * features;
      double y = b;
      for (size_t j = 0; j < features; ++j) {
        row[j] = static_cast<float>(normal(rng));
        y += w[j] * row[j];
      }
      d.y[i] = static_cast<float>(y + noise * normal(rng));
    }
    return std::make_shared<const dataset>(std::move(d));
  };
  out.data.train = make(train_count);
  out.data.test = make(test_count);
  out.true_weights.assign(w.begin(), w.end());
  out.true_bias = static_cast<float>(b);
  return out;
}

result<std::vector<double>> least_squares(const dataset& train) {
  const size_t f = train.features, p = f + 1;
  if (train.count == 0 || f == 0)
    return status{errc::invalid_argument, "least squares needs at least one sample and feature"};
  // A = [X 1]^T [X 1] (upper triangle), r = [X 1]^T y; p x p, row-major.
  std::vector<double> a(p * p, 0.0), r(p, 0.0), row(p);
  for (size_t i = 0; i < train.count; ++i) {
    const float* xi = train.x.data() + i * f;
    for (size_t j = 0; j < f; ++j)
      row[j] = xi[j];
    row[f] = 1.0;
    double yi = train.y[i];
    for (size_t j = 0; j < p; ++j) {
      double rj = row[j];
      r[j] += rj * yi;
      double* aj = a.data() + j * p;
      for (size_t k = j; k < p; ++k)
        aj[k] += rj * row[k];
    }
  }
  double max_diag = 0;
  for (size_t j = 0; j < p; ++j)
    max_diag = std::max(max_diag, a[j * p + j]);
  // Cholesky A = L L^T, L stored in the lower triangle (read from the upper one).
  std::vector<double> l(p * p, 0.0);
  for (size_t j = 0; j < p; ++j) {
    double d = a[j * p + j];
    for (size_t k = 0; k < j; ++k)
      d -= l[j * p + k] * l[j * p + k];
    if (!(d > 1e-12 * max_diag))
      return status{errc::invalid_argument,
                    "least squares: the normal equations are singular (" +
                        std::to_string(train.count) + " samples, " + std::to_string(f) +
                        " features): the features are collinear or too few samples"};
    double ljj = std::sqrt(d);
    l[j * p + j] = ljj;
    for (size_t i = j + 1; i < p; ++i) {
      double s = a[j * p + i]; // A(i, j) = A(j, i)
      for (size_t k = 0; k < j; ++k)
        s -= l[i * p + k] * l[j * p + k];
      l[i * p + j] = s / ljj;
    }
  }
  // L z = r, then L^T w = z.
  std::vector<double> z(p);
  for (size_t i = 0; i < p; ++i) {
    double s = r[i];
    for (size_t k = 0; k < i; ++k)
      s -= l[i * p + k] * z[k];
    z[i] = s / l[i * p + i];
  }
  std::vector<double> w(p);
  for (size_t i = p; i-- > 0;) {
    double s = z[i];
    for (size_t k = i + 1; k < p; ++k)
      s -= l[k * p + i] * w[k];
    w[i] = s / l[i * p + i];
  }
  return w;
}

std::shared_ptr<const dataset> take_first(const std::shared_ptr<const dataset>& d, size_t n) {
  assert(d);
  if (n >= d->count)
    return d;
  dataset out;
  out.count = n;
  out.features = d->features;
  out.classes = d->classes;
  out.x.assign(d->x.begin(), d->x.begin() + static_cast<std::ptrdiff_t>(n * d->features));
  out.y.assign(d->y.begin(), d->y.begin() + static_cast<std::ptrdiff_t>(n));
  return std::make_shared<const dataset>(std::move(out));
}

uint64_t fingerprint(const dataset& d) {
  // Eight bytes at a time through a multiply-xorshift mix: about 1 GB/s, so the
  // 188 MB of Fashion-MNIST's training images take a fraction of a second.
  uint64_t h = 0x9E3779B97F4A7C15ull ^ d.count ^ (uint64_t{d.features} << 20) ^ (uint64_t{d.classes} << 40);
  auto mix = [&](uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  };
  for (const auto* v : {&d.x, &d.y}) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(v->data());
    size_t n = v->size() * sizeof(float);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, bytes + i, 8);
      mix(word);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, bytes + i, n - i);
    mix(tail ^ n);
  }
  return h;
}

} // namespace tether
