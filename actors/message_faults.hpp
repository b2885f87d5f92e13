// What --faults does to one message a worker sends: the draw, and the byte flip.
#pragma once

#include "core/fault_plan.hpp"
#include "core/splitmix64.hpp"
#include "messages/codec.hpp"

#include <optional>

namespace tether {

enum class message_fate { deliver, drop_request, drop_answer, duplicate, delay, flip };

/// One draw from `draws` decides a message's fate by the plan's probabilities.
inline message_fate draw_fate(splitmix64& draws, const message_faults& faults) {
  if (!faults.any())
    return message_fate::deliver;
  double u = draws.uniform();
  if ((u -= faults.drop) < 0)
    return draws.uniform() < 0.5 ? message_fate::drop_request : message_fate::drop_answer;
  if ((u -= faults.duplicate) < 0)
    return message_fate::duplicate;
  if ((u -= faults.delay) < 0)
    return message_fate::delay;
  if ((u -= faults.flip) < 0)
    return message_fate::flip;
  return message_fate::deliver;
}

/// `msg` as a receiver would see it after one byte of its encoding changed: the decoded
/// message, or nothing when it no longer decodes (the receiver drops it).
template <class Message, class Decode>
std::optional<Message> flipped(splitmix64& draws, const Message& msg, Decode decode) {
  auto bytes = encode(msg);
  if (bytes.empty())
    return std::nullopt;
  auto at = static_cast<size_t>(draws.next() % bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + draws.next() % 255));
  auto decoded = decode(std::span<const char>{bytes});
  if (!decoded)
    return std::nullopt;
  return std::move(*decoded);
}

} // namespace tether
