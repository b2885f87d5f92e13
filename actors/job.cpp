#include "actors/job.hpp"

#include "actors/job_setup.hpp"
#include "actors/registrar.hpp"
#include "actors/supervisor.hpp"
#include "messages/version.hpp"
#include "net/front.hpp"
#include "core/blas.hpp"

#include <algorithm>
#include <thread>

namespace tether {

namespace {

using namespace std::chrono_literals;

/// job_control over the runner's scoped actor: asks the supervisor for its children.
class runner_control : public job_control {
public:
  runner_control(caf::scoped_actor& self, supervisor_actor supervisor)
    : self_(self), supervisor_(std::move(supervisor)) {
  }

  bool kill_worker(uint32_t index) override { return kill(index, true); }
  bool kill_shard(uint32_t index) override { return kill(index, false); }

private:
  bool kill(uint32_t index, bool worker) {
    bool killed = false;
    self_->request(supervisor_, 5s, actors_atom_v)
      .receive(
        [&](const std::vector<caf::actor>& workers, const std::vector<caf::actor>& shards) {
          const auto& group = worker ? workers : shards;
          if (index < group.size() && group[index]) {
            self_->send_exit(group[index], caf::exit_reason::kill);
            killed = true;
          }
        },
        [&](caf::error&) {});
    return killed;
  }

