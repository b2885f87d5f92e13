#include "core/text_corpus.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tether {

namespace {

std::string quoted(const std::string& path) {
  return "\"" + path + "\"";
}

/// Appends the whole regular file at `path` to `out`, refusing anything else.
status append_file(const std::string& path, size_t max_bytes, std::vector<uint8_t>& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return status{errc::not_found, "text file " + quoted(path) +
                                         " does not exist; give an existing file with --train"};
    return status{errc::io_error,
                  "cannot read text file " + quoted(path) + ": " + std::strerror(errno)};
  }
  if (!S_ISREG(st.st_mode))
    return status{errc::io_error, "text file " + quoted(path) +
                                      " is not a regular file (a directory, FIFO or device); "
                                      "give a plain file"};
  // O_NONBLOCK: should the path have been swapped for a FIFO since stat, open does not
  // wait for a writer; fstat below then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return status{errc::io_error,
                  "cannot open text file " + quoted(path) + ": " + std::strerror(errno)};
  status result = status::ok();
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    result = status{errc::io_error, "text file " + quoted(path) + " is not a regular file"};
  } else if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    result =
        status{errc::io_error, "text file " + quoted(path) + " is " + std::to_string(st.st_size) +
                                   " bytes, more than the " + std::to_string(max_bytes) +
                                   " this machine can hold (half its memory); use a "
                                   "smaller file"};
  } else {
    const size_t size = static_cast<size_t>(st.st_size);
    const size_t base = out.size();
    out.resize(base + size);
    size_t got = 0;
    while (got < size) {
      const ssize_t n = ::read(fd, out.data() + base + got, size - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        result = status{errc::io_error,
                        "cannot read text file " + quoted(path) + ": " +
                            (n < 0 ? std::strerror(errno) : "it became shorter while being read")};
        break;
      }
      got += static_cast<size_t>(n);
    }
    if (!result)
      out.resize(base);
  }
  ::close(fd);
  return result;
}

status check_length(const std::vector<uint8_t>& text, size_t context, const std::string& what) {
  if (text.size() >= context + 1)
    return status::ok();
  return status{errc::mismatch, what + " has " + std::to_string(text.size()) +
                                    " bytes, shorter than one context plus one byte (" +
                                    std::to_string(context + 1) +
                                    "); use a longer text or a smaller context"};
}

void split_90_10(text_corpus& corpus) {
  const size_t cut = corpus.train.size() / 10 * 9 + corpus.train.size() % 10 * 9 / 10;
  corpus.valid.assign(corpus.train.begin() + static_cast<ptrdiff_t>(cut), corpus.train.end());
  corpus.train.resize(cut);
  corpus.train.shrink_to_fit();
}

} // namespace

size_t max_text_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  const size_t half = pages > 0 && page > 0 ? static_cast<size_t>(pages) / 2 * page : 0;
  const size_t cap = size_t{1} << 32;
  return half == 0 ? cap : std::min(half, cap);
}

result<text_corpus> load_default_corpus(size_t context, const std::string& dir) {
  assert(context >= 1);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr)
    return status{errc::not_found,
                  "the default text corpus " + quoted(dir) + " cannot be opened (" +
                      std::strerror(errno) +
                      "); install the Debian package fortunes (deploy/install-deps.sh) or give "
                      "a text with --train=FILE"};
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name.ends_with(".dat"))
      continue;
    struct stat st {};
    if (::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode))
      names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  text_corpus corpus;
  const size_t max_bytes = max_text_bytes();
  for (const auto& name : names)
    if (auto st = append_file(dir + "/" + name,
                              max_bytes - std::min(max_bytes, corpus.train.size()), corpus.train);
        !st)
      return st;
  corpus.source = "fortunes (" + std::to_string(names.size()) + " files in " + dir + ")";
  if (auto st = check_length(corpus.train, context, "the default text corpus " + quoted(dir)); !st)
    return st;
  split_90_10(corpus);
  if (auto st = check_length(corpus.valid, context, "the validation 10% of " + quoted(dir)); !st)
    return st;
  return corpus;
}

result<text_corpus> load_text_files(const std::string& train_path, const std::string& valid_path,
                                    size_t context, size_t max_bytes) {
  assert(context >= 1);
  if (max_bytes == 0)
    max_bytes = max_text_bytes();
  text_corpus corpus;
  if (auto st = append_file(train_path, max_bytes, corpus.train); !st)
    return st;
  if (auto st = check_length(corpus.train, context, "text file " + quoted(train_path)); !st)
    return st;
  if (valid_path.empty()) {
    split_90_10(corpus);
    if (auto st = check_length(corpus.valid, context,
                               "the validation 10% of text file " + quoted(train_path) +
                                   " (give a longer file or --valid=FILE)");
        !st)
      return st;
    corpus.source = train_path + " (90/10 split)";
  } else {
    if (auto st = append_file(valid_path, max_bytes, corpus.valid); !st)
      return st;
    if (auto st = check_length(corpus.valid, context, "text file " + quoted(valid_path)); !st)
      return st;
    corpus.source = train_path + ", " + valid_path;
  }
  return corpus;
}

size_t text_sample_count(size_t bytes, size_t context) {
  return bytes <= context ? 0 : (bytes - 1) / context;
}

void gather_text_batch(std::span<const uint8_t> text, size_t context,
                       std::span<const uint32_t> indices, std::span<uint8_t> out) {
  assert(out.size() >= indices.size() * (context + 1));
  const size_t count = text_sample_count(text.size(), context);
  for (size_t i = 0; i < indices.size(); ++i) {
    assert(indices[i] < count);
    (void)count;
    std::copy_n(text.data() + size_t{indices[i]} * context, context + 1,
                out.data() + i * (context + 1));
  }
}

uint64_t fingerprint(const text_corpus& corpus) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ corpus.train.size() ^ (uint64_t{corpus.valid.size()} << 32);
  auto mix = [&](uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  };
  for (const auto* v : {&corpus.train, &corpus.valid}) {
    size_t i = 0;
    for (; i + 8 <= v->size(); i += 8) {
      uint64_t word;
      std::memcpy(&word, v->data() + i, 8);
      mix(word);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, v->data() + i, v->size() - i);
    mix(tail ^ v->size());
  }
  return h;
}

} // namespace tether
