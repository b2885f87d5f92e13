#include "actors/supervisor.hpp"

#include "actors/checkpointer.hpp"
#include "actors/cut.hpp"
#include "actors/fault_injector.hpp"
#include "actors/publish.hpp"
#include "actors/replicas.hpp"
#include "actors/shard.hpp"
#include "actors/supervisor_nodes.hpp"
#include "actors/worker.hpp"
#include "messages/checkpoint_file.hpp"

#include <cstdio>
#include <numeric>

namespace tether {

namespace {

using namespace std::chrono_literals;
using self_ptr = caf::stateful_actor<supervisor_state>*;
using clock_type = supervisor_state::clock;

// -- spawning -------------------------------------------------------------------

void finish(self_ptr self);

/// Nothing can run a shard or a worker any more: end the job (the newest checkpoint on
/// disk is where a --resume starts).
void cannot_place(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  if (st.report.failure.empty())
    st.report.failure = caf::to_string(err) + "; the newest checkpoint is kept: start nodes and "
                        "run the coordinator again with --resume";
  st.finishing = true;
  finish(self);
}

void spawn_shard(self_ptr self, size_t j, shard_state state) {
  auto& st = self->state;
  if (st.args.registrar) {
    auto placed = place_shard(self, j, state);
    if (!placed) {
      cannot_place(self, placed.error());
      return;
    }
    st.shards[j] = *placed;
    return;
  }
  auto core = shard_core::restore(std::move(state), st.args.cfg.optimizer, st.args.cfg.consistency,
                                  st.args.cfg.workers);
  if (!core) {
    // Only reachable with a checkpoint that passed its checksum but has the wrong sizes.
    st.report.failure = "cannot restore shard " + std::to_string(j) + ": " + core.error().message();
    return;
  }
  st.shards[j] = self->spawn<caf::monitored>(shard_behavior, std::move(*core));
  // A new shard counts every worker live: tell it who has finished.
  for (uint32_t w = 0; w < st.done.size(); ++w)
    if (st.done[w])
      self->send(st.shards[j], leave_atom_v, w);
}

void spawn_worker(self_ptr self, uint32_t i) {
  auto& st = self->state;
  const auto& a = st.args;
  worker_args w;
  w.id = i;
  w.workers = a.cfg.workers;
  w.batch = a.cfg.batch;
  w.seed = a.cfg.seed;
  w.start_clock = st.clocks[i];
  w.total_steps = a.total_steps;
  w.train = a.data.train;
  w.net = a.net;
  w.shards = st.shards;
  w.ranges = a.ranges;
  w.supervisor = caf::actor_cast<caf::actor>(self);
  for (const auto& s : a.cfg.stragglers)
    if (s.worker == i)
      w.straggler_factor = s.factor;
  for (const auto& [worker, factor] : a.cfg.fault.stragglers)
    if (worker == i)
      w.straggler_factor = factor;
  w.request_timeout = std::chrono::milliseconds(
    static_cast<int64_t>(a.cfg.request_timeout_seconds * 1000));
  w.push_faults = a.cfg.fault.push;
  w.pull_faults = a.cfg.fault.pull;
  w.fault_seed = a.cfg.fault.seed;
  if (i < a.cfg.gpus.size()) {
    w.gpu = a.cfg.gpus[i];
    w.gpu_math = a.cfg.gpu_math;
  }
  w.step_jitter = a.cfg.step_jitter;
  if (a.registrar) {
    std::optional<size_t> home;
    if (auto it = st.worker_home.find(i); it != st.worker_home.end()) {
      home = it->second;
      st.worker_home.erase(it);
    }
    auto placed = place_worker(self, w, home);
    if (!placed) {
      cannot_place(self, placed.error());
      return;
    }
    st.workers[i] = *placed;
  } else {
    st.workers[i] = w.gpu >= 0
                      ? self->spawn<caf::monitored + caf::detached>(worker_behavior, std::move(w))
                      : self->spawn<caf::monitored>(worker_behavior, std::move(w));
  }
  self->send(st.workers[i], start_atom_v);
}

void spawn_checkpointer(self_ptr self) {
  auto& st = self->state;
  st.checkpointer = self->spawn<caf::monitored + caf::detached>(
    checkpointer_behavior, st.args.cfg.checkpoint_dir, st.args.cfg.checkpoint_keep);
}

// -- bookkeeping ----------------------------------------------------------------

uint64_t updates(const supervisor_state& st) {
  return updates_of(st.args.cfg, st.clocks);
}

uint64_t updates_per_epoch(const supervisor_state& st) {
  return st.args.updates_per_epoch;
}

void send_to_shards(self_ptr self, const caf::message& msg) {
  for (auto& s : self->state.shards)
    if (s)
      self->send(caf::actor_cast<caf::actor>(s), msg);
}

void send_to_children(self_ptr self, const caf::message& msg) {
  for (auto& w : self->state.workers)
    if (w)
      self->send(w, msg);
}

void stop_everything(self_ptr self) {
  auto& st = self->state;
  st.stop_children = true;
  for (auto& w : st.workers)
    if (w)
      self->send_exit(w, caf::exit_reason::user_shutdown);
  for (auto& s : st.shards)
    if (s)
      self->send_exit(s, caf::exit_reason::user_shutdown);
  for (auto& s : st.standbys)
    if (s)
      self->send_exit(s, caf::exit_reason::user_shutdown);
  if (st.checkpointer)
    self->send_exit(st.checkpointer, caf::exit_reason::user_shutdown);
}

void finish(self_ptr self) {
  auto& st = self->state;
  if (st.final_cut_done && st.stop_children)
    return; // already finished
  st.final_cut_done = true;
  auto now = clock_type::now();
  if (!st.training_ended) {
    st.training_end = now;
    st.training_ended = true;
  }
  auto& r = st.report;
  r.updates = updates(st);
  uint64_t started = std::accumulate(st.args.worker_start.begin(), st.args.worker_start.end(),
                                     uint64_t{0});
  uint64_t batches = std::accumulate(st.clocks.begin(), st.clocks.end(), uint64_t{0});
  r.samples = (batches - std::min(batches, started)) * st.args.cfg.batch;
  r.blocked_seconds = std::accumulate(st.blocked.begin(), st.blocked.end(), 0.0);
  r.training_seconds = std::chrono::duration<double>(st.training_end - st.training_start
                                                     - st.paused).count();
  r.wall_seconds = std::chrono::duration<double>(now - st.args.job_start).count();
  for (const auto& node : st.nodes)
    r.nodes.push_back(node.hello.name);
  publish_final_status(self);
  stop_everything(self);
  self->send(st.args.runner, finished_atom_v, std::move(r));
  self->quit();
}

void maybe_cut(self_ptr self);

void after_cut(self_ptr self, bool was_final, bool ok) {
  auto& st = self->state;
  st.cutting = false;
  if (was_final) {
    if (ok || ++st.final_cut_failures >= 3) {
      st.final_cut_done = true;
      finish(self);
      return;
    }
    // A shard failed during the final cut: try again once it is back.
    self->delayed_send(self, std::chrono::milliseconds(300), tick_atom_v);
    return;
  }
  maybe_cut(self);
}

/// Starts a cut when one is wanted and none is running; the final cut once every
/// worker is done.
void maybe_cut(self_ptr self) {
  auto& st = self->state;
  if (st.cutting || st.final_cut_done || st.shard_moves > 0)
    return;
  bool all_done = std::all_of(st.done.begin(), st.done.end(), [](bool d) { return d; });
  if (st.finishing && all_done) {
    if (!st.training_ended) {
      st.training_end = clock_type::now();
      st.training_ended = true;
    }
    st.cutting = true;
    take_cut(self, cut_kind{true, true, true}, after_cut);
    return;
  }
  if (st.finishing || (!st.want_eval && !st.want_checkpoint))
    return;
  cut_kind kind{st.want_eval, st.want_checkpoint, false};
  st.want_eval = st.want_checkpoint = false;
  st.cutting = true;
  take_cut(self, kind, after_cut);
}

void rebalance(self_ptr self);

/// A progress report from worker `id`: the failures it shows recovered from.
void note_recoveries(self_ptr self, uint32_t id) {
  auto& st = self->state;
  auto now = clock_type::now();
  for (auto it = st.recovering.begin(); it != st.recovering.end();) {
    bool other_worker = it->worker >= 0 && static_cast<uint32_t>(it->worker) != id;
    bool too_early = it->worker < 0 && id < it->clocks.size() && st.clocks[id] < it->clocks[id] + 2;
    if (other_worker || too_early) {
      ++it;
      continue;
    }
    double seconds = std::chrono::duration<double>(now - it->failed_at).count();
    st.report.recovery_seconds.push_back(seconds);
    char line[160];
    std::snprintf(line, sizeof(line), "%s recovered: training went on %.2f s after its failure",
                  it->what.c_str(), seconds);
    self->send(st.args.runner, info_atom_v, std::string{line});
    it = st.recovering.erase(it);
  }
}

void on_progress(self_ptr self, uint32_t id, uint64_t clock, float loss, double blocked,
                 double step_seconds) {
  auto& st = self->state;
  if (id >= st.clocks.size())
    return;
  auto& ws = st.status.worker[id];
  ws.last_loss = loss;
  ++ws.steps;
  ws.step_seconds_sum += step_seconds;
  size_t bucket = 0;
  while (bucket < step_time_bounds.size() && step_seconds > step_time_bounds[bucket])
    ++bucket;
  ++ws.step_buckets[bucket];
  if (clock > st.clocks[id])
    ++st.acked[id]; // a step answered by every shard (a late report of an old one is not)
  st.clocks[id] = std::max(st.clocks[id], clock);
  st.blocked[id] = blocked;
  note_recoveries(self, id);
  uint64_t fastest = 0, slowest = UINT64_MAX;
  for (size_t w = 0; w < st.clocks.size(); ++w)
    if (!st.done[w] && st.workers[w]) {
      fastest = std::max(fastest, st.clocks[w]);
      slowest = std::min(slowest, st.clocks[w]);
    }
  if (slowest != UINT64_MAX)
    st.report.clock_lag_max = std::max(st.report.clock_lag_max, fastest - slowest);
  st.recent_losses.push_back(loss);
  if (st.recent_losses.size() > 100)
    st.recent_losses.pop_front();
  auto n = updates(st);
  faults_at_step(self, n);
  const auto& cfg = st.args.cfg;
  if (auto epoch = n / updates_per_epoch(st); epoch > st.epoch_seen) {
    st.epoch_seen = epoch;
    if (st.rebalance_pending)
      rebalance(self);
  }
  if (n >= st.next_eval) {
    st.want_eval = true;
    auto epoch_end = (n / updates_per_epoch(st) + 1) * updates_per_epoch(st);
    st.next_eval = cfg.eval_every > 0 ? std::min(epoch_end, (n / cfg.eval_every + 1) * cfg.eval_every)
                                      : epoch_end;
  }
  if (cfg.checkpoint_every > 0 && n >= st.next_checkpoint) {
    st.want_checkpoint = true;
    st.next_checkpoint = (n / cfg.checkpoint_every + 1) * cfg.checkpoint_every;
  }
  maybe_cut(self);
}

void on_worker_done(self_ptr self, uint32_t id) {
  auto& st = self->state;
  if (id >= st.done.size())
    return;
  st.done[id] = true;
  st.workers[id] = caf::actor{};
  // A finished worker holds nobody back under bsp or ssp.
  send_to_shards(self, caf::make_message(leave_atom_v, id));
  if (std::all_of(st.done.begin(), st.done.end(), [](bool d) { return d; }))
    st.finishing = true;
  maybe_cut(self);
}

/// Asks every worker to stop after its current step; the final cut follows.
void begin_stop(self_ptr self) {
  auto& st = self->state;
  st.finishing = true;
  send_to_children(self, caf::make_message(stop_atom_v));
  maybe_cut(self);
}

// -- restarts -------------------------------------------------------------------

/// Counts one restart (or failover) against the budget of `who`'s group (workers, shards
/// with their standbys, the checkpointer: --max-restarts each per --restart-window);
/// false when that budget is spent.
bool spend_restart(self_ptr self, const std::string& who, const caf::error& reason) {
  auto& st = self->state;
  auto group = who.substr(0, who.find(' '));
  if (group == "standby")
    group = "shard";
  auto& times = st.restart_times[group];
  auto now = clock_type::now();
  auto window = std::chrono::duration_cast<clock_type::duration>(
    std::chrono::duration<double>(st.args.cfg.restart_window_seconds));
  while (!times.empty() && now - times.front() > window)
    times.pop_front();
  if (times.size() >= st.args.cfg.max_restarts) {
    if (st.report.failure.empty())
      st.report.failure = "restart budget of the " + group + " group spent: " + who + " failed ("
                          + to_string(reason) + ") after " + std::to_string(times.size())
                          + " restarts within " + std::to_string(st.args.cfg.restart_window_seconds)
                          + " s; raise --max-restarts or --restart-window, or look for the cause";
    st.report.budget_spent = true;
    return false;
  }
  times.push_back(now);
  return true;
}

/// The newest good checkpoint's state of shard j, else its state at job start.
shard_state shard_restore_point(self_ptr self, size_t j) {
  auto& st = self->state;
  auto loaded = load_newest_good(st.args.cfg.checkpoint_dir);
  if (loaded && loaded->data.layout_fingerprint == st.args.net->layout().fingerprint())
    for (auto& s : loaded->data.shards)
      if (s.range_begin == st.args.ranges[j].begin && s.range_end == st.args.ranges[j].end) {
        s.index = static_cast<uint32_t>(j);
        return std::move(s);
      }
  return st.args.initial_shards[j];
}

void on_down(self_ptr self, caf::down_msg& dm) {
  auto& st = self->state;
  // An actor whose connection is gone took its node with it: place nothing more there
  // (the registrar's node_down may come later, and a placement on a dead node would
  // only end at --place-timeout).
  int home = node_running(st, dm.source);
  if (home >= 0 && dm.reason == caf::exit_reason::remote_link_unreachable)
    st.nodes[home].alive = false;
  if (auto drained = forget_placed(self, dm.source); drained >= 0) {
    self->send(st.nodes[drained].agent, drained_atom_v);
    st.nodes[drained].alive = false;
    self->send(st.args.runner, info_atom_v,
               "node " + st.nodes[drained].hello.name + " is drained: its work runs elsewhere");
  }
  if (st.stop_children)
    return;
  for (uint32_t i = 0; i < st.workers.size(); ++i) {
    if (st.workers[i] && dm.source == st.workers[i].address()) {
      st.workers[i] = caf::actor{};
      if (!dm.reason || st.done[i])
        return;
      // A dead worker must not block bsp or ssp: drop it from the clock set at once.
      send_to_shards(self, caf::make_message(leave_atom_v, i));
      bool moved = st.moving.erase(i) > 0; // a drain: not a failure
      if (!moved && home >= 0)
        st.worker_home[i] = static_cast<size_t>(home); // back to its node, if still usable
      if (!moved && !spend_restart(self, "worker " + std::to_string(i), dm.reason)) {
        st.done[i] = true;
        begin_stop(self);
        return;
      }
      ++(moved ? st.report.moves["worker"] : st.report.restarts["worker"]);
      if (!moved && !st.finishing)
        st.recovering.push_back(
          {clock_type::now(), static_cast<int>(i), "worker " + std::to_string(i), {}});
      if (!st.finishing) {
        // The replacement goes on from the worker's last reported clock, under every
        // model: its partition of the epoch is handed over whole, no batch skipped (a
        // batch some shards applied before the failure is skipped there as a duplicate).
        // Under ssp the others may wait for it to come within the bound; under bsp its
        // gradients join the rounds of the others' later clocks. The join reaches the
        // shards before its first pull.
        send_to_shards(self, caf::make_message(join_atom_v, i, st.clocks[i]));
        spawn_worker(self, i);
      }
      else
        on_worker_done(self, i);
      return;
    }
  }
  if (auto j = standby_of(st, dm.source); j >= 0) {
    st.standbys[j] = shard_actor{};
    bool moved = st.standby_moving.erase(static_cast<size_t>(j)) > 0; // a drain: not a failure
    if (!moved && dm.reason && !st.finishing) {
      if (!spend_restart(self, "standby " + std::to_string(j), dm.reason)) {
        begin_stop(self);
        return;
      }
      ++st.report.restarts["standby"];
    }
    if (!st.finishing)
      make_standby(self, static_cast<size_t>(j), shard_restore_point(self, static_cast<size_t>(j)));
    return;
  }
  for (size_t j = 0; j < st.shards.size(); ++j) {
    if (st.shards[j] && dm.source == st.shards[j].address()) {
      auto who = "shard " + std::to_string(j);
      if (!spend_restart(self, who, dm.reason)) {
        begin_stop(self);
        return;
      }
      if (promote_standby(self, j)) {
        // The standby holds every change the workers were answered for: no restore.
        ++st.report.failovers["shard"];
        st.recovering.push_back({clock_type::now(), -1, who + " (failover)", st.clocks});
        self->send(st.args.runner, info_atom_v,
                   who + " failed (" + to_string(dm.reason) + "); its standby took over");
        send_to_children(self, caf::make_message(shards_atom_v, st.shards));
        make_standby(self, j, shard_restore_point(self, j));
        return;
      }
      ++st.report.restarts["shard"];
      st.recovering.push_back({clock_type::now(), -1, who, st.clocks});
      auto restored = shard_restore_point(self, j); // one read of the checkpoint for both
      spawn_shard(self, j, restored);
      send_to_children(self, caf::make_message(shards_atom_v, st.shards));
      make_standby(self, j, restored);
      return;
    }
  }
  if (st.checkpointer && dm.source == st.checkpointer.address()) {
    if (!spend_restart(self, "checkpointer", dm.reason)) {
      begin_stop(self);
      return;
    }
    ++st.report.restarts["checkpointer"];
    spawn_checkpointer(self);
  }
}

// -- nodes ----------------------------------------------------------------------

/// Moves shard j off its node: hold it, take its state at its own applied clocks, start
/// the same state on another node, point the workers there, end the old one. Pushes that
/// reach the old shard meanwhile fail or are redone by the workers at the same clock
/// (exactly once: the state carries the applied clocks).
void move_shard(self_ptr self, size_t j) {
  auto& st = self->state;
  auto old = st.shards[j];
  ++st.shard_moves;
  auto give_up = [=](const caf::error& err) {
    // The old shard did not cooperate: end it; its restart takes the newest checkpoint.
    auto& st = self->state;
    --st.shard_moves;
    self->send(st.args.runner, info_atom_v,
               "shard " + std::to_string(j) + " could not be moved (" + to_string(err)
                 + "); it restarts from the newest checkpoint");
    self->send_exit(old, caf::exit_reason::kill);
    maybe_cut(self);
  };
  self->request(old, 10s, hold_atom_v)
    .then(
      [=](std::vector<uint64_t>& clocks, shard_stats&) {
        self->request(old, 30s, cut_atom_v, std::move(clocks))
          .then(
            [=](shard_state& state) {
              auto& st = self->state;
              if (st.shards[j] != old) {
                --st.shard_moves;
                return; // replaced meanwhile
              }
              auto placed = place_shard(self, j, state);
              --st.shard_moves;
              if (!placed) {
                cannot_place(self, placed.error());
                return;
              }
              st.shards[j] = *placed;
              ++st.report.moves["shard"];
              if (st.standbys[j]) // the new primary keeps the standby in step from its image
                self->send(st.shards[j], standby_atom_v,
                           caf::actor_cast<caf::actor>(st.standbys[j]));
              send_to_children(self, caf::make_message(shards_atom_v, st.shards));
              self->send_exit(old, caf::exit_reason::user_shutdown);
              self->send(st.args.runner, info_atom_v,
                         "shard " + std::to_string(j) + " moved at version "
                           + std::to_string(state.version));
              maybe_cut(self);
            },
            give_up);
      },
      give_up);
}

/// Ends worker i to start it again elsewhere at its clock (drain, rebalancing): on_down
/// respawns it by the placement policy, without spending a restart.
void move_worker(self_ptr self, uint32_t i) {
  self->state.moving.insert(i);
  self->send_exit(self->state.workers[i], caf::exit_reason::kill);
}

/// A node joined mid-run: at the start of the next epoch, move workers from the most
/// loaded nodes to it while that lowers the highest load (load = actors per core). A
/// moved worker is ended and started again on the new node at its clock, as in a drain.
void rebalance(self_ptr self) {
  auto& st = self->state;
  st.rebalance_pending = false;
  if (st.finishing)
    return;
  struct sim {
    double shards, workers, cores;
    double load() const { return (shards + workers) / cores; }
  };
  std::vector<sim> nodes;
  for (auto& n : st.nodes)
    nodes.push_back({static_cast<double>(n.shards), static_cast<double>(n.workers),
                     static_cast<double>(std::max<uint32_t>(1, n.hello.cores))});
  auto usable = [&](size_t i) { return st.nodes[i].alive && !st.nodes[i].draining; };
  std::vector<uint32_t> to_move;
  std::vector<size_t> from_nodes;
  for (;;) {
    std::optional<size_t> hi, lo;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!usable(i))
        continue;
      if (nodes[i].workers > 0 && (!hi || nodes[i].load() > nodes[*hi].load()))
        hi = i;
      if (!lo || nodes[i].load() < nodes[*lo].load())
        lo = i;
    }
    if (!hi || !lo || *hi == *lo)
      break;
    auto after_hi = (nodes[*hi].shards + nodes[*hi].workers - 1) / nodes[*hi].cores;
    auto after_lo = (nodes[*lo].shards + nodes[*lo].workers + 1) / nodes[*lo].cores;
    if (std::max(after_hi, after_lo) >= nodes[*hi].load() - 1e-9)
      break;
    nodes[*hi].workers -= 1;
    nodes[*lo].workers += 1;
    from_nodes.push_back(*hi);
  }
  for (auto from : from_nodes)
    for (uint32_t i = 0; i < st.workers.size(); ++i) {
      if (!st.workers[i] || st.done[i] || st.moving.count(i)
          || node_running(st, st.workers[i].address()) != static_cast<int>(from))
        continue;
      move_worker(self, i);
      to_move.push_back(i);
      break;
    }
  if (!to_move.empty()) {
    std::string which;
    for (auto i : to_move)
      which += (which.empty() ? "" : ", ") + std::to_string(i);
    self->send(st.args.runner, info_atom_v,
               "rebalancing at epoch " + std::to_string(st.epoch_seen) + ": moving worker"
                 + (to_move.size() == 1 ? " " : "s ") + which + " to the least loaded nodes");
  }
}

