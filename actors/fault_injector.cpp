#include "actors/fault_injector.hpp"

#include "core/splitmix64.hpp"

#include <cstdio>

namespace tether {

namespace {

using self_ptr = supervisor_pointer;

void note(self_ptr self, const timed_fault& f, const std::string& what) {
  auto& st = self->state;
  auto updates = st.progress().updates();
  double seconds = st.progress().training_seconds(st.now());
  char when[64];
  std::snprintf(when, sizeof(when), "at update %llu (%.2f s): ",
                static_cast<unsigned long long>(updates), seconds);
  st.report.faults_injected.push_back(when + what);
  caf::anon_send(st.args.runner, info_atom_v, "fault injected " + std::string{when} + what);
  (void) f;
}

void kill(self_ptr self, const timed_fault& f, const std::vector<caf::actor>& actors,
          const char* role) {
  if (f.index < actors.size() && actors[f.index]) {
    self->send_exit(actors[f.index], caf::exit_reason::kill);
    note(self, f, f.text);
  } else {
    note(self, f, f.text + " skipped: no " + role + " " + std::to_string(f.index) + " is running");
  }
}

void to_node(self_ptr self, const timed_fault& f, const std::string& what) {
  auto& st = self->state;
  if (f.index >= st.nodes.size() || !st.nodes[f.index].alive) {
    note(self, f, f.text + " skipped: no live node " + std::to_string(f.index)
                    + (st.nodes.empty() ? " (one process)" : ""));
    return;
  }
  note(self, f, f.text + " (node " + st.nodes[f.index].hello.name + ")");
  caf::anon_send(st.nodes[f.index].agent, fault_atom_v, what, f.duration_seconds);
}

} // namespace

void arm_faults(self_ptr self) {
  auto& st = self->state;
  const auto& plan = st.plan->cfg.fault.timed;
  st.fault_fired.assign(plan.size(), false);
  for (size_t i = 0; i < plan.size(); ++i)
    if (plan[i].when.at_time)
      self->delayed_send(self,
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::duration<double>(plan[i].when.seconds)),
                         fault_atom_v, static_cast<uint64_t>(i));
}

void faults_at_step(self_ptr self, uint64_t updates) {
  const auto& plan = self->state.plan->cfg.fault.timed;
  for (size_t i = 0; i < plan.size(); ++i)
    if (!plan[i].when.at_time && updates >= plan[i].when.step)
      fire_fault(self, i);
}

void fire_fault(self_ptr self, size_t index) {
  auto& st = self->state;
  const auto& plan = st.plan->cfg.fault.timed;
  if (index >= plan.size() || st.fault_fired[index] || st.phase != job_phase::training)
    return;
  st.fault_fired[index] = true;
  const auto& f = plan[index];
  switch (f.action) {
    case fault_action::kill:
      if (f.target == fault_target::worker) {
        std::vector<caf::actor> workers;
        for (const auto& w : st.workers)
          workers.push_back(caf::actor_cast<caf::actor>(w.actor));
        kill(self, f, workers, "worker");
      } else {
        std::vector<caf::actor> shards;
        for (const auto& s : st.shards)
          shards.push_back(f.target == fault_target::shard || s.standbys.empty()
                             ? caf::actor_cast<caf::actor>(
                               f.target == fault_target::shard ? s.primary : shard_actor{})
                             : caf::actor_cast<caf::actor>(s.standbys.front().actor));
        kill(self, f, shards, f.target == fault_target::shard ? "shard" : "standby");
      }
      break;
    case fault_action::exit_node:
      to_node(self, f, "exit");
      break;
    case fault_action::stop_node:
      to_node(self, f, "stop");
      break;
    case fault_action::flip_checkpoint:
      st.flip_pending.push_back(index);
      break;
  }
}

void faults_after_checkpoint(self_ptr self, const std::string& path) {
  auto& st = self->state;
  for (auto index : st.flip_pending) {
    const auto& f = st.plan->cfg.fault.timed[index];
    bool done = flip_file_byte(path, st.plan->cfg.fault.seed + index);
    note(self, f, f.text + (done ? " (" + path + ")" : " failed: cannot change " + path));
  }
  st.flip_pending.clear();
}

bool flip_file_byte(const std::string& path, uint64_t seed, size_t skip) {
  std::FILE* file = std::fopen(path.c_str(), "r+b");
  if (!file)
    return false;
  bool ok = false;
  if (std::fseek(file, 0, SEEK_END) == 0) {
    long size = std::ftell(file);
    if (size > static_cast<long>(skip)) {
      splitmix64 draws{seed};
      long at = static_cast<long>(skip + draws.next() % (static_cast<uint64_t>(size) - skip));
      unsigned char byte = 0;
      if (std::fseek(file, at, SEEK_SET) == 0 && std::fread(&byte, 1, 1, file) == 1) {
        byte ^= static_cast<unsigned char>(1 + draws.next() % 255);
        ok = std::fseek(file, at, SEEK_SET) == 0 && std::fwrite(&byte, 1, 1, file) == 1;
      }
    }
  }
  return std::fclose(file) == 0 && ok;
}

} // namespace tether
