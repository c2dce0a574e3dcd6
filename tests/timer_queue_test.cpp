// TimerQueue: ordering, runNext limits, cancelling, lazy rescheduling, and a model check.
#include <braid/error.hpp>
#include <braid/timer_queue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace {

using braid::DelayedCall;
using braid::TimerQueue;

// A clock whose time the test sets; calls go straight to the TimerQueue under test.
class ManualTime : public braid::IReactorTime {
public:
    double now = 0.0;
    [[nodiscard]] double seconds() const override { return now; }

protected:
    DelayedCall schedule(double, braid::detail::UniqueFunction<void()>&&) override {
        throw std::logic_error("ManualTime: schedule on the TimerQueue");
    }
};

class TimerQueueTest : public ::testing::Test {
protected:
    // Schedules a call that records id when it runs.
    DelayedCall add(double when, int id) {
        return queue.schedule(when, [this, id] { ran.push_back(id); });
    }

    void runAll(double now) {
        while (queue.runNext(now)) {
        }
    }

    ManualTime time;
    TimerQueue queue{time};
    std::vector<int> ran;
};

TEST_F(TimerQueueTest, RunsCallsInTimeOrder) {
    add(3, 3);
    add(1, 1);
    add(2, 2);
    runAll(10);
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(queue.empty());
}

TEST_F(TimerQueueTest, CallsDueAtTheSameTimeRunInSchedulingOrder) {
    for (int id = 0; id < 50; ++id) {
        add(id % 2 == 0 ? 1.0 : 2.0, id);
    }
    runAll(2);
    std::vector<int> expected;
    for (int id = 0; id < 50; id += 2) {
        expected.push_back(id);
    }
    for (int id = 1; id < 50; id += 2) {
        expected.push_back(id);
    }
    EXPECT_EQ(ran, expected);
}

TEST_F(TimerQueueTest, ARescheduledCallRunsAfterCallsAlreadyDueAtItsNewTime) {
    DelayedCall first = add(5, 1);
    add(2, 2);
    first.reset(2);
    add(2, 3);
    runAll(5);
    EXPECT_EQ(ran, (std::vector<int>{2, 1, 3}));
}

TEST_F(TimerQueueTest, RunNextRunsOnlyDueCalls) {
    add(1, 1);
    add(2, 2);
    EXPECT_TRUE(queue.runNext(1.5));
    EXPECT_FALSE(queue.runNext(1.5));
    EXPECT_EQ(ran, std::vector<int>{1});
    EXPECT_EQ(queue.size(), 1u);
}

