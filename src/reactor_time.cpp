#include <braid/detail/sanitizers.hpp>
#include <braid/error.hpp>
#include <braid/reactor_time.hpp>
#include <braid/timer_queue.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <new>
#include <stdexcept>
#include <utility>

namespace braid {

using detail::TimerEntry;

namespace detail {

namespace {

// Off under the sanitizers, which must see every allocation to find a use after free.
constexpr bool poolEntries = !sanitized;

// Memory of destroyed entries, kept for reuse by the same thread: the next callLater() then
// costs no malloc and gets memory that is likely still in cache. Trivially destructible, so
// that entries released during static destruction (a global reactor going away) can still
// reach it after PoolDrain has run.
struct EntryPool {
    struct FreeBlock {
        FreeBlock* next;
    };

    static constexpr std::size_t capacity = 4096;

    FreeBlock* head = nullptr;
    std::size_t size = 0;
    bool started = false; // PoolDrain constructed
    bool open = false;    // and not destroyed yet
};

constinit thread_local EntryPool pool;

// Returns the pooled memory when the thread ends.
struct PoolDrain {
    PoolDrain() noexcept { pool.open = true; }
    PoolDrain(const PoolDrain&) = delete;
    PoolDrain& operator=(const PoolDrain&) = delete;

    ~PoolDrain() {
        pool.open = false;
        while (pool.head != nullptr) {
            ::operator delete(std::exchange(pool.head, pool.head->next));
        }
        pool.size = 0;
    }
};

thread_local PoolDrain drain;

} // namespace

TimerEntry* newTimerEntry() {
    if (pool.head == nullptr) {
        if (poolEntries && !pool.started) {
            pool.started = true;
            [[maybe_unused]] PoolDrain& registered = drain; // first use constructs it
        }
        return ::new (::operator new(sizeof(TimerEntry))) TimerEntry;
    }
    --pool.size;
    return ::new (static_cast<void*>(std::exchange(pool.head, pool.head->next))) TimerEntry;
}

void destroyTimerEntry(TimerEntry* entry) noexcept {
    entry->~TimerEntry();
    if (!poolEntries || !pool.open || pool.size == EntryPool::capacity) {
        ::operator delete(entry);
        return;
    }
    ++pool.size;
    pool.head = ::new (static_cast<void*>(entry)) EntryPool::FreeBlock{pool.head};
}

} // namespace detail

void DelayedCall::cancel() {
    TimerEntry& entry = activeEntry();
    entry.queue->cancel(entry);
}

void DelayedCall::reset(double secondsFromNow) {
    TimerEntry& entry = activeEntry();
    // std::max keeps a NaN (first argument), which reschedule() rejects.
    entry.queue->reschedule(entry, entry.queue->now() + std::max(secondsFromNow, 0.0));
}

void DelayedCall::delay(double secondsLater) {
    TimerEntry& entry = activeEntry();
    entry.queue->reschedule(entry, entry.time + secondsLater);
}

double DelayedCall::getTime() const {
    return checkedEntry().time;
}

TimerEntry& DelayedCall::checkedEntry() const {
    if (entry_ == nullptr) {
        throw std::logic_error("braid: DelayedCall is empty (default-constructed)");
    }
    return *entry_;
}

// Twisted checks for cancelled first; the two states exclude each other here anyway.
TimerEntry& DelayedCall::activeEntry() const {
    TimerEntry& entry = checkedEntry();
    switch (entry.state) {
    case TimerEntry::State::pending: break;
    case TimerEntry::State::cancelled: throw AlreadyCancelled();
    case TimerEntry::State::called: throw AlreadyCalled();
    }
    return entry;
}

double IReactorTime::sanitizeDelay(double delay) {
    if (std::isnan(delay)) {
        throw std::invalid_argument("braid: callLater() delay is NaN");
    }
    return std::max(delay, 0.0);
}

} // namespace braid
