// Frame lengths of CAF 0.17.6's BASP stream, checked before CAF reads them.
//
// A BASP connection carries frames: a 32-byte header, then `payload_len` bytes. The
// header (caf/io/basp/header.hpp, written by CAF's binary serializer, big-endian):
//
//   byte 0      operation     0x00 server_handshake .. 0x06 heartbeat
//   bytes 1-3   padding, flags
//   bytes 4-7   payload_len   uint32, bytes of payload after this header
//   bytes 8-31  operation_data, source_actor, dest_actor
//
// CAF sizes its read buffer to payload_len as soon as it has a header, so a header that
// announces 4 GiB makes it allocate and zero 4 GiB. basp_frame_reader follows the same
// stream byte by byte (as the bytes arrive, in any chunks) and says when a header is one
// CAF must never see: an unknown operation, or a payload above the cap. The first frame
// of a connection is a handshake (a node id and a few names: well under a kilobyte), so
// before it is complete the cap is handshake_frame_cap, whatever the configured one.
//
// Pure and single-threaded: one reader per connection, owned by its caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tether::net {

inline constexpr size_t basp_header_size = 32;
inline constexpr uint8_t basp_last_operation = 0x06; ///< heartbeat
inline constexpr uint32_t handshake_frame_cap = 64 * 1024;

class basp_frame_reader {
public:
  /// `max_payload`: the largest payload accepted once the handshake frame is through.
  explicit basp_frame_reader(uint64_t max_payload) : max_payload_(max_payload) {}

  /// Follows `n` more bytes of the stream. False when a header among them must be
  /// refused; reason() then says why, and every later call is false too.
  bool feed(const uint8_t* data, size_t n);

  /// Whether the first frame (the handshake) has been received completely.
  bool handshake_done() const { return frames_ > 0; }
  /// Frames received completely.
  uint64_t frames() const { return frames_; }
  /// Empty until feed() returned false.
  const std::string& reason() const { return reason_; }

private:
  bool check_header();

  uint64_t max_payload_;
  uint8_t header_[basp_header_size] = {};
  size_t header_have_ = 0;
  uint64_t payload_left_ = 0;
  uint64_t frames_ = 0;
  std::string reason_;
};

} // namespace tether::net
