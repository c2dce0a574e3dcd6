// IReactorTime::callLater and DelayedCall, driven by a task::Clock.
#include <braid/error.hpp>
#include <braid/reactor_time.hpp>
#include <braid/task/clock.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using braid::AlreadyCalled;
using braid::AlreadyCancelled;
using braid::DelayedCall;
using braid::task::Clock;

TEST(CallLaterTest, BindsArgumentsByValue) {
    Clock clock;
    std::vector<std::string> seen;
    std::string message = "first";
    clock.callLater(1, [&seen](const std::string& s) { seen.push_back(s); }, message);
    message = "changed";
    clock.advance(1);
    EXPECT_EQ(seen, std::vector<std::string>{"first"});
}

TEST(CallLaterTest, PassesArgumentsAsLvaluesSoMoveOnlyArgumentsWork) {
    Clock clock;
    int seen = 0;
    clock.callLater(1, [&seen](std::unique_ptr<int>& p) { seen = *p; }, std::make_unique<int>(7));
    clock.advance(1);
    EXPECT_EQ(seen, 7);
}

TEST(CallLaterTest, CallsMemberFunctionsWithTheObjectAsFirstArgument) {
    struct Counter {
        int total = 0;
        void add(int n) { total += n; }
    };
    Clock clock;
    Counter counter;
    clock.callLater(1, &Counter::add, &counter, 5);
    clock.advance(1);
    EXPECT_EQ(counter.total, 5);
}

TEST(CallLaterTest, IgnoresWhatTheFunctionReturns) {
    Clock clock;
    int calls = 0;
    clock.callLater(1, [&calls] { return ++calls; });
    clock.advance(1);
    EXPECT_EQ(calls, 1);
}

TEST(CallLaterTest, AcceptsCapturesLargerThanTheInlineBuffer) {
    Clock clock;
    std::array<int, 64> big{};
    big[63] = 42;
    int seen = 0;
    clock.callLater(1, [big, &seen] { seen = big[63]; });
    clock.advance(1);
    EXPECT_EQ(seen, 42);
}

TEST(CallLaterTest, AcceptsAUniqueFunction) {
    Clock clock;
    int calls = 0;
    braid::detail::UniqueFunction<void()> fn = [&calls] { ++calls; };
    clock.callLater(1, std::move(fn));
    clock.advance(1);
    EXPECT_EQ(calls, 1);
}

TEST(CallLaterTest, WorksThroughTheInterface) {
    Clock clock;
    braid::IReactorTime& time = clock;
    int calls = 0;
    DelayedCall call = time.callLater(2.5, [&calls] { ++calls; });
    EXPECT_DOUBLE_EQ(call.getTime(), 2.5);
    clock.advance(2.5);
    EXPECT_EQ(calls, 1);
}

TEST(CallLaterTest, TreatsANegativeDelayAsZero) {
    Clock clock;
    clock.advance(3);
    int calls = 0;
    DelayedCall call = clock.callLater(-5, [&calls] { ++calls; });
    EXPECT_DOUBLE_EQ(call.getTime(), 3.0);
    clock.advance(0);
    EXPECT_EQ(calls, 1);
}