  caf::scoped_actor& self_;
  supervisor_actor supervisor_;
};

/// The largest message of a cluster job is a shard's snapshot (parameters and optimizer
/// slots, to the checkpointer and to a replacement shard): it must pass every peer's
/// --max-frame (net/front.hpp), with 1 MiB for the rest of the message.
status check_frame_cap(const std::vector<shard_state>& shards, optimizer_kind kind,
                       uint64_t max_frame) {
  uint64_t largest = 0;
  for (const auto& s : shards)
    largest = std::max<uint64_t>(largest, (s.range_end - s.range_begin) * sizeof(float)
                                            * (1 + optimizer_slot_count(kind)));
  if (largest + (1u << 20) <= max_frame)
    return status::ok();
  return status{errc::invalid_argument,
                "--max-frame=" + std::to_string(max_frame >> 20) + "M is too small for this job: "
                  "a shard's snapshot is " + std::to_string((largest >> 20) + 1)
                  + " MiB; raise --max-frame (on the coordinator and every node) or use more "
                    "--shards"};
}

size_t scheduler_threads() {
  return std::max<size_t>(2, std::thread::hardware_concurrency());
}

/// The coordinator before training: publishes the registrar and waits for the nodes.
/// False when it cannot listen (out.failure set) or a stop was asked for.
bool gather_nodes(caf::scoped_actor& self, const caf::actor& registrar,
                  const cluster_config& cluster, const job_hooks& hooks, job_outcome& out,
                  supervisor_args& args) {
  auto info = [&](const std::string& line) {
    if (hooks.on_info)
      hooks.on_info(line);
  };
  auto port = publish_actor(registrar, cluster.listen, cluster.net);
  if (!port) {
    out.failure = job_failure::usage;
    out.message = "cannot listen on " + cluster.listen.host + ":"
                  + std::to_string(cluster.listen.port) + ": " + to_string(port.error())
                  + "; is another coordinator running there? choose another --listen";
    return false;
  }
  info("listening on " + cluster.listen.host + ":" + std::to_string(*port)
       + (cluster.net.insecure ? " (plain TCP, loopback only)" : " (TLS, mutual authentication)")
       + "; waiting for " + std::to_string(cluster.min_nodes) + " node"
       + (cluster.min_nodes == 1 ? "" : "s"));
  self->send(registrar, subscribe_atom_v, caf::actor_cast<caf::actor>(self));
  while (args.node_agents.size() < cluster.min_nodes) {
    self->receive(
      [&](node_up_atom, const caf::actor& agent, const node_hello& hello) {
        args.node_agents.push_back(agent);
        args.node_hellos.push_back(hello);
      },
      [&](node_down_atom, const caf::actor& agent) {
        for (size_t i = 0; i < args.node_agents.size(); ++i)
          if (args.node_agents[i] == agent) {
            args.node_agents.erase(args.node_agents.begin() + static_cast<long>(i));
            args.node_hellos.erase(args.node_hellos.begin() + static_cast<long>(i));
            break;
          }
      },
      [&](info_atom, const std::string& line) { info(line); },
      caf::after(100ms) >> [] {});
    if (hooks.stop_requested && hooks.stop_requested()) {
      out.stopped_waiting = true;
      return false;
    }
  }
  info(std::to_string(args.node_agents.size()) + " nodes in: training starts");
  return true;
}

} // namespace

job_outcome run_job(const job_config& cfg, const job_hooks& hooks,
                    const cluster_config* cluster) {
  auto job_start_time = std::chrono::steady_clock::now();
  auto note = [&](const std::string& line) {
    if (hooks.on_message)
      hooks.on_message(line);
  };
  use_single_threaded_blas();
  job_outcome out;
  // A coordinator's workers run on its nodes: its own memory holds the shards' copies only.
  auto prepared = prepare_job(cfg, note, cluster ? std::optional<uint32_t>{0} : std::nullopt);
  if (auto* err = std::get_if<setup_error>(&prepared)) {
    out.failure = err->kind;
    out.message = err->message;
    return out;
  }
  auto& js = std::get<job_start>(prepared);
  const auto& plan = *js.plan;
  if (cluster) {
    if (auto st = check_frame_cap(js.shards, cfg.optimizer.kind, cluster->net.max_frame); !st) {
      out.failure = job_failure::usage;
      out.message = st.message();
      return out;
    }
  }
  out.resumed_from = js.resumed_from;
  out.model = plan.model_text();
  out.train_samples = plan.train_count();
  out.test_samples = plan.data.test ? plan.data.test->count : 0;
  out.context = plan.gpt ? plan.gpt->config().context : 0;
  out.least_squares = js.least_squares;

  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", scheduler_threads());
  sys_cfg.add_message_types<caf::id_block::tether>();
  if (cluster) {
    sys_cfg.add_message_types<caf::id_block::tether_cluster>();
    configure_network(sys_cfg, cluster->net);
  }
  caf::actor_system sys{sys_cfg};
  {
    caf::scoped_actor self{sys};
    supervisor_args args;
    caf::actor registrar;
    if (cluster) {
      node_ticket ticket;
      ticket.accepted = true;
      ticket.coordinator_version = advertised_version();
      ticket.coordinator_schema = schema_identity();
      ticket.options = cfg.effective_options;
      ticket.model = out.model;
      ticket.train_count = plan.train_count();
      ticket.train_fingerprint = plan.train_fingerprint();
      registrar = sys.spawn(registrar_behavior, std::move(ticket),
                            caf::actor_cast<caf::actor>(self));
      args.registrar = registrar;
      args.place_timeout = cluster->place_timeout;
      if (!gather_nodes(self, registrar, *cluster, hooks, out, args)) {
        net::close_pending_connections();
        self->send_exit(registrar, caf::exit_reason::user_shutdown);
        return out;
      }
    }
    args.plan = js.plan;
    args.initial_shards = std::move(js.shards);
    args.worker_start = js.worker_start;
    args.start_updates = js.start_updates;
    args.work = js.work;
    args.job_start = job_start_time;
    args.runner = caf::actor_cast<caf::actor>(self);
    auto supervisor = sys.spawn(supervisor_behavior, std::move(args));
    self->monitor(supervisor);
    runner_control control{self, supervisor};
    bool finished = false, stop_sent = false;
    while (!finished) {
      self->receive(
        [&](point_atom, const progress_point& p) {
          if (hooks.on_point)
            hooks.on_point(p, control);
        },
        [&](point_atom, const std::string& line) { note(line); },
        [&](info_atom, const std::string& line) {
          if (hooks.on_info)
            hooks.on_info(line);
        },
        [&](node_up_atom, const caf::actor&, const node_hello&) {}, // before the supervisor subscribed
        [&](node_down_atom, const caf::actor&) {},
        [&](status_atom, const job_status& status) {
          if (hooks.on_status)
            hooks.on_status(status);
        },
        [&](finished_atom, job_report& report) {
          out.report = std::move(report);
          finished = true;
        },
        [&](caf::down_msg& dm) {
          out.failure = job_failure::runtime;
          out.message = "the supervisor stopped unexpectedly: " + to_string(dm.reason);
          // Its children may be left running; do not wait for them at shutdown.
          sys.await_actors_before_shutdown(false);
          finished = true;
        },
        caf::after(100ms) >> [] {});
      if (!finished && !stop_sent && hooks.stop_requested && hooks.stop_requested()) {
        note("stopping: the workers finish their step, then the final checkpoint is written");
        self->send(supervisor, stop_atom_v);
        stop_sent = true;
      }
    }
    if (registrar) {
      // Every node hears that the job is over (and exits 0) before this process goes.
      self->request(registrar, 5s, finished_atom_v).receive([](bool) {}, [](caf::error&) {});
      self->send_exit(registrar, caf::exit_reason::user_shutdown);
      // Peers still in their handshake would hold up the middleman's shutdown until
      // their deadline: they are let go now, and nobody new is let in.
      net::close_pending_connections();
    }
  }
  if (out.failure == job_failure::none && out.report) {
    const auto& r = *out.report;
    if (r.diverged) {
      out.failure = job_failure::diverged;
      out.message = r.failure;
    } else if (r.budget_spent) {
      out.failure = job_failure::budget;
      out.message = r.failure;
    } else if (!r.failure.empty()) {
      out.failure = job_failure::runtime;
      out.message = r.failure;
    } else if (r.checkpoint_path.empty()) {
      out.failure = job_failure::checkpoint;
      out.message = "the final checkpoint could not be written: " + r.checkpoint_error
                    + (r.newest_checkpoint.empty()
                         ? std::string{"; no checkpoint of this run exists"}
                         : "; the newest checkpoint of this run is " + r.newest_checkpoint
                             + " (update " + std::to_string(r.newest_checkpoint_updates) + ")");
    }
  }
  return out;
}

} // namespace tether
