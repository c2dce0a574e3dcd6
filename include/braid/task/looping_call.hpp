// task::LoopingCall, after twisted.internet.task.LoopingCall: calls a function every
// `interval` seconds on an IReactorTime, on multiples of the interval from the start,
// skipping the calls it was too late for; a function returning a Deferred is waited for.
#pragma once

#include <braid/deferred.hpp>
#include <braid/detail/function.hpp>
#include <braid/reactor_time.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace braid::task {

class LoopingCall {
public:
    // f() returns void or a Deferred (of any type; its value is ignored). If f throws
    // or its Deferred fails, the loop stops and start()'s Deferred fails with that.
    template <class F>
        requires std::is_invocable_v<F&>
    explicit LoopingCall(F f) : f_(wrap<F>(std::move(f))) {}

    // A LoopingCall calling f(count), count being the number of intervals elapsed since
    // the last call (1 unless calls were skipped; always 1 with an interval of 0). As in
    // Twisted, f is not called when no interval has elapsed.
    template <class F>
        requires std::is_invocable_v<F&, long long>
    static LoopingCall withCount(F f) {
        return LoopingCall(Counted{}, wrap<F, long long>(std::move(f)));
    }

    LoopingCall(const LoopingCall&) = delete;
    LoopingCall& operator=(const LoopingCall&) = delete;
    // Stops calling (start()'s Deferred is left unfired).
    ~LoopingCall();

    // Calls f every `interval` seconds (at once first when `now`). The Deferred fires
    // with this LoopingCall once stop() has been called and no call is in progress,
    // or fails with the failure that ended the loop. Throws std::logic_error if running,
    // std::invalid_argument if interval < 0.
    Deferred<LoopingCall*> start(double interval, bool now = true);

    // Stops the loop. Throws std::logic_error if it is not running.
    void stop();

    // Skips the next call and counts intervals from now. Throws std::logic_error if it
    // is not running.
    void reset();

    // From start() until stop() or a failure.
    [[nodiscard]] bool running() const noexcept { return running_; }
    // The interval given to the last start().
    [[nodiscard]] double interval() const noexcept { return interval_; }

    // The clock it runs on; nullptr (the default) means braid::reactor(). Set it before
    // start().
    IReactorTime* clock = nullptr;

private:
    using Call = braid::detail::UniqueFunction<Deferred<void>()>;
    using CountedCall = braid::detail::UniqueFunction<Deferred<void>(long long)>;
    struct Counted {};

    LoopingCall(Counted /*tag*/, CountedCall f) : countedF_(std::move(f)) {}

    // f(args...)'s result as a Deferred<void>, exceptions included.
    template <class F, class... Args>
    static auto wrap(F f) {
        return [f = std::move(f)](Args... args) mutable -> Deferred<void> {
            auto d = maybeDeferred(f, args...);
            if constexpr (std::is_same_v<decltype(d), Deferred<void>>) {
                return d;
            } else {
                return d.addCallback([](auto&& /*ignored*/) {});
            }
        };
    }

    [[nodiscard]] IReactorTime& theClock() const;
    // Calls f (or counts intervals and calls the counted f), then schedules the next call.
    void call();
    Deferred<void> invoke();
    void scheduleFrom(double when);
    [[nodiscard]] long long intervalOf(double time) const;
    void finish();
    // deferred_, taken out.
    std::optional<Deferred<LoopingCall*>> takeDeferred() {
        return std::exchange(deferred_, std::nullopt);
    }

    Call f_;
    CountedCall countedF_;
    bool running_ = false;
    bool runAtStart_ = false;
    double interval_ = 0.0;
    double startTime_ = 0.0;
    std::optional<double> realLastTime_; // withCount: when f was last called
    DelayedCall call_;
    std::optional<Deferred<LoopingCall*>> deferred_;
    // Callbacks on f's Deferreds hold it weakly: they do nothing once this is gone.
    std::shared_ptr<LoopingCall*> self_ = std::make_shared<LoopingCall*>(this);
};

} // namespace braid::task
