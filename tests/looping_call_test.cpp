// task::LoopingCall on a task::Clock, after Twisted's twisted.test.test_task LoopingCall
// tests: scheduling on multiples of the interval, skipped intervals, withCount, Deferreds
// returned by the function, stopping and failing.
#include <braid/error.hpp>
#include <braid/task/clock.hpp>
#include <braid/task/looping_call.hpp>
#include <braid/testing/deferred.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

using braid::Deferred;
using braid::task::Clock;
using braid::task::LoopingCall;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::successResultOf;

namespace {

using Counts = std::vector<std::pair<double, long long>>;

TEST(LoopingCall, CallsAtOnceThenEveryInterval) {
    Clock clock;
    int calls = 0;
    LoopingCall lc([&] { ++calls; });
    lc.clock = &clock;
    Deferred<LoopingCall*> d = lc.start(0.1);
    EXPECT_TRUE(lc.running());
    EXPECT_EQ(lc.interval(), 0.1);
    clock.pump({0.05, 0.1, 0.1});
    EXPECT_EQ(calls, 3);
    EXPECT_TRUE(hasNoResult(d));
    lc.stop();
    EXPECT_FALSE(lc.running());
    EXPECT_EQ(successResultOf(d), &lc);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, NotNowWaitsOneInterval) {
    Clock clock;
    std::vector<double> times;
    LoopingCall lc([&] { times.push_back(clock.seconds()); });
    lc.clock = &clock;
    (void)lc.start(1, false);
    EXPECT_TRUE(times.empty());
    clock.advance(1);
    clock.advance(1);
    EXPECT_EQ(times, (std::vector<double>{1, 2}));
    lc.stop();
}

// Twisted's test_reactorTimeSkips: a late loop runs once, then keeps to the grid.
TEST(LoopingCall, SkipsMissedIntervals) {
    Clock clock;
    std::vector<double> times;
    LoopingCall lc([&] { times.push_back(clock.seconds()); });
    lc.clock = &clock;
    (void)lc.start(0.5);
    EXPECT_EQ(times, std::vector<double>{0});
    clock.advance(2);
    EXPECT_EQ(times, (std::vector<double>{0, 2}));
    clock.advance(1);
    EXPECT_EQ(times, (std::vector<double>{0, 2, 3}));
    clock.advance(0);
    EXPECT_EQ(times, (std::vector<double>{0, 2, 3}));
    ASSERT_EQ(clock.getDelayedCalls().size(), 1U);
    EXPECT_EQ(clock.getDelayedCalls()[0].getTime(), 3.5);
    lc.stop();
}

// Twisted's test_reactorTimeCountSkips.
TEST(LoopingCall, WithCountCountsSkippedIntervals) {
    Clock clock;
    Counts counts;
    auto lc = LoopingCall::withCount([&](long long n) { counts.emplace_back(clock.seconds(), n); });
    lc.clock = &clock;
    (void)lc.start(0.5);
    clock.advance(2);
    clock.advance(1);
    clock.advance(0);
    EXPECT_EQ(counts, (Counts{{0, 1}, {2, 4}, {3, 2}}));
    lc.stop();
}

// Twisted's test_countLengthyIntervals: a late call within the next interval counts 1.
TEST(LoopingCall, WithCountCountsOnlyExpectedCalls) {
    Clock clock;
    Counts counts;
    auto lc = LoopingCall::withCount([&](long long n) { counts.emplace_back(clock.seconds(), n); });
    lc.clock = &clock;
    const double interval = 0.5;
    const double late = 0.01;
    (void)lc.start(interval);
    clock.advance(interval + late);
    clock.advance(interval * 1.75);
    clock.advance(interval * 0.25);
    ASSERT_EQ(counts.size(), 4U);
    EXPECT_EQ(counts[0], (std::pair<double, long long>{0, 1}));
    EXPECT_DOUBLE_EQ(counts[1].first, interval + late);
    EXPECT_DOUBLE_EQ(counts[2].first, (2.75 * interval) + late);
    EXPECT_DOUBLE_EQ(counts[3].first, (3.0 * interval) + late);
    for (const auto& entry : counts) {
        EXPECT_EQ(entry.second, 1);
    }
    lc.stop();
}

TEST(LoopingCall, WithCountAndIntervalZeroCountsOne) {
    Clock clock;
    std::vector<long long> counts;
    LoopingCall lc = LoopingCall::withCount([&](long long n) {
        counts.push_back(n);
        if (counts.size() == 3) {
            lc.stop();
        }
    });
    lc.clock = &clock;
    auto d = lc.start(0);
    clock.advance(0);
    clock.advance(0);
    EXPECT_EQ(counts, (std::vector<long long>{1, 1, 1}));
    EXPECT_EQ(successResultOf(d), &lc);
}

TEST(LoopingCall, WithCountNotNowStartsAtOne) {
    Clock clock;
    std::vector<long long> counts;
    auto lc = LoopingCall::withCount([&](long long n) { counts.push_back(n); });
    lc.clock = &clock;
    (void)lc.start(1, false);
    clock.advance(3.5);
    EXPECT_EQ(counts, std::vector<long long>{3});
    lc.stop();
}

TEST(LoopingCall, WaitsForTheDeferredTheFunctionReturns) {
    Clock clock;
    std::vector<Deferred<int>> pending;
    LoopingCall lc([&] {
        pending.emplace_back();
        return pending.back();
    });
    lc.clock = &clock;
    (void)lc.start(1);
    ASSERT_EQ(pending.size(), 1U);
    clock.advance(3);
    EXPECT_EQ(pending.size(), 1U); // nothing scheduled while the Deferred is pending
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    pending[0].callback(7);
    // Scheduled for the next multiple of the interval.
    ASSERT_EQ(clock.getDelayedCalls().size(), 1U);
    EXPECT_EQ(clock.getDelayedCalls()[0].getTime(), 4);
    clock.advance(1);
    EXPECT_EQ(pending.size(), 2U);
    lc.stop();
}

TEST(LoopingCall, StopDuringAPendingCallFiresWhenItIsDone) {
    Clock clock;
    Deferred<void> inner;
    LoopingCall lc([&] { return inner; });
    lc.clock = &clock;
    auto d = lc.start(1);
    lc.stop();
    EXPECT_FALSE(lc.running());
    EXPECT_TRUE(hasNoResult(d));
    inner.callback();
    EXPECT_EQ(successResultOf(d), &lc);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, StopFromInsideTheFunction) {
    Clock clock;
    int calls = 0;
    LoopingCall lc([&] {
        if (++calls == 2) {
            lc.stop();
        }
    });
    lc.clock = &clock;
    auto d = lc.start(1);
    clock.advance(1);
    EXPECT_EQ(successResultOf(d), &lc);
    clock.advance(5);
    EXPECT_EQ(calls, 2);
}

TEST(LoopingCall, ExceptionStopsTheLoopAndFailsStart) {
    Clock clock;
    int calls = 0;
    LoopingCall lc([&] {
        if (++calls == 2) {
            throw std::range_error("boom");
        }
    });
    lc.clock = &clock;
    auto d = lc.start(1);
    clock.advance(1);
    EXPECT_FALSE(lc.running());
    EXPECT_TRUE(failureResultOf(d).check<std::range_error>());
    clock.advance(5);
    EXPECT_EQ(calls, 2);
}

TEST(LoopingCall, FailedDeferredStopsTheLoopAndFailsStart) {
    Clock clock;
    LoopingCall lc([] { return braid::fail<int>(braid::Failure(std::range_error("late"))); });
    lc.clock = &clock;
    auto d = lc.start(1);
    EXPECT_FALSE(lc.running());
    EXPECT_TRUE(failureResultOf(d).check<std::range_error>());
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, ResetSkipsTheNextCallAndRestartsTheGrid) {
    Clock clock;
    std::vector<double> times;
    LoopingCall lc([&] { times.push_back(clock.seconds()); });
    lc.clock = &clock;
    (void)lc.start(2, false);
    clock.advance(1);
    lc.reset();
    clock.advance(1.5);
    EXPECT_TRUE(times.empty());
    clock.advance(0.5);
    EXPECT_EQ(times, std::vector<double>{3});
    lc.stop();
}

TEST(LoopingCall, MisuseThrows) {
    Clock clock;
    LoopingCall lc([] {});
    lc.clock = &clock;
    EXPECT_THROW(lc.stop(), std::logic_error);
    EXPECT_THROW(lc.reset(), std::logic_error);
    EXPECT_THROW((void)lc.start(-1), std::invalid_argument);
    (void)lc.start(1);
    EXPECT_THROW((void)lc.start(1), std::logic_error);
    lc.stop();
}

TEST(LoopingCall, CanBeStartedAgainAfterStop) {
    Clock clock;
    int calls = 0;
    LoopingCall lc([&] { ++calls; });
    lc.clock = &clock;
    (void)lc.start(1);
    lc.stop();
    (void)lc.start(1);
    clock.advance(1);
    EXPECT_EQ(calls, 3);
    lc.stop();
}

TEST(LoopingCall, DestroyingItWhileAPendingCallWaitsIsSafe) {
    Clock clock;
    Deferred<void> inner;
    {
        LoopingCall lc([&] { return inner; });
        lc.clock = &clock;
        (void)lc.start(1);
    }
    inner.callback();
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(LoopingCall, MoveOnlyFunctions) {
    Clock clock;
    auto counter = std::make_unique<int>(0);
    LoopingCall lc([counter = std::move(counter)] { ++*counter; });
    lc.clock = &clock;
    (void)lc.start(1);
    lc.stop();
}

} // namespace
