// The files a command writes, checked before anything is read or written: no command
// ever writes over its own input (`tether export --checkpoint=X --out=X`), over another
// of its outputs, into the checkpoint directory under a checkpoint's name, or over
// something that is not a file (a rename over /dev/null would replace the device).
//
// "The same file" is the same device and inode when both paths exist (another path to
// it, a hard link, a symbolic link), else the same absolute path once every existing
// symbolic link in it is resolved.
//
// Every failure is errc::invalid_argument (exit code 2) and names both options:
//   --summary=train.csv is what --train reads: writing it would destroy that input; ...
// Thread-safety: plain functions.
#pragma once

#include "actors/job_config.hpp"
#include "core/status.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace tether {

/// A path and the option that named it, for messages ("--summary").
struct named_path {
  std::string option;
  std::string path;
};

/// Whether `a` and `b` name the same file (see above).
bool same_file(const std::string& a, const std::string& b);

/// Refuses `out` when it is the same file as one of `inputs`.
status check_not_an_input(const named_path& out, const std::vector<named_path>& inputs);

/// Refuses `out` when it lies in `checkpoint_dir` under a name the checkpointer owns
/// (ckpt-*.tether or .ckpt-*.tmp): pruning would delete it, --resume would read it.
status check_outside_checkpoints(const named_path& out, const std::string& checkpoint_dir);

/// For a file written by replacing it (a temp file renamed over it): if `out` exists it
/// must be a regular file (or a link to one).
status check_replaceable(const named_path& out);

/// Opens `out` for appending (a log) without blocking: a regular file (created if
/// missing), a character device (/dev/null, a terminal) or a FIFO with a reader; a
/// directory, a FIFO nobody reads or a socket is refused. The caller owns the FILE.
result<std::FILE*> open_for_append(const named_path& out);

/// Every check above for the files `tether train` (and `tether coordinator`) reads and
/// writes: --config (`config_path`, empty if none), --train, --test, the IDX files of
/// --data-dir, --metrics-token and a --faults plan file read; --summary, --metrics-log and
/// --log-file written; --checkpoint-dir owned by the checkpointer.
status check_job_paths(const job_config& cfg, const std::string& config_path);

} // namespace tether
