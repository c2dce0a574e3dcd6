// braid::task, after twisted.internet.task: scheduling helpers that work on any
// IReactorTime (the real reactor or a task::Clock in tests). deferLater() is here;
// task::Clock, LoopingCall and Cooperator have their own headers, included for convenience.
#pragma once

#include <braid/deferred.hpp>
#include <braid/reactor_time.hpp>
#include <braid/task/clock.hpp>
#include <braid/task/cooperator.hpp>
#include <braid/task/looping_call.hpp>

#include <functional>
#include <memory>
#include <source_location>
#include <type_traits>
#include <utility>

namespace braid::task {

// A Deferred that fires with f(args...) after `delay` seconds on `clock` (Twisted's
// deferLater). If f throws, it fails with the exception; if f returns a Deferred, it
// fires with that one's result. Cancelling it before the delay unschedules the call
// and fails it with CancelledError.
template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>
auto deferLater(IReactorTime& clock, double delay, F&& f, Args&&... args) {
    auto timer = std::make_shared<DelayedCall>();
    Deferred<void> started([timer] { timer->cancel(); });
    *timer = clock.callLater(delay, [started]() mutable { started.callback(); });
    return started.addCallback(
        [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable -> decltype(auto) {
            return std::invoke(f, args...);
        });
}

// A Deferred<void> that fires after `delay` seconds on `clock`.
inline Deferred<void> deferLater(IReactorTime& clock, double delay) {
    return deferLater(clock, delay, [] {});
}

} // namespace braid::task
