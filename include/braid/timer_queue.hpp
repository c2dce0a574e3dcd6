// TimerQueue: the pending calls of a clock or reactor, in time order. task::Clock and the
// reactors keep their callLater() calls here and run the due ones with runNext().
#pragma once

#include <braid/reactor_time.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace braid {

// A 4-ary min-heap of {time, seq, slot} nodes, keyed by (time, seq) so that calls due at the
// same time run in the order they were scheduled (or last rescheduled).
//
// Each pending call owns a slot that records where its node is in the heap, so cancel()
// removes the node at once: the last node takes its place and sifts, usually by a level or
// two since most nodes live near the bottom. The slots are a dense array apart from the
// calls, so moving nodes never touches the calls' memory, and freed slots and calls are
// reused first, while still in cache. (Lazily deleting cancelled nodes was measured slower:
// the dead nodes keep their calls' memory alive and out of cache, and purging them touches
// every call.)
//
// Rescheduling to an earlier time sifts the node up. Rescheduling to a later time, the
// common case (timeouts pushed back on activity), only updates the call, as Twisted's
// DelayedCall.delayed_time does: when its old time comes, runNext() re-files the node under
// the real time. A timeout reset on every read thus costs O(1) per reset and one O(log n)
// re-file per timeout period.
//
// Not thread-safe: a queue and its DelayedCalls belong to one thread.
class TimerQueue {
public:
    // clock.seconds() is "now" for DelayedCall::reset().
    explicit TimerQueue(const IReactorTime& clock) noexcept : clock_(clock) {}
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // Cancels every pending call; their handles stay usable.
    ~TimerQueue();

    // Schedules fn at the absolute time `when`. Throws std::invalid_argument if when is NaN
    // or fn is empty.
    DelayedCall schedule(double when, detail::UniqueFunction<void()>&& fn);

    // When runNext() may next have a call to run: the time of the earliest pending call,
    // except that a call rescheduled later since it was filed still counts at its earlier
    // time (as in Twisted's reactor). A reactor sleeping until then wakes early at most once
    // per such call; runNext() re-files it.
    [[nodiscard]] std::optional<double> nextTime() const noexcept;

    // Runs the earliest pending call if it is due (time <= now) and was scheduled before
    // sequenceLimit (see nextSequence()); returns false, running nothing, otherwise. (Only
    // the earliest call is considered: one scheduled after the limit for a time before `now`
    // holds back the calls behind it until the next iteration.) The call is marked called
    // and removed before it runs, and its callable is destroyed when it returns; an
    // exception it throws propagates to the caller.
    bool runNext(double now,
                 std::uint64_t sequenceLimit = std::numeric_limits<std::uint64_t>::max());

    // The sequence number the next scheduled (or rescheduled) call will get. A reactor
    // passes the value it had before running timers to runNext(), so calls scheduled by
    // those timers wait for the next iteration instead of starving I/O.
    [[nodiscard]] std::uint64_t nextSequence() const noexcept { return nextSeq_; }

    // The number of pending calls.
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }

    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }

    // The pending calls, sorted by time, then by scheduling order.
    [[nodiscard]] std::vector<DelayedCall> pending() const;

private:
    friend class DelayedCall;

    struct Node {
        double time;
        std::uint64_t seq;
        std::uint32_t slot;
    };

    static constexpr std::size_t arity = 4;

    static bool runsBefore(const Node& a, const Node& b) noexcept {
        return a.time < b.time || (a.time == b.time && a.seq < b.seq);
    }

    // Called by DelayedCall on a pending entry of this queue.
    void cancel(detail::TimerEntry& entry) noexcept;
    void reschedule(detail::TimerEntry& entry, double when);
    [[nodiscard]] double now() const { return clock_.seconds(); }

    std::uint32_t takeSlot(detail::TimerEntry& entry);
    void freeSlot(std::uint32_t slot) noexcept;
    void place(std::size_t index, const Node& node) noexcept;
    void siftUp(std::size_t index, Node node) noexcept;
    void siftDown(std::size_t index, Node node) noexcept;
    void removeNode(std::size_t index) noexcept;

    const IReactorTime& clock_;
    std::vector<Node> heap_;
    // Per slot: the heap index of its node while in use, the next free slot otherwise.
    std::vector<std::uint32_t> positions_;
    std::vector<detail::TimerEntry*> entries_; // per slot: the call (one reference) or null
    std::uint32_t freeSlot_ = noSlot;
    std::uint64_t nextSeq_ = 0;

    static constexpr std::uint32_t noSlot = std::numeric_limits<std::uint32_t>::max();
};

} // namespace braid
