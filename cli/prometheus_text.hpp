// A job_status as Prometheus text exposition format 0.0.4: what GET /metrics answers.
//
// Every family has # HELP and # TYPE lines and the tether_ prefix; counters end in
// _total; durations are in seconds and sizes in bytes. Per-actor series carry a label
// (worker="0", shard="1", role="shard", node="local"). Two histograms follow the
// Prometheus layout (cumulative _bucket{le=...} up to le="+Inf", then _sum and _count):
// tether_staleness (tau of every applied gradient, one bucket per tau value seen) and
// tether_step_seconds (per worker, buckets step_time_bounds). Values that are NaN
// (train loss before the first step, test accuracy before the first evaluation) are left
// out together with their family, so a scrape never sees NaN. `promtool check metrics`
// accepts the output without lint problems (tests/cli/prometheus_text_test.cpp).
// Thread-safety: a pure function of its argument.
#pragma once

#include "actors/job_status.hpp"

#include <string>

namespace tether {

std::string prometheus_text(const job_status& status);

} // namespace tether
