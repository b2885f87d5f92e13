// The status page GET / answers: one self-contained HTML document (inline CSS and
// JavaScript; nothing fetched but this server's /status, no external scripts or fonts)
// that polls /status every second and draws the loss and accuracy curves (canvas), the
// headline numbers, a table of workers and shards, the staleness histogram, the actors and
// nodes, and the configuration. It works offline and behind a path prefix (it asks for
// "status" relative to its own address).
// Thread-safety: returns a constant.
#pragma once

#include <string>

namespace tether {

const std::string& status_page_html();

} // namespace tether
