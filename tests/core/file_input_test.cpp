// Tests of core/file_input.hpp: regular files only for data, small text files read with a
// size limit and a deadline whatever the path names (a FIFO, /dev/zero, a directory).
#include "core/file_input.hpp"

#include "tests/temp_dir.hpp"
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tether;
using tether::testing::temp_dir;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("open_regular_file opens a file and refuses everything else at once") {
  temp_dir dir;
  auto file = dir.write("data.bin", "12345");
  auto opened = open_regular_file(file, "data file");
  REQUIRE(opened.is_ok());
  CHECK(opened->size == 5);
  char buffer[8];
  auto got = read_fully(opened->fd.get(), buffer, sizeof buffer, file);
  REQUIRE(got.is_ok());
  CHECK(*got == 5);

  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  auto started = std::chrono::steady_clock::now();
  auto fifo = open_regular_file(dir / "fifo", "data file");
  CHECK(std::chrono::steady_clock::now() - started < 1s); // no writer: never waited for
  REQUIRE_FALSE(fifo.is_ok());
  CHECK(fifo.error().message() ==
        "data file \"" + (dir / "fifo") + "\" is a FIFO (named pipe), not a regular file");
  CHECK(has(open_regular_file(dir.str(), "data file").error().message(), "is a directory"));
  CHECK(
      has(open_regular_file("/dev/zero", "data file").error().message(), "is a character device"));
  fs::create_symlink(dir / "gone", dir / "link");
  auto link = open_regular_file(dir / "link", "data file");
  CHECK(link.error().code() == errc::not_found);
  CHECK(has(link.error().message(), "symbolic link to a file that does not exist"));
  auto missing = open_regular_file(dir / "nope", "data file");
  CHECK(missing.error().code() == errc::not_found);
  CHECK(has(missing.error().message(), "does not exist"));
}

TEST_CASE("read_small_file: a file, a too large file, /dev/zero, a directory") {
  temp_dir dir;
  auto small = read_small_file(dir.write("a.conf", "workers = 4\n"), 100, 1s, "the file");
  REQUIRE(small.is_ok());
  CHECK(*small == "workers = 4\n");

  auto large = read_small_file(dir.write("big.conf", std::string(101, 'x')), 100, 1s, "the file");
  REQUIRE_FALSE(large.is_ok());
  CHECK(large.error().code() == errc::invalid_argument);
  CHECK(has(large.error().message(), "has 101 bytes, more than the limit of 100 bytes"));

  auto started = std::chrono::steady_clock::now();
  auto zero = read_small_file("/dev/zero", 1 << 20, 10s, "the file");
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  REQUIRE_FALSE(zero.is_ok());
  CHECK(has(zero.error().message(), "goes on past 1048576 bytes"));

  auto directory = read_small_file(dir.str(), 100, 1s, "the file");
  REQUIRE_FALSE(directory.is_ok());
  CHECK(has(directory.error().message(), "is a directory"));
  auto null = read_small_file("/dev/null", 100, 1s, "the file");
  REQUIRE(null.is_ok());
  CHECK(null->empty());
}

TEST_CASE("read_small_file reads a FIFO to its end and gives up on one nobody writes") {
  temp_dir dir;
  auto path = dir / "fifo";
  REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
  std::thread writer([&] {
    int fd = ::open(path.c_str(), O_WRONLY); // waits for the reader
    REQUIRE(fd >= 0);
    std::string text = "lr = 0.1\n";
    CHECK(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
  });
  auto read = read_small_file(path, 100, 5s, "the file");
  writer.join();
  REQUIRE_MESSAGE(read.is_ok(), read.error().message());
  CHECK(*read == "lr = 0.1\n");

  auto started = std::chrono::steady_clock::now();
  auto silent = read_small_file(path, 100, 300ms, "the file");
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(silent.is_ok());
  CHECK(has(silent.error().message(), "did not reach its end within 300 ms"));
  CHECK(took >= 300ms);
  CHECK(took < 2s);
}
