// ThreadPool, deferToThread, deferToThreadPool and blockingCallFromThread, driven by a
// small threaded fake reactor. The suites' names contain "Thread", so ./dev test also
// runs them under ThreadSanitizer. Every wait has a deadline.
#include <braid/deferred.hpp>
#include <braid/detail/call_queue.hpp>
#include <braid/error.hpp>
#include <braid/interfaces.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/threads.hpp>

#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using braid::Deferred;
using braid::Failure;
using braid::ThreadPool;
using braid::detail::UniqueFunction;
using Clock = std::chrono::steady_clock;

Clock::duration secondsOf(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Polls done() every millisecond; false if `seconds` pass first.
template <class Predicate>
bool waitFor(Predicate done, double seconds = 5) {
    auto deadline = Clock::now() + secondsOf(seconds);
    while (!done()) {
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Holds calls back until it opens.
class Gate {
public:
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        opened_.notify_all();
    }
    // False if it stays shut for `seconds`.
    bool wait(double seconds = 5) {
        std::unique_lock lock(mutex_);
        return opened_.wait_for(lock, secondsOf(seconds), [this] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable opened_;
    bool open_ = false;
};

std::string threadName() {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return name;
}

class DiskError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// IReactorThreads over a real ThreadPool and a CallQueue. The thread that calls
// runUntil() plays the reactor thread.
class FakeThreadedReactor final : public braid::IReactorThreads {
public:
    FakeThreadedReactor() { pool_.start(); }
    // The pool stops first (its workers may still call callFromThread), then the queue
    // drops what was never drained.
    ~FakeThreadedReactor() override { pool_.stop(); }

    void callInThread(UniqueFunction<void()> f) override { pool_.callInThread(std::move(f)); }
    void callFromThread(UniqueFunction<void()> f) override { queue_.push(std::move(f)); }
    ThreadPool& getThreadPool() override { return pool_; }
    void suggestThreadPoolSize(std::size_t size) override {
        pool_.adjustPoolsize(std::min(pool_.minThreads(), size), size);
    }

    // A timer-like call: runUntil() runs f once `seconds` have passed.
    void callLater(double seconds, UniqueFunction<void()> f) {
        timers_.push_back({Clock::now() + secondsOf(seconds), std::move(f)});
    }

    std::size_t drain() { return queue_.drain(); }

    // Drains callFromThread calls and runs due timers until done(); false if `seconds`
    // pass first.
    template <class Predicate>
    bool runUntil(Predicate done, double seconds = 5) {
        auto deadline = Clock::now() + secondsOf(seconds);
        while (!done()) {
            if (Clock::now() >= deadline) {
                return false;
            }
            runDueTimers();
            pollfd p{queue_.fd(), POLLIN, 0};
            if (::poll(&p, 1, 1) == 1) {
                queue_.drain();
            }
        }
        return true;
    }

private:
    struct Timer {
        Clock::time_point due;
        UniqueFunction<void()> call;
    };

    void runDueTimers() {
        auto due = std::partition(timers_.begin(), timers_.end(),
                                  [now = Clock::now()](const Timer& t) { return t.due > now; });
        std::vector<Timer> ready(std::make_move_iterator(due),
                                 std::make_move_iterator(timers_.end()));
        timers_.erase(due, timers_.end());
        for (Timer& timer : ready) {
            timer.call();
        }
    }

    braid::detail::CallQueue queue_; // declared before pool_: outlives its workers
    ThreadPool pool_{0, 4, "fake-reactor"};
    std::vector<Timer> timers_;
};

// --- ThreadPool ---------------------------------------------------------------------------

TEST(ThreadPoolTest, RejectsMinAboveMax) {
    EXPECT_THROW(ThreadPool(3, 2), std::invalid_argument);
    ThreadPool pool(0, 2);
    EXPECT_THROW(pool.adjustPoolsize(5, 1), std::invalid_argument);
    EXPECT_EQ(pool.minThreads(), 0U);
    EXPECT_EQ(pool.maxThreads(), 2U);
}

TEST(ThreadPoolTest, WorkQueuedBeforeStartRunsAfterStart) {
    ThreadPool pool(0, 2);
    std::atomic<int> ran{0};
    for (int i = 0; i < 3; ++i) {
        pool.callInThread([&ran] { ++ran; });
    }
    EXPECT_EQ(pool.queued(), 3U);
    EXPECT_EQ(pool.workers(), 0U);
    EXPECT_FALSE(pool.started());
    pool.start();
    EXPECT_TRUE(pool.started());
    EXPECT_TRUE(waitFor([&] { return ran == 3; }));
}

TEST(ThreadPoolTest, GrowsOnDemandAndRunsCallsConcurrentlyUpToMax) {
    ThreadPool pool(0, 3);
    pool.start();
    EXPECT_EQ(pool.workers(), 0U);
    Gate gate;
    std::atomic<int> running{0};
    std::atomic<int> mostAtOnce{0};
    std::atomic<int> done{0};
    for (int i = 0; i < 5; ++i) {
        pool.callInThread([&] {
            int now = ++running;
            int most = mostAtOnce.load();
            while (now > most && !mostAtOnce.compare_exchange_weak(most, now)) {
            }
            EXPECT_TRUE(gate.wait());
            --running;
            ++done;
        });
    }
    ASSERT_TRUE(waitFor([&] { return pool.working() == 3; }));
    EXPECT_EQ(pool.workers(), 3U);
    EXPECT_EQ(pool.queued(), 2U);
    gate.open();
    ASSERT_TRUE(waitFor([&] { return done == 5; }));
    EXPECT_EQ(mostAtOnce, 3);
    EXPECT_EQ(pool.workers(), 3U);
}

TEST(ThreadPoolTest, StartStartsMinThreads) {
    ThreadPool pool(2, 4);
    pool.start();
    EXPECT_EQ(pool.workers(), 2U);
    pool.adjustPoolsize(3, 4);
    EXPECT_EQ(pool.workers(), 3U);
}

TEST(ThreadPoolTest, ShrinksToMinAfterTheIdleTimeout) {
    ThreadPool pool(1, 4);
    pool.setIdleTimeout(0.02);
    EXPECT_DOUBLE_EQ(pool.idleTimeout(), 0.02);
    pool.start();
    Gate gate;
    for (int i = 0; i < 4; ++i) {
        pool.callInThread([&gate] { EXPECT_TRUE(gate.wait()); });
    }
    ASSERT_TRUE(waitFor([&] { return pool.working() == 4; }));
    EXPECT_EQ(pool.workers(), 4U);
    gate.open();
    EXPECT_TRUE(waitFor([&] { return pool.workers() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(60)); // three more timeouts
    EXPECT_EQ(pool.workers(), 1U);
    // and it grows again on demand
    std::atomic<int> ran{0};
    pool.callInThread([&ran] { ++ran; });
    EXPECT_TRUE(waitFor([&] { return ran == 1; }));
}

TEST(ThreadPoolTest, LoweringMaxSendsExtraWorkersAway) {
    ThreadPool pool(3, 4);
    pool.start();
    EXPECT_EQ(pool.workers(), 3U);
    pool.adjustPoolsize(0, 1);
    EXPECT_TRUE(waitFor([&] { return pool.workers() == 1; }));
}

TEST(ThreadPoolTest, StopRunsTheQueuedWorkThenJoins) {
    ThreadPool pool(0, 1);
    pool.start();
    std::atomic<int> ran{0};
    for (int i = 0; i < 100; ++i) {
        pool.callInThread([&ran] { ++ran; });
    }
    pool.stop();
    EXPECT_EQ(ran, 100);
    EXPECT_EQ(pool.workers(), 0U);
    EXPECT_EQ(pool.queued(), 0U);
    EXPECT_FALSE(pool.started());
}

TEST(ThreadPoolTest, StopIsIdempotentAndAStoppedPoolCanStartAgain) {
    ThreadPool pool(1, 2);
    pool.stop(); // not started: nothing to do
    pool.start();
    pool.stop();
    pool.stop();
    std::atomic<int> ran{0};
    pool.callInThread([&ran] { ++ran; });
    EXPECT_EQ(pool.queued(), 1U);
    pool.start();
    EXPECT_TRUE(waitFor([&] { return ran == 1; }));
}

TEST(ThreadPoolTest, StopFromOneOfItsWorkersThrows) {
    ThreadPool pool(0, 1);
    pool.start();
    std::promise<bool> threw;
    pool.callInThread([&] {
        try {
            pool.stop();
            threw.set_value(false);
        } catch (const std::logic_error&) {
            threw.set_value(true);
        }
    });
    auto result = threw.get_future();
    ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_TRUE(result.get());
}

TEST(ThreadPoolTest, DestructionDropsWorkThatNeverRan) {
    auto token = std::make_shared<int>(0);
    {
        ThreadPool pool;
        pool.callInThread([token] { ++*token; });
        EXPECT_EQ(token.use_count(), 2);
    }
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_EQ(*token, 0);
}

TEST(ThreadPoolTest, AnExceptionIsLoggedAndTheWorkerGoesOn) {
    braid::testing::LogCapture log;
    ThreadPool pool(0, 1, "io");
    pool.start();
    std::thread::id first;
    std::thread::id second;
    pool.callInThread([&first] {
        first = std::this_thread::get_id();
        throw DiskError("disk on fire");
    });
    pool.callInThread([&second] { second = std::this_thread::get_id(); });
    pool.stop();
    EXPECT_EQ(first, second);
    ASSERT_EQ(log.count("disk on fire"), 1U);
    for (const braid::LogEvent& event : log.events()) {
        if (event.text.find("disk on fire") != std::string::npos) {
            EXPECT_EQ(event.ns, "braid.threads");
            EXPECT_EQ(event.level, braid::LogLevel::error);
            EXPECT_NE(event.text.find("DiskError"), std::string::npos) << event.text;
        }
    }
}

TEST(ThreadPoolTest, NamesItsThreads) {
    std::vector<std::string> names;
    for (const char* poolName : {"resolver", "a-very-long-pool-name"}) {
        ThreadPool pool(0, 1, poolName);
        pool.start();
        pool.callInThread([&names] { names.push_back(threadName()); });
        pool.stop();
    }
    EXPECT_EQ(names, (std::vector<std::string>{"resolver-1", "a-very-long-p-1"}));
}

TEST(ThreadPoolTest, CallInThreadWithCallbackGivesTheOutcomeInTheWorker) {
    ThreadPool pool(0, 2);
    pool.start();
    std::promise<int> value;
    std::promise<bool> failedWithDiskError;
    pool.callInThreadWithCallback(
        [&](braid::Outcome<int> outcome) { value.set_value(outcome.value()); }, [] { return 42; });
    pool.callInThreadWithCallback(
        [&](braid::Outcome<void> outcome) {
            failedWithDiskError.set_value(outcome.failed() && outcome.failure().check<DiskError>());
        },
        [] { throw DiskError("full"); });
    auto v = value.get_future();
    auto f = failedWithDiskError.get_future();
    ASSERT_EQ(v.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_EQ(v.get(), 42);
    EXPECT_TRUE(f.get());
}

// --- deferToThread ------------------------------------------------------------------------

TEST(DeferToThreadTest, FiresWithTheValueOnTheReactorThread) {
    FakeThreadedReactor reactor;
    const auto reactorThread = std::this_thread::get_id();
    std::thread::id worker;
    std::thread::id callback;
    int result = 0;
    Deferred<int> d = braid::deferToThread(reactor, [&worker] {
        worker = std::this_thread::get_id();
        return 42;
    });
    d.addCallback([&](int value) {
        callback = std::this_thread::get_id();
        result = value;
        return value;
    });
    ASSERT_TRUE(reactor.runUntil([&] { return result != 0; }));
    EXPECT_EQ(result, 42);
    EXPECT_NE(worker, reactorThread);
    EXPECT_EQ(callback, reactorThread);
}

TEST(DeferToThreadTest, AVoidFunctionGivesADeferredVoid) {
    FakeThreadedReactor reactor;
    std::atomic<bool> ran{false};
    bool fired = false;
    Deferred<void> d = braid::deferToThread(reactor, [&ran] { ran = true; });
    d.addCallback([&fired] { fired = true; });
    ASSERT_TRUE(reactor.runUntil([&] { return fired; }));
    EXPECT_TRUE(ran);
}

TEST(DeferToThreadTest, AnExceptionFailsTheDeferredWithItsType) {
    FakeThreadedReactor reactor;
    bool failed = false;
    bool isDiskError = false;
    std::string message;
    Deferred<int> d =
        braid::deferToThread(reactor, []() -> int { throw DiskError("no space left"); });
    d.addErrback([&](Failure failure) {
        failed = true;
        isDiskError = failure.check<DiskError>();
        message = failure.getErrorMessage();
        return 0;
    });
    ASSERT_TRUE(reactor.runUntil([&] { return failed; }));
    EXPECT_TRUE(isDiskError);
    EXPECT_EQ(message, "no space left");
}

TEST(DeferToThreadTest, ArgumentsAreMovedIntoTheThread) {
    FakeThreadedReactor reactor;
    std::size_t result = 0;
    auto d = braid::deferToThread(
        reactor, [](std::unique_ptr<int> n, const std::string& s) { return *n + s.size(); },
        std::make_unique<int>(40), std::string("ab"));
    d.addCallback([&result](std::size_t value) {
        result = value;
        return value;
    });
    ASSERT_TRUE(reactor.runUntil([&] { return result != 0; }));
    EXPECT_EQ(result, 42U);
}

TEST(DeferToThreadTest, DeferToThreadPoolUsesThatPool) {
    FakeThreadedReactor reactor;
    ThreadPool pool(0, 1, "other");
    pool.start();
    std::string name;
    Deferred<std::string> d = braid::deferToThreadPool(reactor, pool, threadName);
    d.addCallback([&name](std::string value) {
        name = value;
        return value;
    });
    ASSERT_TRUE(reactor.runUntil([&] { return !name.empty(); }));
    EXPECT_EQ(name, "other-1");
}

TEST(DeferToThreadTest, ManyCallsAllFire) {
    FakeThreadedReactor reactor;
    int fired = 0;
    long sum = 0;
    for (int i = 1; i <= 200; ++i) {
        braid::deferToThread(reactor, [i] { return i; }).addCallback([&](int value) {
            ++fired;
            sum += value;
            return value;
        });
    }
    ASSERT_TRUE(reactor.runUntil([&] { return fired == 200; }));
    EXPECT_EQ(sum, 200L * 201 / 2);
}

// Twisted ignores a result that arrives after cancel(); so does braid.
TEST(DeferToThreadTest, AResultAfterCancelIsIgnored) {
    braid::testing::LogCapture log;
    FakeThreadedReactor reactor;
    Gate gate;
    std::atomic<bool> returned{false};
    bool cancelled = false;
    Deferred<int> d = braid::deferToThread(reactor, [&] {
        EXPECT_TRUE(gate.wait());
        returned = true;
        return 1;
    });
    d.addErrback([&cancelled](Failure failure) {
        cancelled = failure.check<braid::CancelledError>();
        return 0;
    });
    d.cancel();
    EXPECT_TRUE(cancelled);
    gate.open();
    reactor.getThreadPool().stop(); // joins the worker: its result is queued now
    EXPECT_TRUE(returned);
    EXPECT_EQ(reactor.drain(), 1U);
    EXPECT_EQ(log.size(), 0U) << log.texts().front();
}

// --- blockingCallFromThread ---------------------------------------------------------------

// Runs body on a thread of its own while `reactor` runs; false if it does not end in time.
template <class Body>
bool onAnotherThread(FakeThreadedReactor& reactor, Body body) {
    std::atomic<bool> finished{false};
    std::thread thread([&] {
        body();
        finished = true;
    });
    bool inTime = reactor.runUntil([&] { return finished.load(); });
    thread.join();
    return inTime;
}

TEST(BlockingCallFromThreadTest, ReturnsTheValueComputedOnTheReactorThread) {
    FakeThreadedReactor reactor;
    const auto reactorThread = std::this_thread::get_id();
    std::thread::id ranOn;
    int result = 0;
    ASSERT_TRUE(onAnotherThread(reactor, [&] {
        result = braid::blockingCallFromThread(
            reactor,
            [&ranOn](int a, int b) {
                ranOn = std::this_thread::get_id();
                return a + b;
            },
            40, 2);
    }));
    EXPECT_EQ(result, 42);
    EXPECT_EQ(ranOn, reactorThread);
}

TEST(BlockingCallFromThreadTest, AVoidFunction) {
    FakeThreadedReactor reactor;
    bool ran = false;
    ASSERT_TRUE(onAnotherThread(
        reactor, [&] { braid::blockingCallFromThread(reactor, [&ran] { ran = true; }); }));
    EXPECT_TRUE(ran);
}

TEST(BlockingCallFromThreadTest, RethrowsTheExceptionWithItsType) {
    FakeThreadedReactor reactor;
    std::string caught;
    ASSERT_TRUE(onAnotherThread(reactor, [&] {
        try {
            braid::blockingCallFromThread(reactor, []() -> int { throw DiskError("bad sector"); });
        } catch (const DiskError& error) {
            caught = error.what();
        }
    }));
    EXPECT_EQ(caught, "bad sector");
}

TEST(BlockingCallFromThreadTest, WaitsForADeferredFiredLater) {
    FakeThreadedReactor reactor;
    std::string result;
    ASSERT_TRUE(onAnotherThread(reactor, [&] {
        result = braid::blockingCallFromThread(reactor, [&reactor] {
            Deferred<std::string> d;
            reactor.callLater(0.02, [d]() mutable { d.callback("later"); });
            return d;
        });
    }));
    EXPECT_EQ(result, "later");
}

TEST(BlockingCallFromThreadTest, RethrowsTheFailureOfADeferredThatFailsLater) {
    braid::testing::LogCapture log;
    FakeThreadedReactor reactor;
    std::string caught;
    ASSERT_TRUE(onAnotherThread(reactor, [&] {
        try {
            braid::blockingCallFromThread(reactor, [&reactor] {
                Deferred<int> d;
                reactor.callLater(0.02, [d]() mutable { d.errback(DiskError("gone")); });
                return d;
            });
        } catch (const DiskError& error) {
            caught = error.what();
        }
    }));
    EXPECT_EQ(caught, "gone");
    EXPECT_EQ(log.size(), 0U) << log.texts().front(); // handled: no "Unhandled error"
}

TEST(BlockingCallFromThreadTest, ADeferredThatDiesUnfiredBreaksThePromise) {
    FakeThreadedReactor reactor;
    bool broken = false;
    ASSERT_TRUE(onAnotherThread(reactor, [&] {
        try {
            braid::blockingCallFromThread(reactor, [] { return Deferred<int>(); });
        } catch (const std::future_error& error) {
            broken = error.code() == std::future_errc::broken_promise;
        }
    }));
    EXPECT_TRUE(broken);
}

// Twisted's usual pattern: work in a thread that needs something from the reactor.
TEST(BlockingCallFromThreadTest, FromAWorkerOfDeferToThread) {
    FakeThreadedReactor reactor;
    int result = 0;
    braid::deferToThread(reactor, [&reactor] {
        return braid::blockingCallFromThread(reactor, [] { return 20; }) + 1;
    }).addCallback([&result](int value) {
        result = value;
        return value;
    });
    ASSERT_TRUE(reactor.runUntil([&] { return result != 0; }));
    EXPECT_EQ(result, 21);
}

} // namespace
