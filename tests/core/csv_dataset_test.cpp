#include "core/csv_dataset.hpp"

#include <doctest/doctest.h>
#include "tests/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace tether;

namespace fs = std::filesystem;

namespace {

using tether::testing::temp_dir;

/// The message of a failed load_csv of `text`, which must name the file.
std::string csv_error(const std::string& text, errc code = errc::corrupt_data) {
  temp_dir dir;
  auto path = dir.write("bad.csv", text);
  auto loaded = load_csv(path);
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.error().code() == code);
  CHECK_MESSAGE(loaded.error().message().find("\"" + path + "\"") != std::string::npos,
                loaded.error().message());
  return loaded.error().message();
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a CSV file without a header: features as they are, label last") {
  temp_dir dir;
  auto path = dir.write("train.csv", "1.5,-2,0\n0.25,3e2,2\r\n\n  7 , +0.5 ,1.0\n");
  auto d = load_csv(path);
  REQUIRE_MESSAGE(d.is_ok(), d.error().message());
  CHECK(d->count == 3);
  CHECK(d->features == 2);
  CHECK(d->classes == 3);
  CHECK(d->x == std::vector<float>{1.5f, -2.0f, 0.25f, 300.0f, 7.0f, 0.5f});
  CHECK(d->y == std::vector<float>{0.0f, 2.0f, 1.0f});
}

TEST_CASE("a CSV file with a header line") {
  temp_dir dir;
  auto path = dir.write("iris.csv", "sepal_length,sepal_width,species\n5.1,3.5,0\n6.2,2.9,1\n");
  auto d = load_csv(path);
  REQUIRE_MESSAGE(d.is_ok(), d.error().message());
  CHECK(d->count == 2);
  CHECK(d->features == 2);
  CHECK(d->x == std::vector<float>{5.1f, 3.5f, 6.2f, 2.9f});
  CHECK(d->y == std::vector<float>{0.0f, 1.0f});
  // A header with some numeric names is still a header.
  auto mixed = load_csv(dir.write("mixed.csv", "0,1,label\n1,2,0\n"));
  REQUIRE(mixed.is_ok());
  CHECK(mixed->count == 1);
}

TEST_CASE("a missing file, a directory and an empty file are reported with their path") {
  temp_dir dir;
  auto missing = load_csv((dir.path / "nope.csv").string());
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.error().code() == errc::not_found);
  CHECK(has(missing.error().message(), "nope.csv\" does not exist"));
  auto directory = load_csv(dir.path.string());
  REQUIRE_FALSE(directory.is_ok());
  CHECK(has(directory.error().message(), "is a directory"));
  CHECK(has(csv_error(""), "is empty"));
  CHECK(has(csv_error("\n  \n\n"), "is empty"));
  CHECK(has(csv_error("a,b,label\n"), "has a header line (line 1) but no samples"));
}

TEST_CASE("a UTF-8 byte-order mark before a file without a header is skipped") {
  temp_dir dir;
  std::string rows;
  for (int i = 0; i < 300; ++i)
    rows += std::to_string(i % 7) + ",0.5," + std::to_string(i % 2) + "\n";
  auto plain = load_csv(dir.write("plain.csv", rows));
  auto marked = load_csv(dir.write("bom.csv", "\xEF\xBB\xBF" + rows));
  REQUIRE_MESSAGE(marked.is_ok(), marked.error().message());
  REQUIRE(plain.is_ok());
  CHECK(marked->count == 300); // the first sample is not taken for a header
  CHECK(marked->x == plain->x);
  CHECK(marked->y == plain->y);
  // With a header, the header is still found.
  auto with_header = load_csv(dir.write("bomh.csv", "\xEF\xBB\xBF"
                                                    "a,b,label\n" +
                                                        rows));
  REQUIRE(with_header.is_ok());
  CHECK(with_header->count == 300);
}

TEST_CASE("what is not a regular file is refused without blocking") {
  temp_dir dir;
  auto fifo = dir / "fifo.csv";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto from_fifo = load_csv(fifo); // no writer: a plain open() would wait for ever
  REQUIRE_FALSE(from_fifo.is_ok());
  CHECK(has(from_fifo.error().message(), "is a FIFO (named pipe), not a regular file"));
  auto endless = load_csv("/dev/zero");
  REQUIRE_FALSE(endless.is_ok());
  CHECK(has(endless.error().message(), "is a character device, not a regular file"));
  fs::create_symlink(dir / "gone.csv", dir / "link.csv");
  auto dangling = load_csv(dir / "link.csv");
  REQUIRE_FALSE(dangling.is_ok());
  CHECK(dangling.error().code() == errc::not_found);
  CHECK(has(dangling.error().message(), "symbolic link to a file that does not exist"));
}

