#include "actors/node_agent.hpp"

#include "actors/shard.hpp"
#include "actors/worker.hpp"

#include <csignal>
#include <cstdio>
#include <spawn.h>
#include <unistd.h>

namespace tether {

namespace {

/// SIGSTOPs this process after arranging a SIGCONT `seconds` later from a child shell.
void stop_for(double seconds) {
  auto pid = std::to_string(::getpid());
  char delay[32];
  std::snprintf(delay, sizeof(delay), "%.3f", seconds);
  std::string script = std::string{"sleep "} + delay + "; kill -CONT " + pid;
  const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
  ::pid_t child = 0;
  if (::posix_spawn(&child, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ)
      != 0)
    return; // without a way back, do not stop
  ::kill(::getpid(), SIGSTOP);
}

} // namespace

namespace {

using self_ptr = caf::stateful_actor<node_agent_state>*;
using namespace std::chrono_literals;

void end(self_ptr self, int code, std::string message) {
  auto& out = *self->state.args.outcome;
  out.code = code;
  out.message = std::move(message);
  for (auto& child : self->state.spawned)
    self->send_exit(child, caf::exit_reason::user_shutdown);
  self->quit();
}

void note(self_ptr self, const std::string& line) {
  if (self->state.args.note)
    self->state.args.note(line);
}

/// The ticket arrived: load the data, check it, tell the registrar we are ready.
void on_ticket(self_ptr self, const node_ticket& t) {
  auto& st = self->state;
  if (!t.accepted) {
    end(self, 1, "the coordinator refused this node: " + t.reason);
    return;
  }
  if (auto problem = coordinator_problem(t); !problem.empty()) {
    end(self, 1, "this node refuses the coordinator: " + problem);
    return;
  }
  auto plan = st.args.make_plan(t);
  if (!plan) {
    end(self, plan.error().code() == errc::invalid_argument ? 2 : 3,
        "cannot run this job here: " + plan.error().message());
    return;
  }
  auto count = (*plan)->train_count();
  if (count != t.train_count || (*plan)->train_fingerprint() != t.train_fingerprint) {
    end(self, 3,
        "the training data here (" + std::to_string(count)
          + " samples) differs from the coordinator's (" + std::to_string(t.train_count)
          + " samples, other bytes); give this node the same files (--data-dir)");
    return;
  }
  st.plan = std::move(*plan);
  self->send(st.args.registrar, ready_atom_v, st.args.hello);
  note(self, "joined: " + std::to_string(count) + " training samples loaded, model "
               + t.model + "; waiting for work");
}

} // namespace

caf::behavior node_agent_behavior(self_ptr self, node_agent_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  self->monitor(st.args.registrar);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source != self->state.args.registrar.address())
      return;
    if (self->state.finished)
      end(self, 0, "the job has finished");
    else
      end(self, 1, "lost the coordinator (" + to_string(dm.reason)
                     + "): either it ended (run it again with --resume) or it declared this "
                       "node dead (a hang or a cut link); start this node again to rejoin");
  });
  self->set_default_handler(caf::drop);
  self->request(st.args.registrar, 30s, hello_atom_v, st.args.hello)
    .then([=](const node_ticket& t) { on_ticket(self, t); },
          [=](caf::error& err) {
            end(self, 1, "the coordinator did not answer the hello: " + to_string(err));
          });
  return {
    [=](place_atom, shard_spec& spec) -> caf::result<shard_actor> {
      auto& st = self->state;
      if (!st.plan || st.draining)
        return caf::make_error(caf::sec::runtime_error, "this node takes no work now");
      auto core = shard_core_for(*st.plan, std::move(spec));
      if (!core)
        return caf::make_error(caf::sec::runtime_error, core.error().message());
      st.supervisor = caf::actor_cast<caf::actor>(self->current_sender());
      auto shard = self->spawn(shard_behavior, std::move(*core));
      st.spawned.push_back(caf::actor_cast<caf::actor>(shard));
      ++st.shards;
      return shard;
    },
    [=](place_atom, worker_spec& w) -> caf::result<worker_actor> {
      auto& st = self->state;
      if (!st.plan || st.draining)
        return caf::make_error(caf::sec::runtime_error, "this node takes no work now");
      st.supervisor = caf::actor_cast<caf::actor>(self->current_sender());
      ++st.workers;
      auto slot = w.slot;
      auto worker = worker_on_gpu(*st.plan, slot)
                      ? self->spawn<caf::detached>(worker_behavior, std::move(w), st.plan)
                      : self->spawn(worker_behavior, std::move(w), st.plan);
      st.spawned.push_back(caf::actor_cast<caf::actor>(worker));
      return worker;
    },
    [=](drain_atom) {
      auto& st = self->state;
      if (st.draining)
        return;
      st.draining = true;
      if (st.shards + st.workers == 0 || !st.supervisor) {
        end(self, 0, "drained: no work was placed here");
        return;
      }
      note(self, "draining: the coordinator moves this node's work to other nodes");
      self->send(st.args.registrar, drain_atom_v, caf::actor_cast<caf::actor>(self));
    },
    [=](drained_atom) { end(self, 0, "drained: the job goes on without this node"); },
    [=](fault_atom, const std::string& what, double seconds) {
      // --faults: this process dies or stops as a machine would, without a word.
      if (what == "exit") {
        note(self, "fault injected: this node process ends now (SIGKILL)");
        ::kill(::getpid(), SIGKILL);
      } else if (what == "stop") {
        note(self, "fault injected: this node stops (SIGSTOP) for " + std::to_string(seconds)
                     + " s");
        stop_for(seconds);
      }
    },
    [=](finished_atom) {
      // Answer first, so the coordinator knows we heard it, then end.
      self->state.finished = true;
      self->delayed_send(self, 50ms, stop_atom_v);
      return true;
    },
    [=](stop_atom) { end(self, 0, "the job has finished"); },
  };
}

} // namespace tether
