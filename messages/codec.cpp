// The wire codec (codec.hpp): plain types <-> one flat, single-segment Cap'n Proto
// message whose root is a wire::Envelope (wire.capnp, docs/formats.md).
#include "messages/codec.hpp"
#include "messages/float_blob.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "wire.capnp.h"

namespace tether {

namespace {

static_assert(std::endian::native == std::endian::little,
              "the wire format stores little-endian float32 and segment tables");

// -- encoding ---------------------------------------------------------------------------

// A MessageBuilder whose first segment lives inside the output vector, right after the
// 8-byte table of a one-segment message, so a message that fits needs no copy once
// built. Should it overflow, capnp asks for more segments and finish() flattens.
class in_place_builder final : public capnp::MessageBuilder {
public:
  explicit in_place_builder(size_t payload_bytes)
      : out_(8 + (payload_bytes / 8 + 64) * 8) {} // zero-filled, as capnp requires

  kj::ArrayPtr<capnp::word> allocateSegment(capnp::uint minimum_size) override {
    auto* first = out_.data() + 8;
    if (!first_given_ && reinterpret_cast<uintptr_t>(first) % 8 == 0 &&
        (out_.size() - 8) / 8 >= minimum_size) {
      first_given_ = true;
      return {reinterpret_cast<capnp::word*>(first), (out_.size() - 8) / 8};
    }
    size_t words = std::max<size_t>(minimum_size, 1024);
    extra_.emplace_back(new uint64_t[words]()); // zero-filled
    return {reinterpret_cast<capnp::word*>(extra_.back().get()), words};
  }

  std::vector<char> finish() {
    auto segments = getSegmentsForOutput();
    if (segments.size() == 1 &&
        segments[0].begin() == reinterpret_cast<const capnp::word*>(out_.data() + 8)) {
      const uint32_t table[2] = {0, static_cast<uint32_t>(segments[0].size())};
      std::memcpy(out_.data(), table, sizeof table);
      out_.resize(8 + segments[0].size() * 8);
      return std::move(out_);
    }
    auto flat = capnp::messageToFlatArray(segments);
    auto chars = flat.asChars();
    return std::vector<char>(chars.begin(), chars.end());
  }

private:
  std::vector<char> out_;
  bool first_given_ = false;
  std::vector<std::unique_ptr<uint64_t[]>> extra_;
};

void check_wire_size(const std::vector<float>& v, const char* what) {
  if (v.size() > max_wire_floats)
    throw std::length_error(std::string{what} + " holds " + std::to_string(v.size()) +
                            " floats; one wire message carries at most " +
                            std::to_string(max_wire_floats));
}

// -- decoding ---------------------------------------------------------------------------

status corrupt(const char* what, const std::string& reason) {
  return {errc::corrupt_data, std::string{"cannot decode "} + what + ": " + reason};
}

const char* kind_name(wire::Envelope::Which which) {
  switch (which) {
  case wire::Envelope::INVALID:
    return "an empty envelope";
  case wire::Envelope::PULL:
    return "a pull_request";
  case wire::Envelope::PUSH:
    return "a push_request";
  case wire::Envelope::SLICE:
    return "a param_slice";
  }
  return "a message of unknown kind";
}

// Decodes `bytes` as an Envelope that must hold `expected`, then calls
// extract(envelope) -> result<T>. Catches everything capnp may throw.
template <class T, class Extract>
result<T> decode_as(std::span<const char> bytes, const char* what, wire::Envelope::Which expected,
                    Extract extract) {
  if (bytes.empty())
    return corrupt(what, "empty input");
  if (bytes.size() % 8 != 0)
    return corrupt(what, "truncated: " + std::to_string(bytes.size()) +
                             " bytes is not a whole number of 8-byte words");
  const size_t words = bytes.size() / 8;
  std::unique_ptr<uint64_t[]> copy;
  const auto* data = reinterpret_cast<const capnp::word*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) { // capnp needs aligned words
    copy.reset(new (std::nothrow) uint64_t[words]);
    if (!copy)
      return corrupt(what, "out of memory for an aligned copy");
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    data = reinterpret_cast<const capnp::word*>(copy.get());
  }
  try {
    capnp::ReaderOptions options;
    // Every word is visited once; the margin covers the small structs.
    options.traversalLimitInWords = std::min<uint64_t>(words + 1024, uint64_t{1} << 30);
    capnp::FlatArrayMessageReader reader({data, words}, options);
    if (reader.getEnd() != data + words)
      return corrupt(what, "trailing bytes after the message");
    auto envelope = reader.getRoot<wire::Envelope>();
    if (envelope.which() != expected)
      return corrupt(what, std::string{"got "} + kind_name(envelope.which()));
    return extract(envelope);
  } catch (const kj::Exception& e) {
    return corrupt(what, e.getDescription().cStr());
  } catch (const std::exception& e) {
    return corrupt(what, e.what());
  } catch (...) {
    return corrupt(what, "unknown error");
  }
}

} // namespace

