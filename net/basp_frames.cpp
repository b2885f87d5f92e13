#include "net/basp_frames.hpp"

#include <algorithm>

namespace tether::net {

bool basp_frame_reader::feed(const uint8_t* data, size_t n) {
  if (!reason_.empty())
    return false;
  while (n > 0) {
    if (payload_left_ > 0) {
      auto take = static_cast<size_t>(std::min<uint64_t>(payload_left_, n));
      payload_left_ -= take;
      data += take;
      n -= take;
      if (payload_left_ == 0)
        ++frames_;
      continue;
    }
    auto take = std::min(basp_header_size - header_have_, n);
    std::copy(data, data + take, header_ + header_have_);
    header_have_ += take;
    data += take;
    n -= take;
    if (header_have_ < basp_header_size)
      break;
    header_have_ = 0;
    if (!check_header())
      return false;
  }
  return true;
}

bool basp_frame_reader::check_header() {
  if (header_[0] > basp_last_operation) {
    reason_ = "not a CAF (BASP) frame: unknown operation " + std::to_string(header_[0]);
    return false;
  }
  uint64_t len = (uint64_t{header_[4]} << 24) | (uint64_t{header_[5]} << 16) |
                 (uint64_t{header_[6]} << 8) | uint64_t{header_[7]};
  uint64_t cap =
      frames_ == 0 ? std::min<uint64_t>(handshake_frame_cap, max_payload_) : max_payload_;
  if (len > cap) {
    reason_ = "a frame of " + std::to_string(len) + " bytes announced, above the " +
              (frames_ == 0 ? "handshake's cap of " : "--max-frame cap of ") + std::to_string(cap) +
              " bytes";
    return false;
  }
  if (len == 0)
    ++frames_;
  payload_left_ = len;
  return true;
}

} // namespace tether::net