TEST_F(TimerQueueTest, RunNextLeavesCallsScheduledAfterTheSequenceLimit) {
    // A reactor iteration: calls scheduled by the timers it runs wait for the next one.
    queue.schedule(1, [this] {
        ran.push_back(1);
        add(1, 3); // due already, but scheduled during the iteration
    });
    add(1, 2);
    const std::uint64_t limit = queue.nextSequence();
    while (queue.runNext(1, limit)) {
    }
    EXPECT_EQ(ran, (std::vector<int>{1, 2}));
    EXPECT_EQ(queue.size(), 1u);
    EXPECT_FALSE(queue.runNext(1, limit));
    EXPECT_TRUE(queue.runNext(1, queue.nextSequence()));
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST_F(TimerQueueTest, ARescheduledCallCountsAsScheduledAfterTheLimit) {
    DelayedCall call = add(5, 1);
    const std::uint64_t limit = queue.nextSequence();
    call.reset(0);
    EXPECT_FALSE(queue.runNext(0, limit));
    EXPECT_TRUE(queue.runNext(0, queue.nextSequence()));
}

TEST_F(TimerQueueTest, NextTimeIsEmptyForAnEmptyQueue) {
    EXPECT_EQ(queue.nextTime(), std::nullopt);
    add(1, 1);
    runAll(1);
    EXPECT_EQ(queue.nextTime(), std::nullopt);
}

TEST_F(TimerQueueTest, NextTimeSkipsCancelledCalls) {
    DelayedCall first = add(1, 1);
    DelayedCall second = add(2, 2);
    add(3, 3);
    first.cancel();
    second.cancel();
    EXPECT_EQ(queue.nextTime(), 3.0);
    EXPECT_EQ(queue.size(), 1u);
}

TEST_F(TimerQueueTest, NextTimeFollowsACallMovedEarlier) {
    DelayedCall call = add(5, 1);
    add(7, 2);
    call.reset(1);
    EXPECT_EQ(queue.nextTime(), 1.0);
    call.delay(-0.5);
    EXPECT_EQ(queue.nextTime(), 0.5);
}

TEST_F(TimerQueueTest, NextTimeKeepsACallMovedLaterAtItsOldTimeUntilThen) {
    DelayedCall call = add(5, 1);
    add(7, 2);
    call.reset(10);
    EXPECT_EQ(queue.nextTime(), 5.0); // a lower bound, as in Twisted's reactor
    EXPECT_FALSE(queue.runNext(5));   // re-files the call: nothing due
    EXPECT_EQ(queue.nextTime(), 7.0);
    EXPECT_TRUE(queue.runNext(7));
    EXPECT_EQ(queue.nextTime(), 10.0);
    runAll(100);
    EXPECT_EQ(ran, (std::vector<int>{2, 1}));
}

TEST_F(TimerQueueTest, ResetUsesTheClockForNow) {
    DelayedCall call = add(5, 1);
    time.now = 10;
    call.reset(2);
    EXPECT_DOUBLE_EQ(call.getTime(), 12.0);
    EXPECT_FALSE(queue.runNext(11.9));
    EXPECT_TRUE(queue.runNext(12));
}

TEST_F(TimerQueueTest, AnEntryMovedLaterManyTimesRunsOnceAtItsLastTime) {
    DelayedCall call = add(1, 1);
    for (int i = 2; i <= 100; ++i) {
        call.reset(i);
    }
    EXPECT_FALSE(queue.runNext(99.5));
    EXPECT_TRUE(queue.runNext(100));
    EXPECT_FALSE(queue.runNext(1000));
    EXPECT_EQ(ran, std::vector<int>{1});
}

TEST_F(TimerQueueTest, AnEntryMovedBackAndForthRunsOnce) {
    DelayedCall call = add(50, 1);
    for (int i = 0; i < 100; ++i) {
        call.reset(i % 2 == 0 ? 1.0 : 60.0);
    }
    EXPECT_DOUBLE_EQ(call.getTime(), 60.0);
    runAll(1000);
    EXPECT_EQ(ran, std::vector<int>{1});
}

TEST_F(TimerQueueTest, SizeCountsPendingCallsOnly) {
    DelayedCall a = add(1, 1);
    add(2, 2);
    add(3, 3);
    EXPECT_EQ(queue.size(), 3u);
    a.cancel();
    EXPECT_EQ(queue.size(), 2u);
    EXPECT_TRUE(queue.runNext(2));
    EXPECT_EQ(queue.size(), 1u);
}

TEST_F(TimerQueueTest, PendingIsSortedByTimeThenSchedulingOrder) {
    DelayedCall c = add(3, 3);
    DelayedCall a = add(1, 1);
    DelayedCall b1 = add(2, 21);
    DelayedCall gone = add(0.5, 0);
    DelayedCall b2 = add(2, 22);
    gone.cancel();
    EXPECT_EQ(queue.pending(), (std::vector<DelayedCall>{a, b1, b2, c}));
    c.reset(0.1);
    EXPECT_EQ(queue.pending(), (std::vector<DelayedCall>{c, a, b1, b2}));
}

TEST_F(TimerQueueTest, AnExceptionPropagatesWithTheCallAlreadyRemoved) {
    DelayedCall failing = queue.schedule(1, [] { throw std::runtime_error("boom"); });
    add(1, 2);
    EXPECT_THROW(queue.runNext(1), std::runtime_error);
    EXPECT_TRUE(failing.called());
    EXPECT_EQ(queue.size(), 1u);
    EXPECT_TRUE(queue.runNext(1));
    EXPECT_EQ(ran, std::vector<int>{2});
}

TEST_F(TimerQueueTest, ACallCanCancelAndScheduleOthers) {
    DelayedCall victim = add(2, 2);
    queue.schedule(1, [&] {
        victim.cancel();
        add(1.5, 3);
    });
    runAll(5);
    EXPECT_EQ(ran, std::vector<int>{3});
    EXPECT_TRUE(victim.cancelled());
}

TEST_F(TimerQueueTest, ACaptureDestroyedOnCancelMayCancelAnotherCall) {
    // The destructor of a cancelled call's capture runs once the queue is consistent.
    struct CancelOnDestroy {
        DelayedCall other;
        ~CancelOnDestroy() {
            if (other.active()) {
                other.cancel();
            }
        }
    };
    std::vector<DelayedCall> others;
    for (int i = 0; i < 10; ++i) {
        others.push_back(add(2 + i, i));
    }
    auto guard = std::make_shared<CancelOnDestroy>();
    guard->other = others[3];
    DelayedCall call = queue.schedule(1, [guard] {});
    guard.reset();
    call.cancel();
    EXPECT_TRUE(others[3].cancelled());
    EXPECT_EQ(queue.size(), 9u);
    runAll(100);
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 4, 5, 6, 7, 8, 9}));
}

