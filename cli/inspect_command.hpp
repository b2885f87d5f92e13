// `tether inspect`: what the checkpoints of a directory (or one file) hold, newest
// first, and whether each verifies (docs/export.md).
//
//   tether inspect --checkpoint=DIR|FILE [--json]
//
// Prints, for each checkpoint: file, updates, creation time, model, optimizer,
// consistency, seed, shards (index, range, version, optimizer steps), worker steps, the
// parameter layout (names, shapes, offsets), whether it verifies (or why not) and the
// effective config text. --json prints one JSON object instead.
// Exit code: 0 if a checkpoint verifies (a warning on stderr when it is not the newest
// one), 2 on a bad option, 4 if there is no checkpoint or none verifies.
#pragma once

#include <iosfwd>

namespace tether {

int inspect_command(int argc, const char* const* argv);
int inspect_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

} // namespace tether
