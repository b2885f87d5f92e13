#include "net/connection_table.hpp"

#include "messages/rejections.hpp"
#include "net/basp_frames.hpp"
#include "net/front.hpp"
#include "net/real_calls.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tether::net {

namespace {

using clock_type = std::chrono::steady_clock;

struct connection {
  std::string peer;      ///< HOST:PORT
  std::string host;      ///< HOST: the key of the per-address cap
  bool accepted = false; ///< accepted here: counted in the pending caps until its handshake
  bool pending = false;  ///< its handshake is not complete: the deadline applies
  bool refused = false;
  clock_type::time_point deadline;
  basp_frame_reader frames;
  // CAF's epoll registration of this socket.
  int epfd = -1;
  epoll_event wanted{};
  bool registered = false;
  bool out_held = false;

  explicit connection(uint64_t max_frame) : frames(max_frame) {}
};

struct table {
  std::mutex mutex;
  std::condition_variable wake;
  front_limits limits;
  front_counters counters;
  std::set<uint16_t> ports;
  std::map<int, connection> conns;
  std::map<std::string, uint32_t> pending_by_peer;
  uint32_t pending = 0;
  bool deadline_thread_started = false;
  bool closed = false; ///< close_pending_connections() was called: nobody new is let in
};

table& the_table() {
  static auto* t = new table; // never destroyed: CAF's threads may outlive statics
  return *t;
}

using epoll_ctl_fn = int (*)(int, int, int, epoll_event*);

epoll_ctl_fn real_epoll_ctl() {
  static auto fn = real_call<epoll_ctl_fn>("epoll_ctl");
  return fn;
}

/// Must hold the lock. The connection no longer waits for its handshake.
void end_pending(table& t, connection& c) {
  if (!c.pending)
    return;
  c.pending = false;
  if (!c.accepted)
    return;
  --t.pending;
  if (auto it = t.pending_by_peer.find(c.host); it != t.pending_by_peer.end() && --it->second == 0)
    t.pending_by_peer.erase(it);
}

/// Must hold the lock. Drops what is known of `fd`.
void forget(table& t, int fd) {
  if (auto it = t.conns.find(fd); it != t.conns.end()) {
    end_pending(t, it->second);
    t.conns.erase(it);
  }
}

void deadline_loop() {
  auto& t = the_table();
  std::unique_lock lock(t.mutex);
  for (;;) {
    auto now = clock_type::now();
    auto next = now + std::chrono::hours(1);
    std::vector<std::string> reports;
    for (auto& [fd, c] : t.conns) {
      if (!c.pending)
        continue;
      if (c.deadline <= now) {
        end_pending(t, c);
        c.refused = true;
        ::shutdown(fd, SHUT_RDWR);
        ++t.counters.timed_out;
        reports.push_back(std::string("closed a connection ") + (c.accepted ? "from " : "to ") +
                          c.peer + ": no handshake within " +
                          std::to_string(t.limits.handshake_timeout.count()) + " ms");
      } else {
        next = std::min(next, c.deadline);
      }
    }
    if (!reports.empty()) {
      lock.unlock();
      for (auto& r : reports)
        report_rejection(r);
      lock.lock();
      continue;
    }
    t.wake.wait_until(lock, next);
  }
}

/// Must hold the lock.
void start_deadline_thread(table& t) {
  if (t.deadline_thread_started)
    return;
  t.deadline_thread_started = true;
  std::thread(deadline_loop).detach();
}

uint16_t port_of(const sockaddr* addr) {
  if (addr->sa_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port);
  if (addr->sa_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port);
  return 0;
}

} // namespace

std::string address_text(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, host, sizeof host);
  else if (addr->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, host, sizeof host);
  else
    return "an unknown peer";
  return std::string(host) + ":" + std::to_string(port_of(addr));
}

uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  return port_of(reinterpret_cast<sockaddr*>(&addr));
}

