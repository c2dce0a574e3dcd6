// The typed callbacks a Deferred<T> adds to its untyped Chain: how a callback's
// return value becomes the chain's next result (a plain value, a Failure, an
// Outcome, or a Deferred to wait for), and the link objects that run them.
#pragma once

#include <braid/detail/chain.hpp>
#include <braid/failure.hpp>
#include <braid/outcome.hpp>

#include <functional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace braid {
template <class T>
class Deferred;
} // namespace braid

namespace braid::detail {

template <class T>
struct IsDeferred : std::false_type {};
template <class U>
struct IsDeferred<Deferred<U>> : std::true_type {
    using type = U;
};

template <class T>
struct IsOutcome : std::false_type {};
template <class U>
struct IsOutcome<Outcome<U>> : std::true_type {
    using type = U;
};

// The chain type a callback returning R produces. `Same` is the type a returned
// Failure keeps (errbacks that re-fail keep the chain's type).
template <class R, class Same>
struct ProducedImpl {
    using type = std::remove_cvref_t<R>;
};
template <class Same>
struct ProducedImpl<void, Same> {
    using type = void;
};
template <class U, class Same>
struct ProducedImpl<Deferred<U>, Same> {
    using type = U;
};
template <class U, class Same>
struct ProducedImpl<Outcome<U>, Same> {
    using type = U;
};
template <class Same>
struct ProducedImpl<Failure, Same> {
    using type = Same;
};
template <class R, class Same>
using Produced = typename ProducedImpl<std::remove_cvref_t<R>, Same>::type;

// What calling a callback of a Deferred<T> with its result returns.
template <class T, class F>
struct CallbackReturnImpl {
    static_assert(std::is_invocable_v<F&, T&&>,
                  "a callback of Deferred<T> must be callable with a T");
    using type = std::invoke_result_t<F&, T&&>;
};
template <class F>
struct CallbackReturnImpl<void, F> {
    static_assert(std::is_invocable_v<F&>,
                  "a callback of Deferred<void> must be callable with no arguments");
    using type = std::invoke_result_t<F&>;
};
template <class T, class F>
using CallbackReturn = typename CallbackReturnImpl<T, F>::type;

template <class F>
using ErrbackReturn = std::invoke_result_t<F&, Failure&&>;

template <class T, class F>
using BothReturn = std::invoke_result_t<F&, Outcome<T>&&>;

// Takes the Chain out of a Deferred (Deferred gives this struct access).
struct ChainAccess {
    template <class U>
    static ChainRef take(Deferred<U>&& deferred) noexcept {
        return std::move(deferred.chain_);
    }
    template <class U>
    static Chain& of(const Deferred<U>& deferred) {
        return deferred.chain();
    }
    template <class U>
    static Deferred<U> wrap(ChainRef chain) noexcept {
        return Deferred<U>(std::move(chain));
    }
};

[[noreturn]] void throwConsumed();

// The chain's current result as an Outcome<T>, moved out of the chain.
template <class T>
Outcome<T> takeOutcome(Chain& chain) {
    if (chain.failed) {
        return Outcome<T>(std::move(chain.failure));
    }
    if constexpr (std::is_void_v<T>) {
        return Outcome<T>::success();
    } else {
        if (chain.value.empty()) {
            throwConsumed();
        }
        return Outcome<T>(std::move(chain.value.template get<T>()));
    }
}

// Makes `result` (a callback's return value) the chain's current result.
template <class U, class R>
void store(Chain& chain, R&& result) {
    using D = std::remove_cvref_t<R>;
    if constexpr (IsDeferred<D>::value) {
        chain.chainTo(ChainAccess::take(std::move(result)));
    } else if constexpr (std::is_same_v<D, Failure>) {
        chain.setFailure(std::forward<R>(result));
    } else if constexpr (IsOutcome<D>::value) {
        if (result.failed()) {
            chain.setFailure(std::move(result.failure()));
        } else if (result.empty()) {
            chain.setFailure(std::logic_error("a callback returned an empty Outcome"));
        } else if constexpr (std::is_void_v<U>) {
            chain.setVoid();
        } else {
            chain.template setValue<U>(std::move(result).value());
        }
    } else {
        chain.template setValue<U>(std::forward<R>(result));
    }
}

template <class U, class F, class... Args>
void invokeAndStore(Chain& chain, F& f, Args&&... args) {
    using R = std::invoke_result_t<F&, Args&&...>;
    if constexpr (std::is_void_v<R>) {
        std::invoke(f, std::forward<Args>(args)...);
        chain.setVoid();
    } else {
        // Computed before the current value is replaced: f may return a reference to it.
        std::remove_cvref_t<R> result = std::invoke(f, std::forward<Args>(args)...);
        store<U>(chain, std::move(result));
    }
}

// Placeholder for the missing half of a callback/errback pair: passes the result on.
struct Passthrough {};

// addCallback / addErrback / addCallbacks: runs the half that matches the result.
template <class T, class U, class Callback, class Errback>
struct CallbackPair {
    [[no_unique_address]] Callback callback;
    [[no_unique_address]] Errback errback;

    void operator()(Chain& chain) noexcept {
        try {
            if (!chain.failed) {
                if constexpr (!std::is_same_v<Callback, Passthrough>) {
                    applyCallback(chain);
                }
            } else if constexpr (!std::is_same_v<Errback, Passthrough>) {
                Failure failure = std::move(chain.failure);
                chain.failed = false; // the errback decides what comes next
                invokeAndStore<U>(chain, errback, std::move(failure));
            }
        } catch (...) {
            chain.setFailure(Failure::current());
        }
    }

private:
    void applyCallback(Chain& chain) {
        if constexpr (std::is_void_v<T>) {
            invokeAndStore<U>(chain, callback);
        } else {
            if (chain.value.empty()) {
                throwConsumed();
            }
            invokeAndStore<U>(chain, callback, std::move(chain.value.template get<T>()));
        }
    }
};

// addBoth: the callback receives the Outcome (value or Failure) whichever it is.
template <class T, class U, class F>
struct BothLink {
    F f;

    void operator()(Chain& chain) noexcept {
        try {
            invokeAndStore<U>(chain, f, takeOutcome<T>(chain));
        } catch (...) {
            chain.setFailure(Failure::current());
        }
    }
};

// Hands the result to a consumer (an awaiting coroutine, DeferredList) and leaves the
// chain without a value. A failure stays in the chain (to be reported if nobody else
// handles it) unless `consumeErrors`.
template <class T, class Sink>
struct ConsumeLink {
    Sink sink;
    bool consumeErrors = true;

    void operator()(Chain& chain) noexcept {
        Outcome<T> outcome;
        try {
            outcome = chain.failed ? Outcome<T>(chain.failure) : takeOutcome<T>(chain);
        } catch (...) {
            outcome = Outcome<T>(Failure::current());
        }
        if (!chain.failed || consumeErrors) {
            chain.markConsumed();
        }
        sink(std::move(outcome));
    }
};

} // namespace braid::detail
