// Deferred<T>: a result that is not there yet, with Twisted's callback/errback
// chains (twisted.internet.defer.Deferred), statically typed. Also succeed(), fail(),
// maybeDeferred(), and coroutine support: a Deferred<T> can be co_awaited, and a
// function returning Deferred<T> can be a coroutine (Twisted's ensureDeferred).
//
//     Deferred<std::string> d = getPage(url);
//     d.addCallback([](std::string page) { return page; });         // same type: returns d
//     Deferred<std::size_t> n = d.addCallback(&std::string::size);  // new type: new handle
//
// A Deferred is a handle: copies share one chain. A chain belongs to one thread.
#pragma once

#include <braid/detail/chain.hpp>
#include <braid/detail/links.hpp>
#include <braid/error.hpp>
#include <braid/failure.hpp>
#include <braid/outcome.hpp>
#include <braid/reactor_time.hpp>

#include <fmt/format.h>

#include <coroutine>
#include <source_location>
#include <type_traits>
#include <utility>

namespace braid {

namespace detail {
template <class T>
class DeferredPromise;
template <class T>
class DeferredAwaiter;

// Throws when a handle is used on a chain whose type has moved on.
void checkHandle(const Chain* chain, const void* expected, bool head);
} // namespace detail

template <class T>
class Deferred {
    struct Nothing {};
    using Arg = std::conditional_t<std::is_void_v<T>, Nothing, T>;

    // The result type of a callback, errback or both-callback.
    template <class F>
    using CallbackType = detail::Produced<detail::CallbackReturn<T, F>, T>;
    template <class F>
    using BothType = detail::Produced<detail::BothReturn<T, F>, T>;

public:
    using value_type = T;
    using promise_type = detail::DeferredPromise<T>;

    explicit Deferred(std::source_location where = std::source_location::current())
        : chain_(detail::ChainRef::adopt(new detail::Chain(where, detail::typeId<T>()))) {}

    // With a canceller, called by cancel() before the result is there: it may fire
    // the Deferred itself; if it does not, cancel() fails it with CancelledError.
    template <class Canceller>
        requires std::is_invocable_v<Canceller&, Deferred&> || std::is_invocable_v<Canceller&>
    explicit Deferred(Canceller canceller,
                      std::source_location where = std::source_location::current())
        : Deferred(where) {
        chain_->canceller = std::make_unique<detail::UniqueFunction<void(detail::Chain&)>>(
            [c = std::move(canceller)](detail::Chain& chain) mutable {
                if constexpr (std::is_invocable_v<Canceller&, Deferred&>) {
                    Deferred self{detail::ChainRef(&chain)};
                    c(self);
                } else {
                    c();
                }
            });
    }

    // --- firing ------------------------------------------------------------------
    void callback(Arg value)
        requires(!std::is_void_v<T>)
    {
        detail::Chain& c = chain(true);
        if (c.beginFiring()) {
            c.template setValue<T>(std::move(value));
            c.fired();
        }
    }
    void callback()
        requires std::is_void_v<T>
    {
        detail::Chain& c = chain(true);
        if (c.beginFiring()) {
            c.setVoid();
            c.fired();
        }
    }
    void errback(Failure failure) { chain(true).fireWithFailure(std::move(failure)); }

    // --- chaining ----------------------------------------------------------------
    // f: T -> T (or Deferred<T>, Failure): the chain keeps its type; returns *this.
    template <class F>
        requires std::is_same_v<CallbackType<F>, T>
    Deferred& addCallback(F&& f) {
        return add<T>(detail::CallbackPair<T, T, std::decay_t<F>, detail::Passthrough>{
            std::forward<F>(f), {}});
    }
    // f: T -> U (or Deferred<U>): returns a Deferred<U> continuing this chain and
    // leaves this handle empty.
    template <class F>
        requires(!std::is_same_v<CallbackType<F>, T>)
    [[nodiscard]] Deferred<CallbackType<F>> addCallback(F&& f) {
        using U = CallbackType<F>;
        return add<U>(detail::CallbackPair<T, U, std::decay_t<F>, detail::Passthrough>{
            std::forward<F>(f), {}});
    }