/// SIGTERM on a node: its workers stop and start again elsewhere at their clock, its
/// shards move with their current state; the node is told `drained` when it holds
/// nothing (forget_placed, in on_down).
void drain_node(self_ptr self, const caf::actor& agent) {
  auto& st = self->state;
  auto n = node_of(st, agent);
  if (n < 0 || st.nodes[n].draining || !st.nodes[n].alive)
    return;
  if (st.cutting || st.shard_moves > 0) {
    self->delayed_send(self, 100ms, drain_atom_v, agent); // after the cut
    return;
  }
  auto& node = st.nodes[n];
  node.draining = true;
  self->send(st.args.runner, info_atom_v,
             "node " + node.hello.name + " drains: moving its work (shards: "
               + std::to_string(node.shards) + ", workers: " + std::to_string(node.workers) + ")");
  if (node.shards + node.workers == 0 || st.finishing) {
    self->send(agent, drained_atom_v);
    node.alive = false;
    return;
  }
  for (uint32_t i = 0; i < st.workers.size(); ++i)
    if (st.workers[i] && node_running(st, st.workers[i].address()) == n)
      move_worker(self, i);
  for (size_t j = 0; j < st.shards.size(); ++j)
    if (st.shards[j] && node_running(st, st.shards[j].address()) == n)
      move_shard(self, j);
  for (size_t j = 0; j < st.standbys.size(); ++j)
    if (st.standbys[j] && node_running(st, st.standbys[j].address()) == n) {
      st.standby_moving.insert(j); // made again elsewhere by on_down
      self->send_exit(st.standbys[j], caf::exit_reason::user_shutdown);
    }
}

} // namespace