std::vector<char> encode(const pull_request& msg) {
  in_place_builder builder(0);
  auto pull = builder.initRoot<wire::Envelope>().initPull();
  pull.setWorker(msg.worker);
  pull.setClock(msg.clock);
  return builder.finish();
}

std::vector<char> encode(const push_request& msg) {
  check_wire_size(msg.grad, "push_request.grad");
  in_place_builder builder(msg.grad.size() * sizeof(float));
  auto push = builder.initRoot<wire::Envelope>().initPush();
  push.setWorker(msg.worker);
  push.setClock(msg.clock);
  push.setBaseVersion(msg.base_version);
  push.setRangeBegin(msg.range_begin);
  push.setGrad(blob::of(msg.grad));
  return builder.finish();
}

std::vector<char> encode(const param_slice& msg) {
  check_wire_size(msg.values, "param_slice.values");
  in_place_builder builder(msg.values.size() * sizeof(float));
  auto slice = builder.initRoot<wire::Envelope>().initSlice();
  slice.setVersion(msg.version);
  slice.setRangeBegin(msg.range_begin);
  slice.setValues(blob::of(msg.values));
  return builder.finish();
}

result<pull_request> decode_pull(std::span<const char> bytes) {
  return decode_as<pull_request>(bytes, "pull_request", wire::Envelope::PULL,
                                 [](wire::Envelope::Reader env) -> result<pull_request> {
                                   auto pull = env.getPull();
                                   return pull_request{pull.getWorker(), pull.getClock()};
                                 });
}

result<push_request> decode_push(std::span<const char> bytes) {
  return decode_as<push_request>(bytes, "push_request", wire::Envelope::PUSH,
                                 [](wire::Envelope::Reader env) -> result<push_request> {
                                   auto push = env.getPush();
                                   push_request msg;
                                   msg.worker = push.getWorker();
                                   msg.clock = push.getClock();
                                   msg.base_version = push.getBaseVersion();
                                   msg.range_begin = push.getRangeBegin();
                                   if (!blob::read_floats(push.getGrad(), msg.grad))
                                     return corrupt("push_request",
                                                    "grad is not a whole number of float32s");
                                   return msg;
                                 });
}

result<param_slice> decode_param_slice(std::span<const char> bytes) {
  return decode_as<param_slice>(bytes, "param_slice", wire::Envelope::SLICE,
                                [](wire::Envelope::Reader env) -> result<param_slice> {
                                  auto slice = env.getSlice();
                                  param_slice msg;
                                  msg.version = slice.getVersion();
                                  msg.range_begin = slice.getRangeBegin();
                                  if (!blob::read_floats(slice.getValues(), msg.values))
                                    return corrupt("param_slice",
                                                   "values is not a whole number of float32s");
                                  return msg;
                                });
}

} // namespace tether
