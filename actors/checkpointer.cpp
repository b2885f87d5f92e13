#include "actors/checkpointer.hpp"

#include "messages/checkpoint_file.hpp"

#include <chrono>
#include <filesystem>

namespace tether {

checkpointer_actor::behavior_type
checkpointer_behavior(checkpointer_actor::stateful_pointer<checkpointer_state> self,
                      std::string dir, uint32_t keep) {
  self->state.dir = std::move(dir);
  self->state.keep = keep;
  return {
    [=](write_atom, const checkpoint_data& data) -> caf::result<std::string, uint64_t, double> {
      const auto& st = self->state;
      auto started = std::chrono::steady_clock::now();
      if (auto written = write_checkpoint(st.dir, data); !written)
        return caf::make_error(caf::sec::runtime_error, written.message());
      auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
      if (auto pruned = prune_checkpoints(st.dir, st.keep); !pruned)
        return caf::make_error(caf::sec::runtime_error, pruned.message());
      auto path = st.dir + "/" + checkpoint_file_name(data.updates);
      std::error_code ec;
      auto bytes = std::filesystem::file_size(path, ec);
      return {path, ec ? uint64_t{0} : uint64_t{bytes}, seconds.count()};
    },
  };
}

} // namespace tether
