// Tests of messages/type_ids.hpp: what CAF's network layer makes of tether's messages.
// Wire messages go through CAF's binary serializer as Cap'n Proto bytes and come back
// equal; bytes that are not a well-formed message are rejected (counted, reported)
// instead of reaching an actor; shard states keep every float bit for bit.
#include <doctest/doctest.h>

#include "messages/type_ids.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <cstring>

using namespace tether;

namespace {

struct system_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_fixture() {
    cfg.add_message_types<caf::id_block::tether>();
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

template <class T>
std::vector<char> save(caf::actor_system& sys, T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = sink(x);
  REQUIRE(!err);
  return buf;
}

template <class T>
caf::error load(caf::actor_system& sys, const std::vector<char>& buf, T& x) {
  caf::binary_deserializer source{sys, buf};
  return source(x);
}

std::vector<float> ramp(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = scale * static_cast<float>(i) - 1.5f;
  return v;
}

} // namespace

TEST_CASE("a push_request crosses CAF's serializer as Cap'n Proto bytes and comes back equal") {
  system_fixture fx;
  push_request push{3, 17, 12, 4096, ramp(100000, 0.25f)};
  auto bytes = save(*fx.sys, push);
  // A length prefix, then exactly the codec's message: not CAF's per-element format.
  auto wire = encode(push);
  CHECK(bytes.size() >= wire.size());
  CHECK(bytes.size() <= wire.size() + 10);
  CHECK(std::memcmp(bytes.data() + (bytes.size() - wire.size()), wire.data(), wire.size()) == 0);
  push_request back;
  REQUIRE(!load(*fx.sys, bytes, back));
  CHECK(back.worker == 3);
  CHECK(back.clock == 17);
  CHECK(back.base_version == 12);
  CHECK(back.range_begin == 4096);
  CHECK(back.grad == push.grad);
}

TEST_CASE("pull_request and param_slice round-trip through CAF's serializer") {
  system_fixture fx;
  pull_request pull{7, 99};
  pull_request pull_back;
  REQUIRE(!load(*fx.sys, save(*fx.sys, pull), pull_back));
  CHECK(pull_back.worker == 7);
  CHECK(pull_back.clock == 99);
  param_slice slice{42, 8, ramp(1000, 0.5f)};
  param_slice slice_back;
  REQUIRE(!load(*fx.sys, save(*fx.sys, slice), slice_back));
  CHECK(slice_back.version == 42);
  CHECK(slice_back.range_begin == 8);
  CHECK(slice_back.values == slice.values);
}

TEST_CASE("corrupt wire bytes are rejected and reported, never decoded into a message") {
  system_fixture fx;
  std::vector<std::string> reports;
  on_rejection([&](const std::string& what) { reports.push_back(what); });
  auto before = rejected_messages();
  push_request push{1, 2, 3, 0, ramp(64, 1.0f)};
  auto bytes = save(*fx.sys, push);

  SUBCASE("the Cap'n Proto segment table claims more than there is") {
    // The payload starts after the length prefix; its second word is the segment size.
    auto wire = encode(push);
    size_t offset = bytes.size() - wire.size();
    uint32_t huge = 0x7fffffff;
    std::memcpy(bytes.data() + offset + 4, &huge, 4);
  }
  SUBCASE("the length prefix claims more bytes than the message holds") {
    bytes.resize(bytes.size() / 2);
  }
  SUBCASE("a param_slice's bytes read as a push_request") {
    param_slice slice{1, 0, ramp(64, 1.0f)};
    bytes = save(*fx.sys, slice);
  }
  push_request back;
  auto err = load(*fx.sys, bytes, back);
  CHECK(err);
  CHECK(rejected_messages() == before + 1);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].starts_with("rejected a malformed tether::push_request from the network: "));
  CHECK(back.grad.empty());
  on_rejection({});
}

TEST_CASE("a shard_state crosses CAF's serializer with its floats as raw blocks") {
  system_fixture fx;
  shard_state s;
  s.index = 1;
  s.range_begin = 100;
  s.range_end = 100 + 5000;
  s.version = 77;
  s.params = ramp(5000, 0.001f);
  s.slots = {ramp(5000, 0.002f), ramp(5000, 0.003f)};
  s.optimizer_steps = 76;
  s.applied_clocks = {10, 20, 30};
  auto bytes = save(*fx.sys, s);
  CHECK(bytes.size() < 3 * 5000 * 4 + 200); // no per-element framing
  shard_state back;
  REQUIRE(!load(*fx.sys, bytes, back));
  CHECK(back.index == 1);
  CHECK(back.range_begin == 100);
  CHECK(back.range_end == 5100);
  CHECK(back.version == 77);
  CHECK(back.params == s.params);
  CHECK(back.slots == s.slots);
  CHECK(back.optimizer_steps == 76);
  CHECK(back.applied_clocks == s.applied_clocks);

  // A truncated state is an error, not a short vector.
  bytes.resize(bytes.size() - 1000);
  shard_state cut;
  CHECK(load(*fx.sys, bytes, cut));
}