TEST_CASE("many blank lines after a wide first row do not reserve memory for samples") {
  // 4096 columns, then 8 MiB of newlines: a reserve of lines x columns floats would ask
  // for 128 GiB; the file can hold at most a few samples.
  std::string text;
  for (int c = 0; c < 4096; ++c)
    text += "1,";
  text += "0\n";
  text.append(size_t{8} << 20, '\n');
  temp_dir dir;
  auto loaded = load_csv(dir.write("wide.csv", text));
  REQUIRE_MESSAGE(loaded.is_ok(), loaded.error().message());
  CHECK(loaded->count == 1);
  CHECK(loaded->features == 4096);
}

TEST_CASE("a ragged row names its line, the expected and the found column count") {
  auto message = csv_error("x,y,label\n1,2,0\n\n3,4,5,1\n");
  CHECK(has(message, ", line 4: expected 3 comma-separated values"));
  CHECK(has(message, "as on line 1"));
  CHECK(has(message, "found 4"));
  CHECK(has(csv_error("1,2,0\n1,0\n"), ", line 2: expected 3 comma-separated values"));
  CHECK(has(csv_error("1;2;0\n"), "line 1 has 1 column"));
}

TEST_CASE("a value that is not a number names its line and column") {
  auto message = csv_error("1,2,0\n3,abc,1\n");
  CHECK(has(message, ", line 2, column 2: \"abc\" is not a number"));
  CHECK(has(message, "only the first line may be a header"));
  CHECK(has(csv_error("1,2,0\n3,,1\n"), ", line 2, column 2: the value is empty"));
  CHECK(has(csv_error("1,2,0\n3,4,one\n"), ", line 2, column 3: \"one\" is not a number"));
  CHECK(has(csv_error("1,2,0\n3,0x10,1\n"), ", line 2, column 2: \"0x10\" is not a number"));
  CHECK(has(csv_error("1,2,0\nf1,f2,label\n"), ", line 2, column 1: \"f1\" is not a number"));
}

TEST_CASE("values that are not finite are rejected with line and column") {
  for (auto bad : {"nan", "inf", "-inf", "1e999", "1e39"}) {
    CAPTURE(bad);
    auto message = csv_error(std::string("1,2,0\n3,") + bad + ",1\n");
    CHECK(has(message, ", line 2, column 2: \"" + std::string(bad) + "\" is not a finite"));
  }
  CHECK(has(csv_error("1,2,0\n3,4,nan\n"), ", line 2, column 3: \"nan\" is not a finite"));
}

TEST_CASE("labels must be whole numbers from 0") {
  for (auto bad : {"-1", "1.5", "65536", "1e10"}) {
    CAPTURE(bad);
    auto message = csv_error(std::string("1,2,0\n3,4,") + bad + "\n");
    CHECK(has(message,
              ", line 2, column 3: label \"" + std::string(bad) + "\" is not a class index"));
  }
  temp_dir dir;
  auto d = load_csv(dir.write("ok.csv", "1,2,3.0\n"));
  REQUIRE(d.is_ok());
  CHECK(d->classes == 4);
}

TEST_CASE("a train/test pair: classes over both files, same features, at least two classes") {
  temp_dir dir;
  auto train = dir.write("train.csv", "1,2,0\n3,4,1\n");
  auto test = dir.write("test.csv", "f1,f2,y\n5,6,2\n");
  auto pair = load_csv_pair(train, test);
  REQUIRE_MESSAGE(pair.is_ok(), pair.error().message());
  CHECK(pair->train->classes == 3);
  CHECK(pair->test->classes == 3);
  CHECK(pair->train->count == 2);
  CHECK(pair->test->count == 1);

  auto wide = dir.write("wide.csv", "1,2,3,1\n");
  auto mismatch = load_csv_pair(train, wide);
  REQUIRE_FALSE(mismatch.is_ok());
  CHECK(mismatch.error().code() == errc::mismatch);
  CHECK(has(mismatch.error().message(), "\"" + train + "\" has 2 feature columns"));
  CHECK(has(mismatch.error().message(), "\"" + wide + "\" has 3"));

  auto zeros = dir.write("zeros.csv", "1,2,0\n3,4,0\n");
  auto one_class = load_csv_pair(zeros, zeros);
  REQUIRE_FALSE(one_class.is_ok());
  CHECK(has(one_class.error().message(), "only class 0"));
  CHECK(has(one_class.error().message(), "\"" + zeros + "\""));

  auto bad_test = load_csv_pair(train, dir.write("bad.csv", "1,2,0\n1,x,0\n"));
  REQUIRE_FALSE(bad_test.is_ok());
  CHECK(has(bad_test.error().message(), "bad.csv\", line 2, column 2"));
  auto missing = load_csv_pair((dir.path / "none.csv").string(), test);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.error().code() == errc::not_found);
}
