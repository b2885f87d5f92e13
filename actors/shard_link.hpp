// How a worker's pulls and pushes reach the shards: the one seam between the worker's
// training loop and the messages it sends. The direct link asks the shard actor (a CAF
// request with --request-timeout); the faulty link (--faults) decides each message's fate
// first and then uses the direct link or holds the message back. The worker's loop knows
// nothing of faults.
//
// Every request ends in exactly one call of `answered` or `failed`, or in none when a fault
// dropped the answer: then `failed(request_timeout)` comes after --request-timeout, as it
// would for a shard that never answered. A duplicate's second answer is dropped.
//
// Thread: the worker's own (the link is part of its state and calls back inside its
// handlers).
#pragma once

#include "core/fault_plan.hpp"
#include "core/splitmix64.hpp"
#include "messages/interfaces.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace tether {

struct slice_callbacks {
  std::function<void(param_slice&)> answered;
  std::function<void(const caf::error&)> failed;
};

/// What a link needs of the worker that owns it: whom to ask, how long to wait, and a
/// way to be called back later (`later(delay, token)` makes the worker call fire(token)).
struct link_context {
  worker_actor::pointer self = nullptr;
  const std::vector<shard_actor>* shards = nullptr;
  std::chrono::milliseconds timeout{30000};
  std::function<void(std::chrono::microseconds, uint64_t)> later;
};

class shard_link {
public:
  virtual ~shard_link() = default;
  virtual void pull(size_t shard, pull_request req, slice_callbacks cb) = 0;
  virtual void push(size_t shard, push_request req, slice_callbacks cb) = 0;
  /// A delay this link asked for with `later` is over.
  virtual void fire(uint64_t token) = 0;
};

/// Asks the shards directly.
std::unique_ptr<shard_link> make_direct_link(link_context ctx);

/// --faults: each message is delivered, dropped (not sent, or its answer ignored: half
/// each), duplicated, delayed or flipped (encoded, one byte changed, decoded as a receiver
/// would; one that no longer decodes is dropped) by a draw from the worker's own seeded
/// stream, with the plan's probabilities for pushes and pulls.
std::unique_ptr<shard_link> make_faulty_link(link_context ctx, message_faults push_faults,
                                             message_faults pull_faults, splitmix64 draws);

} // namespace tether
