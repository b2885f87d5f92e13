// Tests of cli/weights_export.hpp: the .safetensors and .npz bytes are parsed back here,
// independently of the writer, and checked field by field against the formats
// (docs/export.md): header lengths and alignment, names, dtypes, shapes, offsets, the
// little-endian data, the ZIP records and their CRCs.
#include <doctest/doctest.h>

#include "cli/weights_export.hpp"
#include "core/model.hpp"

#include <bit>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

using namespace tether;

namespace {

// A minimal JSON reader for the safetensors header: objects keep their key order.
struct json_value;
using json_object = std::vector<std::pair<std::string, json_value>>;
using json_array = std::vector<json_value>;
struct json_value {
  std::variant<std::string, double, std::shared_ptr<json_object>, std::shared_ptr<json_array>> v;
  const json_object& object() const { return *std::get<std::shared_ptr<json_object>>(v); }
  const json_array& array() const { return *std::get<std::shared_ptr<json_array>>(v); }
  const std::string& str() const { return std::get<std::string>(v); }
  double number() const { return std::get<double>(v); }
};

struct json_reader {
  std::string_view s;
  size_t at = 0;
  void skip() {
    while (at < s.size() && (s[at] == ' ' || s[at] == '\n'))
      ++at;
  }
  void expect(char c) {
    skip();
    REQUIRE(at < s.size());
    REQUIRE(s[at] == c);
    ++at;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (at < s.size() && s[at] != '"') {
      REQUIRE(s[at] != '\\'); // no escapes expected in tether's names
      out += s[at++];
    }
    expect('"');
    return out;
  }
  json_value value() {
    skip();
    REQUIRE(at < s.size());
    if (s[at] == '"')
      return {string()};
    if (s[at] == '{') {
      auto obj = std::make_shared<json_object>();
      expect('{');
      skip();
      if (s[at] == '}') {
        ++at;
        return {obj};
      }
      for (;;) {
        auto key = string();
        expect(':');
        obj->emplace_back(key, value());
        skip();
        if (s[at] == ',') {
          ++at;
          continue;
        }
        expect('}');
        return {obj};
      }
    }
    if (s[at] == '[') {
      auto arr = std::make_shared<json_array>();
      expect('[');
      skip();
      if (s[at] == ']') {
        ++at;
        return {arr};
      }
      for (;;) {
        arr->push_back(value());
        skip();
        if (s[at] == ',') {
          ++at;
          continue;
        }
        expect(']');
        return {arr};
      }
    }
    size_t begin = at;
    while (at < s.size() && (std::isdigit(static_cast<unsigned char>(s[at])) || s[at] == '-'))
      ++at;
    REQUIRE(at > begin);
    return {std::stod(std::string(s.substr(begin, at - begin)))};
  }
};

uint64_t le(std::string_view bytes, size_t at, int width) {
  REQUIRE(at + width <= bytes.size());
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

float le_float(std::string_view bytes, size_t at) {
  return std::bit_cast<float>(static_cast<uint32_t>(le(bytes, at, 4)));
}

struct small_model {
  param_layout layout;
  std::vector<float> params;
};

// mlp:5,3,2: layer0.weight {3,5}, layer0.bias {3}, layer1.weight {2,3}, layer1.bias {2}.
small_model mlp_5_3_2() {
  auto m = model::make(*parse_model_spec("mlp:5,3,2"));
  REQUIRE(m.is_ok());
  small_model s{m->layout(), {}};
  for (size_t i = 0; i < s.layout.total; ++i)
    s.params.push_back(0.25f * static_cast<float>(i) - 3.0f);
  s.params[4] = -0.0f;  // the sign bit survives
  s.params[7] = 1e-30f; // so do small values
  return s;
}

/// The .npy files of a stored ZIP archive, by name, after checking every record.
std::vector<std::pair<std::string, std::string>> read_zip(std::string_view zip) {
  // End of central directory: the last 22 bytes (tether writes no comment).
  REQUIRE(zip.size() >= 22);
  size_t eocd = zip.size() - 22;
  CHECK(le(zip, eocd, 4) == 0x06054b50);
  auto entries = le(zip, eocd + 8, 2);
  CHECK(le(zip, eocd + 10, 2) == entries);
  auto dir_size = le(zip, eocd + 12, 4);
  auto dir_offset = le(zip, eocd + 16, 4);
  CHECK(dir_offset + dir_size == eocd);
  std::vector<std::pair<std::string, std::string>> files;
  size_t at = dir_offset;
  for (uint64_t i = 0; i < entries; ++i) {
    REQUIRE(le(zip, at, 4) == 0x02014b50);
    CHECK(le(zip, at + 10, 2) == 0); // stored
    auto crc = le(zip, at + 16, 4);
    auto size = le(zip, at + 20, 4);
    CHECK(le(zip, at + 24, 4) == size);
    auto name_len = le(zip, at + 28, 2);
    auto local = le(zip, at + 42, 4);
    std::string name(zip.substr(at + 46, name_len));
    at += 46 + name_len + le(zip, at + 30, 2) + le(zip, at + 32, 2);
    // The local header says the same.
    REQUIRE(le(zip, local, 4) == 0x04034b50);
    CHECK(le(zip, local + 8, 2) == 0);
    CHECK(le(zip, local + 14, 4) == crc);
    CHECK(le(zip, local + 18, 4) == size);
    CHECK(le(zip, local + 22, 4) == size);
    CHECK(zip.substr(local + 30, le(zip, local + 26, 2)) == name);
    auto data_at = local + 30 + le(zip, local + 26, 2) + le(zip, local + 28, 2);
    std::string data(zip.substr(data_at, size));
    CHECK(zip_crc32(data) == crc);
    files.emplace_back(name, data);
  }
  CHECK(at == eocd);
  return files;
}

/// Checks one .npy file and returns its values.
std::vector<float> read_npy(std::string_view npy, const std::string& shape_text) {
  REQUIRE(npy.size() >= 10);
  CHECK(npy.substr(0, 6) == "\x93NUMPY");
  CHECK(npy[6] == 1);
  CHECK(npy[7] == 0);
  auto header_len = le(npy, 8, 2);
  CHECK((10 + header_len) % 64 == 0);
  std::string header(npy.substr(10, header_len));
  CHECK(header.back() == '\n');
  auto dict = header.substr(0, header.find_last_not_of(" \n") + 1);
  CHECK(dict == "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_text + ", }");
  size_t data = 10 + header_len;
  REQUIRE((npy.size() - data) % 4 == 0);
  std::vector<float> out;
  for (size_t at = data; at < npy.size(); at += 4)
    out.push_back(le_float(npy, at));
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), 4 * a.size()) == 0;
}

} // namespace

