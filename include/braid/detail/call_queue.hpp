// CallQueue: the reactor's callFromThread queue. Any thread push()es calls; the reactor
// thread watches fd() and, when it is readable, drain()s them in FIFO order.
//
// The queue is a Treiber stack (one atomic head pointer, lock-free push) that the
// consumer swaps out whole and reverses. A push onto an empty stack writes the eventfd;
// later pushes see a non-empty stack and do not, so a burst costs one wakeup.
//
// Memory ordering: push() fills its node, then publishes it with a release CAS on head;
// drain() takes the whole stack with an acquire exchange. Every push is a
// read-modify-write of head, so the exchange synchronizes with all the pushes it takes
// (they form one release sequence) and sees each node's contents.
//
// Lost wakeups: drain() clears the eventfd BEFORE taking the stack. A push that lands
// after the exchange finds the stack empty and writes the eventfd again; one that lands
// between the read and the exchange is taken now and leaves a spurious wakeup (a drain
// that runs nothing), which is harmless. The other order could clear a wakeup whose call
// it did not take.
#pragma once

#include <braid/detail/function.hpp>

#include <atomic>
#include <cstddef>

namespace braid::detail {

class CallQueue {
public:
    // Throws std::system_error if no eventfd can be made.
    CallQueue();
    CallQueue(const CallQueue&) = delete;
    CallQueue& operator=(const CallQueue&) = delete;
    // Drops the calls still queued (on the thread destroying it, normally the reactor's).
    ~CallQueue();

    // From any thread, the reactor's own included. Allocates one node; never blocks.
    void push(UniqueFunction<void()> call);

    // The eventfd the reactor watches for reading; readable while calls may be pending.
    [[nodiscard]] int fd() const noexcept { return fd_; }

    // On the reactor thread only: runs, in the order they were pushed, the calls queued
    // before it started; calls they queue wait for the next drain (and wake the reactor
    // again), so a flood of calls cannot starve I/O. A call that throws is logged
    // ("braid.threads") and the drain goes on. Returns how many calls ran.
    std::size_t drain();

private:
    struct Node;

    void wakeUp() const noexcept;
    void clearWakeUp() const noexcept;

    std::atomic<Node*> head_{nullptr};
    int fd_;
};

} // namespace braid::detail
