#include "actors/supervisor.hpp"

#include "actors/checkpointer.hpp"
#include "actors/cut.hpp"
#include "actors/fault_injector.hpp"
#include "actors/publish.hpp"
#include "actors/replicas.hpp"
#include "actors/supervisor_nodes.hpp"
#include "actors/supervisor_steps.hpp"
#include "messages/checkpoint_file.hpp"

#include <cstdio>

namespace tether {

using namespace std::chrono_literals;
using self_ptr = supervisor_pointer;

namespace {

/// How long workers get to end their step after a stop before they are ended (a step takes
/// milliseconds; a worker that has not ended by then waits for a shard that will not answer).
constexpr auto stop_grace = 3s;

void spawn_checkpointer(self_ptr self) {
  auto& st = self->state;
  st.checkpointer = self->spawn<caf::detached>(checkpointer_behavior, st.plan->cfg.checkpoint_dir,
                                               st.plan->cfg.checkpoint_keep);
  self->monitor(st.checkpointer);
  st.roles[st.checkpointer.address()] = {actor_role::kind::checkpointer, 0};
}

/// Sends slot s's worker the batches it does not have yet.
void send_grant(self_ptr self, uint32_t slot) {
  auto& st = self->state;
  auto& rec = st.workers[slot];
  if (!rec.actor || rec.state != worker_record::life::running)
    return;
  auto g = st.work().grant(slot, st.progress().at(slot).clock);
  auto until = g.first_clock + g.tickets.size();
  if (until > rec.granted_until || (g.last && !rec.told_last)) {
    rec.granted_until = std::max(rec.granted_until, until);
    rec.told_last = g.last;
    self->send(rec.actor, grant_atom_v, std::move(g));
  }
}

/// A report from worker `slot`: the failures it shows recovered from.
void note_recoveries(self_ptr self, uint32_t slot) {
  auto& st = self->state;
  auto now = st.now();
  for (auto it = st.recovering.begin(); it != st.recovering.end();) {
    bool other_worker = it->worker >= 0 && static_cast<uint32_t>(it->worker) != slot;
    bool too_early = it->worker < 0 && slot < it->clocks.size()
                     && st.progress().at(slot).clock < it->clocks[slot] + 2;
    if (other_worker || too_early) {
      ++it;
      continue;
    }
    double seconds = std::chrono::duration<double>(now - it->failed_at).count();
    st.report.recovery_seconds.push_back(seconds);
    char line[160];
    std::snprintf(line, sizeof(line), "%s recovered: training went on %.2f s after its failure",
                  it->what.c_str(), seconds);
    info(self, line);
    it = st.recovering.erase(it);
  }
}

void on_progress(self_ptr self, const step_report& r) {
  auto& st = self->state;
  if (r.slot >= st.workers.size())
    return;
  auto& ws = st.status.worker[r.slot];
  ws.last_loss = r.loss;
  ++ws.steps;
  ws.step_seconds_sum += r.step_seconds;
  size_t bucket = 0;
  while (bucket < step_time_bounds.size() && r.step_seconds > step_time_bounds[bucket])
    ++bucket;
  ++ws.step_buckets[bucket];
  if (!st.progress().on_step(r.slot, r.clock, r.loss, r.blocked_seconds))
    return;
  st.work().complete(r.slot, r.clock);
  note_recoveries(self, r.slot);
  auto n = st.progress().updates();
  faults_at_step(self, n);
  auto due = st.progress().take_due();
  st.want_eval |= due.evaluate;
  st.want_checkpoint |= due.checkpoint;
  auto epoch = n / std::max<uint64_t>(1, st.plan->updates_per_epoch);
  if (epoch != st.epoch_seen) {
    st.epoch_seen = epoch;
    if (st.rebalance_pending)
      rebalance(self);
  }
  send_grant(self, r.slot);
  maybe_cut(self);
}

void on_worker_done(self_ptr self, uint32_t slot) {
  auto& st = self->state;
  if (slot >= st.workers.size())
    return;
  auto& rec = st.workers[slot];
  if (rec.state == worker_record::life::done)
    return;
  rec.state = worker_record::life::done;
  rec.actor = worker_actor{};
  forget_placed(self, rec.node, false);
  rec.node = -1;
  st.progress().mark_done(slot);
  st.work().finish(slot);
  // A finished worker holds nobody back under bsp or ssp.
  for (auto& s : st.shards)
    if (s.primary)
      self->send(s.primary, leave_atom_v, slot);
  if (rec.retiring) {
    rec.retiring = false;
    info(self, "worker " + std::to_string(slot) + " has retired: the job runs "
                 + std::to_string(live_workers(st)) + " workers");
  }
  if (st.progress().all_done() && st.phase == job_phase::training)
    st.phase = job_phase::finishing;
  maybe_cut(self);
}

void on_diverged(self_ptr self, uint32_t slot, uint64_t clock, const std::string& what) {
  auto& st = self->state;
  if (!st.report.diverged) {
    st.report.diverged = true;
    st.report.failure = "training diverged at update " + std::to_string(st.progress().updates())
                        + " (worker " + std::to_string(slot) + ", step " + std::to_string(clock)
                        + "): " + what
                        + "; no non-finite gradient was applied, so every checkpoint of this run "
                          "is usable: lower --lr and run again (with --resume to go on from the "
                          "newest)";
  }
  on_worker_done(self, slot);
  begin_stop(self);
}

void on_grace_over(self_ptr self, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.stop_generation || st.phase != job_phase::finishing)
    return;
  st.grace_over = true;
  for (uint32_t s = 0; s < st.workers.size(); ++s) {
    auto& rec = st.workers[s];
    if (rec.state == worker_record::life::running || rec.state == worker_record::life::placing) {
      if (rec.actor)
        self->send_exit(rec.actor, caf::exit_reason::user_shutdown);
      on_worker_done(self, s);
    }
  }
  maybe_cut(self);
}

void after_cut(self_ptr self, bool final, bool ok) {
  auto& st = self->state;
  st.cutting = false;
  if (!final) {
    maybe_cut(self);
    return;
  }
  if (ok || st.final_cut_failures >= 2) {
    finish(self);
    return;
  }
  // A shard failed during the final cut: once more when it is back, then whatever each
  // shard holds (actors/cut.hpp).
  ++st.final_cut_failures;
  st.phase = job_phase::finishing;
  self->delayed_send(self, 300ms, tick_atom_v);
}

bool all_workers_ended(const supervisor_state& st) {
  return std::all_of(st.workers.begin(), st.workers.end(), [](const worker_record& w) {
    return w.state == worker_record::life::idle || w.state == worker_record::life::done;
  });
}

/// Every primary is up: the standbys, the workers, the faults; training starts.
void start_training(self_ptr self) {
  auto& st = self->state;
  for (size_t j = 0; j < st.shards.size(); ++j)
    make_standbys(self, j, false);
  for (uint32_t s = 0; s < st.args.worker_start.size(); ++s)
    start_worker(self, s);
  st.started = true;
  st.progress().start_training(st.now());
  arm_faults(self);
  tell_placement_once_placed(self);
}

/// Places every primary; training starts once all are up.
void start_job(self_ptr self) {
  auto& st = self->state;
  auto left = std::make_shared<size_t>(st.shards.size());
  for (size_t j = 0; j < st.shards.size(); ++j) {
    st.shards[j].placing = true;
    place_shard(self, j, actor_role::kind::primary,
                shard_spec_for(st, st.args.initial_shards[j]), {},
                [=](caf::expected<shard_actor> h) {
                  auto& st = self->state;
                  if (!h) {
                    cannot_place(self, h.error());
                    return;
                  }
                  st.shards[j].primary = *h;
                  st.shards[j].placing = false;
                  if (--*left == 0 && st.phase == job_phase::training)
                    start_training(self);
                  maybe_cut(self);
                });
  }
}

} // namespace

