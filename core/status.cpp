#include "core/status.hpp"

namespace tether {

const char* to_string(errc code) {
  switch (code) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid argument";
    case errc::io_error: return "i/o error";
    case errc::corrupt_data: return "corrupt data";
    case errc::not_found: return "not found";
    case errc::mismatch: return "mismatch";
    case errc::internal: return "internal error";
  }
  return "unknown";
}

} // namespace tether
