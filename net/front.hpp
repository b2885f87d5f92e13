// The front door of a cluster process: limits on what a network peer can make it do
// before (and after) CAF's middleman reads its bytes. The checks run inside the calls
// CAF's network thread makes (accept, recv, close, epoll_ctl, SSL_accept, SSL_read ...):
// net/interposers.cpp defines them in the executable, so CAF's calls land there first
// and go on to the real functions (dlsym(RTLD_NEXT)). A process without those
// definitions linked in (a test program) keeps the settings and checks nothing.
//
// What is checked, on connections accepted on, or made to, a guarded port:
// - frame lengths (net/basp_frames.hpp): a header announcing more than max_frame bytes
//   (handshake_frame_cap before the handshake frame) closes the connection before CAF
//   allocates anything; with TLS the same check runs on the decrypted stream, so a
//   peer with a valid certificate is held to it too;
// - a handshake deadline: a connection whose first frame (after TLS, if any) is not
//   complete within handshake_timeout is shut down (accepted ones, and connections made:
//   a node's join attempt to a peer that never answers fails in time and is retried);
// - connection caps: at most max_pending connections wait for their handshake, at most
//   max_pending_per_peer from one address; more are closed at once;
// - a TLS handshake that waits for the peer costs no CPU: CAF 0.17.6 keeps asking for
//   write readiness while SSL_accept waits to read (a busy loop on an idle peer); the
//   write interest is held back until the handshake moves on.
// Every refusal is reported with the peer's address and the reason through
// messages/rejections.hpp.
//
// Thread-safety: every function may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tether::net {

struct front_limits {
  uint64_t max_frame = 64ull << 20;                   ///< bytes of one BASP payload
  std::chrono::milliseconds handshake_timeout{10000}; ///< TLS + BASP handshake
  uint32_t max_pending = 64;                          ///< connections before their handshake
  uint32_t max_pending_per_peer = 16;                 ///< of those, from one address
};

/// The smallest and largest --max-frame accepted by the commands (CAF's BASP length
/// field is 32 bits).
inline constexpr uint64_t min_max_frame = 1ull << 20;
inline constexpr uint64_t max_max_frame = 4095ull << 20;

/// Replaces the limits; connections already open keep their frame cap.
void set_front_limits(const front_limits& limits);
front_limits current_front_limits();

/// Guards connections accepted on local port `port` and connections made to remote port
/// `port`. Idempotent.
void guard_port(uint16_t port);

/// Shuts down every guarded connection still waiting for its handshake (the job is
/// over: nobody pending holds the process up). From then on every new connection on a
/// guarded port is closed at accept. Returns how many were shut down.
size_t close_pending_connections();

/// Counters since the process started (for tests and the summary).
struct front_counters {
  uint64_t accepted = 0;       ///< guarded connections accepted
  uint64_t refused_frames = 0; ///< closed for an oversized or malformed header
  uint64_t timed_out = 0;      ///< closed by the handshake deadline
  uint64_t over_cap = 0;       ///< closed at accept: too many pending
};
front_counters current_front_counters();

} // namespace tether::net
