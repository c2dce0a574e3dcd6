// task::Clock: Twisted's task.Clock semantics, and the seed tutorial's callLater programs.
#include <braid/error.hpp>
#include <braid/task/clock.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using braid::DelayedCall;
using braid::task::Clock;

using Log = std::vector<std::pair<double, std::string>>;

TEST(ClockTest, SecondsStartsAtZeroAndMovesOnlyWithAdvance) {
    Clock clock;
    EXPECT_EQ(clock.seconds(), 0.0);
    clock.advance(1.5);
    EXPECT_EQ(clock.seconds(), 1.5);
    clock.advance(0);
    EXPECT_EQ(clock.seconds(), 1.5);
}

TEST(ClockTest, CallLaterSchedulesRelativeToTheCurrentTime) {
    Clock clock;
    clock.advance(3);
    DelayedCall call = clock.callLater(2, [] {});
    EXPECT_DOUBLE_EQ(call.getTime(), 5.0);
}

TEST(ClockTest, AdvanceRunsOnlyTheCallsThatAreDue) {
    Clock clock;
    std::vector<int> ran;
    clock.callLater(1, [&] { ran.push_back(1); });
    clock.callLater(2, [&] { ran.push_back(2); });
    clock.advance(0.999);
    EXPECT_TRUE(ran.empty());
    clock.advance(0.001);
    EXPECT_EQ(ran, std::vector<int>{1});
    clock.advance(5);
    EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(ClockTest, CallsSeeTheAdvancedTime) {
    // Twisted's Clock moves time first, then runs what is due.
    Clock clock;
    double seen = -1;
    DelayedCall later;
    clock.callLater(2, [&] {
        seen = clock.seconds();
        later = clock.callLater(1, [] {});
    });
    clock.advance(5);
    EXPECT_EQ(seen, 5.0);
    EXPECT_TRUE(later.active());
    EXPECT_DOUBLE_EQ(later.getTime(), 6.0);
}

TEST(ClockTest, DueCallsScheduledDuringAdvanceRunInTheSameAdvance) {
    Clock clock;
    Log log;
    clock.callLater(1, [&] {
        log.emplace_back(clock.seconds(), "first");
        // Time is already 2 here: 0 is due now, after what was due at 2 before it.
        clock.callLater(0, [&] {
            log.emplace_back(clock.seconds(), "nested");
            clock.callLater(0, [&] { log.emplace_back(clock.seconds(), "nested twice"); });
        });
        clock.callLater(0.5, [&] { log.emplace_back(clock.seconds(), "too late"); });
    });
    clock.callLater(2, [&] { log.emplace_back(clock.seconds(), "second"); });
    clock.advance(2);
    EXPECT_EQ(log, (Log{{2, "first"}, {2, "second"}, {2, "nested"}, {2, "nested twice"}}));
    ASSERT_EQ(clock.getDelayedCalls().size(), 1u);
    EXPECT_DOUBLE_EQ(clock.getDelayedCalls()[0].getTime(), 2.5);
}

TEST(ClockTest, ACallScheduledDuringAdvanceForLaterStaysPending) {
    Clock clock;
    int nested = 0;
    clock.callLater(1, [&] { clock.callLater(1, [&] { ++nested; }); });
    clock.advance(1);
    EXPECT_EQ(nested, 0);
    ASSERT_EQ(clock.getDelayedCalls().size(), 1u);
    EXPECT_DOUBLE_EQ(clock.getDelayedCalls()[0].getTime(), 2.0);
    clock.advance(1);
    EXPECT_EQ(nested, 1);
}

TEST(ClockTest, ACallCanCancelAnotherDueInTheSameAdvance) {
    Clock clock;
    int calls = 0;
    DelayedCall second = clock.callLater(2, [&] { ++calls; });
    clock.callLater(1, [&] { second.cancel(); });
    clock.advance(3);
    EXPECT_EQ(calls, 0);
    EXPECT_TRUE(second.cancelled());
}

TEST(ClockTest, ResetInsideACallKeepsCallsOrdered) {
    Clock clock;
    std::vector<std::string> ran;
    DelayedCall moved = clock.callLater(3, [&] { ran.emplace_back("moved"); });
    clock.callLater(2, [&] { ran.emplace_back("at two"); });
    clock.callLater(1, [&] {
        ran.emplace_back("resetter");
        moved.reset(1); // to 2, after the call already due at 2
    });
    clock.pump({1, 1});
    EXPECT_EQ(ran, (std::vector<std::string>{"resetter", "at two", "moved"}));
}

TEST(ClockTest, DelayBeforeTheCallIsDueMovesIt) {
    Clock clock;
    int calls = 0;
    DelayedCall call = clock.callLater(1, [&] { ++calls; });
    call.delay(2);
    clock.advance(2);
    EXPECT_EQ(calls, 0);
    clock.advance(1);
    EXPECT_EQ(calls, 1);
}

TEST(ClockTest, ACallMayAdvanceTheClockItself) {
    Clock clock;
    std::vector<double> times;
    clock.callLater(1, [&] {
        times.push_back(clock.seconds());
        clock.advance(1);
    });
    clock.callLater(1.5, [&] { times.push_back(clock.seconds()); });
    clock.advance(1);
    EXPECT_EQ(times, (std::vector<double>{1, 2}));
    EXPECT_EQ(clock.seconds(), 2.0);
}

TEST(ClockTest, PumpAdvancesByEachAmountInTurn) {
    Clock clock;
    std::vector<double> times;
    clock.callLater(1, [&] { times.push_back(clock.seconds()); });
    clock.callLater(2.5, [&] { times.push_back(clock.seconds()); });
    clock.pump({0.5, 0.5, 1, 1});
    EXPECT_EQ(times, (std::vector<double>{1, 3}));
    EXPECT_EQ(clock.seconds(), 3.0);
}

TEST(ClockTest, GetDelayedCallsListsPendingCallsByTime) {
    Clock clock;
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    DelayedCall c = clock.callLater(3, [] {});
    DelayedCall a = clock.callLater(1, [] {});
    DelayedCall cancelled = clock.callLater(2, [] {});
    DelayedCall b = clock.callLater(2, [] {});
    DelayedCall ran = clock.callLater(0, [] {});
    cancelled.cancel();
    clock.advance(0);
    EXPECT_EQ(clock.getDelayedCalls(), (std::vector<DelayedCall>{a, b, c}));
}

TEST(ClockTest, AnExceptionPropagatesOutOfAdvanceAndLeavesTheRestPending) {
    Clock clock;
    std::vector<int> ran;
    clock.callLater(1, [&] { ran.push_back(1); });
    DelayedCall failing = clock.callLater(2, [] { throw std::runtime_error("boom"); });
    clock.callLater(2, [&] { ran.push_back(2); });
    clock.callLater(3, [&] { ran.push_back(3); });
    EXPECT_THROW(clock.advance(3), std::runtime_error);
    EXPECT_EQ(ran, std::vector<int>{1});
    EXPECT_TRUE(failing.called());
    EXPECT_EQ(clock.getDelayedCalls().size(), 2u);
    clock.advance(0);
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

// The seed tutorial's first callLater program (004_31fdb2a1d0aef04c.txt):
//     reactor.callLater(5, print_it, "5 seconds passed")
//     reactor.callLater(10, print_it, "10 seconds passed")
//     reactor.callLater(11, reactor.stop)
TEST(ClockTest, SeedProgramPrintsAtFiveAndTenAndStopsAtEleven) {
    Clock clock;
    Log printed;
    bool running = true;
    double stoppedAt = -1;
    auto printIt = [&](const std::string& s) { printed.emplace_back(clock.seconds(), s); };
    clock.callLater(5, printIt, "5 seconds passed");
    clock.callLater(10, printIt, "10 seconds passed");
    clock.callLater(11, [&] {
        running = false;
        stoppedAt = clock.seconds();
    });
    for (int tick = 0; running && tick < 100; ++tick) {
        clock.advance(0.5);
    }
    EXPECT_EQ(printed, (Log{{5, "5 seconds passed"}, {10, "10 seconds passed"}}));
    EXPECT_EQ(stoppedAt, 11.0);
}

// Its cancel program:
//     delayedCall = reactor.callLater(5, print_it, 'HI')
//     reactor.callLater(4, abort, delayedCall)   # prints CANCELLING and cancels if active
//     reactor.callLater(6, reactor.stop)
TEST(ClockTest, SeedProgramCancelsTheCallBeforeItPrintsHi) {
    Clock clock;
    Log printed;
    bool running = true;
    auto printIt = [&](const std::string& s) { printed.emplace_back(clock.seconds(), s); };
    auto abort = [&](DelayedCall& call) {
        if (call.active()) {
            printed.emplace_back(clock.seconds(), "CANCELLING");
            call.cancel();
        }
    };
    DelayedCall delayedCall = clock.callLater(5, printIt, "HI");
    clock.callLater(4, abort, delayedCall);
    clock.callLater(6, [&] { running = false; });
    for (int tick = 0; running && tick < 100; ++tick) {
        clock.advance(1);
    }
    EXPECT_EQ(printed, (Log{{4, "CANCELLING"}}));
    EXPECT_TRUE(delayedCall.cancelled());
    EXPECT_EQ(clock.seconds(), 6.0);
    EXPECT_THROW(delayedCall.cancel(), braid::AlreadyCancelled);
}

} // namespace
