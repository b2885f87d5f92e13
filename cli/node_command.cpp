#include "cli/node_command.hpp"

#include "messages/cluster.hpp"
#include "actors/job_setup.hpp"
#include "actors/network.hpp"
#include "actors/node_agent.hpp"
#include "cli/cluster_options.hpp"
#include "cli/config_file.hpp"
#include "cli/exit_codes.hpp"
#include "cli/signals.hpp"
#include "core/blas.hpp"
#include "messages/rejections.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

namespace tether {

namespace {

using namespace std::chrono_literals;

std::mutex print_mutex;

void say(const std::string& name, const std::string& line) {
  std::lock_guard<std::mutex> guard{print_mutex};
  char stamp[16];
  auto now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%H:%M:%S", std::localtime(&now));
  std::cout << stamp << " node " << name << ": " << line << std::endl;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "node";
  return buf;
}

/// The job's plan from the ticket's options and this machine's data (actors/job_plan.hpp).
result<std::shared_ptr<const job_plan>> make_plan(const node_ticket& ticket,
                                                  const std::string& data_dir, uint32_t cores) {
  auto settings = parse_config_text(ticket.options, "the coordinator's options");
  if (!settings)
    return settings.error();
  job_config config;
  for (auto& s : *settings)
    if (auto st = s.option->set(config, s.value); !st)
      return status{errc::invalid_argument,
                    "option " + std::string(s.option->name) + " from the coordinator: " + st.message()};
  if (!data_dir.empty())
    config.data_dir = data_dir;
  config.effective_options = ticket.options;
  auto data = load_job_data(config);
  if (auto* err = std::get_if<setup_error>(&data))
    return status{errc::io_error, err->message};
  auto train_only = std::get<train_test>(data);
  train_only.test = nullptr; // a node does not evaluate
  auto plan = plan_job(config, train_only, cores); // at most one worker a core here
  if (auto* err = std::get_if<setup_error>(&plan))
    return status{err->kind == job_failure::usage ? errc::invalid_argument : errc::io_error,
                  err->message};
  auto made = std::get<std::shared_ptr<const job_plan>>(plan);
  if (made->model_text() != ticket.model)
    return status{errc::invalid_argument, "the model here (" + made->model_text()
                                            + ") differs from the coordinator's (" + ticket.model
                                            + ")"};
  return made;
}

} // namespace

int node_command(int argc, const char* const* argv) {
  auto parsed = parse_node_args(argc, argv);
  if (!parsed) {
    std::cerr << "tether: " << parsed.error().message() << "\n";
    return exit_usage;
  }
  auto& a = *parsed;
  if (a.show_help) {
    std::cout << node_help();
    return exit_ok;
  }
  if (!a.gpus.empty()) {
    std::cerr << "tether: --gpus=" << a.gpus
              << ": GPU workers run in `tether train --gpus` (one process) only; on cluster "
                 "nodes they are not built yet: leave out --gpus (CPU workers)\n";
    return exit_usage;
  }
  if (auto st = check_network(a.net, {a.join.host}); !st) {
    std::cerr << "tether: " << st.message() << "\n";
    return exit_usage;
  }
  node_hello hello;
  hello.version = advertised_version(); // TETHER_TEST_CLAIM_VERSION: tests play another build
  hello.schema = schema_identity();
  hello.host = host_name();
  hello.name = a.name.empty() ? hello.host : a.name;
  hello.cores = a.cores;
  hello.pid = static_cast<int64_t>(getpid());
  const auto name = hello.name;
  on_rejection([name](const std::string& what) {
    say(name, "warning: " + what);
  });
  install_stop_signals();
  use_single_threaded_blas();

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", std::max<size_t>(2, std::thread::hardware_concurrency()));
  cfg.add_message_types<caf::id_block::tether>();
  cfg.add_message_types<caf::id_block::tether_cluster>();
  configure_network(cfg, a.net);
  caf::actor_system sys{cfg};

  // Reach the coordinator, retrying until --join-timeout (it may start after us).
  auto deadline = std::chrono::steady_clock::now() + a.join_timeout;
  caf::actor registrar;
  std::string last_problem;
  for (;;) {
    auto connected = connect_actor(sys, a.join, a.net);
    if (connected) {
      registrar = *connected;
      break;
    }
    auto problem = to_string(connected.error());
    if (problem != last_problem)
      say(name, "cannot reach the coordinator at " + a.join.host + ":" + std::to_string(a.join.port)
                  + " yet (" + problem + "); retrying");
    last_problem = problem;
    if (stop_signal_received())
      return exit_interrupted;
    if (std::chrono::steady_clock::now() > deadline) {
      say(name, "gave up after --join-timeout: check that the coordinator runs at that address"
                + std::string(a.net.insecure ? "" : " and that this machine's certificate comes "
                                                    "from the cluster's CA"));
      return exit_failure;
    }
    std::this_thread::sleep_for(1s);
  }
  say(name, "connected to the coordinator at " + a.join.host + ":" + std::to_string(a.join.port)
              + (a.net.insecure ? " (plain TCP)" : " (TLS)"));

  node_agent_args args;
  args.registrar = registrar;
  args.hello = hello;
  args.make_plan = [data_dir = a.data_dir, cores = a.cores](const node_ticket& t) {
    return make_plan(t, data_dir, cores);
  };
  args.note = [name](const std::string& line) { say(name, line); };
  args.outcome = std::make_shared<node_outcome>();
  auto outcome = args.outcome;
  auto agent = sys.spawn(node_agent_behavior, std::move(args));
  {
    caf::scoped_actor self{sys};
    self->monitor(agent);
    bool done = false, drain_sent = false;
    while (!done) {
      self->receive([&](caf::down_msg&) { done = true; }, caf::after(100ms) >> [] {});
      if (!done && !drain_sent && stop_signal_received()) {
        self->send(agent, drain_atom_v);
        drain_sent = true;
      }
    }
  }
  say(name, outcome->message);
  // The agent ended every shard and worker it spawned; the system waits for them.
  return outcome->code;
}

} // namespace tether
