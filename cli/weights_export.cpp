#include "cli/weights_export.hpp"

#include "cli/json.hpp"
#include "core/gpt_spec.hpp"
#include "core/model.hpp"

#include <array>
#include <bit>
#include <cstdio>

namespace tether {

namespace {

void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// Appends values as little-endian float32, whatever the host's byte order.
void put_floats(std::string& out, std::span<const float> values) {
  size_t at = out.size();
  out.resize(at + 4 * values.size());
  char* p = out.data() + at;
  for (float f : values) {
    auto bits = std::bit_cast<uint32_t>(f);
    for (int i = 0; i < 4; ++i)
      *p++ = static_cast<char>((bits >> (8 * i)) & 0xff);
  }
}

status check_params(const param_layout& layout, std::span<const float> params) {
  if (params.size() != layout.total)
    return status{errc::invalid_argument,
                  "the parameter vector holds " + std::to_string(params.size()) +
                      " floats; the layout needs " + std::to_string(layout.total)};
  size_t next = 0;
  for (auto& t : layout.tensors) {
    if (t.offset != next || t.offset + t.size > layout.total)
      return status{errc::invalid_argument,
                    "tensor " + t.name + " does not follow the one before it in the layout"};
    next = t.offset + t.size;
  }
  if (next != layout.total)
    return status{errc::invalid_argument, "the layout's tensors do not cover its total"};
  return {};
}

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

// ZIP record signatures and the fixed fields tether writes (APPNOTE.TXT 4.3).
constexpr uint32_t zip_local_header = 0x04034b50;
constexpr uint32_t zip_central_header = 0x02014b50;
constexpr uint32_t zip_end_of_directory = 0x06054b50;
constexpr uint16_t zip_version = 20;        // 2.0: what a stored file needs
constexpr uint16_t zip_dos_time = 0;        // 00:00:00, so the bytes do not depend on
constexpr uint16_t zip_dos_date = 0x21;     // the clock: 1980-01-01
constexpr uint64_t zip_limit = 0xffffffffu; // without ZIP64 every size and offset fits 32 bits

} // namespace

result<weights_format> parse_weights_format(std::string_view text) {
  if (text == "npz")
    return weights_format::npz;
  if (text == "safetensors")
    return weights_format::safetensors;
  return status{errc::invalid_argument,
                "unknown format \"" + std::string(text) + "\"; expected npz or safetensors"};
}

const char* to_string(weights_format format) {
  return format == weights_format::npz ? "npz" : "safetensors";
}

uint32_t zip_crc32(std::string_view bytes) {
  static const auto table = make_crc_table();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes)
    c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string npy_bytes(const std::vector<size_t>& shape, std::span<const float> values) {
  std::string dims;
  for (size_t d : shape)
    dims += std::to_string(d) + ", ";
  if (shape.size() == 1)
    dims.pop_back(); // "(5,)"
  else if (!shape.empty())
    dims.resize(dims.size() - 2); // "(2, 3)"
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  put_u16(out, static_cast<uint16_t>(header.size()));
  out += header;
  put_floats(out, values);
  return out;
}

result<std::string> npz_bytes(const param_layout& layout, std::span<const float> params) {
  if (auto st = check_params(layout, params); !st)
    return st;
  struct entry {
    std::string name;
    uint32_t crc = 0;
    uint64_t size = 0;
    uint64_t offset = 0;
  };
  std::vector<entry> entries;
  std::string out;
  for (auto& t : layout.tensors) {
    auto npy = npy_bytes(t.shape, params.subspan(t.offset, t.size));
    entry e{t.name + ".npy", zip_crc32(npy), npy.size(), out.size()};
    if (e.size > zip_limit || e.offset > zip_limit)
      return status{errc::invalid_argument,
                    "the model is too large for npz without ZIP64 (4 GiB); use safetensors"};
    put_u32(out, zip_local_header);
    put_u16(out, zip_version);
    put_u16(out, 0); // flags
    put_u16(out, 0); // method: stored
    put_u16(out, zip_dos_time);
    put_u16(out, zip_dos_date);
    put_u32(out, e.crc);
    put_u32(out, static_cast<uint32_t>(e.size)); // compressed size
    put_u32(out, static_cast<uint32_t>(e.size)); // uncompressed size
    put_u16(out, static_cast<uint16_t>(e.name.size()));
    put_u16(out, 0); // extra field length
    out += e.name;
    out += npy;
    entries.push_back(std::move(e));
  }
  uint64_t directory_offset = out.size();
  for (auto& e : entries) {
    put_u32(out, zip_central_header);
    put_u16(out, zip_version); // made by
    put_u16(out, zip_version); // needed
    put_u16(out, 0);           // flags
    put_u16(out, 0);           // method: stored
    put_u16(out, zip_dos_time);
    put_u16(out, zip_dos_date);
    put_u32(out, e.crc);
    put_u32(out, static_cast<uint32_t>(e.size));
    put_u32(out, static_cast<uint32_t>(e.size));
    put_u16(out, static_cast<uint16_t>(e.name.size()));
    put_u16(out, 0); // extra field length
    put_u16(out, 0); // comment length
    put_u16(out, 0); // disk number
    put_u16(out, 0); // internal attributes
    put_u32(out, 0); // external attributes
    put_u32(out, static_cast<uint32_t>(e.offset));
    out += e.name;
  }
  uint64_t directory_size = out.size() - directory_offset;
  if (out.size() > zip_limit || entries.size() > 0xffff)
    return status{errc::invalid_argument,
                  "the model is too large for npz without ZIP64 (4 GiB); use safetensors"};
  put_u32(out, zip_end_of_directory);
  put_u16(out, 0); // this disk
  put_u16(out, 0); // disk of the central directory
  put_u16(out, static_cast<uint16_t>(entries.size()));
  put_u16(out, static_cast<uint16_t>(entries.size()));
  put_u32(out, static_cast<uint32_t>(directory_size));
  put_u32(out, static_cast<uint32_t>(directory_offset));
  put_u16(out, 0); // comment length
  return out;
}

result<std::string>
safetensors_bytes(const param_layout& layout, std::span<const float> params,
                  const std::vector<std::pair<std::string, std::string>>& metadata) {
  if (auto st = check_params(layout, params); !st)
    return st;
  json_writer w;
  w.begin_object();
  for (auto& t : layout.tensors) {
    w.key(t.name).begin_object();
    w.key("dtype").string("F32");
    w.key("shape").begin_array();
    for (size_t d : t.shape)
      w.unsigned_integer(d);
    w.end_array();
    w.key("data_offsets").begin_array();
    w.unsigned_integer(4 * t.offset).unsigned_integer(4 * (t.offset + t.size));
    w.end_array();
    w.end_object();
  }
  w.key("__metadata__").begin_object();
  for (auto& [name, value] : metadata)
    w.key(name).string(value);
  w.end_object();
  w.end_object();
  std::string header = w.str();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + header.size() + 4 * params.size());
  put_u64(out, header.size());
  out += header;
  put_floats(out, params);
  return out;
}