    // f: Failure -> T recovers; rethrowing or returning a Failure keeps failing.
    template <class F>
    Deferred& addErrback(F&& f) {
        checkErrback<F, T>();
        return add<T>(detail::CallbackPair<T, T, detail::Passthrough, std::decay_t<F>>{
            {}, std::forward<F>(f)});
    }

    template <class CB, class EB>
        requires std::is_same_v<CallbackType<CB>, T>
    Deferred& addCallbacks(CB&& callback, EB&& errback) {
        checkErrback<EB, T>();
        return add<T>(detail::CallbackPair<T, T, std::decay_t<CB>, std::decay_t<EB>>{
            std::forward<CB>(callback), std::forward<EB>(errback)});
    }
    template <class CB, class EB>
        requires(!std::is_same_v<CallbackType<CB>, T>)
    [[nodiscard]] Deferred<CallbackType<CB>> addCallbacks(CB&& callback, EB&& errback) {
        using U = CallbackType<CB>;
        checkErrback<EB, U>();
        return add<U>(detail::CallbackPair<T, U, std::decay_t<CB>, std::decay_t<EB>>{
            std::forward<CB>(callback), std::forward<EB>(errback)});
    }

    // f: Outcome<T> -> ...: called with the value or the Failure, whichever it is.
    template <class F>
        requires std::is_same_v<BothType<F>, T>
    Deferred& addBoth(F&& f) {
        return add<T>(detail::BothLink<T, T, std::decay_t<F>>{std::forward<F>(f)});
    }
    template <class F>
        requires(!std::is_same_v<BothType<F>, T>)
    [[nodiscard]] Deferred<BothType<F>> addBoth(F&& f) {
        using U = BothType<F>;
        return add<U>(detail::BothLink<T, U, std::decay_t<F>>{std::forward<F>(f)});
    }

    // Fails the Deferred with TimeoutError if it has no result after `seconds` on `clock`.
    Deferred& addTimeout(double seconds, IReactorTime& clock);

    // --- control -----------------------------------------------------------------
    // These work through any handle of the chain, whatever type it has reached.
    void cancel() { anyChain().cancel(); }
    void pause() { anyChain().pause(); }
    void unpause() { anyChain().unpause(); }

    // callback() or errback() has happened (Twisted's `called`).
    [[nodiscard]] bool called() const { return anyChain().called; }
    // The chain has run to its end and holds a result nobody has taken yet.
    [[nodiscard]] bool hasResult() const { return anyChain().hasResult(); }
    [[nodiscard]] bool paused() const { return anyChain().paused > 0; }
    // A handle left empty by a type-changing addCallback (or moved from).
    [[nodiscard]] bool empty() const noexcept { return !chain_; }

    // co_await d: the value, or the failure's exception thrown.
    detail::DeferredAwaiter<T> operator co_await() const& {
        chain();
        return detail::DeferredAwaiter<T>(chain_);
    }
    detail::DeferredAwaiter<T> operator co_await() && {
        chain();
        return detail::DeferredAwaiter<T>(std::move(chain_));
    }

private:
    template <class>
    friend class Deferred;
    friend struct detail::ChainAccess;

    explicit Deferred(detail::ChainRef chain) noexcept : chain_(std::move(chain)) {}

    // The chain, checked: `head` for firing (callback() takes the chain's first type),
    // otherwise for adding links (the type the last link produces).
    detail::Chain& chain(bool head = false) const {
        const void* actual = chain_ ? (head ? chain_->headType : chain_->tailType) : nullptr;
        if (actual != detail::typeId<T>()) {
            detail::checkHandle(chain_.get(), detail::typeId<T>(), head);
        }
        return *chain_;
    }

    detail::Chain& anyChain() const {
        if (!chain_) {
            detail::checkHandle(nullptr, nullptr, false);
        }
        return *chain_;
    }

