#include <braid/task/clock.hpp>

#include <utility>

namespace braid::task {

void Clock::advance(double amount) {
    now_ += amount;
    // Reads now_ on every turn, like Twisted's Clock: a call may itself advance the clock.
    while (queue_.runNext(now_)) {
    }
}

void Clock::pump(const std::vector<double>& timings) {
    for (double amount : timings) {
        advance(amount);
    }
}

DelayedCall Clock::schedule(double delay, detail::UniqueFunction<void()>&& fn) {
    return queue_.schedule(now_ + delay, std::move(fn));
}

} // namespace braid::task
