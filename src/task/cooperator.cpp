#include <braid/reactor.hpp>
#include <braid/task/cooperator.hpp>

#include <algorithm>
#include <chrono>

namespace braid::task {

namespace {

// Twisted's: a tick later, not at once, so that the reactor (or a task::Clock's
// advance()) gets to other work between ticks.
constexpr double tickDelay = 0.00000001;

// Twisted's _Timer: a slice ends 10 ms after it began.
std::function<bool()> tenMillisecondSlice() {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
    return [end] { return std::chrono::steady_clock::now() >= end; };
}

} // namespace

// --- CooperativeTask ---------------------------------------------------------------

Deferred<void> CooperativeTask::whenDone() {
    Deferred<void> d;
    if (!completionState_) {
        whenDone_.push_back(d);
    } else if (completionResult_.failed()) {
        d.errback(completionResult_.failure());
    } else {
        d.callback();
    }
    return d;
}

void CooperativeTask::pause() {
    checkFinish();
    if (++pauseCount_ == 1) {
        if (auto cooperator = cooperator_.lock()) {
            (*cooperator)->removeTask(*this);
        }
    }
}

void CooperativeTask::resume() {
    if (pauseCount_ == 0) {
        throw NotPaused();
    }
    if (--pauseCount_ == 0 && !completionState_) {
        if (auto cooperator = cooperator_.lock()) {
            (*cooperator)->addTask(shared_from_this());
        } else {
            completeWith(Failure(SchedulerStopped()), Failure(SchedulerStopped()));
        }
    }
}

void CooperativeTask::stop() {
    checkFinish();
    completeWith(Failure(TaskStopped()), Failure(TaskStopped()));
}

void CooperativeTask::checkFinish() const {
    if (completionState_) {
        completionState_->raiseException();
    }
}

void CooperativeTask::completeWith(Failure state, Outcome<void> result) {
    completionState_ = std::move(state);
    completionResult_ = std::move(result);
    if (pauseCount_ == 0) {
        if (auto cooperator = cooperator_.lock()) {
            (*cooperator)->removeTask(*this);
        }
    }
    // Fired last: their callbacks may well pause, stop or add other tasks.
    std::vector<Deferred<void>> waiting = std::move(whenDone_);
    whenDone_.clear();
    for (Deferred<void>& d : waiting) {
        if (completionResult_.failed()) {
            d.errback(completionResult_.failure());
        } else {
            d.callback();
        }
    }
}

void CooperativeTask::oneWorkUnit() {
    StepResult result;
    try {
        result = step_();
    } catch (...) {
        completeWith(Failure(TaskFailed()), Failure::current());
        return;
    }
    if (const bool* more = std::get_if<bool>(&result)) {
        if (!*more) {
            completeWith(Failure(TaskDone()), Outcome<void>::success());
        }
        return;
    }
    waitFor(std::get<Deferred<bool>>(std::move(result)));
}

// Paused until d fires; the Deferred keeps the task alive meanwhile.
void CooperativeTask::waitFor(Deferred<bool> d) {
    pause();
    (void)d.addBoth([task = shared_from_this()](Outcome<bool> outcome) {
        if (task->completionState_) { // stopped while waiting: only the pause is left
            task->pauseCount_ -= 1;
            return;
        }
        if (outcome.failed()) {
            task->completeWith(Failure(TaskFailed()), outcome.failure());
            return;
        }
        if (!outcome.value()) {
            task->completeWith(Failure(TaskDone()), Outcome<void>::success());
        }
        task->resume();
    });
}

// --- Cooperator --------------------------------------------------------------------

Cooperator::Cooperator() : Cooperator(Options{}) {}

Cooperator::Cooperator(Options options) : options_(std::move(options)), started_(options_.started) {
    if (!options_.terminationPredicateFactory) {
        options_.terminationPredicateFactory = tenMillisecondSlice;
    }
}

Cooperator::~Cooperator() {
    stop();
}

IReactorTime& Cooperator::clock() const {
    return options_.clock != nullptr ? *options_.clock : braid::reactor();
}

void Cooperator::addTask(const std::shared_ptr<CooperativeTask>& task) {
    tasks_.push_back(task);
    if (stopped_) {
        task->completeWith(Failure(SchedulerStopped()), Failure(SchedulerStopped()));
    } else {
        reschedule();
    }
}

void Cooperator::removeTask(const CooperativeTask& task) {
    auto it = std::ranges::find_if(tasks_,
                                   [&](const auto& candidate) { return candidate.get() == &task; });
    if (it == tasks_.end()) {
        return;
    }
    // Keep the turn order: the task after the removed one still goes next.
    if (static_cast<std::size_t>(it - tasks_.begin()) < next_) {
        --next_;
    }
    tasks_.erase(it);
    if (tasks_.empty() && tick_.active()) {
        tick_.cancel();
    }
}

void Cooperator::tick() {
    tick_ = DelayedCall();
    std::function<bool()> sliceOver = options_.terminationPredicateFactory();
    while (!tasks_.empty()) {
        if (next_ >= tasks_.size()) {
            next_ = 0;
        }
        std::shared_ptr<CooperativeTask> task = tasks_[next_++];
        task->oneWorkUnit();
        if (sliceOver()) {
            break;
        }
    }
    reschedule();
}

void Cooperator::reschedule() {
    if (!started_) {
        mustScheduleOnStart_ = true;
        return;
    }
    if (!tick_.active() && !tasks_.empty()) {
        tick_ = clock().callLater(tickDelay, [this] { tick(); });
    }
}

void Cooperator::start() {
    stopped_ = false;
    started_ = true;
    if (mustScheduleOnStart_) {
        mustScheduleOnStart_ = false;
        reschedule();
    }
}

void Cooperator::stop() {
    stopped_ = true;
    std::vector<std::shared_ptr<CooperativeTask>> tasks = std::move(tasks_);
    tasks_.clear();
    next_ = 0;
    for (const auto& task : tasks) {
        task->completeWith(Failure(SchedulerStopped()), Failure(SchedulerStopped()));
    }
    if (tick_.active()) {
        tick_.cancel();
    }
}

} // namespace braid::task

namespace braid::detail {

task::Cooperator& theCooperator() {
    // Constructed after the reactor, so destroyed before it.
    static task::Cooperator cooperator{task::Cooperator::Options{
        .clock = &braid::reactor(), .terminationPredicateFactory = nullptr, .started = true}};
    return cooperator;
}

} // namespace braid::detail
