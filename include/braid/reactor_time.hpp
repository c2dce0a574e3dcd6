// IReactorTime and DelayedCall: Twisted's IReactorTime / IDelayedCall. callLater()
// schedules a call, and the DelayedCall handle it returns can cancel(), reset() or delay() it.
#pragma once

#include <braid/detail/function.hpp>

#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

namespace braid {

class TimerQueue;

namespace detail {

// One scheduled call, shared by the DelayedCall handles and, while it is pending, by its
// TimerQueue (intrusive, non-atomic count: timers belong to one thread).
struct TimerEntry {
    enum class State : std::uint8_t { pending, called, cancelled };

    UniqueFunction<void()> fn;   // emptied as soon as the call ran or was cancelled
    TimerQueue* queue = nullptr; // valid while pending (the queue cancels its calls when it dies)
    double time = 0.0;           // when the call is due
    std::uint64_t seq = 0;       // breaks ties between equal times: scheduling order
    // The time the queue has it filed under: earlier than `time` after a reset() to a later
    // time, which TimerQueue applies lazily.
    double nodeTime = 0.0;
    std::uint32_t slot = 0; // the queue's handle on its heap node
    std::uint32_t refs = 0;
    State state = State::pending;
};

// Entries come from a per-thread pool.
TimerEntry* newTimerEntry();
void destroyTimerEntry(TimerEntry* entry) noexcept;

inline void releaseTimerEntry(TimerEntry* entry) noexcept {
    if (--entry->refs == 0) {
        destroyTimerEntry(entry);
    }
}

} // namespace detail

// A handle on a call scheduled by callLater(). Copies refer to the same call. A handle
// may outlive its call and the clock or reactor that scheduled it: it then reports the
// call as called or cancelled. A default-constructed DelayedCall refers to no call.
class DelayedCall {
public:
    DelayedCall() noexcept = default;

    DelayedCall(const DelayedCall& other) noexcept : entry_(other.entry_) {
        if (entry_ != nullptr) {
            ++entry_->refs;
        }
    }

    DelayedCall(DelayedCall&& other) noexcept : entry_(std::exchange(other.entry_, nullptr)) {}

    DelayedCall& operator=(DelayedCall other) noexcept {
        std::swap(entry_, other.entry_);
        return *this;
    }

    ~DelayedCall() {
        if (entry_ != nullptr) {
            detail::releaseTimerEntry(entry_);
        }
    }

    // Unschedules the call. Throws AlreadyCalled if it ran (or is running), AlreadyCancelled
    // if it was cancelled, std::logic_error on an empty handle.
    void cancel();

    // Reschedules the call to secondsFromNow from the clock's current time (a negative
    // value counts as 0). Same exceptions as cancel().
    void reset(double secondsFromNow);

    // Moves the call secondsLater (may be negative) from the time it is due now.
    // Same exceptions as cancel().
    void delay(double secondsLater);

    // Neither called nor cancelled.
    [[nodiscard]] bool active() const noexcept {
        return entry_ != nullptr && entry_->state == detail::TimerEntry::State::pending;
    }

    [[nodiscard]] bool called() const noexcept {
        return entry_ != nullptr && entry_->state == detail::TimerEntry::State::called;
    }

    [[nodiscard]] bool cancelled() const noexcept {
        return entry_ != nullptr && entry_->state == detail::TimerEntry::State::cancelled;
    }

    // When the call is (or was) due, in the clock's seconds. Throws std::logic_error on an
    // empty handle.
    [[nodiscard]] double getTime() const;

    // Handles are equal when they refer to the same call (or are both empty).
    friend bool operator==(const DelayedCall&, const DelayedCall&) = default;

private:
    friend class TimerQueue;

    // Takes one more reference on the entry.
    explicit DelayedCall(detail::TimerEntry* entry) noexcept : entry_(entry) { ++entry_->refs; }

    [[nodiscard]] detail::TimerEntry& checkedEntry() const;
    [[nodiscard]] detail::TimerEntry& activeEntry() const;

    detail::TimerEntry* entry_ = nullptr;
};

// The time half of a reactor: what lets code schedule calls without knowing whether the
// real reactor or a task::Clock drives it.
class IReactorTime {
public:
    virtual ~IReactorTime() = default;

    // The current time in seconds.
    [[nodiscard]] virtual double seconds() const = 0;

    // Calls f(args...) after `delay` seconds (a negative delay counts as 0). The arguments
    // are copied or moved into the call, as std::bind does, and passed to f as lvalues; what
    // f returns is ignored. Throws std::invalid_argument if delay is NaN.
    template <class F, class... Args>
        requires std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>
    DelayedCall callLater(double delay, F&& f, Args&&... args) {
        delay = sanitizeDelay(delay);
        if constexpr (sizeof...(Args) == 0 &&
                      std::is_same_v<std::decay_t<F>, detail::UniqueFunction<void()>>) {
            // Already type-erased: wrapping it again would not fit the inline buffer.
            return schedule(delay, std::forward<F>(f));
        } else {
            return schedule(
                delay,
                [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable -> void {
                    std::invoke(f, args...);
                });
        }
    }

protected:
    // What implementations provide: schedules fn `delay` (>= 0) seconds from now. It is
    // not named callLater so that overriding it does not hide the callLater template.
    // (fn by rvalue reference: each move of a UniqueFunction relocates its buffer.)
    virtual DelayedCall schedule(double delay, detail::UniqueFunction<void()>&& fn) = 0;

private:
    static double sanitizeDelay(double delay);
};

} // namespace braid
