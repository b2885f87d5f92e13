// Tests of the worker actor against fake shards and a fake supervisor: every granted batch
// is pushed to every shard and counted once, through dropped, duplicated and delayed
// messages (--faults), answers that never come, and a shard list replaced mid-round.
// Waits on messages with deadlines, never on sleeps.
#include "actors/job_setup.hpp"
#include "actors/worker.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>

using namespace tether;
using namespace std::chrono_literals;

namespace {

/// What a fake shard saw: pushes by (slot, clock), duplicates included.
struct shard_log {
  std::map<uint64_t, int> pushes; ///< clock -> times pushed
  int pulls = 0;
};

struct fake_shard_state {
  static inline const char* name = "test.fake-shard";
  std::shared_ptr<shard_log> log;
  key_range range;
  uint64_t version = 0;
  uint64_t silent_clock = UINT64_MAX; ///< never answers a push of this clock
  std::vector<caf::typed_response_promise<param_slice>> unanswered;
};

/// A shard that applies nothing and answers every pull and push with zeros, except the
/// pushes of `silent_clock`, which it keeps unanswered (a shard that hangs).
shard_actor::behavior_type fake_shard(shard_actor::stateful_pointer<fake_shard_state> self,
                                      std::shared_ptr<shard_log> log, key_range range,
                                      uint64_t silent_clock) {
  self->state.log = std::move(log);
  self->state.range = range;
  self->state.silent_clock = silent_clock;
  auto slice = [self] {
    return param_slice{self->state.version, self->state.range.begin,
                       std::vector<float>(self->state.range.size(), 0.0f)};
  };
  auto refuse = [] { return caf::make_error(caf::sec::unexpected_message, "not in this test"); };
  return {
    [=](pull_atom, const pull_request&) -> caf::result<param_slice> {
      ++self->state.log->pulls;
      return slice();
    },
    [=](push_atom, const push_request& p) -> caf::result<param_slice> {
      ++self->state.log->pushes[p.clock];
      ++self->state.version;
      if (p.clock == self->state.silent_clock) {
        auto rp = self->make_response_promise<param_slice>();
        self->state.unanswered.push_back(rp);
        return rp;
      }
      return slice();
    },
    [=](hold_atom) -> caf::result<std::vector<uint64_t>, shard_stats> { return refuse(); },
    [=](cut_atom, std::vector<uint64_t>) -> caf::result<shard_state> { return refuse(); },
    [=](release_atom) {},
    [=](stats_atom) -> caf::result<uint64_t, shard_stats> { return refuse(); },
    [=](leave_atom, uint32_t) {},
    [=](join_atom, uint32_t, uint64_t) {},
    [=](standby_atom, const std::vector<caf::actor>&) {},
    [=](sync_atom, replica_image&) -> caf::result<uint64_t> { return refuse(); },
    [=](replicate_atom, push_request&) -> caf::result<uint64_t> { return refuse(); },
    [=](replicate_atom, uint32_t, uint64_t, bool) -> caf::result<uint64_t> { return refuse(); },
    [=](tick_atom) {},
  };
}

struct fake_supervisor_state {
  static inline const char* name = "test.fake-supervisor";
  caf::actor test;
  std::vector<shard_actor> shards;
};

/// Forwards progress (as the clock) and done to the test; answers shard-list requests with
/// `shards`; ignores the rest of the supervisor's interface.
supervisor_actor::behavior_type
fake_supervisor(supervisor_actor::stateful_pointer<fake_supervisor_state> self, caf::actor test,
                std::vector<shard_actor> shards) {
  self->state.test = std::move(test);
  self->state.shards = std::move(shards);
  return {
    [=](progress_atom, const step_report& r) { caf::anon_send(self->state.test, r.clock); },
    [=](done_atom, uint32_t, uint64_t clock) {
      caf::anon_send(self->state.test, done_atom_v, clock);
    },
    [=](diverged_atom, uint32_t, uint64_t, const std::string& what) {
      caf::anon_send(self->state.test, what);
    },
    [=](shards_atom) -> std::vector<shard_actor> { return self->state.shards; },
    [=](stop_atom) {},
    [=](actors_atom) -> caf::result<std::vector<caf::actor>, std::vector<caf::actor>> {
      return {std::vector<caf::actor>{}, std::vector<caf::actor>{}};
    },
    [=](node_up_atom, const caf::actor&, const node_hello&) {},
    [=](node_down_atom, const caf::actor&) {},
    [=](drain_atom, const caf::actor&) {},
    [=](tick_atom) {},
    [=](publish_atom) {},
    [=](fault_atom, uint64_t) {},
    [=](timeout_atom, uint64_t) {},
  };
}

/// A linear-regression plan on 2,000 samples, batch 16, two shards.
std::shared_ptr<const job_plan> small_plan(const std::string& faults, double timeout_seconds) {
  job_config cfg;
  cfg.dataset = dataset_kind::linreg;
  cfg.model = "linear";
  cfg.batch = 16;
  cfg.workers = 1;
  cfg.shards = 2;
  cfg.request_timeout_seconds = timeout_seconds;
  if (!faults.empty()) {
    auto plan = parse_fault_plan(faults);
    REQUIRE(plan);
    cfg.fault = *plan;
  }
  auto data = make_linreg(1, 2000, 100).data;
  auto planned = plan_job(cfg, data);
  REQUIRE(std::holds_alternative<std::shared_ptr<const job_plan>>(planned));
  return std::get<std::shared_ptr<const job_plan>>(planned);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<caf::scoped_actor> self = std::make_unique<caf::scoped_actor>(sys);
  std::vector<caf::actor> spawned;

  ~fixture() {
    for (auto& a : spawned)
      (*self)->send_exit(a, caf::exit_reason::user_shutdown);
    self.reset();
  }

  template <class Handle>
  Handle keep(Handle h) {
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// Runs one worker with `steps` granted batches; answers the clocks it reported, in order,
  /// until it said done (or the deadline passed: a failure).
  std::vector<uint64_t> run_worker(std::shared_ptr<const job_plan> plan,
                                   std::vector<shard_actor> shards, uint64_t steps,
                                   const std::function<void(uint64_t)>& on_report = {}) {
    auto sup = keep(sys.spawn(fake_supervisor, caf::actor_cast<caf::actor>(*self), shards));
    worker_spec spec;
    spec.slot = 0;
    spec.start_clock = 0;
    for (uint64_t c = 0; c < steps; ++c)
      spec.work.tickets.push_back({0, static_cast<uint32_t>(c)});
    spec.work.last = true;
    spec.shards = std::move(shards);
    spec.supervisor = sup;
    auto worker = keep(sys.spawn(worker_behavior, std::move(spec), plan));
    (*self)->send(worker, start_atom_v);
    std::vector<uint64_t> reports;
    bool done = false;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      (*self)->receive(
        [&](uint64_t clock) {
          reports.push_back(clock);
          if (on_report)
            on_report(clock);
        },
        [&](done_atom, uint64_t clock) {
          done = true;
          CHECK(clock == steps);
        },
        [&](const std::string& what) { FAIL("the worker diverged: " << what); },
        caf::after(30s) >> [] {});
    }
    CHECK_MESSAGE(done, "the worker did not finish within 30 s");
    return reports;
  }
};

std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> out;
  for (uint64_t c = 1; c <= n; ++c)
    out.push_back(c);
  return out;
}

} // namespace