bool admit_accepted(int listener, int fd, const sockaddr* peer) {
  auto& t = the_table();
  auto port = local_port(listener);
  std::string who = address_text(peer);
  std::string host = who.substr(0, who.rfind(':'));
  std::string refusal;
  {
    std::lock_guard lock(t.mutex);
    forget(t, fd); // a number closed by other means than close() is a new socket now
    if (t.ports.count(port) == 0)
      return true;
    if (t.closed) {
      refusal = "the job is over";
    } else if (t.pending >= t.limits.max_pending) {
      refusal = std::to_string(t.pending) + " connections already wait for their handshake";
    } else if (t.pending_by_peer[host] >= t.limits.max_pending_per_peer) {
      refusal = std::to_string(t.pending_by_peer[host]) + " connections from " + host +
                " already wait for their handshake";
    }
    if (!refusal.empty()) {
      ++t.counters.over_cap;
      if (t.pending_by_peer[host] == 0)
        t.pending_by_peer.erase(host);
    } else {
      auto [it, fresh] = t.conns.emplace(fd, connection{t.limits.max_frame});
      auto& c = it->second;
      c.peer = who;
      c.host = host;
      c.accepted = true;
      c.pending = true;
      c.deadline = clock_type::now() + t.limits.handshake_timeout;
      ++t.pending;
      ++t.pending_by_peer[host];
      ++t.counters.accepted;
      start_deadline_thread(t);
      t.wake.notify_all();
    }
  }
  if (refusal.empty())
    return true;
  report_rejection("refused a connection from " + who + ": " + refusal);
  return false;
}

void track_connected(int fd, const sockaddr* remote) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  forget(t, fd);
  if (t.ports.count(port_of(remote)) == 0)
    return;
  auto [it, fresh] = t.conns.emplace(fd, connection{t.limits.max_frame});
  auto& c = it->second;
  c.peer = address_text(remote);
  c.pending = true; // a peer that never answers the handshake fails this attempt in time
  c.deadline = clock_type::now() + t.limits.handshake_timeout;
  start_deadline_thread(t);
  t.wake.notify_all();
}

bool check_bytes(int fd, const void* data, size_t n) {
  auto& t = the_table();
  std::string report;
  {
    std::lock_guard lock(t.mutex);
    auto it = t.conns.find(fd);
    if (it == t.conns.end())
      return true;
    auto& c = it->second;
    if (c.refused)
      return false;
    if (c.frames.feed(static_cast<const uint8_t*>(data), n)) {
      if (c.frames.handshake_done())
        end_pending(t, c);
      return true;
    }
    end_pending(t, c);
    c.refused = true;
    ++t.counters.refused_frames;
    ::shutdown(fd, SHUT_RDWR);
    report = "closed the connection from " + c.peer + ": " + c.frames.reason();
  }
  report_rejection(report);
  return false;
}

bool is_refused(int fd) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  auto it = t.conns.find(fd);
  return it != t.conns.end() && it->second.refused;
}

int forget_and_close(int fd, int (*close_fn)(int)) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  forget(t, fd);
  return close_fn(fd);
}

void tls_waits_for_read(int fd, bool waiting) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  auto it = t.conns.find(fd);
  if (it == t.conns.end() || it->second.out_held == waiting)
    return;
  auto& c = it->second;
  c.out_held = waiting;
  if (!c.registered || (c.wanted.events & EPOLLOUT) == 0)
    return;
  epoll_event ev = c.wanted;
  if (waiting)
    ev.events &= ~static_cast<uint32_t>(EPOLLOUT);
  real_epoll_ctl()(c.epfd, EPOLL_CTL_MOD, fd, &ev);
}

int epoll_update(int epfd, int op, int fd, epoll_event* ev,
                 int (*real)(int, int, int, epoll_event*)) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  auto it = t.conns.find(fd);
  if (it == t.conns.end())
    return real(epfd, op, fd, ev);
  auto& c = it->second;
  if (op == EPOLL_CTL_DEL) {
    c.registered = false;
    return real(epfd, op, fd, ev);
  }
  c.epfd = epfd;
  c.wanted = *ev;
  c.registered = true;
  epoll_event passed = *ev;
  if (c.out_held)
    passed.events &= ~static_cast<uint32_t>(EPOLLOUT);
  return real(epfd, op, fd, &passed);
}

void set_front_limits(const front_limits& limits) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  t.limits = limits;
}

front_limits current_front_limits() {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  return t.limits;
}

void guard_port(uint16_t port) {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  t.ports.insert(port);
}

size_t close_pending_connections() {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  t.closed = true;
  size_t closed = 0;
  for (auto& [fd, c] : t.conns) {
    if (!c.pending)
      continue;
    end_pending(t, c);
    c.refused = true;
    ::shutdown(fd, SHUT_RDWR);
    ++closed;
  }
  return closed;
}

front_counters current_front_counters() {
  auto& t = the_table();
  std::lock_guard lock(t.mutex);
  return t.counters;
}

} // namespace tether::net
