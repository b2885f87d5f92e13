#include "ps/work_dispatcher.hpp"

#include <algorithm>
#include <cassert>

namespace tether {

work_dispatcher::work_dispatcher(settings s, const work_position* from)
    : settings_(s), slots_(std::max<uint32_t>(1, s.slot_capacity)) {
  assert(s.batch >= 1 && s.samples >= s.batch && s.depth >= 1);
  if (from == nullptr)
    return;
  next_ = from->next;
  if (from->batch != 0 && from->batch != settings_.batch) {
    // Another batch size: go on from the same sample offset of the epoch; the tickets in
    // flight at the cut are redone as part of the rest of the epoch.
    next_.index = static_cast<uint32_t>(uint64_t{next_.index} * from->batch / settings_.batch);
  } else {
    returned_.assign(from->pending.begin(), from->pending.end());
  }
  if (next_.index >= tickets_per_epoch()) {
    next_.index = 0;
    ++next_.epoch;
  }
  handed_ = uint64_t{next_.epoch} * tickets_per_epoch() + next_.index;
  handed_ -= std::min<uint64_t>(handed_, returned_.size());
  resume_clock_ = from->clock;
}

uint64_t work_dispatcher::rounds_per_epoch(uint32_t slots) const {
  return slots == 0 ? 0 : settings_.samples / (uint64_t{slots} * settings_.batch);
}

bool work_dispatcher::is_active(uint32_t slot) const {
  return slot < slots_.size() && slots_[slot].state == slot_state::active;
}

std::vector<uint32_t> work_dispatcher::active_slots() const {
  std::vector<uint32_t> out;
  for (uint32_t s = 0; s < slots_.size(); ++s)
    if (slots_[s].state == slot_state::active)
      out.push_back(s);
  return out;
}

uint64_t work_dispatcher::lockstep_end() const {
  return segments_.empty() ? resume_clock_
                           : segments_.back().start_clock + segments_.back().rounds;
}

uint64_t work_dispatcher::add_slot(uint32_t slot, uint64_t clock) {
  if (slot >= slots_.size())
    slots_.resize(slot + 1);
  auto& info = slots_[slot];
  info.state = slot_state::active;
  info.held.clear();
  info.first_clock = settings_.lockstep ? std::max(clock, lockstep_end()) : clock;
  return info.first_clock;
}

void work_dispatcher::retire(uint32_t slot, uint64_t) {
  if (slot < slots_.size() && slots_[slot].state == slot_state::active)
    slots_[slot].state = slot_state::retiring;
}

void work_dispatcher::finish(uint32_t slot) {
  // What it still holds stays held: a stopped job's checkpoint lists it as pending.
  if (slot < slots_.size())
    slots_[slot].state = slot_state::finished;
}

void work_dispatcher::complete(uint32_t slot, uint64_t clock) {
  if (slot >= slots_.size())
    return;
  auto& held = slots_[slot].held;
  while (!held.empty() && held.front().first < clock)
    held.pop_front();
}

std::optional<batch_ticket> work_dispatcher::take_dynamic() {
  if (!returned_.empty()) {
    auto t = returned_.front();
    returned_.pop_front();
    return t;
  }
  if (next_.epoch >= settings_.epochs || (settings_.limit > 0 && handed_ >= settings_.limit))
    return std::nullopt;
  auto t = next_;
  ++handed_;
  if (++next_.index >= tickets_per_epoch()) {
    next_.index = 0;
    ++next_.epoch;
  }
  return t;
}

bool work_dispatcher::lay_out_next_segment() {
  if (laid_out_all_)
    return false;
  segment seg;
  seg.start_clock = lockstep_end();
  if (segments_.empty()) {
    seg.epoch = next_.epoch;
    seg.first_index = next_.index;
  } else {
    seg.epoch = segments_.back().epoch + 1;
    seg.first_index = 0;
  }
  for (uint32_t s = 0; s < slots_.size(); ++s)
    if (slots_[s].state == slot_state::active && slots_[s].first_clock <= seg.start_clock)
      seg.slots.push_back(s);
  auto width = static_cast<uint32_t>(seg.slots.size());
  uint64_t tickets = tickets_per_epoch();
  seg.rounds = width == 0 || seg.first_index >= tickets ? 0 : (tickets - seg.first_index) / width;
  if (settings_.limit > 0)
    seg.rounds = std::min(seg.rounds, settings_.limit - std::min(settings_.limit, seg.start_clock));
  if (seg.epoch >= settings_.epochs || seg.rounds == 0) {
    laid_out_all_ = true;
    return false;
  }
  segments_.push_back(std::move(seg));
  return true;
}

std::optional<batch_ticket> work_dispatcher::lockstep_ticket(uint32_t slot, uint64_t clock) {
  while (clock >= lockstep_end())
    if (!lay_out_next_segment())
      return std::nullopt;
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (clock < it->start_clock)
      continue;
    auto pos = std::find(it->slots.begin(), it->slots.end(), slot);
    if (pos == it->slots.end())
      return std::nullopt;
    uint64_t p = static_cast<uint64_t>(pos - it->slots.begin());
    uint64_t index = it->first_index + (clock - it->start_clock) * it->slots.size() + p;
    return batch_ticket{it->epoch, static_cast<uint32_t>(index)};
  }
  return std::nullopt;
}