TEST_F(TimerQueueTest, RejectsNaNTimesAndEmptyFunctions) {
    EXPECT_THROW(queue.schedule(std::nan(""), [] {}), std::invalid_argument);
    EXPECT_THROW(queue.schedule(1, nullptr), std::invalid_argument);
    EXPECT_TRUE(queue.empty());
}

TEST(TimerQueueLifetimeTest, DestroyingTheQueueCancelsPendingCalls) {
    ManualTime time;
    auto resource = std::make_shared<int>(1);
    DelayedCall pending;
    DelayedCall ran;
    {
        TimerQueue queue{time};
        pending = queue.schedule(2, [resource] {});
        ran = queue.schedule(1, [] {});
        DelayedCall cancelled = queue.schedule(3, [resource] {});
        cancelled.cancel();
        EXPECT_TRUE(queue.runNext(1));
    }
    EXPECT_TRUE(pending.cancelled());
    EXPECT_TRUE(ran.called());
    EXPECT_EQ(resource.use_count(), 1);
    EXPECT_THROW(pending.cancel(), braid::AlreadyCancelled);
}

TEST(TimerQueueLifetimeTest, CallsScheduledWhileTheQueueIsDestroyedAreCancelledToo) {
    // A capture whose destructor schedules another call on the dying queue.
    struct ScheduleOnDestroy {
        TimerQueue* queue = nullptr;
        DelayedCall* scheduled = nullptr;
        ScheduleOnDestroy() = default;
        ScheduleOnDestroy(const ScheduleOnDestroy&) = delete;
        ScheduleOnDestroy& operator=(const ScheduleOnDestroy&) = delete;
        ~ScheduleOnDestroy() {
            *scheduled = queue->schedule(5, [] {});
        }
    };
    ManualTime time;
    DelayedCall scheduled;
    auto queue = std::make_unique<TimerQueue>(time);
    auto guard = std::make_shared<ScheduleOnDestroy>();
    guard->queue = queue.get();
    guard->scheduled = &scheduled;
    DelayedCall call = queue->schedule(1, [guard] {});
    guard.reset();
    queue.reset();
    EXPECT_TRUE(call.cancelled());
    EXPECT_TRUE(scheduled.cancelled());
}

TEST_F(TimerQueueTest, CancellingMostCallsKeepsTheRestInOrder) {
    std::vector<DelayedCall> calls;
    for (int id = 0; id < 1000; ++id) {
        calls.push_back(add((id * 7919) % 1000, id)); // distinct times, shuffled
    }
    for (int id = 0; id < 1000; ++id) {
        if (id % 10 != 0) {
            calls[id].cancel();
        }
    }
    EXPECT_EQ(queue.size(), 100u);
    runAll(1000);
    std::vector<int> expected;
    for (int id = 0; id < 1000; id += 10) {
        expected.push_back(id);
    }
    std::sort(expected.begin(), expected.end(),
              [](int a, int b) { return (a * 7919) % 1000 < (b * 7919) % 1000; });
    EXPECT_EQ(ran, expected);
}

