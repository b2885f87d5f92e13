#include "core/consistency.hpp"

namespace tether {

result<consistency_model> parse_consistency_model(const std::string& text) {
  if (text == "async")
    return consistency_model::async;
  if (text == "ssp")
    return consistency_model::ssp;
  if (text == "bsp")
    return consistency_model::bsp;
  return status{errc::invalid_argument, "expected async, ssp or bsp"};
}

result<staleness_lr> parse_staleness_lr(const std::string& text) {
  if (text == "none")
    return staleness_lr::none;
  if (text == "inverse")
    return staleness_lr::inverse;
  return status{errc::invalid_argument, "expected none or inverse"};
}

const char* to_string(consistency_model model) {
  switch (model) {
    case consistency_model::async: return "async";
    case consistency_model::ssp: return "ssp";
    case consistency_model::bsp: return "bsp";
  }
  return "?";
}

const char* to_string(staleness_lr rule) {
  return rule == staleness_lr::inverse ? "inverse" : "none";
}

} // namespace tether
