#include "sim/step_time.hpp"

#include <charconv>
#include <cmath>
#include <numbers>

namespace tether {

namespace {

status bad(const std::string& what) {
  return status{errc::invalid_argument, what};
}

/// A finite number (the whole text), or nothing.
bool parse_number(const std::string& text, double& out) {
  if (text.empty())
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(out);
}

/// Splits "a,b" into numbers; exactly `count` of them.
result<std::vector<double>> numbers(const std::string& text, size_t count,
                                    const std::string& form) {
  std::vector<double> out;
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    double v = 0;
    if (!parse_number(part, v))
      return bad("'" + part + "' is not a number; expected " + form);
    out.push_back(v);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (out.size() != count)
    return bad("expected " + form + " (" + std::to_string(count) + " numbers, got " +
               std::to_string(out.size()) + ")");
  return out;
}

/// The shortest text that reads back as v.
std::string num(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

} // namespace

std::string step_time_model::to_string() const {
  switch (kind) {
  case step_time_kind::constant:
    return "constant:" + num(seconds);
  case step_time_kind::lognormal:
    return "lognormal:" + num(seconds) + "," + num(sigma);
  case step_time_kind::straggler:
    return "straggler:" + num(fraction) + "," + num(factor);
  case step_time_kind::pareto:
    return "pareto:" + num(alpha) + "," + num(prob);
  }
  return "?";
}

result<step_time_model> parse_step_time(const std::string& text) {
  auto colon = text.find(':');
  auto kind = text.substr(0, colon);
  std::string args = colon == std::string::npos ? "" : text.substr(colon + 1);
  step_time_model m;
  if (kind == "constant") {
    auto v = numbers(args, 1, "constant:SECONDS");
    if (!v)
      return v.error();
    if ((*v)[0] <= 0)
      return bad("constant:SECONDS needs SECONDS > 0");
    m.seconds = (*v)[0];
  } else if (kind == "lognormal") {
    auto v = numbers(args, 2, "lognormal:MEAN,SIGMA");
    if (!v)
      return v.error();
    if ((*v)[0] <= 0 || (*v)[1] < 0 || (*v)[1] > 5)
      return bad("lognormal:MEAN,SIGMA needs MEAN > 0 seconds and SIGMA from 0 to 5");
    m.kind = step_time_kind::lognormal;
    m.seconds = (*v)[0];
    m.sigma = (*v)[1];
  } else if (kind == "straggler") {
    auto v = numbers(args, 2, "straggler:FRACTION,FACTOR");
    if (!v)
      return v.error();
    if ((*v)[0] < 0 || (*v)[0] > 1 || (*v)[1] < 1)
      return bad("straggler:FRACTION,FACTOR needs FRACTION from 0 to 1 and FACTOR >= 1");
    m.kind = step_time_kind::straggler;
    m.fraction = (*v)[0];
    m.factor = (*v)[1];
  } else if (kind == "pareto") {
    auto v = numbers(args, 2, "pareto:ALPHA,PROB");
    if (!v)
      return v.error();
    if ((*v)[0] <= 0 || (*v)[1] < 0 || (*v)[1] > 1)
      return bad("pareto:ALPHA,PROB needs ALPHA > 0 and PROB from 0 to 1");
    m.kind = step_time_kind::pareto;
    m.alpha = (*v)[0];
    m.prob = (*v)[1];
  } else {
    return bad("unknown step-time model '" + kind +
               "'; expected constant:S, lognormal:MEAN,SIGMA, straggler:FRACTION,FACTOR or "
               "pareto:ALPHA,PROB");
  }
  return m;
}

step_clock::step_clock(step_time_model model, double base_seconds, uint32_t workers, uint64_t seed)
    : model_(model), base_(base_seconds) {
  rng_.reserve(workers);
  for (uint32_t w = 0; w < workers; ++w)
    rng_.emplace_back(seed * 0xD1B54A32D192ED03ull + 0x5151 + w);
  if (model_.kind == step_time_kind::lognormal)
    mu_ = std::log(model_.seconds) - model_.sigma * model_.sigma / 2;
  if (model_.kind == step_time_kind::straggler) {
    splitmix64 pick{seed ^ 0x57A9'9E55ull};
    slow_.resize(workers);
    for (uint32_t w = 0; w < workers; ++w)
      slow_[w] = pick.uniform() < model_.fraction;
  }
}

double step_clock::normal(splitmix64& rng) {
  // Box-Muller; 1 - u keeps the log's argument above 0.
  double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

double step_clock::draw(uint32_t w) {
  auto& rng = rng_[w];
  switch (model_.kind) {
  case step_time_kind::constant:
    return model_.seconds > 0 ? model_.seconds : base_;
  case step_time_kind::lognormal:
    return std::exp(mu_ + model_.sigma * normal(rng));
  case step_time_kind::straggler:
    return slow_[w] ? base_ * model_.factor : base_;
  case step_time_kind::pareto: {
    double t = base_;
    if (rng.uniform() < model_.prob)
      t += base_ * std::pow(1.0 - rng.uniform(), -1.0 / model_.alpha); // inverse CDF, >= base
    return t;
  }
  }
  return base_;
}

} // namespace tether
