// The backend under braid::Reactor: epoll (the default), poll (the portable fallback) or
// io_uring, one file each. A Poller maps file descriptors to the IOHandler told when they
// are ready; it owns neither. io_uring also reads and sends for stream connections
// (StreamCompletions), batching their system calls into one per loop iteration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

// A stream connection whose reading and sending a completion backend does: told what
// arrived and what was sent.
class StreamIOHandler {
public:
    StreamIOHandler() = default;
    StreamIOHandler(const StreamIOHandler&) = delete;
    StreamIOHandler& operator=(const StreamIOHandler&) = delete;
    virtual ~StreamIOHandler() = default;
    // Bytes arrived; the view is valid for the call.
    virtual void onReceived(std::string_view data) = 0;
    // Receiving ended: 0 at the end of file, else an errno.
    virtual void onReceiveEnded(int error) = 0;
    // Called before each submission when the handler asked for it (StreamCompletions::
    // flush): appends what is to be sent to `into`, which is empty.
    virtual void takeOutput(std::string& into) = 0;
    // All that takeOutput gave has been sent (error 0), or sending failed (an errno).
    virtual void onSent(int error) = 0;
};

class StreamSlot; // a connection's state in a completion backend

// Reading and sending done by the backend (io_uring) on a connection's behalf.
class StreamCompletions {
public:
    StreamCompletions() = default;
    StreamCompletions(const StreamCompletions&) = delete;
    StreamCompletions& operator=(const StreamCompletions&) = delete;
    virtual ~StreamCompletions() = default;
    // Starts serving fd for handler; nothing is read until receive(slot, true).
    virtual StreamSlot* open(int fd, StreamIOHandler& handler) = 0;
    // Receives (or stops receiving). Bytes already on their way may still arrive after
    // receive(false).
    virtual void receive(StreamSlot& slot, bool on) = 0;
    // The handler has output: takeOutput() is called before the next submission, once
    // what is in flight has been sent.
    virtual void flush(StreamSlot& slot) = 0;
    // The handler goes away: what is in flight is cancelled and the slot freed later.
    virtual void close(StreamSlot& slot) = 0;
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
    // The backend's reading and sending for stream connections, if it does them.
    virtual StreamCompletions* completions() noexcept { return nullptr; }
};

std::unique_ptr<Poller> makeEpollPoller();
std::unique_ptr<Poller> makePollPoller();
// nullptr when the kernel refuses io_uring (too old, or disabled).
std::unique_ptr<Poller> makeUringPoller();

} // namespace braid::detail