uint64_t updates_of(const job_config& cfg, const std::vector<uint64_t>& clocks) {
  if (cfg.consistency.model == consistency_model::bsp)
    return clocks.empty() ? 0 : *std::max_element(clocks.begin(), clocks.end());
  return std::accumulate(clocks.begin(), clocks.end(), uint64_t{0});
}

caf::behavior supervisor_behavior(self_ptr self, supervisor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.training_start = clock_type::now();
  const auto& a = st.args;
  st.shards.resize(a.ranges.size());
  st.standbys.resize(a.ranges.size());
  st.replicas = replicas_wanted(a.cfg, a.node_agents.size());
  st.report.shard_replicas = st.replicas;
  st.acked.assign(a.cfg.workers, 0);
  st.workers.resize(a.cfg.workers);
  st.clocks = a.worker_start;
  st.blocked.assign(a.cfg.workers, 0.0);
  init_status(self);
  self->send(self, publish_atom_v);
  st.done.assign(a.cfg.workers, false);
  auto n = updates(st);
  st.epoch_seen = n / updates_per_epoch(st);
  st.next_eval = a.cfg.eval_every > 0 ? (n / a.cfg.eval_every + 1) * a.cfg.eval_every : 0;
  st.next_eval = std::min(st.next_eval ? st.next_eval : UINT64_MAX,
                          (n / updates_per_epoch(st) + 1) * updates_per_epoch(st));
  st.next_checkpoint
    = a.cfg.checkpoint_every > 0 ? (n / a.cfg.checkpoint_every + 1) * a.cfg.checkpoint_every : 0;
  self->set_down_handler([=](caf::down_msg& dm) { on_down(self, dm); });
  // An error message nobody asked for (CAF sends one back for a message a child did
  // not understand) must not end the job: the default handler would quit.
  self->set_error_handler([=](caf::error& err) {
    self->send(self->state.args.runner, point_atom_v, "supervisor ignored an error: " + to_string(err));
  });
  for (uint32_t i = 0; i < a.cfg.workers; ++i)
    st.done[i] = st.clocks[i] >= a.total_steps;
  spawn_checkpointer(self);
  if (a.registrar) {
    for (size_t n = 0; n < a.node_agents.size(); ++n)
      add_node(self, a.node_agents[n], a.node_hellos[n]);
    self->send(a.registrar, subscribe_atom_v, caf::actor_cast<caf::actor>(self));
  }
  for (size_t j = 0; j < a.ranges.size() && !st.final_cut_done; ++j)
    spawn_shard(self, j, a.initial_shards[j]);
  for (size_t j = 0; j < a.ranges.size() && !st.final_cut_done; ++j)
    make_standby(self, j, a.initial_shards[j], false);
  st.training_start = clock_type::now();
  arm_faults(self);
  for (uint32_t i = 0; i < a.cfg.workers; ++i)
    if (!st.done[i] && !st.final_cut_done)
      spawn_worker(self, i);
  if (a.registrar && !st.final_cut_done)
    self->send(a.runner, info_atom_v, "placement:\n" + placement_lines(st));
  if (std::all_of(st.done.begin(), st.done.end(), [](bool d) { return d; })) {
    st.finishing = true;
    self->send(self, tick_atom_v);
  }
  return {
    [=](progress_atom, uint32_t id, uint64_t clock, float loss, double blocked,
        double step_seconds) { on_progress(self, id, clock, loss, blocked, step_seconds); },
    [=](publish_atom) {
      publish_status(self);
      if (!self->state.final_cut_done)
        self->delayed_send(self, std::chrono::seconds(1), publish_atom_v);
    },
    [=](done_atom, uint32_t id, uint64_t) { on_worker_done(self, id); },
    [=](shards_atom) { return self->state.shards; },
    [=](stop_atom) {
      self->state.report.stopped_early = true;
      begin_stop(self);
    },
    [=](tick_atom) { maybe_cut(self); },
    [=](fault_atom, uint64_t index) { fire_fault(self, static_cast<size_t>(index)); },
    [=](node_up_atom, const caf::actor& agent, const node_hello& hello) {
      auto& st = self->state;
      if (node_of(st, agent) >= 0)
        return;
      add_node(self, agent, hello);
      if (!st.finishing) {
        // A shard left without a standby (no other node was usable) gets one now.
        for (size_t j = 0; j < st.shards.size(); ++j)
          if (st.shards[j] && !st.standbys[j])
            make_standby(self, j, shard_restore_point(self, j));
        st.rebalance_pending = true;
        self->send(st.args.runner, info_atom_v,
                   "node " + hello.name + " joined mid-run: it gets workers at the next epoch");
      }
    },
    [=](node_down_atom, const caf::actor& agent) { lose_node(self, agent); },
    [=](drain_atom, const caf::actor& agent) { drain_node(self, agent); },
    [=](actors_atom) {
      std::vector<caf::actor> shards;
      for (auto& s : self->state.shards)
        shards.push_back(caf::actor_cast<caf::actor>(s));
      return caf::make_message(self->state.workers, shards);
    },
  };
}

} // namespace tether
