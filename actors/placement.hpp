// Where a cluster's actors run: the placement policy, as a pure function.
//
// Policy (docs/deploy.md): shards first, then workers, one actor at a time, each on the
// usable node (alive, not draining) with
//   - for a shard: the fewest shards, then the lowest load;
//   - for a worker: the lowest load;
// where load = (shards + workers) / cores, and ties go to the node that joined first.
// So shards spread over the nodes before any node gets a second one, and workers fill
// the nodes in proportion to their --cores. A node may host both.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace tether {

struct node_load {
  bool usable = true;  ///< alive and not draining
  uint32_t cores = 1;
  uint32_t shards = 0;
  uint32_t workers = 0;
};

enum class placed_role { shard, worker };

/// The node for one more actor of `role`, or nullopt when no node is usable.
std::optional<size_t> pick_node(const std::vector<node_load>& nodes, placed_role role);

} // namespace tether