TEST_SUITE_BEGIN("worker");

TEST_CASE_FIXTURE(fixture, "every granted batch is pushed to every shard, in order, then done") {
  auto plan = small_plan("", 5);
  auto a = std::make_shared<shard_log>(), b = std::make_shared<shard_log>();
  std::vector<shard_actor> shards{keep(sys.spawn(fake_shard, a, plan->ranges[0], UINT64_MAX)),
                                  keep(sys.spawn(fake_shard, b, plan->ranges[1], UINT64_MAX))};
  auto reports = run_worker(plan, shards, 20);
  CHECK(reports == one_to(20));
  for (auto* log : {a.get(), b.get()}) {
    CHECK(log->pulls == 1);
    REQUIRE(log->pushes.size() == 20);
    for (auto [clock, times] : log->pushes)
      CHECK(times == 1);
  }
}

TEST_CASE_FIXTURE(fixture, "dropped, duplicated and delayed messages: every clock reaches every shard") {
  // Drops wait --request-timeout (0.2 s here), then the step is redone from a pull.
  auto plan = small_plan("seed 3; drop push 10%; duplicate push 20%; delay push 20% 30ms; "
                         "drop pull 10%; duplicate pull 20%",
                         0.2);
  auto a = std::make_shared<shard_log>(), b = std::make_shared<shard_log>();
  std::vector<shard_actor> shards{keep(sys.spawn(fake_shard, a, plan->ranges[0], UINT64_MAX)),
                                  keep(sys.spawn(fake_shard, b, plan->ranges[1], UINT64_MAX))};
  auto reports = run_worker(plan, shards, 40);
  CHECK(reports == one_to(40)); // each step reported once, in order
  int repeated = 0;
  for (auto* log : {a.get(), b.get()}) {
    REQUIRE(log->pushes.size() == 40); // every clock reached every shard
    for (auto [clock, times] : log->pushes)
      repeated += times > 1 ? 1 : 0;
  }
  CHECK(repeated > 0); // duplicates and redone steps did happen
  CHECK(a->pulls + b->pulls > 2); // and steps were redone from a pull
}

