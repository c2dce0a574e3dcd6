// Test helpers for Deferreds, after twisted.trial's successResultOf / failureResultOf /
// assertNoResult: inspect a Deferred's result synchronously, without a reactor.
#pragma once

#include <braid/deferred.hpp>
#include <braid/deferred_list.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace braid::testing {

namespace detail {
template <class T>
Outcome<T> takeResult(Deferred<T>& d, const char* what) {
    if (!d.hasResult()) {
        throw std::logic_error(std::string(what) + ": the Deferred has no result yet");
    }
    Outcome<T> taken;
    braid::detail::consume(
        Deferred<T>(d), [&taken](Outcome<T>&& outcome) noexcept { taken = std::move(outcome); },
        true);
    return taken;
}
} // namespace detail

// The value `d` succeeded with (taken out of it). Throws std::logic_error when `d` has no
// result yet or failed (the message names the failure).
template <class T>
T successResultOf(Deferred<T>& d) {
    Outcome<T> outcome = detail::takeResult(d, "successResultOf");
    if (outcome.failed()) {
        throw std::logic_error("successResultOf: the Deferred failed with " +
                               outcome.failure().toString());
    }
    return std::move(outcome).value();
}

// The Failure `d` failed with (taken out of it, so it is handled). Throws
// std::logic_error when `d` has no result yet or succeeded.
template <class T>
Failure failureResultOf(Deferred<T>& d) {
    Outcome<T> outcome = detail::takeResult(d, "failureResultOf");
    if (!outcome.failed()) {
        throw std::logic_error("failureResultOf: the Deferred succeeded");
    }
    return outcome.failure();
}

// True while `d` has no result to take (not fired, paused, or waiting on another).
template <class T>
bool hasNoResult(const Deferred<T>& d) {
    return !d.hasResult();
}

} // namespace braid::testing
