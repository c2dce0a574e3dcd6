#include <braid/reactor.hpp>
#include <braid/task/looping_call.hpp>

#include <cmath>
#include <stdexcept>

namespace braid::task {

namespace {

// Python's float modulo (the result has the divisor's sign), as Twisted computes with.
double pythonMod(double x, double y) {
    double result = std::fmod(x, y);
    if (result != 0 && ((result < 0) != (y < 0))) {
        result += y;
    }
    return result;
}

} // namespace

LoopingCall::~LoopingCall() {
    if (call_.active()) {
        call_.cancel();
    }
}

IReactorTime& LoopingCall::theClock() const {
    return clock != nullptr ? *clock : braid::reactor();
}

Deferred<LoopingCall*> LoopingCall::start(double interval, bool now) {
    if (running_) {
        throw std::logic_error("LoopingCall::start(): already running");
    }
    if (!(interval >= 0)) {
        throw std::invalid_argument("LoopingCall::start(): interval must be >= 0");
    }
    running_ = true;
    // The loop may fail (and drop deferred_) before start() returns: keep a handle.
    Deferred<LoopingCall*> started;
    deferred_ = started;
    startTime_ = theClock().seconds();
    interval_ = interval;
    runAtStart_ = now;
    realLastTime_.reset();
    if (now) {
        call();
    } else {
        scheduleFrom(startTime_);
    }
    return started;
}

void LoopingCall::stop() {
    if (!running_) {
        throw std::logic_error("LoopingCall::stop(): not running");
    }
    running_ = false;
    // With a call in progress (waiting on f's Deferred), the loop ends when it is done.
    if (call_.active()) {
        call_.cancel();
        call_ = DelayedCall();
        finish();
    }
}

void LoopingCall::reset() {
    if (!running_) {
        throw std::logic_error("LoopingCall::reset(): not running");
    }
    if (call_.active()) {
        call_.cancel();
        startTime_ = theClock().seconds();
        scheduleFrom(startTime_);
    }
}

void LoopingCall::finish() {
    if (auto d = takeDeferred()) {
        d->callback(this);
    }
}

void LoopingCall::call() {
    call_ = DelayedCall();
    std::weak_ptr<LoopingCall*> weak = self_;
    invoke().addBoth([weak](Outcome<void> outcome) {
        std::shared_ptr<LoopingCall*> self = weak.lock();
        if (!self) {
            return;
        }
        LoopingCall& loop = **self;
        if (outcome.failed()) {
            loop.running_ = false;
            if (auto d = loop.takeDeferred()) {
                d->errback(outcome.failure());
            }
        } else if (loop.running_) {
            loop.scheduleFrom(loop.theClock().seconds());
        } else {
            loop.finish();
        }
    });
}

Deferred<void> LoopingCall::invoke() {
    if (!countedF_) {
        return f_();
    }
    double now = theClock().seconds();
    if (interval_ == 0) {
        realLastTime_ = now;
        return countedF_(1);
    }
    double lastTime = startTime_;
    if (realLastTime_) {
        lastTime = *realLastTime_;
    } else if (runAtStart_) {
        lastTime -= interval_;
    }
    long long count = intervalOf(now) - intervalOf(lastTime);
    if (count <= 0) {
        return succeed();
    }
    realLastTime_ = now;
    return countedF_(count);
}

long long LoopingCall::intervalOf(double time) const {
    // Truncated toward zero, as Python's int() does.
    return static_cast<long long>((time - startTime_) / interval_);
}

void LoopingCall::scheduleFrom(double when) {
    double delay = 0;
    if (interval_ != 0) {
        double runningFor = when - startTime_;
        delay = interval_ - pythonMod(runningFor, interval_);
        // A delay too small to change `when` means the next interval has begun.
        if (when == when + delay) {
            delay = interval_;
        }
    }
    call_ = theClock().callLater(delay, [this] { call(); });
}

} // namespace braid::task
