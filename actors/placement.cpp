#include "actors/placement.hpp"

#include <algorithm>

namespace tether {

std::optional<size_t> pick_node(const std::vector<node_load>& nodes, placed_role role) {
  std::optional<size_t> best;
  auto load = [](const node_load& n) {
    return static_cast<double>(n.shards + n.workers) / std::max<uint32_t>(1, n.cores);
  };
  auto better = [&](const node_load& a, const node_load& b) {
    if (role == placed_role::shard && a.shards != b.shards)
      return a.shards < b.shards;
    return load(a) < load(b);
  };
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!nodes[i].usable)
      continue;
    if (!best || better(nodes[i], nodes[*best]))
      best = i;
  }
  return best;
}

} // namespace tether
