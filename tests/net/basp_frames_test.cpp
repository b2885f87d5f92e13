// net/basp_frames.hpp: the frame-length check on a BASP stream, byte by byte.
#include "net/basp_frames.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using tether::net::basp_frame_reader;

namespace {

std::vector<uint8_t> header(uint8_t op, uint32_t len) {
  std::vector<uint8_t> h(32, 0);
  h[0] = op;
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<uint8_t>(len >> (24 - 8 * i));
  return h;
}

std::vector<uint8_t> frame(uint8_t op, uint32_t len) {
  auto h = header(op, len);
  std::vector<uint8_t> f(h.size() + len, 0xab);
  std::copy(h.begin(), h.end(), f.begin());
  return f;
}

std::vector<uint8_t> join(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

} // namespace

TEST_CASE("frames within the caps pass in any chunking and are counted") {
  auto stream = join({frame(0x01, 100), frame(0x02, 5000), frame(0x06, 0), frame(0x02, 1)});
  for (size_t step : {size_t{1}, size_t{7}, size_t{32}, size_t{33}, stream.size()}) {
    basp_frame_reader r(1 << 20);
    for (size_t at = 0; at < stream.size(); at += step)
      REQUIRE(r.feed(stream.data() + at, std::min(step, stream.size() - at)));
    CHECK(r.frames() == 4);
    CHECK(r.handshake_done());
    CHECK(r.reason().empty());
  }
}

TEST_CASE("a header announcing 4 GiB is refused as its last byte arrives") {
  basp_frame_reader r(64u << 20);
  auto h = header(0x01, 0xffffffffu);
  CHECK(r.feed(h.data(), 31));
  CHECK_FALSE(r.feed(h.data() + 31, 1));
  CHECK(r.reason().find("4294967295 bytes") != std::string::npos);
  CHECK(r.reason().find("handshake") != std::string::npos);
  uint8_t more = 0;
  CHECK_FALSE(r.feed(&more, 1)); // stays refused
}

TEST_CASE("the first frame is held to the handshake cap, later ones to max_frame") {
  basp_frame_reader first(64u << 20);
  auto big_first = header(0x01, tether::net::handshake_frame_cap + 1);
  CHECK_FALSE(first.feed(big_first.data(), big_first.size()));
  CHECK_FALSE(first.handshake_done());

  basp_frame_reader later(1 << 20);
  auto ok = join({frame(0x01, 10), header(0x02, 1 << 20)});
  CHECK(later.feed(ok.data(), ok.size()));
  basp_frame_reader over(1 << 20);
  auto bad = join({frame(0x01, 10), header(0x02, (1 << 20) + 1)});
  CHECK_FALSE(over.feed(bad.data(), bad.size()));
  CHECK(over.reason().find("--max-frame") != std::string::npos);
  CHECK(over.frames() == 1);
}

TEST_CASE("an unknown operation is refused, a truncated stream waits") {
  basp_frame_reader r(1 << 20);
  auto h = header(0x07, 0);
  CHECK_FALSE(r.feed(h.data(), h.size()));
  CHECK(r.reason().find("unknown operation 7") != std::string::npos);

  basp_frame_reader t(1 << 20);
  auto f = frame(0x01, 100);
  CHECK(t.feed(f.data(), 80)); // header and part of the payload: nothing to refuse yet
  CHECK(t.frames() == 0);
  CHECK_FALSE(t.handshake_done());
}
