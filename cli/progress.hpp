// What `tether train` prints: the start-up banner, one line per evaluation point and
// the closing summary. Plain lines (no cursor tricks), so logs and CI read the same.
#pragma once

#include "actors/job.hpp"
#include "actors/job_config.hpp"

#include <string>

namespace tether {

std::string banner(const job_config& cfg);

/// Text on one line, quoted: newlines, tabs, quotes, backslashes and other non-printable
/// bytes escaped (\n, \t, \", \\, \xHH). For generated samples.
std::string printable(const std::string& text);
std::string progress_line(const job_config& cfg, const progress_point& p);
std::string closing_lines(const job_config& cfg, const job_outcome& outcome);

} // namespace tether