void begin_stop(self_ptr self) {
  auto& st = self->state;
  if (st.phase != job_phase::training)
    return;
  st.phase = job_phase::finishing;
  for (auto& w : st.workers)
    if (w.actor && w.state == worker_record::life::running)
      self->send(w.actor, stop_atom_v);
  self->delayed_send(self, stop_grace, timeout_atom_v, ++st.stop_generation);
  maybe_cut(self);
}

void maybe_cut(self_ptr self) {
  auto& st = self->state;
  if (st.cutting || st.phase == job_phase::final_cut || st.phase == job_phase::finished)
    return;
  if (st.phase == job_phase::finishing) {
    if (!all_workers_ended(st) && !st.grace_over)
      return;
    if (st.report.diverged || !st.started) {
      finish(self); // nothing worth a checkpoint: the newest good one stays the result
      return;
    }
    st.progress().end_training(st.now());
    st.phase = job_phase::final_cut;
    st.cutting = true;
    // Whatever each shard holds, without waiting for pushes in flight: after a failed try,
    // with a shard that cannot come back, or when workers had to be ended (the job was stuck).
    bool best_effort = st.final_cut_failures >= 1 || !st.shards_ready() || st.grace_over;
    take_cut(self, cut_kind{true, true, true, best_effort}, after_cut);
    return;
  }
  if (!st.started || !st.shards_ready() || (!st.want_eval && !st.want_checkpoint))
    return;
  cut_kind kind{st.want_eval, st.want_checkpoint, false, false};
  st.want_eval = st.want_checkpoint = false;
  st.cutting = true;
  take_cut(self, kind, after_cut);
}

