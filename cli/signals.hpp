// SIGINT and SIGTERM ask the running job to stop: the first one sets a flag that the
// job runner polls (the job then writes a final checkpoint and exits 130); a second
// one restores the default action, so pressing Ctrl-C twice ends the process at once.
#pragma once

namespace tether {

void install_stop_signals();
bool stop_signal_received();

} // namespace tether
