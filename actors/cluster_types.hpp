// The messages of a cluster: what a node and the coordinator say to each other, and
// what the supervisor sends a node to spawn a shard or a worker there.
//
//   node agent --(hello, node_hello)-->  registrar     answers a node_ticket: accepted (with
//                                                      the job's options), or refused and why
//   node agent --(ready, node_hello)-->  registrar     data loaded and checked: place work here
//   registrar  --(node_up | node_down)-> supervisor    the set of live nodes changed
//   supervisor --(place, shard_spec)-->  node agent    answers the spawned shard_actor
//   supervisor --(place, worker_args)--> node agent    answers the spawned worker
//   node agent --(drain)-->              supervisor    SIGTERM on the node: move work away
//   supervisor --(drained)-->            node agent    nothing of the job runs there any more
//   supervisor --(finished)-->           registrar --> every node agent: the job is over
//
// Both sides check version and schema identity in the hello before anything else is
// exchanged: the type-ID blocks must match for the rest to be understood.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/worker.hpp"
#include "core/consistency.hpp"
#include "core/optimizer.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tether {

/// Who a node is and what it offers.
struct node_hello {
  std::string version;  ///< tether's version, "0.1.0"
  std::string schema;   ///< schema identity (schema_identity())
  std::string name;     ///< unique in the cluster (--name, default the host name)
  std::string host;     ///< the machine's host name, for messages
  uint32_t cores = 1;   ///< actors the node runs at once (--cores)
  int64_t pid = 0;
};

/// The coordinator's answer to a hello.
struct node_ticket {
  bool accepted = false;
  std::string reason;            ///< why not, when refused (print it and exit)
  std::string coordinator_version;
  std::string coordinator_schema;
  std::string options;           ///< the job's effective options, "name=value" a line
  std::string model;             ///< the completed model spec
  uint64_t train_count = 0;      ///< training samples the node must have
  uint64_t train_fingerprint = 0; ///< core/dataset.hpp fingerprint() of the training set
};

/// Everything a node needs to start one shard.
struct shard_spec {
  shard_state state;
  optimizer_config optimizer;
  consistency_config consistency;
  uint32_t workers = 0;
  std::vector<uint32_t> finished;  ///< workers already done (they hold nobody back)
};

/// "0.1.0"-style version of this build, and the identity of its message schemas (a hash
/// of messages/*.capnp, messages/types.hpp, messages/type_ids.hpp and this file, made by
/// CMake), so that two builds that would not understand each other never try.
std::string tether_version();
std::string schema_identity();

/// The version this process announces in a hello or a ticket: tether_version(), unless
/// the environment variable TETHER_TEST_CLAIM_VERSION (tests only) names another.
std::string advertised_version();

/// The refusal text when `hello` does not match this build; empty when it does.
std::string compatibility_problem(const node_hello& hello);

/// The node's side: the refusal text when the coordinator's ticket says it runs another
/// build; empty when it runs this one.
std::string coordinator_problem(const node_ticket& ticket);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("tether::node_hello"), x.version, x.schema, x.name, x.host,
           x.cores, x.pid);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_ticket& x) {
  return f(caf::meta::type_name("tether::node_ticket"), x.accepted, x.reason,
           x.coordinator_version, x.coordinator_schema, x.options, x.model, x.train_count, x.train_fingerprint);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, key_range& x) {
  return f(caf::meta::type_name("tether::key_range"), x.begin, x.end);
}

namespace cluster_detail {

/// Enums travel as their underlying integer.
template <class Inspector, class Enum>
typename Inspector::result_type enum_field(Inspector& f, Enum& e) {
  auto v = static_cast<uint8_t>(e);
  if constexpr (std::is_base_of_v<caf::deserializer, Inspector>) {
    auto err = f(v);
    e = static_cast<Enum>(v);
    return err;
  } else {
    return f(v);
  }
}

} // namespace cluster_detail

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, optimizer_config& x) {
  using cluster_detail::enum_field;
  if constexpr (std::is_same_v<typename Inspector::result_type, void>) {
    f(caf::meta::type_name("tether::optimizer_config"), x.lr, x.weight_decay);
  } else {
    return caf::error::eval([&] { return enum_field(f, x.kind); },
                            [&] { return enum_field(f, x.schedule); },
                            [&] {
                              return f(x.lr, x.weight_decay, x.momentum, x.beta1, x.beta2,
                                       x.epsilon, x.warmup, x.total_updates, x.lr_floor);
                            });
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, consistency_config& x) {
  using cluster_detail::enum_field;
  if constexpr (std::is_same_v<typename Inspector::result_type, void>) {
    f(caf::meta::type_name("tether::consistency_config"), x.staleness, x.dc_lambda);
  } else {
    return caf::error::eval([&] { return enum_field(f, x.model); },
                            [&] { return enum_field(f, x.lr_rule); },
                            [&] { return f(x.staleness, x.dc_lambda); });
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_spec& x) {
  return f(caf::meta::type_name("tether::shard_spec"), x.state, x.optimizer, x.consistency,
           x.workers, x.finished);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_faults& x) {
  return f(caf::meta::type_name("tether::message_faults"), x.drop, x.duplicate, x.delay, x.flip,
           x.delay_seconds);
}

/// The serializable part of worker_args: the node fills in the data and the model.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_args& x) {
  return f(caf::meta::type_name("tether::worker_args"), x.id, x.workers, x.batch, x.seed,
           x.start_clock, x.total_steps, x.shards, x.ranges, x.supervisor, x.request_timeout,
           x.straggler_factor, x.step_jitter, x.push_faults, x.pull_faults, x.fault_seed, x.gpu,
           x.gpu_math);
}

} // namespace tether

CAF_BEGIN_TYPE_ID_BLOCK(tether_cluster, caf::id_block::tether::end)
  CAF_ADD_TYPE_ID(tether_cluster, (tether::node_hello))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::node_ticket))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::shard_spec))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::worker_args))
  CAF_ADD_TYPE_ID(tether_cluster, (tether::shard_actor))
  CAF_ADD_TYPE_ID(tether_cluster, (std::vector<tether::shard_actor>))
  CAF_ADD_TYPE_ID(tether_cluster, (std::vector<tether::key_range>))
  CAF_ADD_TYPE_ID(tether_cluster, (std::vector<uint32_t>))

  CAF_ADD_ATOM(tether_cluster, tether, hello_atom, "hello")
  CAF_ADD_ATOM(tether_cluster, tether, ready_atom, "ready")
  CAF_ADD_ATOM(tether_cluster, tether, place_atom, "place")
  CAF_ADD_ATOM(tether_cluster, tether, node_up_atom, "nodeup")
  CAF_ADD_ATOM(tether_cluster, tether, node_down_atom, "nodedown")
  CAF_ADD_ATOM(tether_cluster, tether, drain_atom, "drain")
  CAF_ADD_ATOM(tether_cluster, tether, drained_atom, "drained")
  CAF_ADD_ATOM(tether_cluster, tether, subscribe_atom, "subscribe")
  CAF_ADD_ATOM(tether_cluster, tether, info_atom, "info")
CAF_END_TYPE_ID_BLOCK(tether_cluster)
