// Deferred cancellation and timeouts: cancel() with and without a canceller,
// cancellation reaching the Deferred being waited on, addTimeout on a task::Clock.
#include <braid/deferred.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/deferred.hpp>

#include <gtest/gtest.h>

#include <string>

using braid::AlreadyCalledError;
using braid::CancelledError;
using braid::Deferred;
using braid::Failure;
using braid::TimeoutError;
using braid::task::Clock;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::successResultOf;

namespace {

TEST(DeferredCancel, WithoutCancellerFailsWithCancelledError) {
    Deferred<int> d;
    d.cancel();
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, ResultArrivingAfterCancelIsIgnoredOnce) {
    Deferred<int> d;
    d.cancel();
    EXPECT_NO_THROW(d.callback(1)); // the source did not know; Twisted drops it silently
    EXPECT_THROW(d.callback(2), AlreadyCalledError);
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, ErrbackArrivingAfterCancelIsIgnoredOnce) {
    Deferred<void> d;
    d.cancel();
    EXPECT_NO_THROW(d.errback(std::runtime_error("late")));
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, CancellerRunsAndCancelledErrorFollows) {
    int cancellerCalls = 0;
    Deferred<int> d([&](Deferred<int>&) { ++cancellerCalls; });
    d.cancel();
    EXPECT_EQ(cancellerCalls, 1);
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
    // With a canceller, a late result is an error again (nothing to suppress).
    EXPECT_THROW(d.callback(1), AlreadyCalledError);
}

TEST(DeferredCancel, CancellerMayFireTheDeferredItself) {
    Deferred<std::string> d([](Deferred<std::string>& self) { self.callback("cancelled nicely"); });
    d.cancel();
    EXPECT_EQ(successResultOf(d), "cancelled nicely");
}

TEST(DeferredCancel, CancellerMayFailWithItsOwnError) {
    Deferred<int> d([](Deferred<int>& self) { self.errback(std::out_of_range("gone")); });
    d.cancel();
    EXPECT_TRUE(failureResultOf(d).check<std::out_of_range>());
}

TEST(DeferredCancel, CancellerWithoutArguments) {
    bool called = false;
    Deferred<void> d([&] { called = true; });
    d.cancel();
    EXPECT_TRUE(called);
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

TEST(DeferredCancel, CancelAfterResultDoesNothing) {
    int cancellerCalls = 0;
    Deferred<int> d([&] { ++cancellerCalls; });
    d.callback(3);
    d.cancel();
    EXPECT_EQ(cancellerCalls, 0);
    EXPECT_EQ(successResultOf(d), 3);
}

TEST(DeferredCancel, CancelledErrorCanBeHandledByErrbacks) {
    Deferred<int> d;
    d.addErrback([](const Failure& f) {
        f.trap<CancelledError>();
        return -1;
    });
    d.cancel();
    EXPECT_EQ(successResultOf(d), -1);
}

TEST(DeferredCancel, CancellationReachesTheDeferredWaitedOn) {
    int innerCancels = 0;
    Deferred<int> inner([&] { ++innerCancels; });
    Deferred<int> outer;
    outer.addCallback([inner](int) { return inner; });
    outer.callback(0);
    outer.cancel();
    EXPECT_EQ(innerCancels, 1);
    EXPECT_TRUE(failureResultOf(outer).check<CancelledError>());
}

TEST(DeferredCancel, CancellationReachesAcrossSeveralLevels) {
    bool innermostCancelled = false;
    Deferred<int> innermost([&] { innermostCancelled = true; });
    Deferred<int> middle;
    middle.addCallback([innermost](int) { return innermost; });
    Deferred<int> outer;
    outer.addCallback([middle](int) { return middle; });
    middle.callback(0);
    outer.callback(0);
    outer.cancel();
    EXPECT_TRUE(innermostCancelled);
    EXPECT_TRUE(failureResultOf(outer).check<CancelledError>());
}

TEST(DeferredCancel, WaitingOnADeferredNobodyCanFireCanStillBeCancelled) {
    Deferred<int> outer;
    outer.addCallback([](int) { return Deferred<int>(); }); // dropped at once
    outer.callback(0);
    EXPECT_TRUE(hasNoResult(outer));
    outer.cancel();
    EXPECT_TRUE(failureResultOf(outer).check<CancelledError>());
}

TEST(DeferredCancel, PausedChainStaysPausedUntilUnpausedAfterCancel) {
    Deferred<int> d;
    d.pause();
    d.cancel();
    EXPECT_TRUE(d.called());
    EXPECT_FALSE(d.hasResult());
    d.unpause();
    EXPECT_TRUE(failureResultOf(d).check<CancelledError>());
}

// --- addTimeout --------------------------------------------------------------------

TEST(DeferredTimeout, FailsWithTimeoutErrorWhenTheTimeRunsOut) {
    Clock clock;
    Deferred<int> d;
    d.addTimeout(5, clock);
    clock.advance(4.9);
    EXPECT_TRUE(hasNoResult(d));
    clock.advance(0.1);
    Failure f = failureResultOf(d);
    EXPECT_TRUE(f.check<TimeoutError>());
    EXPECT_NE(f.getErrorMessage().find("5"), std::string::npos);
}

TEST(DeferredTimeout, ResultInTimeCancelsTheTimer) {
    Clock clock;
    Deferred<int> d;
    d.addTimeout(5, clock);
    EXPECT_EQ(clock.getDelayedCalls().size(), 1U);
    d.callback(1);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    clock.advance(10);
    EXPECT_EQ(successResultOf(d), 1);
}

TEST(DeferredTimeout, ErrorInTimeIsKeptAsIs) {
    Clock clock;
    Deferred<int> d;
    d.addTimeout(5, clock);
    d.errback(std::runtime_error("real"));
    EXPECT_TRUE(failureResultOf(d).check<std::runtime_error>());
    EXPECT_FALSE(failureResultOf(d).check<TimeoutError>());
}

TEST(DeferredTimeout, ExplicitCancelStaysCancelledError) {
    Clock clock;
    Deferred<int> d;
    d.addTimeout(5, clock);
    d.cancel();
    Failure f = failureResultOf(d);
    EXPECT_TRUE(f.check<CancelledError>());
    EXPECT_FALSE(f.check<TimeoutError>());
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(DeferredTimeout, CancellerThatFiresAValueWinsOverTheTimeout) {
    Clock clock;
    Deferred<int> d([](Deferred<int>& self) { self.callback(-1); });
    d.addTimeout(1, clock);
    clock.advance(1);
    EXPECT_EQ(successResultOf(d), -1);
}

TEST(DeferredTimeout, CallbacksAddedBeforeTheTimeoutSeeTheCancelledError) {
    // As in Twisted: the conversion to TimeoutError happens at the timeout's place in
    // the chain, so earlier errbacks see CancelledError.
    Clock clock;
    Deferred<int> d;
    bool sawCancelled = false;
    d.addErrback([&](Failure f) {
        sawCancelled = f.check<CancelledError>();
        return f;
    });
    d.addTimeout(1, clock);
    clock.advance(1);
    EXPECT_TRUE(sawCancelled);
    EXPECT_TRUE(failureResultOf(d).check<TimeoutError>());
}

TEST(DeferredTimeout, TimeoutCancelsTheDeferredBeingWaitedOn) {
    Clock clock;
    bool innerCancelled = false;
    Deferred<int> inner([&] { innerCancelled = true; });
    Deferred<int> outer;
    outer.addCallback([inner](int) { return inner; });
    outer.addTimeout(2, clock);
    outer.callback(0);
    clock.advance(2);
    EXPECT_TRUE(innerCancelled);
    EXPECT_TRUE(failureResultOf(outer).check<TimeoutError>());
}

} // namespace