TEST_CASE("zip_crc32 is the CRC-32 of ZIP and zlib") {
  CHECK(zip_crc32("") == 0);
  CHECK(zip_crc32("123456789") == 0xCBF43926u);
  CHECK(zip_crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
}

TEST_CASE("parse_weights_format") {
  CHECK(*parse_weights_format("npz") == weights_format::npz);
  CHECK(*parse_weights_format("safetensors") == weights_format::safetensors);
  auto bad = parse_weights_format("onnx");
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.error().message().find("onnx") != std::string::npos);
}

TEST_CASE("safetensors: header, names, shapes, offsets and data follow the format") {
  auto m = mlp_5_3_2();
  auto bytes = safetensors_bytes(m.layout, m.params, {{"format", "pt"}, {"model", "mlp:5,3,2"}});
  REQUIRE(bytes.is_ok());
  std::string_view file = *bytes;

  // 8-byte little-endian N, N bytes of JSON, the data starting 8-aligned.
  REQUIRE(file.size() >= 8);
  auto n = le(file, 0, 8);
  REQUIRE(8 + n <= file.size());
  CHECK((8 + n) % 8 == 0);
  std::string_view header = file.substr(8, n);
  CHECK(header.front() == '{');
  CHECK(header.find_last_not_of(' ') == header.rfind('}')); // only spaces pad it
  std::string_view data = file.substr(8 + n);
  CHECK(data.size() == 4 * m.params.size());

  json_reader reader{header};
  auto root = reader.value();
  reader.skip();
  CHECK(reader.at == header.size());
  const auto& members = root.object();
  REQUIRE(members.size() == m.layout.tensors.size() + 1);
  uint64_t expected_begin = 0;
  for (size_t i = 0; i < m.layout.tensors.size(); ++i) {
    const auto& t = m.layout.tensors[i];
    CAPTURE(t.name);
    CHECK(members[i].first == t.name); // layer order
    const auto& fields = members[i].second.object();
    REQUIRE(fields.size() == 3);
    CHECK(fields[0].first == "dtype");
    CHECK(fields[0].second.str() == "F32");
    CHECK(fields[1].first == "shape");
    std::vector<size_t> shape;
    for (auto& d : fields[1].second.array())
      shape.push_back(static_cast<size_t>(d.number()));
    CHECK(shape == t.shape);
    CHECK(fields[2].first == "data_offsets");
    auto& offsets = fields[2].second.array();
    REQUIRE(offsets.size() == 2);
    auto begin = static_cast<uint64_t>(offsets[0].number());
    auto end = static_cast<uint64_t>(offsets[1].number());
    CHECK(begin == expected_begin); // contiguous, in order, from 0
    CHECK(end - begin == 4 * t.size);
    expected_begin = end;
    // The tensor's bytes are its parameters, little-endian float32.
    std::vector<float> values;
    for (uint64_t at = begin; at < end; at += 4)
      values.push_back(le_float(data, at));
    CHECK(same_bits(values, std::vector<float>(m.params.begin() + t.offset,
                                               m.params.begin() + t.offset + t.size)));
  }
  CHECK(expected_begin == data.size());
  CHECK(members.back().first == "__metadata__");
  const auto& meta = members.back().second.object();
  REQUIRE(meta.size() == 2);
  CHECK(meta[0].first == "format");
  CHECK(meta[0].second.str() == "pt");
  CHECK(meta[1].first == "model");
  CHECK(meta[1].second.str() == "mlp:5,3,2");
  // Spot check of the byte order: params[1] = -2.75f = 0xC0300000.
  CHECK(static_cast<unsigned char>(data[4]) == 0x00);
  CHECK(static_cast<unsigned char>(data[7]) == 0xC0);
  CHECK(static_cast<unsigned char>(data[6]) == 0x30);
}

