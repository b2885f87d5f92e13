// Outputs checked against inputs and against what they are (cli/output_paths.hpp).
#include "cli/output_paths.hpp"

#include "core/file_input.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tether {

namespace {

namespace fs = std::filesystem;

status bad(std::string message) {
  return status{errc::invalid_argument, std::move(message)};
}

std::string shown(const named_path& p) {
  return p.option + "=" + p.path;
}

/// The absolute path with every existing symbolic link resolved ("" if that fails).
std::string resolved(const std::string& path) {
  std::error_code ec;
  auto p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? std::string() : p.lexically_normal().string();
}

bool owned_by_checkpointer(const std::string& name) {
  return (name.starts_with("ckpt-") && name.ends_with(".tether")) ||
         (name.starts_with(".ckpt-") && name.ends_with(".tmp"));
}

/// The IDX files load_idx_dir may read in `dir` (core/dataset.hpp).
std::vector<std::string> idx_candidates(const std::string& dir) {
  std::vector<std::string> out;
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    for (const char* suffix : {".gz", ""})
      out.push_back((fs::path(dir) / (std::string(name) + suffix)).string());
  return out;
}

} // namespace

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty())
    return false;
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  auto ra = resolved(a), rb = resolved(b);
  return !ra.empty() && ra == rb;
}

status check_not_an_input(const named_path& out, const std::vector<named_path>& inputs) {
  for (const auto& in : inputs)
    if (same_file(out.path, in.path))
      return bad(shown(out) + " is what " + in.option + " reads" +
                 (in.path == out.path ? "" : " (" + in.path + ")") +
                 ": writing it would destroy that input; give another path");
  return {};
}

status check_outside_checkpoints(const named_path& out, const std::string& checkpoint_dir) {
  if (out.path.empty() || checkpoint_dir.empty())
    return {};
  fs::path p(out.path);
  auto parent = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  if (owned_by_checkpointer(p.filename().string()) && same_file(parent, checkpoint_dir))
    return bad(shown(out) + " is a checkpoint's name in the checkpoint directory " +
               checkpoint_dir + ": the checkpointer would delete or read it; give another path");
  if (same_file(out.path, checkpoint_dir))
    return bad(shown(out) + " is the checkpoint directory; give a file name");
  return {};
}

status check_replaceable(const named_path& out) {
  struct stat st;
  if (out.path.empty() || ::stat(out.path.c_str(), &st) != 0 || S_ISREG(st.st_mode))
    return {};
  return bad(shown(out) + " is " + file_kind(st.st_mode) +
             ": this file is written by replacing it, so it must be a regular file; give the "
             "path of a file");
}

result<std::FILE*> open_for_append(const named_path& out) {
  // O_NONBLOCK: opening a FIFO for writing waits for a reader; without one, ENXIO.
  int fd = ::open(out.path.c_str(),
                  O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0666);
  if (fd < 0) {
    int err = errno;
    if (err == ENXIO)
      return bad(shown(out) + " is a FIFO nobody reads (or a socket): start its reader first, "
                              "or give a file");
    if (err == EISDIR)
      return bad(shown(out) + " is a directory; give a file name");
    return bad(shown(out) + ": cannot open for appending: " + std::strerror(err) +
               " (does the directory exist and is it writable?)");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 ||
      !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    ::close(fd);
    return bad(shown(out) + " is not a file, a terminal or a pipe; give a file");
  }
  // Writes to a file or a device do not block anyway; a pipe's reader sets the pace.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    int err = errno;
    ::close(fd);
    return bad(shown(out) + ": cannot open for appending: " + std::strerror(err));
  }
  return file;
}

status check_job_paths(const job_config& cfg, const std::string& config_path) {
  std::vector<named_path> inputs;
  if (!config_path.empty())
    inputs.push_back({"--config", config_path});
  if (cfg.dataset == dataset_kind::csv) {
    inputs.push_back({"--train", cfg.train_path});
    inputs.push_back({"--test", cfg.test_path});
  }
  if (cfg.dataset == dataset_kind::fashion_mnist || cfg.dataset == dataset_kind::idx)
    for (auto& path : idx_candidates(cfg.data_dir))
      inputs.push_back({"--data-dir", path});
  if (!cfg.metrics_token.empty())
    inputs.push_back({"--metrics-token", cfg.metrics_token});
  if (!cfg.faults.empty() && cfg.faults.find_first_of(" \t\n;") == std::string::npos)
    inputs.push_back({"--faults", cfg.faults}); // a plan file, not the plan itself

  std::vector<named_path> outputs;
  for (named_path out :
       {named_path{"--summary", cfg.summary_path}, named_path{"--metrics-log", cfg.metrics_log},
        named_path{"--log-file", cfg.log_file}})
    if (!out.path.empty())
      outputs.push_back(std::move(out));

  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& out = outputs[i];
    if (auto st = check_not_an_input(out, inputs); !st)
      return st;
    if (auto st = check_outside_checkpoints(out, cfg.checkpoint_dir); !st)
      return st;
    for (size_t j = 0; j < i; ++j)
      if (same_file(out.path, outputs[j].path))
        return bad(shown(out) + " is also " + shown(outputs[j]) +
                   ": two outputs in one file would mix or replace each other; give another "
                   "path");
  }
  if (!cfg.summary_path.empty())
    if (auto st = check_replaceable({"--summary", cfg.summary_path}); !st)
      return st;
  return {};
}

} // namespace tether