TEST_CASE_FIXTURE(fixture, "a shard that never answers: after the timeout the worker asks for the "
                           "shard list and goes on with the replacement") {
  auto plan = small_plan("", 0.2);
  auto a = std::make_shared<shard_log>(), hung = std::make_shared<shard_log>(),
       replacement = std::make_shared<shard_log>();
  auto first = keep(sys.spawn(fake_shard, a, plan->ranges[0], UINT64_MAX));
  auto hanging = keep(sys.spawn(fake_shard, hung, plan->ranges[1], uint64_t{5}));
  auto fresh = keep(sys.spawn(fake_shard, replacement, plan->ranges[1], UINT64_MAX));
  // The fake supervisor's list already names the replacement: the worker's request for
  // the shard list after its timeout gets it.
  auto sup = keep(sys.spawn(fake_supervisor, caf::actor_cast<caf::actor>(*self),
                            std::vector<shard_actor>{first, fresh}));
  worker_spec spec;
  spec.slot = 0;
  for (uint32_t c = 0; c < 10; ++c)
    spec.work.tickets.push_back({0, c});
  spec.work.last = true;
  spec.shards = {first, hanging};
  spec.supervisor = sup;
  auto worker = keep(sys.spawn(worker_behavior, std::move(spec), plan));
  (*self)->send(worker, start_atom_v);
  std::vector<uint64_t> reports;
  bool done = false;
  while (!done)
    (*self)->receive([&](uint64_t clock) { reports.push_back(clock); },
                     [&](done_atom, uint64_t clock) {
                       done = true;
                       CHECK(clock == 10);
                     },
                     caf::after(20s) >> [&] { FAIL("the worker did not finish"); });
  CHECK(reports == one_to(10));
  CHECK(hung->pushes.size() == 6);       // clocks 0..5; 5 was never answered
  CHECK(replacement->pushes.count(5) == 1); // redone there, once
  CHECK(replacement->pushes.size() == 5);   // clocks 5..9
  CHECK(a->pushes.at(5) == 2);              // redone: the shard skips it (exactly once)
}

TEST_CASE_FIXTURE(fixture, "the shard list replaced mid-round: the step is redone from a pull") {
  // A long timeout: the worker must go on because it was told, not because it timed out.
  auto plan = small_plan("", 10);
  auto a = std::make_shared<shard_log>(), hung = std::make_shared<shard_log>(),
       replacement = std::make_shared<shard_log>();
  auto first = keep(sys.spawn(fake_shard, a, plan->ranges[0], UINT64_MAX));
  auto hanging = keep(sys.spawn(fake_shard, hung, plan->ranges[1], uint64_t{3}));
  auto fresh = keep(sys.spawn(fake_shard, replacement, plan->ranges[1], UINT64_MAX));
  auto sup = keep(sys.spawn(fake_supervisor, caf::actor_cast<caf::actor>(*self),
                            std::vector<shard_actor>{first, fresh}));
  worker_spec spec;
  spec.slot = 0;
  for (uint32_t c = 0; c < 8; ++c)
    spec.work.tickets.push_back({0, c});
  spec.work.last = true;
  spec.shards = {first, hanging};
  spec.supervisor = sup;
  auto worker = keep(sys.spawn(worker_behavior, std::move(spec), plan));
  auto started = std::chrono::steady_clock::now();
  (*self)->send(worker, start_atom_v);
  std::vector<uint64_t> reports;
  bool done = false;
  while (!done)
    (*self)->receive(
      [&](uint64_t clock) {
        reports.push_back(clock);
        if (clock == 3) // step 3 is under way: its push to the hanging shard stays unanswered
          (*self)->send(worker, shards_atom_v, std::vector<shard_actor>{first, fresh});
      },
      [&](done_atom, uint64_t clock) {
        done = true;
        CHECK(clock == 8);
      },
      caf::after(20s) >> [&] { FAIL("the worker did not finish"); });
  CHECK(std::chrono::steady_clock::now() - started < 5s); // well before the 10 s timeout
  CHECK(reports == one_to(8));
  CHECK(replacement->pulls == 1);              // the step was redone from a pull
  CHECK(replacement->pushes.size() == 5);      // clocks 3..7
  CHECK(replacement->pushes.count(3) == 1);
  CHECK(hung->pushes.count(4) == 0);           // nothing went to the old shard after it
}

TEST_SUITE_END();
