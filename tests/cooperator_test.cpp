// task::Cooperator and CooperativeTask on a task::Clock (each advance() is one tick, and
// slices end after a fixed number of steps), after Twisted's test_cooperator; plus one
// run on the real reactor showing that a task that never yields for long leaves timers
// running.
#include <braid/deferred.hpp>
#include <braid/reactor.hpp>
#include <braid/task/clock.hpp>
#include <braid/task/cooperator.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/run_until.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using braid::Deferred;
using braid::Reactor;
using braid::task::Clock;
using braid::task::CooperativeTask;
using braid::task::Cooperator;
using braid::task::NotPaused;
using braid::task::SchedulerStopped;
using braid::task::TaskDone;
using braid::task::TaskFinished;
using braid::task::TaskStopped;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::runUntil;

namespace {

// Slices of `steps` steps.
Cooperator::TerminationPredicateFactory stepsPerSlice(int steps) {
    return [steps] { return [steps, done = 0]() mutable { return ++done >= steps; }; };
}

// A step that appends `name` to `log` and says there is more to do `count` times.
std::function<bool()> logging(std::vector<std::string>& log, std::string name, int count) {
    return [&log, name = std::move(name), count]() mutable {
        log.push_back(name);
        return --count > 0;
    };
}

class CooperatorTest : public ::testing::Test {
protected:
    Cooperator makeCooperator(int steps, bool started = true) {
        return Cooperator(Cooperator::Options{.clock = &clock,
                                              .terminationPredicateFactory = stepsPerSlice(steps),
                                              .started = started});
    }