namespace {

/// The layout a model text describes: the GPT's (core/gpt_spec.hpp) or a dense stack's.
result<param_layout> layout_of_model(const std::string& text) {
  auto broken = [&](const status& st) {
    return status{errc::corrupt_data, "the checkpoint's model \"" + text + "\": " + st.message()};
  };
  if (is_gpt_spec(text)) {
    auto gpt = parse_gpt_spec(text);
    if (!gpt)
      return broken(gpt.error());
    return gpt_layout(*gpt);
  }
  auto spec = parse_model_spec(text);
  if (!spec)
    return broken(spec.error());
  auto m = model::make(*spec);
  if (!m)
    return broken(m.error());
  return m->layout();
}

} // namespace

result<param_layout> checkpoint_layout(const checkpoint_data& data) {
  auto built = layout_of_model(data.model);
  if (!built)
    return built.error();
  param_layout layout = std::move(*built);
  if (layout.total != data.total_params || layout.fingerprint() != data.layout_fingerprint) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%016llx vs stored %016llx",
                  static_cast<unsigned long long>(layout.fingerprint()),
                  static_cast<unsigned long long>(data.layout_fingerprint));
    return status{errc::mismatch, "the checkpoint's model " + data.model + " has " +
                                      std::to_string(layout.total) + " parameters (fingerprint " +
                                      buf + "), but the checkpoint holds " +
                                      std::to_string(data.total_params)};
  }
  return layout;
}

std::vector<float> checkpoint_params(const checkpoint_data& data) {
  std::vector<float> flat;
  flat.reserve(data.total_params);
  for (auto& shard : data.shards)
    flat.insert(flat.end(), shard.params.begin(), shard.params.end());
  return flat;
}

} // namespace tether
