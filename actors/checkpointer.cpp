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
      // The path comes back from the writer: a name already taken (the checkpoint a
      // resumed job started from, at the same update count) gets a "-2" of its own.
      auto written = write_checkpoint(st.dir, data);
      if (!written)
        return caf::make_error(caf::sec::runtime_error, written.error().message());
      auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
      if (auto pruned = prune_checkpoints(st.dir, st.keep); !pruned)
        return caf::make_error(caf::sec::runtime_error, pruned.message());
      const std::string& path = written.value();
      std::error_code ec;
      auto bytes = std::filesystem::file_size(path, ec);
      return {path, ec ? uint64_t{0} : uint64_t{bytes}, seconds.count()};
    },
  };
}

} // namespace tether
