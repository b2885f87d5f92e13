// Tests for ps/work_dispatcher.cpp: every sample once per epoch, fast slots do more,
// replacements redo their predecessor's tickets, lockstep rounds are deterministic.
#include "ps/work_dispatcher.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace tether;

namespace {

using ticket_set = std::multiset<std::pair<uint32_t, uint32_t>>;

work_dispatcher::settings dynamic_job(uint64_t samples, uint32_t batch, uint32_t epochs,
                                      uint32_t slots) {
  work_dispatcher::settings s;
  s.samples = samples;
  s.batch = batch;
  s.epochs = epochs;
  s.slot_capacity = slots;
  return s;
}

/// Runs slots by `speed` (steps per turn) until every slot's grant says last and its
/// tickets are done; returns the tickets done per slot.
std::vector<std::vector<batch_ticket>> run(work_dispatcher& d, std::vector<int> speed,
                                           std::vector<uint64_t> clocks = {}) {
  if (clocks.empty())
    clocks.assign(speed.size(), 0);
  std::vector<std::vector<batch_ticket>> done(speed.size());
  std::vector<bool> finished(speed.size(), false);
  for (uint32_t s = 0; s < speed.size(); ++s)
    d.add_slot(s, clocks[s]);
  for (int turn = 0; turn < 100000; ++turn) {
    bool any = false;
    for (uint32_t s = 0; s < speed.size(); ++s) {
      for (int k = 0; k < speed[s] && !finished[s]; ++k) {
        auto g = d.grant(s, clocks[s]);
        REQUIRE(g.first_clock == clocks[s]);
        if (g.tickets.empty()) {
          REQUIRE(g.last);
          finished[s] = true;
          d.finish(s);
          break;
        }
        done[s].push_back(g.tickets.front());
        ++clocks[s];
        d.complete(s, clocks[s]);
        any = true;
      }
    }
    if (!any)
      break;
  }
  return done;
}

ticket_set all_of(const std::vector<std::vector<batch_ticket>>& done) {
  ticket_set out;
  for (const auto& slot : done)
    for (auto t : slot)
      out.insert({t.epoch, t.index});
  return out;
}

ticket_set every_ticket(uint32_t epochs, uint32_t per_epoch) {
  ticket_set out;
  for (uint32_t e = 0; e < epochs; ++e)
    for (uint32_t i = 0; i < per_epoch; ++i)
      out.insert({e, i});
  return out;
}

} // namespace

TEST_SUITE_BEGIN("work_dispatcher");

TEST_CASE("dynamic: every batch of every epoch exactly once, fast slots do more") {
  work_dispatcher d{dynamic_job(1000, 10, 3, 3)};
  CHECK(d.tickets_per_epoch() == 100);
  CHECK(d.planned_updates() == 300);
  auto done = run(d, {3, 1, 1});
  CHECK(all_of(done) == every_ticket(3, 100));
  CHECK(done[0].size() > 2 * done[1].size());
  CHECK(d.exhausted());
}

TEST_CASE("dynamic: a replacement gets exactly the tickets its predecessor held") {
  work_dispatcher d{dynamic_job(200, 10, 1, 2)};
  d.add_slot(0, 0);
  d.add_slot(1, 0);
  auto first = d.grant(0, 0);
  REQUIRE(first.tickets.size() == 2);
  d.grant(1, 0);
  // Slot 0 did one step, reported it, then died; the replacement asks at its clock.
  d.complete(0, 1);
  auto again = d.grant(0, 1);
  REQUIRE(again.tickets.size() == 2);
  CHECK(again.tickets[0] == first.tickets[1]); // the one in flight is redone, not lost
  auto repeat = d.grant(0, 1);                 // asking twice changes nothing
  CHECK(repeat.tickets == again.tickets);
}

TEST_CASE("dynamic: a retired slot keeps what it holds and gets nothing new") {
  work_dispatcher d{dynamic_job(300, 10, 2, 3)};
  for (uint32_t s = 0; s < 3; ++s)
    d.add_slot(s, 0);
  auto held = d.grant(2, 0);
  d.retire(2, 0);
  auto after = d.grant(2, 0);
  CHECK(after.tickets == held.tickets);
  CHECK(after.last);
  std::vector<std::vector<batch_ticket>> done(3);
  done[2] = held.tickets; // slot 2 finishes what it holds
  d.finish(2);
  std::vector<uint64_t> clocks{0, 0};
  bool more = true;
  while (more) {
    more = false;
    for (uint32_t s = 0; s < 2; ++s) {
      auto g = d.grant(s, clocks[s]);
      if (g.tickets.empty())
        continue;
      done[s].push_back(g.tickets.front());
      ++clocks[s];
      more = true;
    }
  }
  CHECK(all_of(done) == every_ticket(2, 30));
}

TEST_CASE("dynamic: --steps limits the tickets") {
  auto s = dynamic_job(1000, 10, 5, 2);
  s.limit = 37;
  work_dispatcher d{s};
  CHECK(d.planned_updates() == 37);
  auto done = run(d, {1, 2});
  CHECK(done[0].size() + done[1].size() == 37);
}