TEST_CASE("npz: a stored ZIP of one .npy per tensor, in layer order") {
  auto m = mlp_5_3_2();
  auto bytes = npz_bytes(m.layout, m.params);
  REQUIRE(bytes.is_ok());
  auto files = read_zip(*bytes);
  REQUIRE(files.size() == 4);
  const std::vector<std::string> shapes{"(3, 5)", "(3,)", "(2, 3)", "(2,)"};
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& t = m.layout.tensors[i];
    CHECK(files[i].first == t.name + ".npy");
    CHECK(files[i].second == npy_bytes(t.shape, std::span(m.params).subspan(t.offset, t.size)));
    auto values = read_npy(files[i].second, shapes[i]);
    CHECK(same_bits(values, std::vector<float>(m.params.begin() + t.offset,
                                               m.params.begin() + t.offset + t.size)));
  }
  // Deterministic: the same input gives the same bytes.
  CHECK(*npz_bytes(m.layout, m.params) == *bytes);
}

TEST_CASE("npy header of a large shape stays 64-byte aligned") {
  std::vector<float> none;
  auto npy = npy_bytes({100000, 0}, none);
  CHECK(read_npy(npy, "(100000, 0)").empty());
}

TEST_CASE("a parameter vector that does not fit the layout is refused") {
  auto m = mlp_5_3_2();
  m.params.pop_back();
  auto npz = npz_bytes(m.layout, m.params);
  REQUIRE_FALSE(npz.is_ok());
  CHECK(npz.error().code() == errc::invalid_argument);
  CHECK_FALSE(safetensors_bytes(m.layout, m.params, {}).is_ok());
}

TEST_CASE("checkpoint_layout rebuilds the model's layout and checks it") {
  auto m = mlp_5_3_2();
  checkpoint_data d;
  d.model = "mlp:5,3,2";
  d.total_params = m.layout.total;
  d.layout_fingerprint = m.layout.fingerprint();
  shard_state a, b;
  a.range_end = 10;
  a.params.assign(m.params.begin(), m.params.begin() + 10);
  b.range_begin = 10;
  b.range_end = m.layout.total;
  b.params.assign(m.params.begin() + 10, m.params.end());
  d.shards = {a, b};
  auto layout = checkpoint_layout(d);
  REQUIRE(layout.is_ok());
  CHECK(layout->fingerprint() == m.layout.fingerprint());
  CHECK(checkpoint_params(d) == m.params);

  d.layout_fingerprint ^= 1;
  auto mismatch = checkpoint_layout(d);
  REQUIRE_FALSE(mismatch.is_ok());
  CHECK(mismatch.error().code() == errc::mismatch);
  d.model = "transformer";
  CHECK_FALSE(checkpoint_layout(d).is_ok());
}