work_grant work_dispatcher::grant(uint32_t slot, uint64_t clock) {
  work_grant g;
  g.first_clock = clock;
  if (slot >= slots_.size() || slots_[slot].state == slot_state::idle
      || slots_[slot].state == slot_state::finished) {
    g.last = true;
    return g;
  }
  auto& info = slots_[slot];
  if (settings_.lockstep) {
    // A retiring slot stays in the segments laid out so far and is left out of new ones.
    for (uint64_t c = clock; c < clock + settings_.depth; ++c) {
      auto t = lockstep_ticket(slot, c);
      if (!t) {
        g.last = true;
        break;
      }
      g.tickets.push_back(*t);
    }
    return g;
  }
  complete(slot, clock);
  uint64_t next_clock = info.held.empty() ? clock : info.held.back().first + 1;
  bool more = info.state == slot_state::active;
  while (more && info.held.size() < settings_.depth) {
    auto t = take_dynamic();
    if (!t) {
      more = false;
      break;
    }
    info.held.emplace_back(next_clock++, *t);
  }
  for (const auto& [c, t] : info.held)
    if (c >= clock)
      g.tickets.push_back(t);
  g.last = !more || (returned_.empty() && (next_.epoch >= settings_.epochs
                                           || (settings_.limit > 0 && handed_ >= settings_.limit)));
  return g;
}

bool work_dispatcher::exhausted() const {
  for (const auto& s : slots_)
    if (s.state == slot_state::active || s.state == slot_state::retiring)
      return false;
  return true;
}

uint64_t work_dispatcher::planned_updates() const {
  if (!settings_.lockstep) {
    uint64_t all = uint64_t{settings_.epochs} * tickets_per_epoch();
    return settings_.limit > 0 ? std::min(all, settings_.limit) : all;
  }
  uint64_t total = lockstep_end();
  uint32_t width = static_cast<uint32_t>(active_slots().size());
  uint32_t epoch = segments_.empty() ? next_.epoch : segments_.back().epoch + 1;
  if (segments_.empty() && next_.index > 0 && width > 0 && epoch < settings_.epochs) {
    total += (tickets_per_epoch() - std::min<uint64_t>(tickets_per_epoch(), next_.index)) / width;
    ++epoch;
  }
  if (!laid_out_all_ && epoch < settings_.epochs)
    total += (settings_.epochs - epoch) * rounds_per_epoch(width);
  return settings_.limit > 0 ? std::min(total, settings_.limit) : total;
}

work_position work_dispatcher::position_at(const std::vector<uint64_t>& target) const {
  work_position p;
  p.batch = settings_.batch;
  if (settings_.lockstep) {
    uint64_t clock = target.empty() ? 0 : *std::max_element(target.begin(), target.end());
    p.clock = clock;
    p.next = next_;
    for (const auto& seg : segments_) {
      if (clock < seg.start_clock)
        break;
      uint64_t into = std::min(clock - seg.start_clock, seg.rounds);
      p.next = {seg.epoch, static_cast<uint32_t>(seg.first_index + into * seg.slots.size())};
      if (clock >= seg.start_clock + seg.rounds)
        p.next = {seg.epoch + 1, 0};
    }
    return p;
  }
  p.next = next_;
  p.pending.assign(returned_.begin(), returned_.end());
  for (uint32_t s = 0; s < slots_.size(); ++s) {
    uint64_t done = s < target.size() ? target[s] : 0;
    for (const auto& [c, t] : slots_[s].held)
      if (c >= done)
        p.pending.push_back(t);
  }
  return p;
}

} // namespace tether