    template <class F, class U>
    static void checkErrback() {
        if constexpr (!std::is_same_v<F, detail::Passthrough>) {
            static_assert(std::is_invocable_v<std::decay_t<F>&, Failure&&>,
                          "an errback must be callable with a braid::Failure");
            using R = detail::ErrbackReturn<std::decay_t<F>>;
            static_assert(std::is_same_v<detail::Produced<R, U>, U>,
                          "an errback must return the chain's type (or a Deferred of it, or a "
                          "Failure to keep failing)");
        }
    }

    template <class U, class Fns>
    std::conditional_t<std::is_same_v<U, T>, Deferred&, Deferred<U>> add(Fns&& fns) {
        detail::Chain& c = chain();
        c.add(std::forward<Fns>(fns));
        if constexpr (std::is_same_v<U, T>) {
            return *this;
        } else {
            c.tailType = detail::typeId<U>();
            return Deferred<U>(std::move(chain_));
        }
    }

    detail::ChainRef chain_;
};

// A Deferred that already has `value`.
template <class T>
Deferred<std::decay_t<T>> succeed(T&& value,
                                  std::source_location where = std::source_location::current()) {
    Deferred<std::decay_t<T>> d(where);
    d.callback(std::forward<T>(value));
    return d;
}
inline Deferred<void> succeed(std::source_location where = std::source_location::current()) {
    Deferred<void> d(where);
    d.callback();
    return d;
}

// A Deferred<T> that already failed.
template <class T = void>
Deferred<T> fail(Failure failure, std::source_location where = std::source_location::current()) {
    Deferred<T> d(where);
    d.errback(std::move(failure));
    return d;
}

// Calls f(args...) and gives its result as a Deferred whatever it returns: a Deferred
// as is, a value through succeed(), an exception through fail().
template <class F, class... Args>
auto maybeDeferred(F&& f, Args&&... args)
    -> Deferred<detail::Produced<std::invoke_result_t<F&&, Args&&...>, void>> {
    using R = std::invoke_result_t<F&&, Args&&...>;
    using U = detail::Produced<R, void>;
    try {
        if constexpr (detail::IsDeferred<std::remove_cvref_t<R>>::value) {
            return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
        } else if constexpr (std::is_void_v<R>) {
            std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
            return succeed();
        } else {
            return succeed(std::invoke(std::forward<F>(f), std::forward<Args>(args)...));
        }
    } catch (...) {
        return fail<U>(Failure::current());
    }
}

template <class T>
Deferred<T>& Deferred<T>::addTimeout(double seconds, IReactorTime& clock) {
    detail::Chain& c = chain();
    DelayedCall timer = clock.callLater(seconds, [target = chain_]() { target->cancel(); });
    // Runs first thing once a result arrives: a CancelledError caused by the timer
    // becomes TimeoutError; a result arriving in time cancels the timer.
    auto onResult = [timer, seconds](detail::Chain& chain) mutable noexcept {
        if (timer.active()) {
            timer.cancel();
        } else if (timer.called() && chain.failed && chain.failure.check<CancelledError>()) {
            chain.setFailure(
                TimeoutError(fmt::format("Deferred timed out after {} seconds", seconds)));
        }
    };
    c.add(std::move(onResult));
    return *this;
}

namespace detail {

// Where a coroutine returning Deferred<T> keeps the Deferred it fires when it ends,
// and the Deferred it currently awaits (so that cancel() can reach it).
template <class T>
class DeferredPromiseBase : public AwaitTracker {
public:
    explicit DeferredPromiseBase(std::source_location where = std::source_location::current())
        : chain_(ChainRef::adopt(new Chain(where, typeId<T>()))) {
        // Cancelling the coroutine's Deferred cancels what it awaits; the coroutine
        // sees CancelledError there and decides how it ends.
        chain_->coroutine = this;
    }
    DeferredPromiseBase(const DeferredPromiseBase&) = delete;
    DeferredPromiseBase& operator=(const DeferredPromiseBase&) = delete;
    ~DeferredPromiseBase() { chain_->coroutine = nullptr; }

