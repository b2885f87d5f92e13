// The connections of a cluster: CAF's middleman, with TLS through CAF's OpenSSL module
// (mutual authentication against the cluster CA) or, with --insecure, plain TCP on
// loopback addresses only.
//
// A TLS directory holds ca.pem (the cluster CA), cert.pem (this party's certificate,
// signed by that CA) and key.pem (its private key); deploy/make-certs.sh makes them.
// check_network() reads and checks all three before CAF sees them: CAF's OpenSSL module
// aborts the process on a bad file, so every problem must be caught here, with a
// message that says which file and what to do.
//
// Whatever a peer sends passes net/front.hpp's checks first (frame cap, handshake
// deadline, connection caps): configure_network() sets them, publish_actor() and
// connect_actor() put the port under guard.
//
// Heartbeats are on for every cluster process: a peer that is silent for the timeout
// (hung, SIGSTOP, cut off) is declared dead, its actors' monitors fire.
#pragma once

#include "core/status.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tether {

struct network_options {
  std::string tls_dir;   ///< ca.pem, cert.pem, key.pem; empty with insecure
  bool insecure = false; ///< plain TCP: only when every address is a loopback address
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds heartbeat_timeout{5000};
  /// A connection's TLS and CAF handshakes must be complete within this (net/front.hpp).
  std::chrono::milliseconds handshake_timeout{10000};
  /// The largest CAF message payload accepted from a peer, in bytes (net/front.hpp).
  uint64_t max_frame = 64ull << 20;
};

struct host_port {
  std::string host;
  uint16_t port = 0;
};

/// "HOST:PORT" ("[::1]:7070" for IPv6); `what` names the option in messages.
result<host_port> parse_host_port(const std::string& text, const std::string& what);

/// localhost, 127.0.0.0/8 and ::1.
bool is_loopback(const std::string& host);

/// TLS: the three files are there, readable, PEM, the key belongs to the certificate and
/// the certificate is signed by ca.pem. Insecure: every one of `hosts` is loopback.
/// Also: heartbeat > 0 and timeout > heartbeat; max_frame within net/front.hpp's bounds. Failures are errc::invalid_argument.
status check_network(const network_options& opts, const std::vector<std::string>& hosts);

/// Loads the middleman (and the OpenSSL module with the TLS files), turns heartbeats on,
/// and tunes CAF's scheduler for a process that waits on the network (see network.cpp).
/// Call before constructing the actor system, after check_network().
void configure_network(caf::actor_system_config& cfg, const network_options& opts);

/// Publishes `whom` on host:port (port 0: any free port); answers the port bound.
caf::expected<uint16_t> publish_actor(const caf::actor& whom, const host_port& where,
                                      const network_options& opts);

/// Connects to the actor published at `where`. Blocks the calling thread.
caf::expected<caf::actor> connect_actor(caf::actor_system& sys, const host_port& where,
                                        const network_options& opts);

} // namespace tether
