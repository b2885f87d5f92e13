#include "actors/supervisor_nodes.hpp"

#include "actors/placement.hpp"

namespace tether {

namespace {

std::vector<node_load> loads(const supervisor_state& st) {
  std::vector<node_load> out;
  for (const auto& n : st.nodes)
    out.push_back({n.alive && !n.draining, std::max<uint32_t>(1, n.hello.cores), n.shards,
                   n.workers});
  return out;
}

void note(supervisor_ptr self, const std::string& line) {
  self->send(self->state.args.runner, info_atom_v, line);
}

/// Asks nodes in placement order until one answers a handle of type Handle.
template <class Handle, class Spec>
caf::expected<Handle> place(supervisor_ptr self, placed_role role, const Spec& spec,
                            const std::string& what, std::optional<size_t> preferred = {},
                            std::optional<size_t> avoid = {}) {
  auto& st = self->state;
  std::string problems;
  for (;;) {
    auto usable = loads(st);
    if (avoid && *avoid < usable.size())
      usable[*avoid].usable = false;
    size_t home = preferred.value_or(usable.size()); // tried once, first
    preferred.reset();
    auto pick = home < usable.size() && usable[home].usable ? std::optional<size_t>{home}
                                                            : pick_node(usable, role);
    if (!pick)
      return caf::make_error(caf::sec::runtime_error,
                             "no node can run " + what
                               + (problems.empty() ? std::string{": no node is in the cluster"}
                                                   : ": " + problems));
    auto& node = st.nodes[*pick];
    caf::expected<Handle> answer{caf::error{}};
    caf::scoped_actor blocking{self->system()};
    blocking->request(node.agent, st.args.place_timeout, place_atom_v, spec)
      .receive([&](Handle& h) { answer = std::move(h); },
               [&](caf::error& err) { answer = std::move(err); });
    if (answer && *answer) {
      self->monitor(*answer);
      st.placed_on[answer->address()] = {*pick, role == placed_role::shard};
      (role == placed_role::shard ? node.shards : node.workers) += 1;
      return answer;
    }
    auto why = answer ? std::string{"no handle"} : to_string(answer.error());
    note(self, "node " + node.hello.name + " could not take " + what + " (" + why
                 + "); placing it elsewhere");
    problems += (problems.empty() ? "" : "; ") + node.hello.name + ": " + why;
    node.alive = false;
  }
}

} // namespace

void add_node(supervisor_ptr self, const caf::actor& agent, const node_hello& hello) {
  auto& st = self->state;
  if (node_of(st, agent) >= 0)
    return;
  st.nodes.push_back({agent, hello, true, false, 0, 0});
}

void lose_node(supervisor_ptr self, const caf::actor& agent) {
  auto i = node_of(self->state, agent);
  if (i >= 0)
    self->state.nodes[i].alive = false;
}

int node_of(const supervisor_state& st, const caf::actor& agent) {
  for (size_t i = 0; i < st.nodes.size(); ++i)
    if (st.nodes[i].agent == agent)
      return static_cast<int>(i);
  return -1;
}

int node_running(const supervisor_state& st, const caf::actor_addr& who) {
  auto it = st.placed_on.find(who);
  return it == st.placed_on.end() ? -1 : static_cast<int>(it->second.node);
}

caf::expected<shard_actor> place_shard(supervisor_ptr self, size_t j, const shard_state& state,
                                       std::optional<size_t> avoid) {
  auto& st = self->state;
  shard_spec spec;
  spec.state = state;
  spec.optimizer = st.args.cfg.optimizer;
  spec.consistency = st.args.cfg.consistency;
  spec.workers = st.args.cfg.workers;
  for (uint32_t w = 0; w < st.done.size(); ++w)
    if (st.done[w])
      spec.finished.push_back(w);
  auto what = (avoid ? "the standby of shard " : "shard ") + std::to_string(j);
  return place<shard_actor>(self, placed_role::shard, spec, what, std::nullopt, avoid);
}

caf::expected<caf::actor> place_worker(supervisor_ptr self, const worker_args& args,
                                       std::optional<size_t> preferred) {
  return place<caf::actor>(self, placed_role::worker, args, "worker " + std::to_string(args.id),
                           preferred);
}

int forget_placed(supervisor_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto it = st.placed_on.find(who);
  if (it == st.placed_on.end())
    return -1;
  auto [index, shard] = it->second;
  st.placed_on.erase(it);
  auto& node = st.nodes[index];
  auto& count = shard ? node.shards : node.workers;
  count -= count > 0 ? 1 : 0;
  if (node.draining && node.alive && node.shards + node.workers == 0)
    return static_cast<int>(index);
  return -1;
}

std::string placement_lines(const supervisor_state& st) {
  std::string out;
  for (size_t n = 0; n < st.nodes.size(); ++n) {
    if (!st.nodes[n].alive)
      continue;
    std::string line = "  node " + st.nodes[n].hello.name + ":";
    for (size_t j = 0; j < st.shards.size(); ++j)
      if (st.shards[j] && node_running(st, st.shards[j].address()) == static_cast<int>(n))
        line += " shard " + std::to_string(j);
    for (size_t j = 0; j < st.standbys.size(); ++j)
      if (st.standbys[j] && node_running(st, st.standbys[j].address()) == static_cast<int>(n))
        line += " standby " + std::to_string(j);
    for (size_t i = 0; i < st.workers.size(); ++i)
      if (st.workers[i] && node_running(st, st.workers[i].address()) == static_cast<int>(n))
        line += " worker " + std::to_string(i);
    out += line + "\n";
  }
  return out;
}

} // namespace tether
