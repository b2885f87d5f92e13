#include "cli/metrics_log.hpp"

#include "cli/json.hpp"
#include "cli/output_paths.hpp"
#include "cli/status_json.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <unistd.h>

namespace tether {

std::string metrics_log_line(const progress_point& point, double unix_time) {
  json_writer w;
  w.begin_object();
  w.key("unix_time").number(unix_time);
  write_progress_fields(w, point);
  w.end_object();
  return w.str();
}

result<std::unique_ptr<metrics_log>> metrics_log::open(const std::string& path, bool sync) {
  auto file = open_for_append({"--metrics-log", path}); // never blocks on a FIFO
  if (!file)
    return file.error();
  return std::unique_ptr<metrics_log>(new metrics_log(*file, path, sync));
}

metrics_log::~metrics_log() {
  std::fclose(file_);
}

status metrics_log::append(const progress_point& point) {
  using namespace std::chrono;
  double now = duration<double>(system_clock::now().time_since_epoch()).count();
  std::string line = metrics_log_line(point, now);
  line += '\n';
  // One fwrite of the whole line, then a flush: the line reaches the kernel in one piece
  // (the file is opened O_APPEND), so a crash leaves the earlier lines whole.
  bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size();
  ok = std::fflush(file_) == 0 && ok;
  if (ok && sync_)
    ok = ::fsync(::fileno(file_)) == 0;
  if (!ok) {
    int err = errno;
    std::clearerr(file_);
    return status(errc::io_error,
                  "--metrics-log=" + path_ + ": cannot write: " + std::strerror(err));
  }
  return {};
}

} // namespace tether
