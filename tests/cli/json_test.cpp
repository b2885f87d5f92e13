#include "cli/json.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <unistd.h>

using namespace tether;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A fresh empty directory under the system temp directory, removed at scope end.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    static int count = 0;
    path = fs::temp_directory_path() /
           ("tether_json_test_" + std::to_string(::getpid()) + "_" + std::to_string(count++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
  size_t entries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(path), {}));
  }
};

} // namespace

TEST_CASE("strings are escaped fully") {
  CHECK(json_writer::quote("plain") == R"("plain")");
  CHECK(json_writer::quote("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(json_writer::quote("\n\r\t\b\f") == R"("\n\r\t\b\f")");
  CHECK(json_writer::quote(std::string("\x01\x1f\x7f", 3)) == R"("\u0001\u001f\u007f")");
  CHECK(json_writer::quote(std::string("nul\0end", 7)) == R"("nul\u0000end")");
  CHECK(json_writer::quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  // Invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong form, a
  // surrogate.
  CHECK(json_writer::quote("a\x80z") == R"("a\ufffdz")");
  CHECK(json_writer::quote("a\xe2\x82") == R"("a\ufffd\ufffd")");
  CHECK(json_writer::quote("\xc0\xaf") == R"("\ufffd\ufffd")");
  CHECK(json_writer::quote("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");
}

TEST_CASE("numbers: integers exact, doubles shortest round-trip, non-finite as null") {
  auto one = [](auto fill) {
    json_writer w;
    w.begin_array();
    fill(w);
    w.end_array();
    return w.str();
  };
  CHECK(one([](json_writer& w) { w.integer(-42).integer(0); }) == "[-42,0]");
  CHECK(one([](json_writer& w) { w.integer(std::numeric_limits<int64_t>::min()); }) ==
        "[-9223372036854775808]");
  CHECK(one([](json_writer& w) { w.unsigned_integer(18446744073709551615ull); }) ==
        "[18446744073709551615]");
  CHECK(one([](json_writer& w) { w.number(0.1).number(1.0).number(-2.5).number(1e-7); }) ==
        "[0.1,1,-2.5,1e-07]");
  CHECK(one([](json_writer& w) { w.number(1.0 / 3.0); }) == "[0.3333333333333333]");
  CHECK(one([](json_writer& w) { w.number(0.1f).number(3.0e38f); }) == "[0.1,3e+38]");
  CHECK(one([](json_writer& w) {
          w.number(std::nan("")).number(std::numeric_limits<double>::infinity());
          w.number(-std::numeric_limits<float>::infinity());
        }) == "[null,null,null]");
  CHECK(one([](json_writer& w) { w.boolean(true).boolean(false).null(); }) == "[true,false,null]");
  // Round trip of an awkward double.
  double x = 0.1 + 0.2;
  auto text = one([&](json_writer& w) { w.number(x); });
  CHECK(std::stod(text.substr(1)) == x);
}

TEST_CASE("objects and arrays nest with commas, compact and indented") {
  json_writer compact;
  compact.begin_object()
      .key("workers")
      .integer(4)
      .key("name\n")
      .string("x")
      .key("restarts")
      .begin_object()
      .key("worker")
      .integer(1)
      .end_object()
      .key("empty")
      .begin_array()
      .end_array()
      .key("curve")
      .begin_array()
      .begin_object()
      .key("a")
      .null()
      .end_object()
      .integer(2)
      .end_array()
      .end_object();
  CHECK(compact.str() ==
        R"({"workers":4,"name\n":"x","restarts":{"worker":1},"empty":[],"curve":[{"a":null},2]})");

  json_writer pretty(2);
  pretty.begin_object().key("a").integer(1).key("b").begin_array().integer(2).integer(3);
  pretty.end_array().key("c").begin_object().end_object().end_object();
  CHECK(pretty.str() == "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"c\": {}\n}");

  json_writer scalar;
  scalar.string("only");
  CHECK(scalar.str() == "\"only\"");
}

TEST_CASE("write_file_atomically writes the whole file and replaces an old one") {
  scratch_dir dir;
  auto path = (dir.path / "summary.json").string();
  REQUIRE(write_file_atomically(path, "{\"a\":1}\n").is_ok());
  CHECK(read_all(path) == "{\"a\":1}\n");
  REQUIRE(write_file_atomically(path, "second").is_ok());
  CHECK(read_all(path) == "second");
  std::string big(3'000'000, 'x');
  REQUIRE(write_file_atomically(path, big).is_ok());
  CHECK(read_all(path) == big);
  CHECK(write_file_atomically((dir.path / "empty").string(), "").is_ok());
  CHECK(fs::file_size(dir.path / "empty") == 0);
  CHECK(dir.entries() == 2); // no temporary file left behind
}

TEST_CASE("write_file_atomically fails cleanly: io_error naming the path, no file left") {
  scratch_dir dir;
  { std::ofstream(dir.path / "regular") << "x"; }
  SUBCASE("below a regular file") {
    auto path = (dir.path / "regular" / "out.json").string();
    auto st = write_file_atomically(path, "content");
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.code() == errc::io_error);
    CHECK(st.message().find(path) != std::string::npos);
  }
  SUBCASE("onto an existing directory: the rename fails after the temp file was written") {
    fs::create_directory(dir.path / "a_dir");
    auto path = (dir.path / "a_dir").string();
    auto st = write_file_atomically(path, "content");
    REQUIRE_FALSE(st.is_ok());
    CHECK(st.code() == errc::io_error);
    CHECK(st.message().find(path) != std::string::npos);
    CHECK(fs::is_empty(dir.path / "a_dir"));
    CHECK(dir.entries() == 2); // regular and a_dir, no temporary file
  }
  SUBCASE("in a directory that does not exist") {
    auto st = write_file_atomically((dir.path / "missing" / "out.json").string(), "x");
    CHECK(st.code() == errc::io_error);
    CHECK_FALSE(fs::exists(dir.path / "missing"));
  }
  SUBCASE("a path naming a directory") {
    CHECK(write_file_atomically(dir.path.string() + "/", "x").code() == errc::io_error);
  }
  CHECK(read_all(dir.path / "regular") == "x");
  for (auto& entry : fs::directory_iterator(dir.path))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}
