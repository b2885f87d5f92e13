#include "actors/checkpointer.hpp"

#include "messages/checkpoint_file.hpp"

namespace tether {

checkpointer_actor::behavior_type
checkpointer_behavior(checkpointer_actor::stateful_pointer<checkpointer_state> self,
                      std::string dir, uint32_t keep) {
  self->state.dir = std::move(dir);
  self->state.keep = keep;
  return {
    [=](write_atom, const checkpoint_data& data) -> caf::result<std::string> {
      const auto& st = self->state;
      if (auto written = write_checkpoint(st.dir, data); !written)
        return caf::make_error(caf::sec::runtime_error, written.message());
      if (auto pruned = prune_checkpoints(st.dir, st.keep); !pruned)
        return caf::make_error(caf::sec::runtime_error, pruned.message());
      return st.dir + "/" + checkpoint_file_name(data.updates);
    },
  };
}

} // namespace tether