TEST_CASE("dynamic: a checkpoint's position resumes with nothing lost or repeated") {
  work_dispatcher d{dynamic_job(500, 10, 2, 2)};
  d.add_slot(0, 0);
  d.add_slot(1, 0);
  std::vector<std::vector<batch_ticket>> done(2);
  std::vector<uint64_t> clocks{0, 0};
  // Run a while; slot 1 is slower; both hold tickets ahead at the cut.
  for (int k = 0; k < 30; ++k) {
    for (uint32_t s = 0; s < 2; ++s) {
      if (s == 1 && k % 3 != 0)
        continue;
      auto g = d.grant(s, clocks[s]);
      done[s].push_back(g.tickets.front());
      ++clocks[s];
      d.complete(s, clocks[s]);
    }
    d.grant(0, clocks[0]);
    d.grant(1, clocks[1]);
  }
  auto pos = d.position_at(clocks);
  CHECK_FALSE(pos.pending.empty());
  work_dispatcher resumed{dynamic_job(500, 10, 2, 3), &pos};
  auto rest = run(resumed, {1, 1, 1});
  auto all = all_of(done);
  for (auto t : all_of(rest))
    all.insert(t);
  CHECK(all == every_ticket(2, 50));
}

TEST_CASE("lockstep: slot p at round k of an epoch gets batch k x W + p") {
  work_dispatcher::settings s = dynamic_job(1000, 10, 2, 4);
  s.lockstep = true;
  work_dispatcher d{s};
  CHECK(d.rounds_per_epoch(4) == 25);
  for (uint32_t p = 0; p < 4; ++p)
    CHECK(d.add_slot(p, 0) == 0);
  CHECK(d.planned_updates() == 50);
  for (uint64_t c : {0, 1, 7, 24, 25, 49}) {
    for (uint32_t p = 0; p < 4; ++p) {
      auto g = d.grant(p, c);
      REQUIRE_FALSE(g.tickets.empty());
      uint32_t epoch = static_cast<uint32_t>(c / 25), k = static_cast<uint32_t>(c % 25);
      CHECK(g.tickets[0] == batch_ticket{epoch, k * 4 + p});
    }
  }
  auto end = d.grant(0, 49);
  CHECK(end.tickets.size() == 1);
  CHECK(end.last);
  CHECK(d.grant(0, 50).tickets.empty());
}

TEST_CASE("lockstep: a slot added mid-epoch joins at the next epoch, every sample once") {
  work_dispatcher::settings s = dynamic_job(600, 10, 3, 3);
  s.lockstep = true;
  work_dispatcher d{s};
  d.add_slot(0, 0);
  d.add_slot(1, 0);
  std::map<uint32_t, ticket_set> per_epoch;
  uint64_t c = 0;
  uint64_t joined_at = 0;
  std::vector<uint32_t> members{0, 1};
  for (; c < 1000; ++c) {
    if (c == 5)
      joined_at = d.add_slot(2, c);
    bool any = false;
    for (uint32_t p : {0u, 1u, 2u}) {
      if (p == 2 && c < joined_at)
        continue;
      auto g = d.grant(p, c);
      if (g.tickets.empty())
        continue;
      per_epoch[g.tickets[0].epoch].insert({g.tickets[0].epoch, g.tickets[0].index});
      any = true;
    }
    if (!any)
      break;
  }
  CHECK(joined_at == 30); // 600 / (2 x 10) rounds in the first epoch
  REQUIRE(per_epoch.size() == 3);
  CHECK(per_epoch[0].size() == 60);
  CHECK(per_epoch[1].size() == 60); // 20 rounds of 3
  CHECK(per_epoch[2].size() == 60);
  for (auto& [e, set] : per_epoch)
    CHECK(std::set<std::pair<uint32_t, uint32_t>>(set.begin(), set.end()).size() == set.size());
  CHECK(c == 30 + 20 + 20);
}

TEST_CASE("lockstep: a retired slot leaves at the epoch's end") {
  work_dispatcher::settings s = dynamic_job(400, 10, 2, 2);
  s.lockstep = true;
  work_dispatcher d{s};
  d.add_slot(0, 0);
  d.add_slot(1, 0);
  d.grant(0, 0);
  d.retire(1, 3);
  auto g = d.grant(1, 19); // the last round of epoch 0 (20 rounds of 2)
  CHECK(g.tickets.size() == 1);
  CHECK(g.last);
  auto alone = d.grant(0, 20);
  REQUIRE_FALSE(alone.tickets.empty());
  CHECK(alone.tickets[0] == batch_ticket{1, 0}); // epoch 1 has slot 0 only
  CHECK(d.grant(0, 21).tickets[0] == batch_ticket{1, 1});
}

TEST_CASE("lockstep: a resumed job continues the same rounds") {
  work_dispatcher::settings s = dynamic_job(400, 10, 2, 2);
  s.lockstep = true;
  work_dispatcher d{s};
  d.add_slot(0, 0);
  d.add_slot(1, 0);
  for (uint64_t c = 0; c < 12; ++c) {
    d.grant(0, c);
    d.grant(1, c);
  }
  auto pos = d.position_at({7, 7});
  CHECK(pos.clock == 7);
  work_dispatcher resumed{s, &pos};
  CHECK(resumed.add_slot(0, 7) == 7);
  CHECK(resumed.add_slot(1, 7) == 7);
  for (uint64_t c = 7; c < 30; ++c)
    for (uint32_t p : {0u, 1u})
      CHECK(resumed.grant(p, c).tickets.front() == d.grant(p, c).tickets.front());
}

TEST_SUITE_END();
