// Threads, as in twisted.python.threadpool and twisted.internet.threads: a ThreadPool for
// blocking work, deferToThread() to run a function there and get its result as a
// Deferred on the reactor thread, and blockingCallFromThread() for the way back, from a
// worker to the reactor.
//
//     Deferred<std::string> d = deferToThread(reactor, readWholeFile, path);
//     d.addCallback([](std::string text) { ... });  // runs on the reactor thread
#pragma once

#include <braid/deferred.hpp>
#include <braid/detail/function.hpp>
#include <braid/failure.hpp>
#include <braid/interfaces.hpp>
#include <braid/outcome.hpp>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>

namespace braid {

// Worker threads running queued calls. Threads are created on demand, up to maxThreads;
// idle ones beyond minThreads exit after idleTimeout(). Work queued before start() runs
// once the pool starts. A call that throws is logged ("braid.threads") and its worker
// goes on. All methods are thread-safe.
class ThreadPool {
public:
    // Throws std::invalid_argument if minThreads > maxThreads.
    explicit ThreadPool(std::size_t minThreads = 0, std::size_t maxThreads = 10,
                        std::string name = "braid");
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    // stop(), then drops the work that never ran (queued while the pool was stopped).
    ~ThreadPool();

    // Starts minThreads workers, and more for the work already queued. Does nothing if
    // the pool runs already. A stopped pool can start again.
    void start();
    // Runs the work queued so far, then joins every worker. Does nothing if the pool is
    // not running. Must not be called from one of its own workers (std::logic_error).
    void stop();

    void callInThread(detail::UniqueFunction<void()> f);

    // Calls f() in a worker, then onResult(Outcome<R>) in that worker with its result
    // or the exception it threw (R is f's return type, decayed).
    template <class OnResult, class F>
    void callInThreadWithCallback(OnResult onResult, F f);

    // Throws std::invalid_argument if minThreads > maxThreads. Extra workers leave once
    // their current call returns; missing ones start at once if the pool runs.
    void adjustPoolsize(std::size_t minThreads, std::size_t maxThreads);
    // How long a worker beyond minThreads waits for work before it exits (default 60 s).
    void setIdleTimeout(double seconds);

    [[nodiscard]] std::size_t minThreads() const;
    [[nodiscard]] std::size_t maxThreads() const;
    [[nodiscard]] double idleTimeout() const;
    [[nodiscard]] const std::string& name() const noexcept;
    [[nodiscard]] bool started() const;
    // Worker threads alive, calls waiting for one, calls running.
    [[nodiscard]] std::size_t workers() const;
    [[nodiscard]] std::size_t queued() const;
    [[nodiscard]] std::size_t working() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

namespace detail {

// What f(args...) returns, as a thread hands it over: decayed.
template <class F, class... Args>
using ThreadResult = std::decay_t<std::invoke_result_t<std::decay_t<F>&&, std::decay_t<Args>&&...>>;

// Calls f once: its result, or the exception it threw.
template <class F>
auto outcomeOf(F& f) noexcept -> Outcome<std::decay_t<std::invoke_result_t<F&&>>> {
    using R = std::decay_t<std::invoke_result_t<F&&>>;
    try {
        if constexpr (std::is_void_v<R>) {
            std::invoke(std::move(f));
            return Outcome<void>::success();
        } else {
            return Outcome<R>(std::invoke(std::move(f)));
        }
    } catch (...) {
        return Outcome<R>(Failure::current());
    }
}

// Fires d with the outcome, on the reactor thread.
template <class T>
void fireWith(Deferred<T>& d, Outcome<T>&& outcome) {
    if (outcome.failed()) {
        d.errback(std::move(outcome.failure()));
    } else if constexpr (std::is_void_v<T>) {
        d.callback();
    } else {
        d.callback(std::move(outcome).value());
    }
}

// Carries one Outcome<T> from the reactor thread to a thread blocked in take(). Unlike a
// std::promise, the sending side keeps no reference to the result once it is handed
// over, so an exception object dies on the waiting thread, after its last use there:
// ThreadSanitizer cannot see exception_ptr's reference counting inside libstdc++ and
// would report a race otherwise.
template <class T>
class ResultSlot {
public:
    // The reactor's end: send() once; if it dies unsent (the call or the Deferred was
    // dropped), the waiter gets std::future_error (broken_promise).
    class Sender {
    public:
        explicit Sender(ResultSlot* slot) noexcept : slot_(slot) {}
        Sender(Sender&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
        Sender(const Sender&) = delete;
        Sender& operator=(const Sender&) = delete;
        Sender& operator=(Sender&&) = delete;
        ~Sender() {
            if (slot_ != nullptr) {
                slot_->put(Failure(std::future_error(std::future_errc::broken_promise)));
            }
        }

        void send(Outcome<T>&& outcome) { std::exchange(slot_, nullptr)->put(std::move(outcome)); }

    private:
        ResultSlot* slot_;
    };

