// braid::task: deferLater, and the seeds' print_later / print_later_twice programs
// (seed 001) run on a task::Clock instead of the real reactor.
#include <braid/deferred.hpp>
#include <braid/reactor.hpp>
#include <braid/task.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/run_until.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using braid::CancelledError;
using braid::Deferred;
using braid::Reactor;
using braid::task::Clock;
using braid::task::deferLater;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::runUntil;
using braid::testing::successResultOf;

namespace {

// print_later.py: deferLater(reactor, 1, print, mesg)
TEST(SeedPrintLater, PrintsAfterOneSecond) {
    Clock clock;
    std::vector<std::string> printed;
    auto print = [&](const std::string& m) { printed.push_back(m); };
    (void)deferLater(clock, 1, print, std::string("The future is now!"));
    clock.advance(0.999);
    EXPECT_TRUE(printed.empty());
    clock.advance(0.001);
    EXPECT_EQ(printed, std::vector<std::string>{"The future is now!"});
}

// print_later_twice.py: a Deferred with two print_and_passthrough callbacks, fired by
// reactor.callLater(1, d.callback, mesg).
TEST(SeedPrintLaterTwice, PrintsTwiceAfterOneSecond) {
    Clock clock;
    std::vector<std::string> printed;
    auto printAndPassthrough = [&](std::string result) {
        printed.push_back(result);
        return result;
    };
    Deferred<std::string> d;
    d.addCallback(printAndPassthrough);
    d.addCallback(printAndPassthrough);
    clock.callLater(1, [d]() mutable { d.callback("The future is now!"); });
    clock.advance(0.5);
    EXPECT_TRUE(printed.empty());
    clock.advance(0.5);
    EXPECT_EQ(printed, (std::vector<std::string>{"The future is now!", "The future is now!"}));
}

TEST(DeferLater, FiresWithTheFunctionsResult) {
    Clock clock;
    auto d = deferLater(clock, 2, [](int x) { return x * 2; }, 21);
    EXPECT_TRUE(hasNoResult(d));
    clock.advance(2);
    EXPECT_EQ(successResultOf(d), 42);
}

TEST(DeferLater, WithoutAFunctionFiresWithNothing) {
    Clock clock;
    Deferred<void> d = deferLater(clock, 1);
    clock.advance(1);
    EXPECT_TRUE(d.hasResult());
}

TEST(DeferLater, ExceptionFromTheFunctionFailsTheDeferred) {
    Clock clock;
    auto d = deferLater(clock, 1, []() -> int { throw std::range_error("late failure"); });
    clock.advance(1);
    EXPECT_TRUE(failureResultOf(d).check<std::range_error>());
}

TEST(DeferLater, FunctionReturningADeferredIsWaitedFor) {
    Clock clock;
    Deferred<std::string> inner;
    auto d = deferLater(clock, 1, [inner] { return inner; });
    clock.advance(1);
    EXPECT_TRUE(hasNoResult(d));
    inner.callback("done");
    EXPECT_EQ(successResultOf(d), "done");
}

TEST(DeferLater, CancelUnschedulesTheCall) {
    Clock clock;
    bool ran = false;
    auto d = deferLater(clock, 1, [&] { ran = true; });
    EXPECT_EQ(clock.getDelayedCalls().size(), 1U);
    d.cancel();
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    clock.advance(5);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferLater, ArgumentsAreCopiedAtSchedulingTime) {
    Clock clock;
    std::string message = "original";
    auto d = deferLater(clock, 1, [](const std::string& m) { return m; }, message);
    message = "changed";
    clock.advance(1);
    EXPECT_EQ(successResultOf(d), "original");
}

// On the real reactor: the call runs from the loop, no earlier than the delay.
TEST(DeferLater, RunsOnTheRealReactor) {
    Reactor reactor{Reactor::Options{.backend = std::nullopt, .installSignalHandlers = false}};
    double start = reactor.seconds();
    double ranAt = -1;
    auto d = deferLater(reactor, 0.02, [&] {
        ranAt = reactor.seconds();
        return std::string("later");
    });
    EXPECT_TRUE(hasNoResult(d));
    ASSERT_TRUE(runUntil(reactor, [&] { return d.hasResult(); }));
    EXPECT_EQ(successResultOf(d), "later");
    EXPECT_GE(ranAt - start, 0.02);
}

} // namespace
