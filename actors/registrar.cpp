#include "actors/registrar.hpp"

#include <memory>

namespace tether {

namespace {

using self_ptr = caf::stateful_actor<registrar_state>*;

void info(self_ptr self, const std::string& line) {
  self->send(self->state.runner, info_atom_v, line);
}

size_t live_nodes(const registrar_state& st) {
  size_t n = 0;
  for (auto& node : st.nodes)
    n += node.alive ? 1 : 0;
  return n;
}

std::string describe(const node_hello& h) {
  return h.name + " (" + h.host + ", " + std::to_string(h.cores) + (h.cores == 1 ? " core" : " cores") + ", pid "
         + std::to_string(h.pid) + ")";
}

node_ticket refuse(self_ptr self, const node_hello& h, std::string reason) {
  info(self, "refused node " + describe(h) + ": " + reason);
  node_ticket t;
  t.accepted = false;
  t.reason = std::move(reason);
  t.coordinator_version = advertised_version();
  t.coordinator_schema = schema_identity();
  return t;
}

} // namespace

caf::behavior registrar_behavior(self_ptr self, node_ticket ticket, caf::actor runner) {
  self->state.ticket = std::move(ticket);
  self->state.runner = std::move(runner);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& node : st.nodes)
      if (node.alive && node.agent.address() == dm.source) {
        node.alive = false;
        if (!st.finished)
          info(self, "node " + node.hello.name + " left ("
                       + (dm.reason ? to_string(dm.reason) : std::string{"drained"}) + "); "
                       + std::to_string(live_nodes(st)) + " nodes in");
        if (st.subscriber)
          self->send(st.subscriber, node_down_atom_v, node.agent);
      }
  });
  // A message the registrar does not know (a hostile or outdated peer) is answered with
  // an error by CAF; it must not end the registrar.
  self->set_default_handler(caf::drop);
  return {
    [=](hello_atom, const node_hello& h) -> node_ticket {
      auto& st = self->state;
      if (st.finished)
        return refuse(self, h, "the job has finished");
      if (auto problem = compatibility_problem(h); !problem.empty())
        return refuse(self, h, problem);
      for (auto& node : st.nodes)
        if (node.alive && node.hello.name == h.name)
          return refuse(self, h, "a node named " + h.name
                                   + " is already in the cluster; give each node its own --name");
      return st.ticket;
    },
    [=](ready_atom, const node_hello& h) {
      auto& st = self->state;
      auto agent = caf::actor_cast<caf::actor>(self->current_sender());
      if (!agent || st.finished || !compatibility_problem(h).empty())
        return;
      self->monitor(agent);
      st.nodes.push_back({agent, h, true});
      info(self, "node " + describe(h) + " joined; " + std::to_string(live_nodes(st))
                   + " nodes in");
      if (st.subscriber)
        self->send(st.subscriber, node_up_atom_v, agent, h);
    },
    [=](subscribe_atom, const caf::actor& who) {
      auto& st = self->state;
      st.subscriber = who;
      for (auto& node : st.nodes)
        if (node.alive)
          self->send(who, node_up_atom_v, node.agent, node.hello);
    },
    [=](drain_atom, const caf::actor& agent) {
      // A node going away by itself: the supervisor moves its work.
      auto& st = self->state;
      if (st.subscriber)
        self->send(st.subscriber, drain_atom_v, agent);
    },
    [=](finished_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.finished = true;
      auto rp = self->make_response_promise<bool>();
      auto pending = std::make_shared<size_t>(0);
      for (auto& node : st.nodes)
        if (node.alive)
          ++*pending;
      if (*pending == 0) {
        rp.deliver(true);
        return rp;
      }
      for (auto& node : st.nodes)
        if (node.alive)
          self->request(node.agent, std::chrono::seconds(3), finished_atom_v)
            .then([=](bool) mutable { if (--*pending == 0) rp.deliver(true); },
                  [=](caf::error&) mutable { if (--*pending == 0) rp.deliver(true); });
      return rp;
    },
  };
}

} // namespace tether
