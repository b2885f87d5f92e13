#include "cli/json.hpp"

#include <atomic>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace tether {

namespace {

/// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  size_t n;
  uint32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2, cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3, cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4, cp = lead & 0x07;
  } else {
    return 0;
  }
  if (i + n > text.size())
    return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

template <class T>
void append_number(std::string& out, T value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, res.ptr);
}

} // namespace

std::string json_writer::quote(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      if (auto n = utf8_length(text, i); n > 0) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        out += "\\ufffd";
        ++i;
      }
      continue;
    }
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20 || c == 0x7F) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
    }
    ++i;
  }
  out += '"';
  return out;
}

void json_writer::newline() {
  if (indent_ > 0) {
    out_ += '\n';
    out_.append(stack_.size() * static_cast<size_t>(indent_), ' ');
  }
}

void json_writer::before_value() {
  assert(!done_ && "json_writer: the top-level value is already complete");
  if (stack_.empty())
    return;
  auto& top = stack_.back();
  if (top.kind == scope::object) {
    assert(top.key_written && "json_writer: a value inside an object needs a key first");
    top.key_written = false;
    return;
  }
  if (!top.empty)
    out_ += ',';
  top.empty = false;
  newline();
}

json_writer& json_writer::key(std::string_view name) {
  assert(!stack_.empty() && stack_.back().kind == scope::object && !stack_.back().key_written &&
         "json_writer: key() only inside an object, once per value");
  auto& top = stack_.back();
  if (!top.empty)
    out_ += ',';
  top.empty = false;
  top.key_written = true;
  newline();
  out_ += quote(name);
  out_ += indent_ > 0 ? ": " : ":";
  return *this;
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ += '{';
  stack_.push_back({scope::object});
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ += '[';
  stack_.push_back({scope::array});
  return *this;
}

json_writer& json_writer::end_object() {
  assert(!stack_.empty() && stack_.back().kind == scope::object && !stack_.back().key_written);
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty)
    newline();
  out_ += '}';
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::end_array() {
  assert(!stack_.empty() && stack_.back().kind == scope::array);
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty)
    newline();
  out_ += ']';
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::string(std::string_view text) {
  before_value();
  out_ += quote(text);
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::integer(int64_t value) {
  before_value();
  append_number(out_, value);
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::unsigned_integer(uint64_t value) {
  before_value();
  append_number(out_, value);
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::number(double value) {
  if (!std::isfinite(value))
    return null();
  before_value();
  append_number(out_, value);
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::number(float value) {
  if (!std::isfinite(value))
    return null();
  before_value();
  append_number(out_, value);
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
  done_ = stack_.empty();
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  done_ = stack_.empty();
  return *this;
}

const std::string& json_writer::str() const {
  assert(done_ && "json_writer: the document is not complete");
  return out_;
}

status write_file_atomically(const std::string& path, const std::string& content) {
  static std::atomic<uint64_t> counter{0};
  auto failed = [&](const char* what, int err) {
    return status{errc::io_error, "cannot write " + path + ": " + what + ": " + std::strerror(err)};
  };
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (path.empty() || slash == path.size() - 1)
    return status{errc::io_error, "cannot write '" + path + "': not a file name"};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return failed("create temporary file", errno);
  auto abandon = [&](const char* what) {
    int err = errno;
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    return failed(what, err);
  };
  for (size_t written = 0; written < content.size();) {
    auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return abandon("write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0)
    return abandon("fsync");
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    return abandon("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return abandon("rename");
  // Make the rename itself durable; a failure here leaves a complete file, so ignore it.
  if (int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

} // namespace tether
