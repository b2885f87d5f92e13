// The CAF side of messages/: atoms, the type-ID block and the inspect functions of the
// message types. Include this (not types.hpp) where actors send or receive them.
//
// Inside one process these types travel as C++ objects (moved, never serialized).
// Across processes CAF serializes them, and then:
// - pull_request, push_request and param_slice travel as one Cap'n Proto message each
//   (messages/wire.capnp through messages/codec.hpp), decoded with the codec's reader
//   limits; a malformed one is rejected (messages/rejections.hpp), dropped by CAF, and
//   the sender's request times out. Nothing of it reaches an actor.
// - the float vectors of shard_state go as one raw block each (CAF would write them
//   element by element, about 4x slower), their length checked against the bytes left.
// Both processes need the same block (CAF matches types by registered name): the version
// handshake of the hello (messages/version.hpp) checks the schema identity first.
#pragma once

#include "messages/codec.hpp"
#include "messages/rejections.hpp"
#include "messages/types.hpp"

#include <caf/all.hpp>
#include <caf/type_id.hpp>

#include <cstring>
#include <span>
#include <type_traits>

namespace tether {

namespace wire_detail {

/// CAF's binary serializer or deserializer (network and message copies), not its
/// to_string inspector.
template <class Inspector>
inline constexpr bool is_binary = std::is_base_of_v<caf::serializer, Inspector>
                                  || std::is_base_of_v<caf::deserializer, Inspector>;

inline caf::error rejected(const char* type, const std::string& why) {
  report_rejection("rejected a malformed " + std::string{type} + " from the network: " + why);
  return caf::make_error(caf::sec::invalid_argument, std::string{type} + ": " + why);
}

/// Reads a length n and hands the next n * `element_size` bytes of the message to
/// `consume` (a span into CAF's own buffer, valid during the call; no copy). The length is
/// checked against the bytes left before anything is allocated.
template <class Consume>
caf::error load_block(caf::deserializer& f, size_t element_size, const char* type,
                      Consume consume) {
  size_t n = 0;
  if (auto err = f.begin_sequence(n))
    return err;
  auto* bin = dynamic_cast<caf::binary_deserializer*>(&f);
  if (bin == nullptr || n > bin->remaining() / element_size)
    return rejected(type, "a block of " + std::to_string(n) + " elements is longer than the message");
  auto rest = bin->remainder();
  if (auto err = consume(std::span<const char>(reinterpret_cast<const char*>(rest.data()),
                                               n * element_size)))
    return err;
  bin->skip(n * element_size);
  return f.end_sequence();
}

/// Reads a length and that many elements of T as one raw block.
template <class T>
caf::error load_raw(caf::deserializer& f, std::vector<T>& v, const char* type) {
  return load_block(f, sizeof(T), type, [&](std::span<const char> bytes) {
    v.resize(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return caf::error{};
  });
}

template <class T>
caf::error save_raw(caf::serializer& f, std::vector<T>& v) {
  size_t n = v.size();
  if (auto err = f.begin_sequence(n))
    return err;
  if (n > 0)
    if (auto err = f.apply_raw(n * sizeof(T), v.data()))
      return err;
  return f.end_sequence();
}

/// A float vector as one raw block (the inspect of shard_state uses it).
struct raw_floats {
  std::vector<float>* values;
};

template <class Inspector>
caf::error inspect(Inspector& f, raw_floats& x) {
  if constexpr (Inspector::reads_state)
    return save_raw(f, *x.values);
  else
    return load_raw(f, *x.values, "tether::shard_state");
}

/// A wire message as its Cap'n Proto bytes. Loading decodes straight from CAF's buffer
/// (the codec makes one aligned copy if needed), without an intermediate vector.
template <class Inspector, class T, class Decode>
caf::error as_wire(Inspector& f, T& x, Decode decode, const char* type) {
  if constexpr (Inspector::reads_state) {
    auto bytes = encode(x);
    return save_raw(f, bytes);
  } else {
    return load_block(f, 1, type, [&](std::span<const char> bytes) -> caf::error {
      auto decoded = decode(bytes);
      if (!decoded)
        return rejected(type, decoded.error().message());
      x = std::move(*decoded);
      return caf::none;
    });
  }
}

} // namespace wire_detail

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pull_request& x) {
  if constexpr (wire_detail::is_binary<Inspector>)
    return wire_detail::as_wire(f, x, decode_pull, "tether::pull_request");
  else
    return f(caf::meta::type_name("tether::pull_request"), x.worker, x.clock);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, push_request& x) {
  if constexpr (wire_detail::is_binary<Inspector>)
    return wire_detail::as_wire(f, x, decode_push, "tether::push_request");
  else
    return f(caf::meta::type_name("tether::push_request"), x.worker, x.clock, x.base_version,
             x.range_begin, x.grad);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, param_slice& x) {
  if constexpr (wire_detail::is_binary<Inspector>)
    return wire_detail::as_wire(f, x, decode_param_slice, "tether::param_slice");
  else
    return f(caf::meta::type_name("tether::param_slice"), x.version, x.range_begin, x.values);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_state& x) {
  if constexpr (wire_detail::is_binary<Inspector>) {
    // The optimizer slots: a count, then one raw block each.
    size_t slots = x.slots.size();
    auto each_slot = [&]() -> caf::error {
      if constexpr (!Inspector::reads_state) {
        if (slots > 16)
          return wire_detail::rejected("tether::shard_state",
                                       std::to_string(slots) + " optimizer slots (at most 16)");
        x.slots.resize(slots);
      }
      for (auto& slot : x.slots) {
        wire_detail::raw_floats r{&slot};
        if (auto err = f(r))
          return err;
      }
      return caf::none;
    };
    wire_detail::raw_floats params{&x.params};
    return caf::error::eval(
      [&] {
        return f(caf::meta::type_name("tether::shard_state"), x.index, x.range_begin,
                 x.range_end, x.version, params, x.optimizer_steps, x.applied_clocks,
                 x.applied_counts, slots);
      },
      each_slot);
  } else {
    return f(caf::meta::type_name("tether::shard_state"), x.index, x.range_begin, x.range_end,
             x.version, x.params, x.slots, x.optimizer_steps, x.applied_clocks,
             x.applied_counts);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_image& x) {
  if constexpr (wire_detail::is_binary<Inspector>) {
    wire_detail::raw_floats sum{&x.round_sum};
    return f(caf::meta::type_name("tether::replica_image"), x.state, sum, x.round_clocks, x.live,
             x.stats);
  } else {
    return f(caf::meta::type_name("tether::replica_image"), x.state, x.round_sum, x.round_clocks,
             x.live, x.stats);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_stats& x) {
  return f(caf::meta::type_name("tether::shard_stats"), x.applied, x.duplicates, x.tau_sum,
           x.tau_max, x.tau_histogram, x.max_clock_gap, x.answers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_report& x) {
  return f(caf::meta::type_name("tether::step_report"), x.slot, x.clock, x.loss,
           x.blocked_seconds, x.step_seconds);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("tether::node_hello"), x.version, x.schema, x.name, x.host,
           x.cores, x.pid);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_ticket& x) {
  return f(caf::meta::type_name("tether::node_ticket"), x.accepted, x.reason,
           x.coordinator_version, x.coordinator_schema, x.options, x.model, x.train_count,
           x.train_fingerprint);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch_ticket& x) {
  return f(caf::meta::type_name("tether::batch_ticket"), x.epoch, x.index);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, work_grant& x) {
  return f(caf::meta::type_name("tether::work_grant"), x.first_clock, x.tickets, x.last);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, work_position& x) {
  return f(caf::meta::type_name("tether::work_position"), x.batch, x.next, x.pending, x.clock);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_data& x) {
  return f(caf::meta::type_name("tether::checkpoint_data"), x.updates, x.model,
           x.layout_fingerprint, x.total_params, x.optimizer, x.consistency, x.seed,
           x.worker_steps, x.shards, x.config, x.created_unix_ms, x.work);
}

} // namespace tether

CAF_BEGIN_TYPE_ID_BLOCK(tether, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(tether, (tether::pull_request))
  CAF_ADD_TYPE_ID(tether, (tether::push_request))
  CAF_ADD_TYPE_ID(tether, (tether::param_slice))
  CAF_ADD_TYPE_ID(tether, (tether::shard_state))
  CAF_ADD_TYPE_ID(tether, (tether::checkpoint_data))
  CAF_ADD_TYPE_ID(tether, (tether::shard_stats))
  CAF_ADD_TYPE_ID(tether, (std::vector<float>))
  CAF_ADD_TYPE_ID(tether, (std::vector<uint64_t>))
  CAF_ADD_TYPE_ID(tether, (std::vector<uint8_t>))
  CAF_ADD_TYPE_ID(tether, (tether::replica_image))
  CAF_ADD_TYPE_ID(tether, (tether::batch_ticket))
  CAF_ADD_TYPE_ID(tether, (tether::work_grant))
  CAF_ADD_TYPE_ID(tether, (std::vector<tether::batch_ticket>))
  CAF_ADD_TYPE_ID(tether, (tether::step_report))
  CAF_ADD_TYPE_ID(tether, (tether::node_hello))
  CAF_ADD_TYPE_ID(tether, (tether::node_ticket))

  // worker <-> shard
  CAF_ADD_ATOM(tether, tether, pull_atom, "pull")
  CAF_ADD_ATOM(tether, tether, push_atom, "push")
  // supervisor <-> shard: consistent cuts
  CAF_ADD_ATOM(tether, tether, hold_atom, "hold")
  CAF_ADD_ATOM(tether, tether, cut_atom, "cut")
  CAF_ADD_ATOM(tether, tether, release_atom, "release")
  CAF_ADD_ATOM(tether, tether, stats_atom, "stats")
  // supervisor -> shard: the set of live workers (consistency models)
  CAF_ADD_ATOM(tether, tether, leave_atom, "leave")
  CAF_ADD_ATOM(tether, tether, join_atom, "join")
  // supervisor <-> worker
  CAF_ADD_ATOM(tether, tether, start_atom, "start")
  CAF_ADD_ATOM(tether, tether, stop_atom, "stop")
  CAF_ADD_ATOM(tether, tether, progress_atom, "progress")
  CAF_ADD_ATOM(tether, tether, done_atom, "done")
  CAF_ADD_ATOM(tether, tether, shards_atom, "shards")
  CAF_ADD_ATOM(tether, tether, retry_atom, "retry")
  CAF_ADD_ATOM(tether, tether, wake_atom, "wake")
  CAF_ADD_ATOM(tether, tether, lost_atom, "lost")
  CAF_ADD_ATOM(tether, tether, resend_atom, "resend")
  CAF_ADD_ATOM(tether, tether, grant_atom, "grant")
  CAF_ADD_ATOM(tether, tether, diverged_atom, "diverged")
  CAF_ADD_ATOM(tether, tether, timeout_atom, "timeout")
  // supervisor <-> checkpointer
  CAF_ADD_ATOM(tether, tether, write_atom, "write")
  // supervisor -> job runner
  CAF_ADD_ATOM(tether, tether, point_atom, "point")
  CAF_ADD_ATOM(tether, tether, finished_atom, "finished")
  CAF_ADD_ATOM(tether, tether, tick_atom, "tick")
  CAF_ADD_ATOM(tether, tether, actors_atom, "actors")
  CAF_ADD_ATOM(tether, tether, status_atom, "status")
  CAF_ADD_ATOM(tether, tether, publish_atom, "publish")
  // primary shard <-> hot standby; supervisor -> primary: its standby
  CAF_ADD_ATOM(tether, tether, replicate_atom, "replicate")
  CAF_ADD_ATOM(tether, tether, sync_atom, "sync")
  CAF_ADD_ATOM(tether, tether, standby_atom, "standby")
  // supervisor -> node agent: an injected fault (--faults)
  CAF_ADD_ATOM(tether, tether, fault_atom, "fault")
  // a cluster: node agent <-> registrar <-> supervisor (messages/cluster.hpp)
  CAF_ADD_ATOM(tether, tether, hello_atom, "hello")
  CAF_ADD_ATOM(tether, tether, ready_atom, "ready")
  CAF_ADD_ATOM(tether, tether, place_atom, "place")
  CAF_ADD_ATOM(tether, tether, node_up_atom, "nodeup")
  CAF_ADD_ATOM(tether, tether, node_down_atom, "nodedown")
  CAF_ADD_ATOM(tether, tether, drain_atom, "drain")
  CAF_ADD_ATOM(tether, tether, drained_atom, "drained")
  CAF_ADD_ATOM(tether, tether, subscribe_atom, "subscribe")
  CAF_ADD_ATOM(tether, tether, info_atom, "info")
CAF_END_TYPE_ID_BLOCK(tether)
