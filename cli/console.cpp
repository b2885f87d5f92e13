#include "cli/console.hpp"

#include "cli/output_paths.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace tether {

namespace {

const char* level_name(level lvl) {
  switch (lvl) {
    case level::error: return "error";
    case level::warning: return "warning";
    case level::info: return "info";
  }
  return "info";
}

level parse_level(const std::string& text) {
  return text == "error" ? level::error : text == "warning" ? level::warning : level::info;
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

std::string strip_newline(std::string text) {
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

} // namespace

result<std::unique_ptr<console>> console::open(const job_config& cfg) {
  std::FILE* log = nullptr;
  if (!cfg.log_file.empty()) {
    auto opened = open_for_append({"--log-file", cfg.log_file}); // never blocks on a FIFO
    if (!opened)
      return opened.error();
    log = *opened;
  }
  return std::unique_ptr<console>(new console(cfg, log));
}

console::console(const job_config& cfg, std::FILE* log)
  : cfg_(cfg), log_(log), threshold_(parse_level(cfg.log_level)), tty_(isatty(STDOUT_FILENO)) {
}

console::~console() {
  clear_bar();
  if (log_ != nullptr)
    std::fclose(log_);
}

void console::log(level lvl, const std::string& text) {
  if (log_ == nullptr || lvl > threshold_)
    return;
  std::fprintf(log_, "%s %s %s\n", timestamp().c_str(), level_name(lvl),
               strip_newline(text).c_str());
  std::fflush(log_);
}

void console::clear_bar() {
  if (bar_shown_) {
    std::fputs("\r\033[K", stdout);
    bar_shown_ = false;
  }
}

void console::progress(const std::string& text) {
  log(level::info, text);
  if (cfg_.quiet || threshold_ < level::info)
    return;
  clear_bar();
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

void console::result_line(const std::string& text) {
  log(level::info, text);
  clear_bar();
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

void console::message(level lvl, const std::string& text) {
  log(lvl, text);
  if (lvl > threshold_)
    return;
  clear_bar();
  std::fflush(stdout);
  std::fprintf(stderr, "tether: %s\n", strip_newline(text).c_str());
}

void console::status_bar(const job_status& s) {
  if (!tty_ || cfg_.quiet || threshold_ < level::info || s.epochs == 0)
    return;
  double fraction = std::min(1.0, s.epoch / s.epochs);
  constexpr int width = 24;
  int filled = static_cast<int>(fraction * width);
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::printf("\r\033[K[%s] epoch %.2f/%u  updates %llu  %.0f samples/s  loss %.4f  %.0fs",
              bar.c_str(), s.epoch, s.epochs, static_cast<unsigned long long>(s.updates),
              s.samples_per_sec, std::isnan(s.train_loss) ? 0.0 : s.train_loss, s.wall_seconds);
  std::fflush(stdout);
  bar_shown_ = true;
}

} // namespace tether
