// Messages from the network that were rejected: counted, and reported to whoever
// listens (the binary prints a warning). A rejected message is dropped by CAF's
// network layer; the connection and the receiver go on.
//
// Thread-safety: every function may be called from any thread (CAF's network threads
// call report_rejection while decoding).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tether {

/// Counts one rejected message and passes `what` ("push_request: ...reason") to the
/// listener, if one is set.
void report_rejection(const std::string& what);

/// Messages rejected since the process started.
uint64_t rejected_messages();

/// Sets the listener (replacing any earlier one); an empty function removes it. The
/// listener runs on the thread that decoded the message and must not block.
void on_rejection(std::function<void(const std::string&)> listener);

} // namespace tether