    Deferred<T> get_return_object() { return ChainAccess::wrap<T>(chain_); }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept {
        if (!chain_->called) {
            chain_->setFailure(Failure::current());
            chain_->fired();
        }
    }

protected:
    ChainRef chain_;
};

template <class T>
class DeferredPromise : public DeferredPromiseBase<T> {
public:
    template <class V>
    void return_value(V&& value) {
        Chain& chain = *this->chain_;
        if (!chain.called) { // someone may have fired the Deferred from outside
            chain.template setValue<T>(std::forward<V>(value));
            chain.fired();
        }
    }
};

template <>
class DeferredPromise<void> : public DeferredPromiseBase<void> {
public:
    void return_void() {
        if (!chain_->called) {
            chain_->setVoid();
            chain_->fired();
        }
    }
};

// co_await on a Deferred<T>.
template <class T>
class DeferredAwaiter {
public:
    explicit DeferredAwaiter(ChainRef chain) noexcept : chain_(std::move(chain)) {}
    DeferredAwaiter(DeferredAwaiter&&) noexcept = default;
    DeferredAwaiter(const DeferredAwaiter&) = delete;
    DeferredAwaiter& operator=(const DeferredAwaiter&) = delete;
    DeferredAwaiter& operator=(DeferredAwaiter&&) = delete;
    ~DeferredAwaiter() = default;

    // Already fired: no suspension at all, so awaiting fired Deferreds in a loop
    // needs no stack.
    [[nodiscard]] bool await_ready() const noexcept { return chain_->hasResult(); }

    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> handle) {
        Chain* chain = chain_.release();
        if constexpr (std::is_base_of_v<AwaitTracker, Promise>) {
            handle.promise().awaiting_ = chain;
        }
        chain->append(Resume<Promise>{this, handle});
        // Only whoever will fire the chain keeps it alive now. If nobody can, it dies
        // here and its link destroys this coroutine instead of leaking it.
        chain->release();
    }

    T await_resume() {
        if (chain_) {
            return takeResult(*chain_); // did not suspend
        }
        return std::move(outcome_).value();
    }

private:
    // The chain's result, taken out of it: the value, or its failure thrown.
    static T takeResult(Chain& chain) {
        if (chain.failed) {
            Failure failure = std::move(chain.failure);
            chain.markConsumed();
            failure.raiseException();
        }
        if constexpr (!std::is_void_v<T>) {
            if (chain.value.empty()) {
                throwConsumed();
            }
            T value = std::move(chain.value.template get<T>());
            chain.markConsumed();
            return value;
        }
    }

    // The link that resumes the coroutine with the result.
    template <class Promise>
    struct Resume {
        DeferredAwaiter* awaiter;
        std::coroutine_handle<Promise> handle;

        Resume(DeferredAwaiter* a, std::coroutine_handle<Promise> h) noexcept
            : awaiter(a), handle(h) {}
        Resume(Resume&& other) noexcept
            : awaiter(other.awaiter), handle(std::exchange(other.handle, nullptr)) {}
        Resume(const Resume&) = delete;
        Resume& operator=(const Resume&) = delete;
        Resume& operator=(Resume&&) = delete;
        ~Resume() {
            if (handle) {
                handle.destroy(); // the chain died without a result: the coroutine never resumes
            }
        }

        void operator()(Chain& chain) noexcept {
            try {
                awaiter->outcome_ = takeOutcome<T>(chain);
            } catch (...) {
                awaiter->outcome_ = Outcome<T>(Failure::current());
            }
            chain.markConsumed();
            auto resumed = std::exchange(handle, nullptr);
            if constexpr (std::is_base_of_v<AwaitTracker, Promise>) {
                resumed.promise().awaiting_ = nullptr;
            }
            resumed.resume();
        }
    };

    ChainRef chain_;
    Outcome<T> outcome_;
};

} // namespace detail

} // namespace braid