void finish(self_ptr self) {
  auto& st = self->state;
  if (st.phase == job_phase::finished)
    return;
  st.phase = job_phase::finished;
  auto now = st.now();
  st.progress().end_training(now);
  auto& r = st.report;
  const auto& ledger = st.progress();
  // After a final cut the model holds what the cut took, which can be ahead of the
  // acknowledged steps (a worker killed between its push and its report).
  r.updates = r.final_params.empty() ? ledger.updates() : r.final_point.updates;
  r.samples = ledger.samples();
  r.blocked_seconds = ledger.blocked_seconds();
  r.training_seconds = ledger.training_seconds(now);
  r.wall_seconds = std::chrono::duration<double>(now - st.args.job_start).count();
  r.clock_lag_max = std::max(r.clock_lag_max, ledger.clock_lag());
  for (const auto& node : st.nodes)
    r.nodes.push_back(node.hello.name);
  publish_final_status(self);
  for (auto& w : st.workers)
    if (w.actor)
      self->send_exit(w.actor, caf::exit_reason::user_shutdown);
  for (auto& s : st.shards) {
    if (s.primary)
      self->send_exit(s.primary, caf::exit_reason::user_shutdown);
    for (auto& sb : s.standbys)
      self->send_exit(sb.actor, caf::exit_reason::user_shutdown);
  }
  if (st.checkpointer)
    self->send_exit(st.checkpointer, caf::exit_reason::user_shutdown);
  caf::anon_send(st.args.runner, finished_atom_v, std::move(r));
  self->quit();
}

