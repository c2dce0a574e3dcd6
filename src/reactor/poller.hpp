// The readiness-notification backend under braid::Reactor: epoll (the default) or poll
// (the portable fallback), one file each. A Poller maps file descriptors to the
// IOHandler told when they are ready; it owns neither.
#pragma once

#include <cstdint>
#include <memory>

namespace braid::detail {

// Something with a file descriptor in the poller: a connection, a listening port, a
// connector waiting for its connect() to finish, the reactor's wakeup fds.
class IOHandler {
public:
    IOHandler() = default;
    IOHandler(const IOHandler&) = delete;
    IOHandler& operator=(const IOHandler&) = delete;
    virtual ~IOHandler() = default;
    // events: a mask of Poller::readable, writable, hangup, error.
    virtual void onReady(std::uint32_t events) = 0;
};

class Poller {
public:
    static constexpr std::uint32_t readable = 1;
    static constexpr std::uint32_t writable = 2;
    static constexpr std::uint32_t hangup = 4;
    static constexpr std::uint32_t error = 8;
    // In an interest: report readiness only when it changes (epoll's EPOLLET); the handler
    // then reads and writes until EAGAIN, or asks to be served again (ReactorCore::again).
    // Backends without edges (poll) ignore it.
    static constexpr std::uint32_t edge = 16;
    // Reported with readable: the peer shut down its side (EPOLLRDHUP). Edge-triggered, its
    // end of file is then read even after a short read.
    static constexpr std::uint32_t peerClosed = 32;

    Poller() = default;
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;
    virtual ~Poller() = default;

    // interest: readable | writable (0 still reports hangup and error).
    virtual void add(int fd, std::uint32_t interest, IOHandler& handler) = 0;
    virtual void modify(int fd, std::uint32_t interest, IOHandler& handler) = 0;
    virtual void remove(int fd, IOHandler& handler) = 0;
    // Waits up to timeoutMs (-1: no limit) and calls onReady() of each ready handler.
    // A handler removed during this call is not called afterwards in it.
    virtual void poll(int timeoutMs) = 0;
    [[nodiscard]] virtual const char* name() const noexcept = 0;
};

std::unique_ptr<Poller> makeEpollPoller();
std::unique_ptr<Poller> makePollPoller();

} // namespace braid::detail
