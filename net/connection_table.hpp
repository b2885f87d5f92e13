// The state behind net/front.hpp: one entry per guarded connection (by file
// descriptor), the pending-handshake counts, the deadline thread, and CAF's epoll
// registration of each guarded socket. Called only by net/interposers.cpp.
//
// Thread-safety: one mutex guards everything; CAF's network thread and the deadline
// thread call in. Rejections are reported after the mutex is released.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace tether::net {

/// "HOST:PORT" of a socket address ("an unknown peer" when it is neither IPv4 nor IPv6).
std::string address_text(const sockaddr* addr);

/// The local port of listening socket `fd` (0 when unknown).
uint16_t local_port(int fd);

/// accept() gave `fd` (peer `peer`) on `listener`. False: `fd` must be closed, over a cap
/// (reported already). True also when the listener is not guarded (nothing tracked).
bool admit_accepted(int listener, int fd, const sockaddr* peer);

/// connect() on `fd` to `remote` is under way: tracked when the remote port is guarded.
void track_connected(int fd, const sockaddr* remote);

/// `n` bytes of BASP stream arrived on `fd` (plain or decrypted). False: refused
/// (reported; the caller fails the read and CAF closes the connection).
bool check_bytes(int fd, const void* data, size_t n);

/// Whether `fd` was refused earlier (every later read fails too).
bool is_refused(int fd);

/// `fd` is being closed: forget it. Runs `close_fn(fd)` under the table's lock so the
/// deadline thread never shuts down a number the system has given to someone else.
int forget_and_close(int fd, int (*close_fn)(int));

/// The TLS handshake on `fd` waits for the peer's bytes (true) or not (false): CAF's
/// write interest is held back, then given back.
void tls_waits_for_read(int fd, bool waiting);

/// CAF's epoll_ctl on a guarded `fd`: recorded, and passed on (without EPOLLOUT while
/// the handshake waits to read). Untracked fds go straight to `real`.
int epoll_update(int epfd, int op, int fd, epoll_event* ev,
                 int (*real)(int, int, int, epoll_event*));

} // namespace tether::net
