// A fresh directory under /tmp for one test, removed with everything in it at the end.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace tether::testing {

struct temp_dir {
  std::filesystem::path path;

  temp_dir() {
    std::string name = "/tmp/tether-test-XXXXXX";
    REQUIRE(::mkdtemp(name.data()) != nullptr);
    path = name;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The path of `name` inside the directory.
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::string str() const { return path.string(); }
  /// Writes `text` to a file `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    auto file = (path / name).string();
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
};

} // namespace tether::testing
