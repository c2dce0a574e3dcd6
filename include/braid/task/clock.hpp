// task::Clock: Twisted's twisted.internet.task.Clock, an IReactorTime whose time only moves
// when advance() says so. Tests use it to run timed code deterministically and instantly.
#pragma once

#include <braid/reactor_time.hpp>
#include <braid/timer_queue.hpp>

#include <vector>

namespace braid::task {

class Clock : public IReactorTime {
public:
    Clock() noexcept : queue_(*this) {}
    Clock(const Clock&) = delete;
    Clock& operator=(const Clock&) = delete;

    // Starts at 0.0.
    [[nodiscard]] double seconds() const override { return now_; }

    // Moves time forward by amount, then runs every call due by the new time in time order,
    // including the due calls those calls schedule. An exception thrown by a call propagates
    // out of advance(); the calls not run yet stay pending and a later advance() runs them.
    void advance(double amount);

    // advance()s by each amount in turn.
    void pump(const std::vector<double>& timings);

    // The pending calls, sorted by time (then by scheduling order).
    [[nodiscard]] std::vector<DelayedCall> getDelayedCalls() const { return queue_.pending(); }

protected:
    DelayedCall schedule(double delay, detail::UniqueFunction<void()>&& fn) override;

private:
    double now_ = 0.0;
    TimerQueue queue_;
};

} // namespace braid::task
