// The steps the supervisor's files share (declared in actors/supervisor_steps.hpp).
#include "actors/supervisor_nodes.hpp"
#include "actors/supervisor_steps.hpp"
#include "messages/checkpoint_file.hpp"

#include <algorithm>
#include <cstdio>

namespace tether {

using self_ptr = supervisor_pointer;

void info(self_ptr self, const std::string& line) {
  caf::anon_send(self->state.args.runner, info_atom_v, line);
}

/// Nothing can run a shard or a worker any more: end the job (the newest checkpoint on
/// disk is where a --resume starts).
void cannot_place(self_ptr self, const caf::error& err) {
  auto& st = self->state;
  if (st.report.failure.empty())
    st.report.failure = to_string(err) + "; the newest checkpoint is kept: start nodes and run "
                                         "the coordinator again with --resume";
  begin_stop(self);
}

std::vector<shard_actor> supervisor_state::primaries() const {
  std::vector<shard_actor> out;
  for (const auto& s : shards)
    out.push_back(s.primary);
  return out;
}

bool supervisor_state::shards_ready() const {
  return std::all_of(shards.begin(), shards.end(),
                     [](const shard_record& s) { return s.primary && !s.placing && !s.moving; });
}

void tell_placement_once_placed(self_ptr self) {
  auto& st = self->state;
  if (st.placement_told || !st.started || !st.args.registrar)
    return;
  for (const auto& w : st.workers)
    if (w.state == worker_record::life::placing)
      return;
  for (const auto& s : st.shards)
    if (s.standbys_placing > 0 || !s.primary)
      return;
  st.placement_told = true;
  info(self, "placement:\n" + placement_lines(st));
}

uint32_t live_workers(const supervisor_state& st) {
  uint32_t n = 0;
  for (const auto& w : st.workers)
    n += (w.state == worker_record::life::placing || w.state == worker_record::life::running)
             && !w.retiring
           ? 1
           : 0;
  return n;
}

shard_spec shard_spec_for(const supervisor_state& st, shard_state state) {
  shard_spec spec;
  spec.state = std::move(state);
  spec.live_clocks.assign(st.plan->slot_capacity(), shard_spec::not_live);
  for (uint32_t s = 0; s < st.workers.size(); ++s) {
    if (!st.started && s < st.args.worker_start.size()) {
      spec.live_clocks[s] = st.args.worker_start[s];
      continue;
    }
    const auto& rec = st.workers[s];
    if (rec.state == worker_record::life::placing || rec.state == worker_record::life::running)
      spec.live_clocks[s] = st.progress().at(s).clock;
  }
  return spec;
}

shard_state restore_point(self_ptr self, size_t j) {
  auto& st = self->state;
  auto loaded = load_newest_good(st.plan->cfg.checkpoint_dir);
  if (loaded && loaded->data.layout_fingerprint == st.plan->layout().fingerprint())
    for (auto& s : loaded->data.shards)
      if (s.range_begin == st.plan->ranges[j].begin && s.range_end == st.plan->ranges[j].end) {
        s.index = static_cast<uint32_t>(j);
        s.applied_clocks.resize(st.plan->slot_capacity(), 0);
        s.applied_counts.resize(st.plan->slot_capacity(), 0);
        return std::move(s);
      }
  return st.args.initial_shards[j];
}

void broadcast_shards(self_ptr self) {
  auto& st = self->state;
  if (!st.shards_ready())
    return;
  auto list = st.primaries();
  for (auto& w : st.workers)
    if (w.actor && w.state == worker_record::life::running)
      self->send(w.actor, shards_atom_v, list);
  for (auto& rp : st.shard_list_waiting)
    rp.deliver(list);
  st.shard_list_waiting.clear();
}

void start_worker(self_ptr self, uint32_t slot, std::optional<size_t> preferred) {
  auto& st = self->state;
  auto& rec = st.workers[slot];
  rec.state = worker_record::life::placing;
  rec.actor = worker_actor{};
  auto clock = st.progress().at(slot).clock;
  worker_spec spec;
  spec.slot = slot;
  spec.start_clock = clock;
  spec.work = st.work().grant(slot, clock);
  rec.granted_until = clock + spec.work.tickets.size();
  rec.told_last = spec.work.last;
  spec.shards = st.primaries();
  spec.supervisor = self;
  place_worker(self, std::move(spec), preferred, [=](caf::expected<worker_actor> h) {
    auto& st = self->state;
    if (!h) {
      cannot_place(self, h.error());
      return;
    }
    auto& rec = st.workers[slot];
    rec.actor = *h;
    rec.state = worker_record::life::running;
    self->send(*h, start_atom_v);
    tell_placement_once_placed(self);
    if (st.phase != job_phase::training)
      self->send(*h, stop_atom_v);
  });
}

bool spend_restart(self_ptr self, const std::string& group, const std::string& who,
                   const caf::error& reason) {
  auto& st = self->state;
  if (st.budget->spend(group, st.now()))
    return true;
  if (st.report.failure.empty()) {
    auto window = std::chrono::duration<double>(st.budget->window()).count();
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%g", window);
    st.report.failure = "restart budget of the " + group + " group spent: " + who + " failed ("
                        + to_string(reason) + ") after " + std::to_string(st.budget->max())
                        + " restarts within " + seconds
                        + " s; raise --max-restarts or --restart-window, or look for the cause";
  }
  st.report.budget_spent = true;
  begin_stop(self);
  return false;
}

} // namespace tether