    // Waits for the result: returns its value or throws its exception.
    T take() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !outcome_.empty(); });
        Outcome<T> outcome = std::move(outcome_);
        lock.unlock();
        return std::move(outcome).value();
    }

private:
    void put(Outcome<T>&& outcome) {
        // Notified under the lock: once it is released the waiter may return and destroy
        // this slot.
        std::lock_guard lock(mutex_);
        outcome_ = std::move(outcome);
        ready_.notify_one();
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    Outcome<T> outcome_; // empty until put
};

} // namespace detail

template <class OnResult, class F>
void ThreadPool::callInThreadWithCallback(OnResult onResult, F f) {
    callInThread([onResult = std::move(onResult), f = std::move(f)]() mutable {
        onResult(detail::outcomeOf(f));
    });
}

// Runs f(args...) in `pool` and returns a Deferred fired on the reactor thread (through
// reactor.callFromThread) with its result, or failed with the exception it threw. Call
// it on the reactor thread. f and args are moved (or copied) into the call, as by
// std::thread; f must not return a Deferred (Deferreds belong to the reactor thread).
template <class F, class... Args>
Deferred<detail::ThreadResult<F, Args...>>
deferToThreadPool(IReactorThreads& reactor, ThreadPool& pool, F&& f, Args&&... args) {
    using R = detail::ThreadResult<F, Args...>;
    static_assert(!detail::IsDeferred<R>::value,
                  "deferToThread: a function run in a thread cannot return a Deferred");
    Deferred<R> d;
    // The worker carries this handle back without using it: moving a handle moves a
    // pointer and never touches the chain, whose reference count is not atomic.
    auto onResult = [&reactor, fire = d](Outcome<R> outcome) mutable {
        reactor.callFromThread([fire = std::move(fire), outcome = std::move(outcome)]() mutable {
            detail::fireWith(fire, std::move(outcome));
        });
    };
    pool.callInThreadWithCallback(
        std::move(onResult),
        [f = std::forward<F>(f), ... args = std::forward<Args>(args)]() mutable -> R {
            return std::invoke(std::move(f), std::move(args)...);
        });
    return d;
}

// deferToThreadPool() on the reactor's thread pool.
template <class F, class... Args>
Deferred<detail::ThreadResult<F, Args...>> deferToThread(IReactorThreads& reactor, F&& f,
                                                         Args&&... args) {
    return deferToThreadPool(reactor, reactor.getThreadPool(), std::forward<F>(f),
                             std::forward<Args>(args)...);
}

// From a thread other than the reactor's (it would deadlock there): runs f(args...) on
// the reactor thread, waits, and returns its result or throws its exception. When f
// returns a Deferred<T>, waits for it to fire and returns its T. f and args are used in
// place (the caller waits, so they live long enough). If the reactor drops the call or
// the Deferred dies without firing, throws std::future_error (broken_promise).
template <class F, class... Args>
auto blockingCallFromThread(IReactorThreads& reactor, F&& f, Args&&... args)
    -> detail::Produced<std::invoke_result_t<F&&, Args&&...>, void> {
    using T = detail::Produced<std::invoke_result_t<F&&, Args&&...>, void>;
    detail::ResultSlot<T> slot;
    reactor.callFromThread([&, sender = typename detail::ResultSlot<T>::Sender(&slot)]() mutable {
        Deferred<T> d = maybeDeferred(std::forward<F>(f), std::forward<Args>(args)...);
        // The outcome goes to the waiting thread, handled: the chain ends in success.
        (void)d.addBoth([sender = std::move(sender)](Outcome<T> outcome) mutable {
            sender.send(std::move(outcome));
        });
    });
    return slot.take();
}

} // namespace braid
