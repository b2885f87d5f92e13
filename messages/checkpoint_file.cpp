// Checkpoint files (checkpoint_file.hpp): checkpoint_data <-> one flat Cap'n Proto
// message rooted at wire::CheckpointFile (checkpoint.capnp, docs/formats.md), and the
// directory around the files. POSIX calls, so that every failure has its errno text.
#include "messages/checkpoint_file.hpp"
#include "messages/float_blob.hpp"

#include "core/file_input.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <utility>

#include <fcntl.h>
#include <stdio.h> // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <zlib.h>

#include "checkpoint.capnp.h"

namespace tether {

namespace {

/// The whole string as Cap'n Proto text: std::string converts through c_str(), which
/// would cut the text at an embedded NUL byte (found by tests/fuzz/fuzz_checkpoint.cpp).
capnp::Text::Reader text(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

static_assert(std::endian::native == std::endian::little,
              "checkpoints store little-endian float32 and segment tables");

constexpr size_t max_blob_floats = ((size_t{1} << 29) - 1) / 4; // a Data blob is < 512 MiB

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}
std::string errno_text(int err) {
  return std::strerror(err);
}

// -- files and directories --------------------------------------------------------------

// mkdir -p; 0 or the errno of the step that failed.
int make_dirs(const std::string& dir) {
  for (size_t pos = dir.find('/', 1);; pos = dir.find('/', pos + 1)) {
    std::string prefix = dir.substr(0, pos);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
      return errno;
    if (pos == std::string::npos)
      break;
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

status ensure_dir(const std::string& dir) {
  if (dir.empty())
    return {errc::invalid_argument, "the checkpoint directory is empty; set --checkpoint-dir"};
  if (int err = make_dirs(dir))
    return {errc::io_error, "cannot create checkpoint directory " + in_quotes(dir) + ": " +
                                errno_text(err) + "; choose another --checkpoint-dir"};
  return {};
}

bool write_all(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, std::min<size_t>(size, size_t{1} << 30));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// 0 or the errno of the failed open or fsync.
int fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  int err = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

// -- contents ---------------------------------------------------------------------------

// Why `data` is not a consistent checkpoint, or "" if it is.
std::string inconsistency(const checkpoint_data& data) {
  if (data.shards.empty())
    return "no shards";
  uint64_t next = 0;
  for (size_t i = 0; i < data.shards.size(); ++i) {
    const auto& s = data.shards[i];
    auto name = "shard " + std::to_string(i);
    if (s.range_begin != next || s.range_end < s.range_begin)
      return name + " has range [" + std::to_string(s.range_begin) + ", " +
             std::to_string(s.range_end) + "), expected it to start at " + std::to_string(next);
    if (s.params.size() != s.range_end - s.range_begin)
      return name + " has " + std::to_string(s.params.size()) + " params for a range of " +
             std::to_string(s.range_end - s.range_begin);
    for (const auto& slot : s.slots)
      if (slot.size() != s.params.size())
        return name + " has an optimizer slot of " + std::to_string(slot.size()) + " floats for " +
               std::to_string(s.params.size()) + " params";
    next = s.range_end;
  }
  if (next != data.total_params)
    return "the shards cover [0, " + std::to_string(next) + ") but total_params is " +
           std::to_string(data.total_params);
  return {};
}

size_t payload_bytes(const checkpoint_data& data) {
  size_t bytes = data.model.size() + data.optimizer.size() + data.consistency.size() +
                 data.config.size() + data.worker_steps.size() * 8 + data.work.pending.size() * 8 + 1024;
  for (const auto& s : data.shards) {
    bytes += (s.params.size() * 4 + 8) * (1 + s.slots.size()) + (s.applied_clocks.size() + s.applied_counts.size()) * 8;
    bytes += 128; // the struct, list pointers, padding
  }
  return bytes;
}

void fill(wire::Checkpoint::Builder body, const checkpoint_data& data) {
  body.setFormatVersion(checkpoint_format_version);
  body.setUpdates(data.updates);
  body.setModel(text(data.model));
  body.setLayoutFingerprint(data.layout_fingerprint);
  body.setTotalParams(data.total_params);
  body.setOptimizer(text(data.optimizer));
  body.setConsistency(text(data.consistency));
  body.setSeed(data.seed);
  auto steps = body.initWorkerSteps(static_cast<capnp::uint>(data.worker_steps.size()));
  for (size_t i = 0; i < data.worker_steps.size(); ++i)
    steps.set(static_cast<capnp::uint>(i), data.worker_steps[i]);
  // The work position before the shards: the file keeps ending with the shards' data and
  // the options text, which only the checksum guards.
  auto work = body.initWork();
  work.setBatch(data.work.batch);
  work.initNext().setEpoch(data.work.next.epoch);
  work.getNext().setIndex(data.work.next.index);
  auto pending = work.initPending(static_cast<capnp::uint>(data.work.pending.size()));
  for (size_t k = 0; k < data.work.pending.size(); ++k) {
    pending[static_cast<capnp::uint>(k)].setEpoch(data.work.pending[k].epoch);
    pending[static_cast<capnp::uint>(k)].setIndex(data.work.pending[k].index);
  }
  work.setClock(data.work.clock);
  auto shards = body.initShards(static_cast<capnp::uint>(data.shards.size()));
  for (size_t i = 0; i < data.shards.size(); ++i) {
    const auto& s = data.shards[i];
    auto out = shards[static_cast<capnp::uint>(i)];
    out.setIndex(s.index);
    out.setRangeBegin(s.range_begin);
    out.setRangeEnd(s.range_end);
    out.setVersion(s.version);
    out.setParams(blob::of(s.params));
    auto slots = out.initSlots(static_cast<capnp::uint>(s.slots.size()));
    for (size_t k = 0; k < s.slots.size(); ++k)
      slots.set(static_cast<capnp::uint>(k), blob::of(s.slots[k]));
    out.setOptimizerSteps(s.optimizer_steps);
    auto clocks = out.initAppliedClocks(static_cast<capnp::uint>(s.applied_clocks.size()));
    for (size_t k = 0; k < s.applied_clocks.size(); ++k)
      clocks.set(static_cast<capnp::uint>(k), s.applied_clocks[k]);
    auto counts = out.initAppliedCounts(static_cast<capnp::uint>(s.applied_counts.size()));
    for (size_t k = 0; k < s.applied_counts.size(); ++k)
      counts.set(static_cast<capnp::uint>(k), s.applied_counts[k]);
  }
  body.setConfig(text(data.config));
  body.setCreatedUnixMs(data.created_unix_ms);
}

// The checkpoint in `body`, or a status whose message is the bare reason.
result<checkpoint_data> extract(wire::Checkpoint::Reader body) {
  auto text = [](capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); };
  checkpoint_data data;
  data.updates = body.getUpdates();
  data.model = text(body.getModel());
  data.layout_fingerprint = body.getLayoutFingerprint();
  data.total_params = body.getTotalParams();
  data.optimizer = text(body.getOptimizer());
  data.consistency = text(body.getConsistency());
  data.seed = body.getSeed();
  for (uint64_t steps : body.getWorkerSteps())
    data.worker_steps.push_back(steps);
  for (auto in : body.getShards()) {
    auto& s = data.shards.emplace_back();
    auto name = "shard " + std::to_string(data.shards.size() - 1);
    s.index = in.getIndex();
    s.range_begin = in.getRangeBegin();
    s.range_end = in.getRangeEnd();
    s.version = in.getVersion();
    if (!blob::read_floats(in.getParams(), s.params))
      return status{errc::corrupt_data, name + ": params are not a whole number of float32s"};
    for (auto slot : in.getSlots())
      if (!blob::read_floats(slot, s.slots.emplace_back()))
        return status{errc::corrupt_data, name + ": a slot is not a whole number of float32s"};
    s.optimizer_steps = in.getOptimizerSteps();
    for (uint64_t clock : in.getAppliedClocks())
      s.applied_clocks.push_back(clock);
    for (uint64_t count : in.getAppliedCounts())
      s.applied_counts.push_back(count);
  }
  data.config = text(body.getConfig());
  data.created_unix_ms = body.getCreatedUnixMs();
  if (body.hasWork()) {
    auto work = body.getWork();
    data.work.batch = work.getBatch();
    data.work.next = {work.getNext().getEpoch(), work.getNext().getIndex()};
    for (auto t : work.getPending())
      data.work.pending.push_back({t.getEpoch(), t.getIndex()});
    data.work.clock = work.getClock();
  }
  if (auto why = inconsistency(data); !why.empty())
    return status{errc::corrupt_data, "inconsistent shards: " + why};
  return data;
}

uint32_t crc_of(kj::ArrayPtr<const kj::byte> bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (size_t at = 0; at < bytes.size();) {
    uInt n = static_cast<uInt>(std::min<size_t>(bytes.size() - at, size_t{1} << 30));
    crc = ::crc32(crc, bytes.begin() + at, n);
    at += n;
  }
  return static_cast<uint32_t>(crc);
}

// Reads `path`; on failure the status message is the bare reason (no path).
result<checkpoint_data> read_file(const std::string& path) {
  // Never blocks: a FIFO (or anything else that is not a regular file) is refused
  // without waiting for a writer.
  auto opened = open_regular_file(path, "checkpoint");
  if (!opened) {
    auto code = opened.error().code() == errc::not_found ? errc::not_found : errc::io_error;
    std::string why = opened.error().message();
    // The caller names the file; keep the reason: "... is a FIFO (named pipe), not a ..."
    auto quoted = "checkpoint \"" + path + "\" ";
    if (why.starts_with(quoted))
      why.erase(0, quoted.size());
    return status{code, why};
  }
  const int fd = opened->fd.get();
  const auto size = static_cast<size_t>(opened->size);
  if (size < 16 || size % 8 != 0)
    return status{errc::corrupt_data, "truncated: " + std::to_string(size) +
                                          " bytes is not a whole Cap'n Proto message"};
  const size_t words = size / 8;
  std::unique_ptr<uint64_t[]> buffer(new (std::nothrow) uint64_t[words]); // aligned words
  if (!buffer)
    return status{errc::io_error, "out of memory for " + std::to_string(size) + " bytes"};
  auto got = read_fully(fd, buffer.get(), size, path);
  if (!got)
    return status{errc::io_error, got.error().message()};
  if (*got != size)
    return status{errc::corrupt_data, "truncated while reading"};
  const auto* begin = reinterpret_cast<const capnp::word*>(buffer.get());
  try {
    capnp::ReaderOptions options;
    // canonicalize() and extract() each read every word once.
    options.traversalLimitInWords = 2 * words + 4096;
    capnp::FlatArrayMessageReader reader({begin, words}, options);
    if (reader.getEnd() != begin + words)
      return status{errc::corrupt_data, "trailing bytes after the message"};
    auto file = reader.getRoot<wire::CheckpointFile>();
    if (!file.hasBody())
      return status{errc::corrupt_data, "not a checkpoint: no body"};
    auto body = file.getBody();
    uint32_t crc = crc_of(capnp::canonicalize(body).asBytes());
    if (crc != file.getCrc32()) {
      char why[80];
      std::snprintf(why, sizeof why, "checksum mismatch (stored %08x, computed %08x)",
                    file.getCrc32(), crc);
      return status{errc::corrupt_data, why};
    }
    if (body.getFormatVersion() != checkpoint_format_version)
      return status{errc::corrupt_data,
                    "unsupported format version " + std::to_string(body.getFormatVersion()) +
                        " (this build reads " + std::to_string(checkpoint_format_version) + ")"};
    return extract(body);
  } catch (const kj::Exception& e) {
    std::string what = e.getDescription().cStr();
    bool short_file = what.find("prematurely") != std::string::npos;
    return status{errc::corrupt_data,
                  (short_file ? "truncated (" : "not a checkpoint (") + what + ")"};
  } catch (const std::exception& e) {
    return status{errc::corrupt_data, std::string{"not a checkpoint ("} + e.what() + ")"};
  } catch (...) {
    return status{errc::corrupt_data, "not a checkpoint"};
  }
}

// The update count and copy number of a name "ckpt-<digits>[-<n>].tether", or false.
bool parse_name(const std::string& name, uint64_t& updates, uint32_t& copy) {
  constexpr std::string_view prefix = "ckpt-", suffix = ".tether";
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return false;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size() - suffix.size();
  const char* dash = std::find(first, last, '-');
  auto digits = [](const char* a, const char* b) {
    return a != b && std::all_of(a, b, [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(first, dash))
    return false;
  auto [end, ec] = std::from_chars(first, dash, updates);
  if (ec != std::errc{} || end != dash)
    return false;
  copy = 1;
  if (dash == last)
    return true;
  if (!digits(dash + 1, last))
    return false;
  auto [copy_end, copy_ec] = std::from_chars(dash + 1, last, copy);
  return copy_ec == std::errc{} && copy_end == last && copy >= 2;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  return names;
}

// Renames `from` to `to` unless `to` exists: 0, or the errno (EEXIST when it does).
// renameat2(RENAME_NOREPLACE) where the file system has it, else link() + unlink(),
// which fail the same way on an existing name.
int rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return errno;
  if (::link(from.c_str(), to.c_str()) != 0)
    return errno;
  ::unlink(from.c_str());
  return 0;
}

} // namespace

std::string checkpoint_file_name(uint64_t updates, uint32_t copy) {
  char name[80];
  if (copy >= 2)
    std::snprintf(name, sizeof name, "ckpt-%012llu-%u.tether",
                  static_cast<unsigned long long>(updates), copy);
  else
    std::snprintf(name, sizeof name, "ckpt-%012llu.tether",
                  static_cast<unsigned long long>(updates));
  return name;
}

result<std::string> write_checkpoint(const std::string& dir, const checkpoint_data& data) {
  if (auto why = inconsistency(data); !why.empty())
    return status{errc::invalid_argument, "refusing to write an inconsistent checkpoint: " + why};
  for (const auto& s : data.shards)
    if (s.params.size() > max_blob_floats)
      return status{errc::invalid_argument, "a shard of " + std::to_string(s.params.size()) +
                                                " params is too large for one checkpoint blob "
                                                "(at most 2^27 floats); use more shards"};
  if (auto st = ensure_dir(dir); !st)
    return st;
  const std::string name = checkpoint_file_name(data.updates);
  const std::string final_path = dir + "/" + name;
  const std::string temp_path = dir + "/." + name + ".tmp";
  auto fail = [&](const std::string& step, int err) -> status {
    ::unlink(temp_path.c_str());
    return status{errc::io_error, "cannot write checkpoint " + in_quotes(final_path) + " (" + step +
                                      "): " + errno_text(err)};
  };
  // Build, then seal: crc32 over the canonical body.
  std::vector<kj::ArrayPtr<const capnp::word>> segments;
  size_t words = std::min<size_t>(payload_bytes(data) / 8, 0xffffffffu);
  capnp::MallocMessageBuilder builder(static_cast<capnp::uint>(words));
  try {
    auto file = builder.initRoot<wire::CheckpointFile>();
    auto body = file.initBody();
    fill(body, data);
    file.setCrc32(crc_of(capnp::canonicalize(body.asReader()).asBytes()));
    for (auto segment : builder.getSegmentsForOutput())
      segments.push_back(segment);
  } catch (const std::exception& e) {
    return status{errc::internal, std::string{"cannot encode checkpoint: "} + e.what()};
  }
  // The segment table: count - 1, then each size in words, padded to whole words.
  std::vector<uint32_t> table(segments.size() + 1 + (segments.size() + 1) % 2, 0);
  table[0] = static_cast<uint32_t>(segments.size() - 1);
  for (size_t i = 0; i < segments.size(); ++i)
    table[i + 1] = static_cast<uint32_t>(segments[i].size());

  // O_EXCL | O_NOFOLLOW: never write through whatever already has the temp name (a FIFO
  // would block, a link would lead elsewhere); a leftover regular temp file is removed.
  const int create = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(temp_path.c_str(), create, 0644);
  if (fd < 0 && errno == EEXIST) {
    struct stat st;
    if (::lstat(temp_path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      ::unlink(temp_path.c_str());
    fd = ::open(temp_path.c_str(), create, 0644);
  }
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) // not ours to delete: say what it is
      return status{errc::io_error, "cannot write checkpoint " + in_quotes(final_path) + ": " +
                                        in_quotes(temp_path) +
                                        " exists and is not a regular "
                                        "file; remove it"};
    return fail("create temp file", err);
  }
  bool ok = write_all(fd, table.data(), table.size() * 4);
  for (size_t i = 0; ok && i < segments.size(); ++i)
    ok = write_all(fd, segments[i].begin(), segments[i].size() * 8);
  if (!ok) {
    int err = errno;
    ::close(fd);
    return fail("write", err);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return fail("fsync", err);
  }
  if (::close(fd) != 0)
    return fail("close", errno);
  // Never over an existing file: the checkpoint a job resumed from may have this name.
  std::string written = final_path;
  int err = rename_no_replace(temp_path, written);
  for (uint32_t copy = 2; err == EEXIST && copy < 10000; ++copy) {
    written = dir + "/" + checkpoint_file_name(data.updates, copy);
    err = rename_no_replace(temp_path, written);
  }
  if (err != 0)
    return fail("rename", err);
  if (int sync_err = fsync_dir(dir))
    return status{errc::io_error, "wrote checkpoint " + in_quotes(written) +
                                      " but cannot fsync its directory: " + errno_text(sync_err)};
  return written;
}

result<checkpoint_data> read_checkpoint(const std::string& path) {
  auto got = read_file(path);
  if (got)
    return got;
  const auto& e = got.error();
  if (e.code() == errc::corrupt_data)
    return status{e.code(), "corrupt checkpoint " + in_quotes(path) + ": " + e.message()};
  return status{e.code(), "cannot read checkpoint " + in_quotes(path) + ": " + e.message()};
}

checkpoint_listing scan_checkpoints(const std::string& dir) {
  struct entry {
    uint64_t updates;
    uint32_t copy;
    std::string name;
  };
  std::vector<entry> found;
  for (auto& name : names_in(dir)) {
    uint64_t updates = 0;
    uint32_t copy = 1;
    if (parse_name(name, updates, copy))
      found.push_back({updates, copy, std::move(name)});
  }
  std::sort(found.begin(), found.end(), [](const entry& a, const entry& b) {
    return a.updates != b.updates ? a.updates > b.updates : a.copy > b.copy;
  });
  checkpoint_listing out;
  for (auto& e : found) {
    std::string path = dir + "/" + e.name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      struct stat link;
      bool dangling = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
      out.skipped.push_back(
          path + ": " + (dangling ? std::string("a symbolic link to nothing") : errno_text(errno)));
    } else if (!S_ISREG(st.st_mode)) {
      out.skipped.push_back(path + ": " + file_kind(st.st_mode) + ", not a regular file");
    } else {
      out.files.push_back(std::move(path));
    }
  }
  return out;
}

std::vector<std::string> list_checkpoints(const std::string& dir) {
  return scan_checkpoints(dir).files;
}

result<loaded_checkpoint> load_newest_good(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return status{errc::not_found,
                  "no checkpoint in " + in_quotes(dir) + ": it is not an existing directory"};
  auto listing = scan_checkpoints(dir);
  loaded_checkpoint out;
  out.skipped = listing.skipped;
  if (listing.files.empty()) {
    std::string msg = "no checkpoint in " + in_quotes(dir) + " (no ckpt-*.tether file)";
    if (!listing.skipped.empty())
      msg = "no checkpoint in " + in_quotes(dir) + "; skipped";
    for (const auto& line : listing.skipped)
      msg += "\n  " + line;
    return status{errc::not_found, msg};
  }
  for (const auto& path : listing.files) {
    auto got = read_file(path);
    if (got) {
      out.path = path;
      out.data = std::move(got).value();
      return out;
    }
    out.skipped.push_back(path + ": " + got.error().message());
  }
  std::string msg = "no good checkpoint in " + in_quotes(dir) + "; tried";
  for (const auto& line : out.skipped)
    msg += "\n  " + line;
  return status{errc::corrupt_data, msg};
}

status prune_checkpoints(const std::string& dir, size_t keep) {
  auto paths = list_checkpoints(dir);
  for (size_t i = keep; i < paths.size(); ++i)
    if (::unlink(paths[i].c_str()) != 0 && errno != ENOENT)
      return {errc::io_error,
              "cannot delete old checkpoint " + in_quotes(paths[i]) + ": " + errno_text(errno)};
  return {};
}

void remove_temp_files(const std::string& dir) {
  for (const auto& name : names_in(dir))
    if (name.starts_with(".ckpt-") && name.ends_with(".tmp"))
      ::unlink((dir + "/" + name).c_str());
}

status check_writable_dir(const std::string& dir) {
  if (auto st = ensure_dir(dir); !st)
    return st;
  const std::string probe = dir + "/.tether-probe-" + std::to_string(::getpid());
  // O_EXCL | O_NOFOLLOW | O_NONBLOCK: whatever already has the name (a FIFO would block an
  // open for writing) is not written through; a leftover regular probe is replaced.
  const int create = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  int fd = ::open(probe.c_str(), create, 0644);
  if (fd < 0 && errno == EEXIST) {
    struct stat st;
    if (::lstat(probe.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      ::unlink(probe.c_str());
    fd = ::open(probe.c_str(), create, 0644);
  }
  if (fd < 0)
    return {errc::io_error, "checkpoint directory " + in_quotes(dir) + " is not writable: " +
                                errno_text(errno) + "; choose another --checkpoint-dir"};
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

} // namespace tether