TEST(CallLaterTest, RejectsANaNDelay) {
    Clock clock;
    EXPECT_THROW(clock.callLater(std::nan(""), [] {}), std::invalid_argument);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(DelayedCallTest, ReportsItsState) {
    Clock clock;
    DelayedCall call = clock.callLater(1, [] {});
    EXPECT_TRUE(call.active());
    EXPECT_FALSE(call.called());
    EXPECT_FALSE(call.cancelled());
    clock.advance(1);
    EXPECT_FALSE(call.active());
    EXPECT_TRUE(call.called());
    EXPECT_FALSE(call.cancelled());
}

TEST(DelayedCallTest, CancelPreventsTheCall) {
    Clock clock;
    int calls = 0;
    DelayedCall call = clock.callLater(1, [&calls] { ++calls; });
    call.cancel();
    EXPECT_FALSE(call.active());
    EXPECT_TRUE(call.cancelled());
    EXPECT_FALSE(call.called());
    clock.advance(10);
    EXPECT_EQ(calls, 0);
}

TEST(DelayedCallTest, CancelAfterTheCallRanThrowsAlreadyCalled) {
    Clock clock;
    DelayedCall call = clock.callLater(1, [] {});
    clock.advance(1);
    EXPECT_THROW(call.cancel(), AlreadyCalled);
}

TEST(DelayedCallTest, CancelTwiceThrowsAlreadyCancelled) {
    Clock clock;
    DelayedCall call = clock.callLater(1, [] {});
    call.cancel();
    EXPECT_THROW(call.cancel(), AlreadyCancelled);
}

TEST(DelayedCallTest, ResetAndDelayThrowWhenNotActive) {
    Clock clock;
    DelayedCall ran = clock.callLater(1, [] {});
    DelayedCall cancelled = clock.callLater(1, [] {});
    cancelled.cancel();
    clock.advance(1);
    EXPECT_THROW(ran.reset(1), AlreadyCalled);
    EXPECT_THROW(ran.delay(1), AlreadyCalled);
    EXPECT_THROW(cancelled.reset(1), AlreadyCancelled);
    EXPECT_THROW(cancelled.delay(1), AlreadyCancelled);
}

TEST(DelayedCallTest, CalledIsSetBeforeTheFunctionRuns) {
    // As in Twisted: inside its own call, the call is no longer active.
    Clock clock;
    DelayedCall call;
    bool activeInside = true;
    bool threwAlreadyCalled = false;
    call = clock.callLater(1, [&] {
        activeInside = call.active();
        try {
            call.cancel();
        } catch (const AlreadyCalled&) {
            threwAlreadyCalled = true;
        }
    });
    clock.advance(1);
    EXPECT_FALSE(activeInside);
    EXPECT_TRUE(threwAlreadyCalled);
}

TEST(DelayedCallTest, ResetIsRelativeToTheCurrentTime) {
    Clock clock;
    int calls = 0;
    DelayedCall call = clock.callLater(2, [&calls] { ++calls; });
    clock.advance(1);
    call.reset(3);
    EXPECT_DOUBLE_EQ(call.getTime(), 4.0);
    clock.advance(2.5); // t = 3.5, the original time has passed
    EXPECT_EQ(calls, 0);
    clock.advance(0.5);
    EXPECT_EQ(calls, 1);
}

TEST(DelayedCallTest, ResetCanMoveACallEarlier) {
    Clock clock;
    int calls = 0;
    DelayedCall call = clock.callLater(10, [&calls] { ++calls; });
    call.reset(1);
    EXPECT_DOUBLE_EQ(call.getTime(), 1.0);
    clock.advance(1);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(call.called());
}

TEST(DelayedCallTest, ResetTreatsANegativeDelayAsZero) {
    Clock clock;
    clock.advance(2);
    DelayedCall call = clock.callLater(5, [] {});
    call.reset(-1);
    EXPECT_DOUBLE_EQ(call.getTime(), 2.0);
}

TEST(DelayedCallTest, DelayIsRelativeToTheScheduledTime) {
    Clock clock;
    int calls = 0;
    DelayedCall call = clock.callLater(2, [&calls] { ++calls; });
    clock.advance(1);
    call.delay(3);
    EXPECT_DOUBLE_EQ(call.getTime(), 5.0);
    call.delay(1);
    EXPECT_DOUBLE_EQ(call.getTime(), 6.0);
    clock.advance(4.5);
    EXPECT_EQ(calls, 0);
    clock.advance(0.5);
    EXPECT_EQ(calls, 1);
}

TEST(DelayedCallTest, ANegativeDelayMovesTheCallEarlier) {
    Clock clock;
    int calls = 0;
    DelayedCall call = clock.callLater(5, [&calls] { ++calls; });
    call.delay(-3);
    EXPECT_DOUBLE_EQ(call.getTime(), 2.0);
    clock.advance(2);
    EXPECT_EQ(calls, 1);
}

TEST(DelayedCallTest, ResetAndDelayRejectNaN) {
    Clock clock;
    DelayedCall call = clock.callLater(5, [] {});
    EXPECT_THROW(call.reset(std::nan("")), std::invalid_argument);
    EXPECT_THROW(call.delay(std::nan("")), std::invalid_argument);
    EXPECT_TRUE(call.active());
    EXPECT_DOUBLE_EQ(call.getTime(), 5.0);
}

TEST(DelayedCallTest, AnEmptyHandleIsInactiveAndRefusesToAct) {
    DelayedCall call;
    EXPECT_FALSE(call.active());
    EXPECT_FALSE(call.called());
    EXPECT_FALSE(call.cancelled());
    EXPECT_THROW(call.cancel(), std::logic_error);
    EXPECT_THROW(call.reset(1), std::logic_error);
    EXPECT_THROW(call.delay(1), std::logic_error);
    EXPECT_THROW((void)call.getTime(), std::logic_error);
    EXPECT_EQ(call, DelayedCall{});
}

TEST(DelayedCallTest, CopiesReferToTheSameCall) {
    Clock clock;
    DelayedCall call = clock.callLater(1, [] {});
    DelayedCall copy = call;
    EXPECT_EQ(copy, call);
    EXPECT_NE(copy, clock.callLater(1, [] {}));
    copy.cancel();
    EXPECT_TRUE(call.cancelled());
    EXPECT_THROW(call.cancel(), AlreadyCancelled);
}

TEST(DelayedCallTest, DroppingTheHandleDoesNotCancelTheCall) {
    Clock clock;
    int calls = 0;
    (void)clock.callLater(1, [&calls] { ++calls; });
    clock.advance(1);
    EXPECT_EQ(calls, 1);
}

TEST(DelayedCallTest, AHandleOutlivesItsCall) {
    Clock clock;
    DelayedCall copy;
    {
        DelayedCall call = clock.callLater(1.5, [] {});
        copy = call;
    }
    clock.advance(2);
    EXPECT_TRUE(copy.called());
    EXPECT_FALSE(copy.active());
    EXPECT_DOUBLE_EQ(copy.getTime(), 1.5);
    EXPECT_THROW(copy.cancel(), AlreadyCalled);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(DelayedCallTest, AHandleOutlivesItsClock) {
    auto clock = std::make_unique<Clock>();
    int calls = 0;
    DelayedCall call = clock->callLater(1, [&calls] { ++calls; });
    DelayedCall ran = clock->callLater(0, [] {});
    clock->advance(0);
    clock.reset();
    EXPECT_FALSE(call.active());
    EXPECT_TRUE(call.cancelled());
    EXPECT_DOUBLE_EQ(call.getTime(), 1.0);
    EXPECT_THROW(call.cancel(), AlreadyCancelled);
    EXPECT_THROW(call.reset(1), AlreadyCancelled);
    EXPECT_TRUE(ran.called());
    EXPECT_THROW(ran.delay(1), AlreadyCalled);
    EXPECT_EQ(calls, 0);
}

TEST(DelayedCallTest, ReleasesCapturesWhenTheCallRuns) {
    Clock clock;
    auto resource = std::make_shared<int>(1);
    DelayedCall call = clock.callLater(1, [resource] {});
    EXPECT_EQ(resource.use_count(), 2);
    clock.advance(1);
    EXPECT_EQ(resource.use_count(), 1); // although the handle still exists
}

TEST(DelayedCallTest, ReleasesBoundArgumentsWhenCancelled) {
    Clock clock;
    auto resource = std::make_shared<int>(1);
    DelayedCall call = clock.callLater(1, [](const std::shared_ptr<int>&) {}, resource);
    EXPECT_EQ(resource.use_count(), 2);
    call.cancel();
    EXPECT_EQ(resource.use_count(), 1);
}

TEST(DelayedCallTest, ReleasesCapturesWhenTheClockIsDestroyed) {
    auto resource = std::make_shared<int>(1);
    DelayedCall call;
    {
        Clock clock;
        call = clock.callLater(1, [resource] {});
        EXPECT_EQ(resource.use_count(), 2);
    }
    EXPECT_EQ(resource.use_count(), 1);
}

TEST(DelayedCallTest, ReleasesCapturesWhenTheCallThrows) {
    Clock clock;
    auto resource = std::make_shared<int>(1);
    clock.callLater(1, [resource] { throw std::runtime_error("boom"); });
    EXPECT_THROW(clock.advance(1), std::runtime_error);
    EXPECT_EQ(resource.use_count(), 1);
}

} // namespace
