#include <braid/timer_queue.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace braid {

using detail::TimerEntry;
using State = TimerEntry::State;

namespace {

double checkedTime(double when) {
    if (std::isnan(when)) {
        throw std::invalid_argument("braid: a call cannot be scheduled at a NaN time");
    }
    return when;
}

} // namespace

// --- the heap --------------------------------------------------------------------------------

void TimerQueue::place(std::size_t index, const Node& node) noexcept {
    heap_[index] = node;
    positions_[node.slot] = static_cast<std::uint32_t>(index);
}

// Files node at index or above; index is a hole, or holds node's older self. Always inlined:
// a 24-byte Node passed by value through a call goes through the stack, and reading it back
// stalled on store forwarding (about 8 ns per callLater + cancel).
[[gnu::always_inline]] inline void TimerQueue::siftUp(std::size_t index, Node node) noexcept {
    while (index > 0) {
        const std::size_t parent = (index - 1) / arity;
        if (!runsBefore(node, heap_[parent])) {
            break;
        }
        place(index, heap_[parent]);
        index = parent;
    }
    place(index, node);
}

// Files node at index or below, under the same conditions as siftUp().
[[gnu::always_inline]] inline void TimerQueue::siftDown(std::size_t index, Node node) noexcept {
    const std::size_t size = heap_.size();
    for (std::size_t first = (index * arity) + 1; first < size; first = (index * arity) + 1) {
        std::size_t best = first;
        for (std::size_t child = first + 1; child < std::min(first + arity, size); ++child) {
            best = runsBefore(heap_[child], heap_[best]) ? child : best;
        }
        if (!runsBefore(heap_[best], node)) {
            break;
        }
        place(index, heap_[best]);
        index = best;
    }
    place(index, node);
}

// Removes the node at index: the last node takes its place and sifts whichever way it must.
void TimerQueue::removeNode(std::size_t index) noexcept {
    const Node last = heap_.back();
    heap_.pop_back();
    if (index == heap_.size()) {
        return;
    }
    if (index > 0 && runsBefore(last, heap_[(index - 1) / arity])) {
        siftUp(index, last);
    } else {
        siftDown(index, last);
    }
}

std::uint32_t TimerQueue::takeSlot(TimerEntry& entry) {
    if (freeSlot_ != noSlot) {
        const std::uint32_t slot = freeSlot_;
        freeSlot_ = positions_[slot];
        entries_[slot] = &entry;
        return slot;
    }
    if (entries_.size() == noSlot) {
        throw std::length_error("braid: too many pending calls");
    }
    positions_.push_back(0);
    try {
        entries_.push_back(&entry);
    } catch (...) {
        positions_.pop_back();
        throw;
    }
    return static_cast<std::uint32_t>(entries_.size() - 1);
}

void TimerQueue::freeSlot(std::uint32_t slot) noexcept {
    entries_[slot] = nullptr;
    positions_[slot] = std::exchange(freeSlot_, slot);
}

// --- the queue -------------------------------------------------------------------------------

TimerQueue::~TimerQueue() {
    // Cancel everything before destroying any callable: a destructor run by one of them (a
    // captured object going away) must find every call inactive. Should such a destructor
    // schedule a call, the next round cancels it.
    while (!heap_.empty()) {
        const std::vector<Node> nodes = std::exchange(heap_, {});
        for (const Node& node : nodes) {
            entries_[node.slot]->state = State::cancelled;
        }
        for (const Node& node : nodes) {
            TimerEntry* entry = std::exchange(entries_[node.slot], nullptr);
            entry->fn = nullptr;
            detail::releaseTimerEntry(entry);
        }
    }
}

DelayedCall TimerQueue::schedule(double when, detail::UniqueFunction<void()>&& fn) {
    checkedTime(when);
    if (!fn) {
        throw std::invalid_argument("braid: cannot schedule an empty function");
    }
    TimerEntry* entry = detail::newTimerEntry();
    try {
        entry->slot = takeSlot(*entry);
        try {
            heap_.emplace_back(); // the hole siftUp() starts from
        } catch (...) {
            freeSlot(entry->slot);
            throw;
        }
    } catch (...) {
        detail::destroyTimerEntry(entry);
        throw;
    }
    entry->fn = std::move(fn);
    entry->queue = this;
    entry->time = entry->nodeTime = when;
    entry->seq = nextSeq_++;
    entry->refs = 1; // the queue's
    siftUp(heap_.size() - 1, Node{.time = when, .seq = entry->seq, .slot = entry->slot});
    return DelayedCall(entry);
}

std::optional<double> TimerQueue::nextTime() const noexcept {
    if (heap_.empty()) {
        return std::nullopt;
    }
    return heap_.front().time;
}

bool TimerQueue::runNext(double now, std::uint64_t sequenceLimit) {
    while (!heap_.empty()) {
        const Node& top = heap_.front();
        if (top.time > now) {
            return false;
        }
        TimerEntry& entry = *entries_[top.slot];
        if (top.seq != entry.seq) {
            // Rescheduled later since it was filed: file it under its real time.
            entry.nodeTime = entry.time;
            siftDown(0, Node{.time = entry.time, .seq = entry.seq, .slot = top.slot});
            continue;
        }
        if (top.seq >= sequenceLimit) {
            return false;
        }
        detail::UniqueFunction<void()> fn = std::move(entry.fn);
        entry.state = State::called;
        freeSlot(top.slot);
        removeNode(0);
        detail::releaseTimerEntry(&entry); // may free it: nothing below touches it
        fn();
        return true;
    }
    return false;
}

std::vector<DelayedCall> TimerQueue::pending() const {
    std::vector<TimerEntry*> entries;
    entries.reserve(heap_.size());
    for (const Node& node : heap_) {
        entries.push_back(entries_[node.slot]);
    }
    std::ranges::sort(entries, [](const TimerEntry* a, const TimerEntry* b) {
        return a->time < b->time || (a->time == b->time && a->seq < b->seq);
    });
    std::vector<DelayedCall> calls;
    calls.reserve(entries.size());
    for (TimerEntry* entry : entries) {
        calls.push_back(DelayedCall(entry));
    }
    return calls;
}

void TimerQueue::cancel(TimerEntry& entry) noexcept {
    entry.state = State::cancelled;
    const std::size_t index = positions_[entry.slot];
    freeSlot(entry.slot);
    removeNode(index);
    // Destroyed on return, once the queue is consistent again: the destructors of its
    // captures may schedule or cancel other calls. The caller's handle keeps entry alive.
    detail::UniqueFunction<void()> fn = std::move(entry.fn);
    detail::releaseTimerEntry(&entry);
}

void TimerQueue::reschedule(TimerEntry& entry, double when) {
    checkedTime(when);
    entry.time = when;
    entry.seq = nextSeq_++;
    if (when >= entry.nodeTime) {
        return; // its node comes up no later than the new time: runNext() re-files it
    }
    entry.nodeTime = when;
    siftUp(positions_[entry.slot], Node{.time = when, .seq = entry.seq, .slot = entry.slot});
}

} // namespace braid
