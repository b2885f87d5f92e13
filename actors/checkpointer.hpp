// The checkpointer actor: owns the checkpoint directory. Each `write` stores one
// checkpoint atomically (messages/checkpoint_file.hpp: temp file, fsync, rename that
// never replaces a file, checksum inside), answers with the path it was written to, and
// then deletes all but the newest `keep`.
// It runs detached (its own thread) because fsync blocks.
#pragma once

#include "messages/interfaces.hpp"

#include <string>

namespace tether {

struct checkpointer_state {
  static inline const char* name = "tether.checkpointer";
  std::string dir;
  uint32_t keep = 3;
};

checkpointer_actor::behavior_type
checkpointer_behavior(checkpointer_actor::stateful_pointer<checkpointer_state> self,
                      std::string dir, uint32_t keep);

} // namespace tether