TEST_F(TimerQueueTest, CancellingAroundCallsMovedLaterKeepsThem) {
    std::vector<DelayedCall> moved;
    for (int id = 0; id < 100; ++id) {
        moved.push_back(add(id, id));
        moved.back().reset(1000 - id); // later: its node stays filed at its old time
    }
    std::vector<DelayedCall> others;
    for (int i = 0; i < 300; ++i) {
        others.push_back(add(i % 150, -1));
    }
    for (DelayedCall& call : others) {
        call.cancel(); // moves nodes around the stale ones
    }
    EXPECT_EQ(queue.size(), 100u);
    runAll(2000);
    std::vector<int> expected;
    for (int id = 99; id >= 0; --id) {
        expected.push_back(id);
    }
    EXPECT_EQ(ran, expected);
}

// A random mix of operations checked against a simple model: a map from (time, seq) to id,
// where rescheduling takes a fresh sequence number as the queue documents.
TEST_F(TimerQueueTest, MatchesAReferenceModelUnderRandomOperations) {
    std::mt19937_64 random(20261122);
    std::map<std::pair<double, std::uint64_t>, int> model; // the pending calls
    std::map<int, std::pair<double, std::uint64_t>> keyOf;
    std::vector<DelayedCall> handles;
    std::uint64_t seq = 0;
    double now = 0;
    std::size_t maxPending = 0;
    const auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
    };
    const auto randomTime = [&] {
        // Coarse times so that ties are frequent.
        return now + static_cast<double>(std::uniform_int_distribution<int>(0, 80)(random)) / 4;
    };
    const auto pickPending = [&] {
        return std::next(model.begin(), static_cast<std::ptrdiff_t>(pick(model.size())))->second;
    };
    const auto moveTo = [&](int id, double when) {
        model.erase(keyOf[id]);
        keyOf[id] = {when, seq++};
        model[keyOf[id]] = id;
    };

    for (int step = 0; step < 10000; ++step) {
        const std::size_t op = pick(100);
        if (op < 40 || model.empty()) {
            const int id = static_cast<int>(handles.size());
            const double when = randomTime();
            handles.push_back(add(when, id));
            keyOf[id] = {when, seq++};
            model[keyOf[id]] = id;
        } else if (op < 60) {
            const int id = pickPending();
            handles[id].cancel();
            model.erase(keyOf[id]);
        } else if (op < 72) {
            const int id = pickPending();
            const double when = randomTime();
            time.now = now;
            handles[id].reset(when - now);
            moveTo(id, when);
        } else if (op < 82) {
            const int id = pickPending();
            const double by =
                static_cast<double>(std::uniform_int_distribution<int>(-8, 40)(random)) / 4;
            handles[id].delay(by);
            moveTo(id, keyOf[id].first + by);
        } else if (op < 87) {
            const int id = static_cast<int>(pick(handles.size()));
            if (!handles[id].active()) {
                EXPECT_ANY_THROW(handles[id].cancel());
                EXPECT_ANY_THROW(handles[id].reset(1));
            }
        } else {
            now += static_cast<double>(pick(8)) / 4;
            const std::size_t before = ran.size();
            runAll(now);
            std::vector<int> expected;
            while (!model.empty() && model.begin()->first.first <= now) {
                expected.push_back(model.begin()->second);
                model.erase(model.begin());
            }
            ASSERT_EQ(
                std::vector<int>(ran.begin() + static_cast<std::ptrdiff_t>(before), ran.end()),
                expected)
                << "at step " << step;
            if (!model.empty()) {
                ASSERT_GT(queue.nextTime(), now) << "at step " << step; // re-filed what was due
            }
        }
        maxPending = std::max(maxPending, model.size());
        ASSERT_EQ(queue.size(), model.size()) << "at step " << step;
        ASSERT_EQ(queue.nextSequence(), seq) << "at step " << step;
        if (step % 37 == 0) {
            // nextTime() is a lower bound: calls moved later count at their old time.
            const std::optional<double> next = queue.nextTime();
            ASSERT_EQ(next.has_value(), !model.empty()) << "at step " << step;
            if (next) {
                ASSERT_LE(*next, model.begin()->first.first) << "at step " << step;
            }
            std::vector<DelayedCall> expectedPending;
            for (const auto& [key, id] : model) {
                expectedPending.push_back(handles[id]);
            }
            ASSERT_EQ(queue.pending(), expectedPending) << "at step " << step;
        }
    }
    // The mix did exercise everything: many calls ran, and the queue held a fair number.
    EXPECT_GT(ran.size(), 1000u);
    EXPECT_GT(maxPending, 50u);
}

} // namespace
