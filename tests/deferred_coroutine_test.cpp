// Coroutines over Deferreds (Twisted's inlineCallbacks / ensureDeferred): a function
// returning Deferred<T> can co_await Deferreds and co_return its result.
#include <braid/deferred.hpp>
#include <braid/task.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/log_capture.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

using braid::CancelledError;
using braid::Deferred;
using braid::Failure;
using braid::task::Clock;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::LogCapture;
using braid::testing::successResultOf;

namespace {

struct CoroError : std::runtime_error {
    CoroError() : std::runtime_error("coroutine error") {}
};

Deferred<int> addOne(Deferred<int> input) {
    int x = co_await input;
    co_return x + 1;
}

TEST(DeferredCoroutine, CompletesAtOnceWhenNothingIsPending) {
    auto d = addOne(braid::succeed(1));
    EXPECT_EQ(successResultOf(d), 2);
}

TEST(DeferredCoroutine, ResumesWhenTheAwaitedDeferredFires) {
    Deferred<int> input;
    auto d = addOne(input);
    EXPECT_TRUE(hasNoResult(d));
    input.callback(41);
    EXPECT_EQ(successResultOf(d), 42);
}

Deferred<std::string> concatenate(Deferred<std::string> a, Deferred<std::string> b) {
    std::string first = co_await a;
    std::string second = co_await b;
    co_return first + second;
}

TEST(DeferredCoroutine, AwaitsSeveralInTurn) {
    Deferred<std::string> a;
    Deferred<std::string> b;
    auto d = concatenate(a, b);
    b.callback("world");
    EXPECT_TRUE(hasNoResult(d));
    a.callback("hello ");
    EXPECT_EQ(successResultOf(d), "hello world");
}

TEST(DeferredCoroutine, AwaitingAFailedDeferredThrowsItsException) {
    auto body = [](Deferred<int> input) -> Deferred<std::string> {
        try {
            co_await input;
        } catch (const CoroError& e) {
            co_return std::string("caught ") + e.what();
        }
        co_return "not caught";
    };
    Deferred<int> input;
    auto d = body(input);
    input.errback(CoroError());
    EXPECT_EQ(successResultOf(d), "caught coroutine error");
}

TEST(DeferredCoroutine, ExceptionsLeavingTheCoroutineFailItsDeferred) {
    auto body = []() -> Deferred<int> {
        co_await braid::succeed();
        throw CoroError();
    };
    auto d = body();
    EXPECT_TRUE(failureResultOf(d).check<CoroError>());
}

TEST(DeferredCoroutine, UncaughtAwaitedFailurePropagatesWithItsType) {
    Deferred<int> input;
    auto d = addOne(input);
    input.errback(CoroError());
    EXPECT_TRUE(failureResultOf(d).check<CoroError>());
}

Deferred<void> record(std::vector<std::string>& log, Deferred<void> gate) {
    log.emplace_back("before");
    co_await gate;
    log.emplace_back("after");
}

TEST(DeferredCoroutine, VoidCoroutine) {
    std::vector<std::string> log;
    Deferred<void> gate;
    auto d = record(log, gate);
    EXPECT_EQ(log, std::vector<std::string>{"before"});
    gate.callback();
    EXPECT_EQ(log, (std::vector<std::string>{"before", "after"}));
    EXPECT_TRUE(d.hasResult());
}

TEST(DeferredCoroutine, NestedCoroutines) {
    Deferred<int> input;
    auto outer = [](Deferred<int> in) -> Deferred<int> {
        int x = co_await addOne(addOne(in));
        co_return x * 10;
    };
    auto d = outer(input);
    input.callback(1);
    EXPECT_EQ(successResultOf(d), 30);
}

TEST(DeferredCoroutine, CallbacksOnTheCoroutinesDeferredWork) {
    Deferred<int> input;
    auto d = addOne(input).addCallback([](int x) { return std::to_string(x); });
    input.callback(1);
    EXPECT_EQ(successResultOf(d), "2");
}

TEST(DeferredCoroutine, AwaitingAnLvalueDeferred) {
    auto body = []() -> Deferred<int> {
        Deferred<int> d = braid::succeed(5);
        int x = co_await d;
        co_return x;
    };
    auto d = body();
    EXPECT_EQ(successResultOf(d), 5);
}

TEST(DeferredCoroutine, AwaitingADeferredAfterItsTypeChanged) {
    auto body = [](Deferred<int> in) -> Deferred<std::size_t> {
        std::string s = co_await in.addCallback([](int x) { return std::to_string(x); });
        co_return s.size();
    };
    Deferred<int> input;
    auto d = body(input);
    input.callback(12345);
    EXPECT_EQ(successResultOf(d), 5U);
}

TEST(DeferredCoroutine, CancellingTheCoroutineCancelsWhatItAwaits) {
    bool innerCancelled = false;
    Deferred<int> inner([&] { innerCancelled = true; });
    auto d = addOne(inner);
    d.cancel();
    EXPECT_TRUE(innerCancelled);
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCoroutine, CoroutineMayCatchCancellationAndFinish) {
    auto body = [](Deferred<int> in) -> Deferred<int> {
        try {
            co_return co_await in;
        } catch (const CancelledError&) {
            co_return -1;
        }
    };
    Deferred<int> inner;
    auto d = body(inner);
    d.cancel();
    EXPECT_EQ(successResultOf(d), -1);
}

TEST(DeferredCoroutine, CancellationReachesTheInnermostCoroutine) {
    bool leafCancelled = false;
    Deferred<int> leaf([&] { leafCancelled = true; });
    auto outer = [](Deferred<int> in) -> Deferred<int> { co_return co_await addOne(in); };
    auto d = outer(leaf);
    d.cancel();
    EXPECT_TRUE(leafCancelled);
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCoroutine, CancelAfterCompletionDoesNothing) {
    auto d = addOne(braid::succeed(1));
    d.cancel();
    EXPECT_EQ(successResultOf(d), 2);
}

TEST(DeferredCoroutine, MillionAwaitsOfFiredDeferredsUseConstantStack) {
    auto body = []() -> Deferred<long> {
        long total = 0;
        for (long i = 0; i < 1'000'000; ++i) {
            total += co_await braid::succeed(1L);
        }
        co_return total;
    };
    auto d = body();
    EXPECT_EQ(successResultOf(d), 1'000'000);
}

TEST(DeferredCoroutine, ThousandsOfSuspendedAwaitsInALoop) {
    Clock clock;
    auto body = [](Clock& c) -> Deferred<int> {
        int ticks = 0;
        for (int i = 0; i < 10'000; ++i) {
            co_await braid::task::deferLater(c, 1);
            ++ticks;
        }
        co_return ticks;
    };
    auto d = body(clock);
    for (int i = 0; i < 10'000; ++i) {
        clock.advance(1);
    }
    EXPECT_EQ(successResultOf(d), 10'000);
}

// Records its destruction, to see the coroutine frame go.
struct Sentinel {
    std::shared_ptr<bool> destroyed;
    ~Sentinel() { *destroyed = true; }
};

TEST(DeferredCoroutine, AwaitingADeferredNobodyCanFireFreesTheCoroutine) {
    auto destroyed = std::make_shared<bool>(false);
    auto body = [](std::shared_ptr<bool> flag) -> Deferred<int> {
        Sentinel sentinel{std::move(flag)};
        co_await Deferred<int>(); // no one else holds it: it can never fire
        co_return 1;
    };
    {
        auto d = body(destroyed);
        EXPECT_TRUE(*destroyed);
        EXPECT_TRUE(hasNoResult(d));
    }
}

// A coroutine that keeps its own handle on the Deferred it awaits (co_await in, with
// `in` a parameter) keeps that Deferred alive: it is freed when the Deferred fires or
// is cancelled. Awaiting std::move(in) leaves the Deferred to its other holders only.
TEST(DeferredCoroutine, PendingCoroutineIsFreedWhenItsAwaitedDeferredDies) {
    auto destroyed = std::make_shared<bool>(false);
    auto body = [](std::shared_ptr<bool> flag, Deferred<int> in) -> Deferred<int> {
        Sentinel sentinel{std::move(flag)};
        co_return co_await std::move(in);
    };
    {
        Deferred<int> input;
        auto d = body(destroyed, input);
        EXPECT_FALSE(*destroyed);
    }
    EXPECT_TRUE(*destroyed);
}

TEST(DeferredCoroutine, AwaitedFailureIsHandledNotReported) {
    LogCapture log;
    {
        auto body = []() -> Deferred<int> {
            try {
                co_await braid::fail<int>(CoroError());
            } catch (const CoroError&) {
            }
            co_return 0;
        };
        auto d = body();
        EXPECT_EQ(successResultOf(d), 0);
    }
    EXPECT_EQ(log.count("Unhandled error in Deferred"), 0U);
}

TEST(DeferredCoroutine, CoroutinesUnhandledFailureIsReported) {
    LogCapture log;
    {
        auto body = []() -> Deferred<void> {
            co_await braid::succeed();
            throw CoroError();
        };
        auto d = body();
    }
    EXPECT_EQ(log.count("Unhandled error in Deferred"), 1U);
    EXPECT_TRUE(log.contains("coroutine error"));
}

TEST(DeferredCoroutine, DeferLaterInACoroutineOnAClock) {
    Clock clock;
    std::vector<double> times;
    auto body = [](Clock& c, std::vector<double>& at) -> Deferred<void> {
        co_await braid::task::deferLater(c, 1.5);
        at.push_back(c.seconds());
        int v = co_await braid::task::deferLater(c, 2, [] { return 7; });
        at.push_back(c.seconds() + v);
    };
    auto d = body(clock, times);
    clock.advance(1);
    EXPECT_TRUE(times.empty());
    clock.advance(0.5);
    EXPECT_EQ(times, std::vector<double>{1.5});
    clock.advance(2);
    EXPECT_EQ(times, (std::vector<double>{1.5, 10.5}));
    EXPECT_TRUE(d.hasResult());
}

} // namespace