    Clock clock;
    std::vector<std::string> log;
};

using Log = std::vector<std::string>;

TEST_F(CooperatorTest, RunsATaskStepByStepInLaterTicks) {
    Cooperator cooperator = makeCooperator(1);
    auto task = cooperator.cooperate(logging(log, "a", 3));
    Deferred<void> done = task->whenDone();
    EXPECT_TRUE(log.empty()); // nothing runs inside cooperate()
    clock.advance(1);
    EXPECT_EQ(log, Log{"a"});
    clock.advance(1);
    EXPECT_TRUE(hasNoResult(done));
    clock.advance(1);
    EXPECT_EQ(log, (Log{"a", "a", "a"}));
    EXPECT_TRUE(done.hasResult());
    EXPECT_TRUE(task->finished());
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    // whenDone() after the end fires at once.
    EXPECT_TRUE(task->whenDone().hasResult());
    EXPECT_THROW(task->pause(), TaskDone);
}

TEST_F(CooperatorTest, InterleavesTasksWithinASlice) {
    Cooperator cooperator = makeCooperator(3);
    (void)cooperator.cooperate(logging(log, "a", 3));
    (void)cooperator.cooperate(logging(log, "b", 2));
    clock.advance(1);
    EXPECT_EQ(log, (Log{"a", "b", "a"}));
    clock.advance(1);
    EXPECT_EQ(log, (Log{"a", "b", "a", "b", "a"}));
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(CooperatorTest, CoiterateGivesTheDoneDeferred) {
    Cooperator cooperator = makeCooperator(10);
    Deferred<void> done = cooperator.coiterate(logging(log, "a", 4));
    clock.advance(1);
    EXPECT_EQ(log.size(), 4U);
    EXPECT_TRUE(done.hasResult());
}

TEST_F(CooperatorTest, PausedTasksGetNoTurnsUntilResumed) {
    Cooperator cooperator = makeCooperator(2);
    auto a = cooperator.cooperate(logging(log, "a", 10));
    (void)cooperator.cooperate(logging(log, "b", 10));
    a->pause();
    a->pause();
    EXPECT_TRUE(a->paused());
    clock.advance(1);
    EXPECT_EQ(log, (Log{"b", "b"}));
    a->resume();
    clock.advance(1);
    EXPECT_EQ(log, (Log{"b", "b", "b", "b"}));
    a->resume(); // back in the turn order, after b, whose turn it was
    clock.advance(1);
    EXPECT_EQ(log, (Log{"b", "b", "b", "b", "a", "b"}));
    EXPECT_THROW(a->resume(), NotPaused);
}

TEST_F(CooperatorTest, StopEndsATaskWithTaskStopped) {
    Cooperator cooperator = makeCooperator(1);
    auto task = cooperator.cooperate(logging(log, "a", 10));
    Deferred<void> done = task->whenDone();
    clock.advance(1);
    task->stop();
    EXPECT_TRUE(failureResultOf(done).check<TaskStopped>());
    EXPECT_THROW(task->stop(), TaskFinished);
    EXPECT_THROW(task->pause(), TaskStopped);
    clock.advance(1);
    EXPECT_EQ(log, Log{"a"});
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(CooperatorTest, AStepThatThrowsFailsItsTaskOnly) {
    Cooperator cooperator = makeCooperator(4);
    Deferred<void> failed =
        cooperator.coiterate([]() -> bool { throw std::range_error("bad step"); });
    Deferred<void> fine = cooperator.coiterate(logging(log, "b", 3));
    clock.advance(1);
    EXPECT_TRUE(failureResultOf(failed).check<std::range_error>());
    EXPECT_TRUE(fine.hasResult());
    EXPECT_EQ(log.size(), 3U);
}

TEST_F(CooperatorTest, AStepReturningADeferredPausesItsTask) {
    Cooperator cooperator = makeCooperator(2);
    std::vector<Deferred<bool>> waits;
    auto waiting = cooperator.cooperate([&] {
        log.emplace_back("w");
        waits.emplace_back();
        return waits.back();
    });
    (void)cooperator.cooperate(logging(log, "b", 10));
    Deferred<void> done = waiting->whenDone();
    clock.advance(1);
    EXPECT_EQ(log, (Log{"w", "b"}));
    clock.advance(1);
    EXPECT_EQ(log, (Log{"w", "b", "b", "b"}));
    waits[0].callback(true); // more to do
    clock.advance(1);
    EXPECT_EQ(log, (Log{"w", "b", "b", "b", "w", "b"}));
    waits[1].callback(false); // done
    EXPECT_TRUE(done.hasResult());
}

TEST_F(CooperatorTest, AFailedDeferredFailsItsTask) {
    Cooperator cooperator = makeCooperator(1);
    Deferred<bool> wait;
    Deferred<void> done = cooperator.coiterate([&] { return wait; });
    clock.advance(1);
    wait.errback(braid::Failure(std::range_error("no")));
    EXPECT_TRUE(failureResultOf(done).check<std::range_error>());
}

TEST_F(CooperatorTest, StoppingTheCooperatorStopsItsTasks) {
    Cooperator cooperator = makeCooperator(1);
    Deferred<void> first = cooperator.coiterate(logging(log, "a", 10));
    clock.advance(1);
    cooperator.stop();
    EXPECT_FALSE(cooperator.running());
    EXPECT_TRUE(failureResultOf(first).check<SchedulerStopped>());
    Deferred<void> late = cooperator.coiterate(logging(log, "b", 10));
    EXPECT_TRUE(failureResultOf(late).check<SchedulerStopped>());
    cooperator.start();
    Deferred<void> again = cooperator.coiterate(logging(log, "c", 1));
    clock.advance(1);
    EXPECT_TRUE(again.hasResult());
    EXPECT_EQ(log, (Log{"a", "c"}));
}

TEST_F(CooperatorTest, NotStartedWaitsForStart) {
    Cooperator cooperator = makeCooperator(1, false);
    EXPECT_FALSE(cooperator.running());
    Deferred<void> done = cooperator.coiterate(logging(log, "a", 1));
    clock.advance(1);
    EXPECT_TRUE(log.empty());
    cooperator.start();
    clock.advance(1);
    EXPECT_TRUE(done.hasResult());
}

TEST_F(CooperatorTest, TasksOutliveTheirHandles) {
    Cooperator cooperator = makeCooperator(1);
    (void)cooperator.cooperate(logging(log, "a", 2));
    clock.advance(1);
    clock.advance(1);
    EXPECT_EQ(log, (Log{"a", "a"}));
}

TEST_F(CooperatorTest, ATaskWaitingWhenItsCooperatorDiesEndsWithSchedulerStopped) {
    Deferred<bool> wait;
    Deferred<void> done;
    {
        Cooperator cooperator = makeCooperator(1);
        done = cooperator.coiterate([&] { return wait; });
        clock.advance(1);
    }
    EXPECT_TRUE(hasNoResult(done));
    wait.callback(true);
    EXPECT_TRUE(failureResultOf(done).check<SchedulerStopped>());
}

// A task with endless work shares the real reactor with a timer, in 10 ms slices.
TEST(CooperatorOnTheReactor, TimersStillRunWhileATaskWorks) {
    Reactor reactor{Reactor::Options{.backend = std::nullopt, .installSignalHandlers = false}};
    Cooperator cooperator(Cooperator::Options{
        .clock = &reactor, .terminationPredicateFactory = nullptr, .started = true});
    long steps = 0;
    auto task = cooperator.cooperate([&] {
        ++steps;
        return true;
    });
    bool timerRan = false;
    reactor.callLater(0.03, [&] {
        timerRan = true;
        task->stop();
    });
    EXPECT_TRUE(runUntil(reactor, [&] { return timerRan; }));
    EXPECT_GT(steps, 0);
    EXPECT_TRUE(task->finished());
}

} // namespace