supervisor_actor::behavior_type supervisor_behavior(self_ptr self, supervisor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.plan = st.args.plan;
  const auto& plan = *st.plan;
  const auto& cfg = plan.cfg;
  auto capacity = plan.slot_capacity();

  progress_ledger::settings ls;
  ls.model = cfg.consistency.model;
  ls.batch = cfg.batch;
  ls.updates_per_epoch = plan.updates_per_epoch;
  ls.eval_every = cfg.eval_every;
  ls.checkpoint_every = cfg.checkpoint_every;
  ls.start_updates = st.args.start_updates;
  ls.shards = plan.ranges.size();
  st.ledger.emplace(ls);
  work_dispatcher::settings ws;
  ws.lockstep = plan.lockstep();
  ws.samples = plan.train_count();
  ws.batch = cfg.batch;
  ws.epochs = cfg.epochs;
  ws.limit = cfg.steps;
  ws.slot_capacity = capacity;
  st.dispatcher.emplace(ws, st.args.work.batch != 0 ? &st.args.work : nullptr);
  st.budget.emplace(cfg.max_restarts,
                    std::chrono::duration_cast<supervisor_state::clock::duration>(
                      std::chrono::duration<double>(cfg.restart_window_seconds)));
  st.workers.resize(capacity);
  st.shards.resize(plan.ranges.size());
  for (uint32_t s = 0; s < st.args.worker_start.size(); ++s) {
    auto clock = st.work().add_slot(s, st.args.worker_start[s]);
    st.progress().start_slot(s, clock);
  }
  st.replicas = replicas_wanted(cfg, st.args.node_agents.size());
  st.report.shard_replicas = st.replicas;
  st.epoch_seen = st.progress().updates() / std::max<uint64_t>(1, plan.updates_per_epoch);
  init_status(self);
  self->send(self, publish_atom_v);
  self->set_down_handler([=](caf::down_msg& dm) { on_down(self, dm); });
  // An error message nobody asked for (CAF sends one back for a message a child did not
  // understand) must not end the job: the default handler would quit.
  self->set_error_handler([=](caf::error& err) {
    caf::anon_send(self->state.args.runner, point_atom_v,
               "supervisor ignored an error: " + to_string(err));
  });
  spawn_checkpointer(self);
  if (st.args.registrar) {
    for (size_t n = 0; n < st.args.node_agents.size(); ++n)
      node_joined(self, st.args.node_agents[n], st.args.node_hellos[n]);
    caf::anon_send(st.args.registrar, subscribe_atom_v, caf::actor_cast<caf::actor>(self));
  }
  if (st.progress().all_done() || st.work().exhausted()) {
    st.phase = job_phase::finishing; // a resumed job that was already complete
    self->send(self, tick_atom_v);
  } else {
    start_job(self);
  }
  return {
    [=](progress_atom, const step_report& r) { on_progress(self, r); },
    [=](done_atom, uint32_t slot, uint64_t) { on_worker_done(self, slot); },
    [=](diverged_atom, uint32_t slot, uint64_t clock, const std::string& what) {
      on_diverged(self, slot, clock, what);
    },
    [=](shards_atom) -> caf::result<std::vector<shard_actor>> {
      auto& st = self->state;
      if (st.shards_ready())
        return st.primaries();
      auto rp = self->make_response_promise<std::vector<shard_actor>>();
      st.shard_list_waiting.push_back(rp);
      return rp;
    },
    [=](stop_atom) {
      self->state.report.stopped_early = true;
      begin_stop(self);
    },
    [=](actors_atom) -> caf::result<std::vector<caf::actor>, std::vector<caf::actor>> {
      std::vector<caf::actor> workers, shards;
      for (auto& w : self->state.workers)
        workers.push_back(caf::actor_cast<caf::actor>(w.actor));
      for (auto& s : self->state.shards)
        shards.push_back(caf::actor_cast<caf::actor>(s.primary));
      return {workers, shards};
    },
    [=](node_up_atom, const caf::actor& agent, const node_hello& hello) {
      node_joined(self, agent, hello);
    },
    [=](node_down_atom, const caf::actor& agent) { node_lost(self, agent); },
    [=](drain_atom, const caf::actor& agent) { drain_node(self, agent); },
    [=](tick_atom) { maybe_cut(self); },
    [=](publish_atom) {
      publish_status(self);
      if (self->state.phase != job_phase::finished)
        self->delayed_send(self, std::chrono::seconds(1), publish_atom_v);
    },
    [=](fault_atom, uint64_t index) { fire_fault(self, static_cast<size_t>(index)); },
    [=](timeout_atom, uint64_t generation) { on_grace_over(self, generation); },
  };
}

} // namespace tether
