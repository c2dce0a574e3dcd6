// task::Cooperator, CooperativeTask, cooperate() and coiterate(), after
// twisted.internet.task: long jobs run one step at a time, several interleaved, in short
// time slices scheduled on a clock, so the reactor keeps serving everything else.
#pragma once

#include <braid/deferred.hpp>
#include <braid/detail/function.hpp>
#include <braid/error.hpp>
#include <braid/reactor_time.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <variant>
#include <vector>

namespace braid::task {
class Cooperator;
} // namespace braid::task

namespace braid::detail {
// The Cooperator task::cooperate() and task::coiterate() use: on braid::reactor().
task::Cooperator& theCooperator();
} // namespace braid::detail

namespace braid::task {

// The operation needs a scheduler or a task in another state.
class SchedulerError : public Error {
public:
    using Error::Error;
};
// The Cooperator was stopped.
class SchedulerStopped : public SchedulerError {
public:
    SchedulerStopped() : SchedulerError("the Cooperator was stopped") {}
};
// The task has finished (TaskDone), was stopped (TaskStopped) or failed (TaskFailed).
class TaskFinished : public SchedulerError {
public:
    using SchedulerError::SchedulerError;
};
class TaskDone : public TaskFinished {
public:
    TaskDone() : TaskFinished("the task is done") {}
};
class TaskStopped : public TaskFinished {
public:
    TaskStopped() : TaskFinished("the task was stopped") {}
};
class TaskFailed : public TaskFinished {
public:
    TaskFailed() : TaskFinished("the task failed") {}
};
// resume() on a task that is not paused.
class NotPaused : public SchedulerError {
public:
    NotPaused() : SchedulerError("the task is not paused") {}
};

// One job inside a Cooperator (Twisted's CooperativeTask), shared between the caller and
// the Cooperator. Its step (Twisted's iterator) is called once per turn and returns
//   bool             true: more to do; false: done;
//   Deferred<bool>   the task pauses until it fires, and its value says whether there is
//                    more to do.
// A step that throws, or a Deferred that fails, ends the task with that failure.
class CooperativeTask : public std::enable_shared_from_this<CooperativeTask> {
public:
    using StepResult = std::variant<bool, Deferred<bool>>;
    using Step = braid::detail::UniqueFunction<StepResult()>;

    CooperativeTask(const CooperativeTask&) = delete;
    CooperativeTask& operator=(const CooperativeTask&) = delete;

    // Fires when the task is done, or fails with what ended it: the step's failure,
    // TaskStopped after stop(), SchedulerStopped when the Cooperator stopped.
    Deferred<void> whenDone();

    // Stops taking turns until resume() has been called as many times. Throws a
    // TaskFinished (TaskDone, TaskStopped...) once the task has finished.
    void pause();
    // Throws NotPaused when the task is not paused.
    void resume();
    // Ends the task with TaskStopped. Throws a TaskFinished once the task has finished.
    void stop();

    [[nodiscard]] bool paused() const noexcept { return pauseCount_ > 0; }
    [[nodiscard]] bool finished() const noexcept { return completionState_.has_value(); }

private:
    friend class Cooperator;
    struct Key {};

public:
    // Private in effect (Key): tasks come from Cooperator::cooperate().
    CooperativeTask(Key /*key*/, Step step, std::weak_ptr<Cooperator*> cooperator)
        : step_(std::move(step)), cooperator_(std::move(cooperator)) {}

private:
    void oneWorkUnit();
    void waitFor(Deferred<bool> d);
    void completeWith(Failure state, Outcome<void> result);
    void checkFinish() const;

    Step step_;
    std::weak_ptr<Cooperator*> cooperator_;
    std::vector<Deferred<void>> whenDone_;
    int pauseCount_ = 0;
    std::optional<Failure> completionState_; // what pause() and stop() throw once finished
    Outcome<void> completionResult_;
};

// Runs CooperativeTasks in turns: each tick is a time slice (10 ms by default) spent
// giving each task one step in turn, round and round; the next tick is scheduled on the
// clock a moment later, so the reactor handles I/O in between.
class Cooperator {
public:
    // A new slice's end: called once per tick, its result is asked after each step
    // whether the slice is over.
    using TerminationPredicateFactory = std::function<std::function<bool()>()>;

    struct Options {
        IReactorTime* clock = nullptr; // nullptr: braid::reactor()
        // Empty: slices of 10 ms of real (steady) time.
        TerminationPredicateFactory terminationPredicateFactory = nullptr;
        // false: tasks wait for start().
        bool started = true;
    };

    Cooperator();
    explicit Cooperator(Options options);
    Cooperator(const Cooperator&) = delete;
    Cooperator& operator=(const Cooperator&) = delete;
    // Stops (the tasks' whenDone() fail with SchedulerStopped).
    ~Cooperator();

    // Adds a task doing step() (see CooperativeTask for what a step returns).
    template <class F>
        requires std::is_invocable_v<F&>
    std::shared_ptr<CooperativeTask> cooperate(F step) {
        auto task = std::make_shared<CooperativeTask>(CooperativeTask::Key{},
                                                      CooperativeTask::Step(adapt(std::move(step))),
                                                      std::weak_ptr<Cooperator*>(self_));
        addTask(task);
        return task;
    }

    // cooperate(step)->whenDone().
    template <class F>
        requires std::is_invocable_v<F&>
    Deferred<void> coiterate(F step) {
        return cooperate(std::move(step))->whenDone();
    }

    // Begins ticking (for a Cooperator made with started = false, or after stop()).
    void start();
    // Stops ticking; the tasks it has are finished with SchedulerStopped, and so are
    // those added (or resumed) later, until start().
    void stop();
    [[nodiscard]] bool running() const noexcept { return started_ && !stopped_; }

private:
    friend class CooperativeTask;

    // A step returning bool or Deferred<bool> as a StepResult.
    template <class F>
    static auto adapt(F step) {
        using R = std::invoke_result_t<F&>;
        static_assert(std::is_same_v<R, bool> || std::is_same_v<R, Deferred<bool>>,
                      "a cooperative step returns bool or Deferred<bool>");
        return [step = std::move(step)]() mutable -> CooperativeTask::StepResult { return step(); };
    }

    void addTask(const std::shared_ptr<CooperativeTask>& task);
    void removeTask(const CooperativeTask& task);
    void tick();
    void reschedule();
    [[nodiscard]] IReactorTime& clock() const;

    Options options_;
    std::vector<std::shared_ptr<CooperativeTask>> tasks_;
    std::size_t next_ = 0; // the task whose turn is next
    DelayedCall tick_;
    bool started_;
    bool stopped_ = false;
    bool mustScheduleOnStart_ = false;
    // What tasks hold: they outlive the Cooperator safely.
    std::shared_ptr<Cooperator*> self_ = std::make_shared<Cooperator*>(this);
};

// Adds a task to the process-wide Cooperator (on braid::reactor()).
template <class F>
    requires std::is_invocable_v<F&>
std::shared_ptr<CooperativeTask> cooperate(F step) {
    return braid::detail::theCooperator().cooperate(std::move(step));
}

template <class F>
    requires std::is_invocable_v<F&>
Deferred<void> coiterate(F step) {
    return braid::detail::theCooperator().coiterate(std::move(step));
}

} // namespace braid::task
