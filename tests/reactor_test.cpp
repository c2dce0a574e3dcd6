// braid::Reactor's loop: timers on the real clock, run/stop, system event triggers,
// signals, errors in callbacks, and the choice of backend.
#include <braid/reactor.hpp>
#include <braid/task.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/testing/run_until.hpp>
#include <braid/threads.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using braid::Deferred;
using braid::Reactor;
using braid::testing::LogCapture;
using braid::testing::runUntil;

namespace {

Reactor::Options quiet(Reactor::Backend backend = Reactor::Backend::epoll) {
    return {.backend = backend, .installSignalHandlers = false};
}

TEST(Reactor, CallLaterRunsInTimeOrderOnTheRealClock) {
    Reactor reactor(quiet());
    std::vector<int> order;
    reactor.callLater(0.03, [&] { order.push_back(3); });
    reactor.callLater(0.01, [&] { order.push_back(1); });
    reactor.callLater(0.02, [&] { order.push_back(2); });
    double start = reactor.seconds();
    ASSERT_TRUE(runUntil(reactor, [&] { return order.size() == 3; }));
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
    EXPECT_GE(reactor.seconds() - start, 0.03);
}

TEST(Reactor, CancelledCallsDoNotRun) {
    Reactor reactor(quiet());
    bool ran = false;
    bool later = false;
    auto call = reactor.callLater(0.01, [&] { ran = true; });
    reactor.callLater(0.02, [&] { later = true; });
    call.cancel();
    ASSERT_TRUE(runUntil(reactor, [&] { return later; }));
    EXPECT_FALSE(ran);
}

TEST(Reactor, RunStopsFromATimerAndCallWhenRunningRunsFirst) {
    Reactor reactor(quiet());
    std::vector<std::string> events;
    reactor.callWhenRunning([&] { events.emplace_back("running"); });
    reactor.callLater(0, [&] {
        events.emplace_back("timer");
        reactor.stop();
    });
    reactor.run();
    EXPECT_EQ(events, (std::vector<std::string>{"running", "timer"}));
    EXPECT_FALSE(reactor.running());
}

TEST(Reactor, SystemEventTriggersRunInPhaseOrder) {
    Reactor reactor(quiet());
    std::vector<std::string> events;
    for (const char* event : {"startup", "shutdown"}) {
        for (const char* phase : {"after", "during", "before"}) {
            reactor.addSystemEventTrigger(phase, event, [&events, phase, event] {
                events.push_back(std::string(phase) + " " + event);
            });
        }
    }
    reactor.callWhenRunning([&] { reactor.stop(); });
    reactor.run();
    EXPECT_EQ(events,
              (std::vector<std::string>{"before startup", "during startup", "after startup",
                                        "before shutdown", "during shutdown", "after shutdown"}));
}

TEST(Reactor, ShutdownWaitsForDeferredsFromBeforeTriggers) {
    Reactor reactor(quiet());
    std::vector<std::string> events;
    reactor.addSystemEventTrigger("before", "shutdown", [&] {
        return braid::task::deferLater(reactor, 0.05, [&] { events.emplace_back("drained"); });
    });
    reactor.addSystemEventTrigger("during", "shutdown", [&] { events.emplace_back("during"); });
    reactor.callWhenRunning([&] { reactor.stop(); });
    reactor.run();
    EXPECT_EQ(events, (std::vector<std::string>{"drained", "during"}));
}

TEST(Reactor, RemovedTriggersDoNotRun) {
    Reactor reactor(quiet());
    bool ran = false;
    auto id = reactor.addSystemEventTrigger("before", "shutdown", [&] { ran = true; });
    reactor.removeSystemEventTrigger(id);
    reactor.callWhenRunning([&] { reactor.stop(); });
    reactor.run();
    EXPECT_FALSE(ran);
}

TEST(Reactor, BadTriggerNamesAreRejected) {
    Reactor reactor(quiet());
    EXPECT_THROW(reactor.addSystemEventTrigger("sometime", "shutdown", [] {}),
                 std::invalid_argument);
    EXPECT_THROW(reactor.addSystemEventTrigger("before", "lunch", [] {}), std::invalid_argument);
}

TEST(Reactor, CannotBeRestarted) {
    Reactor reactor(quiet());
    reactor.callWhenRunning([&] { reactor.stop(); });
    reactor.run();
    EXPECT_THROW(reactor.run(), braid::ReactorNotRestartable);
}

TEST(Reactor, StopWhenNotRunningThrows) {
    Reactor reactor(quiet());
    EXPECT_THROW(reactor.stop(), braid::ReactorNotRunning);
    reactor.callWhenRunning([&] {
        reactor.stop();
        EXPECT_THROW(reactor.stop(), braid::ReactorNotRunning);
    });
    reactor.run();
}

TEST(Reactor, ThrowingTimerIsLoggedAndTheLoopGoesOn) {
    LogCapture log;
    Reactor reactor(quiet());
    bool after = false;
    reactor.callLater(0, [] { throw std::runtime_error("timer exploded"); });
    reactor.callLater(0.01, [&] { after = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return after; }));
    EXPECT_TRUE(log.contains("timer exploded"));
}

TEST(Reactor, CallLaterZeroLoopDoesNotStarveOtherTimers) {
    Reactor reactor(quiet());
    int spins = 0;
    bool other = false;
    std::function<void()> spin = [&] {
        ++spins;
        if (!other) {
            reactor.callLater(0, spin);
        }
    };
    reactor.callLater(0, spin);
    reactor.callLater(0.02, [&] { other = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return other; }));
    EXPECT_GT(spins, 1);
}

TEST(Reactor, SigtermStopsTheReactorWithShutdownTriggers) {
    Reactor reactor; // installs its signal handlers while running
    bool shutdownRan = false;
    reactor.addSystemEventTrigger("before", "shutdown", [&] { shutdownRan = true; });
    reactor.callLater(0.01, [] { std::raise(SIGTERM); });
    reactor.callLater(5, [&] { reactor.stop(); }); // a safety net, not expected to fire
    double start = reactor.seconds();
    reactor.run();
    EXPECT_TRUE(shutdownRan);
    EXPECT_LT(reactor.seconds() - start, 4);
}

TEST(Reactor, BackendIsChosenByOptionOrEnvironment) {
    EXPECT_STREQ(Reactor(quiet(Reactor::Backend::epoll)).backendName(), "epoll");
    EXPECT_STREQ(Reactor(quiet(Reactor::Backend::poll)).backendName(), "poll");
    // io_uring, or epoll where the kernel refuses it.
    std::string uring = Reactor(quiet(Reactor::Backend::uring)).backendName();
    EXPECT_TRUE(uring == "io_uring" || uring == "epoll") << uring;
    const char* outer = std::getenv("BRAID_REACTOR"); // a whole run may be on one backend
    std::string saved = outer != nullptr ? outer : "";
    Reactor::Options unset{.backend = std::nullopt, .installSignalHandlers = false};
    ::setenv("BRAID_REACTOR", "poll", 1);
    EXPECT_STREQ(Reactor(unset).backendName(), "poll");
    ::setenv("BRAID_REACTOR", "kqueue", 1);
    EXPECT_THROW(Reactor{unset}, std::invalid_argument);
    ::unsetenv("BRAID_REACTOR");
    EXPECT_STREQ(Reactor(unset).backendName(), "epoll");
    ::setenv("BRAID_REACTOR", "uring", 1);
    EXPECT_EQ(Reactor(unset).backendName(), uring);
    if (outer != nullptr) {
        ::setenv("BRAID_REACTOR", saved.c_str(), 1);
    } else {
        ::unsetenv("BRAID_REACTOR");
    }
}

TEST(Reactor, DeferLaterOnTheRealReactor) {
    Reactor reactor(quiet());
    auto d = braid::task::deferLater(reactor, 0.01, [] { return 7; });
    ASSERT_TRUE(runUntil(reactor, [&] { return d.hasResult(); }));
    EXPECT_EQ(braid::testing::successResultOf(d), 7);
}

TEST(ReactorThreadTest, CallFromThreadWakesTheLoop) {
    Reactor reactor(quiet());
    std::thread::id ranOn;
    bool ran = false;
    std::thread other([&] {
        reactor.callFromThread([&] {
            ranOn = std::this_thread::get_id();
            ran = true;
        });
    });
    // A long poll timeout: only the wakeup can end the wait early.
    double start = reactor.seconds();
    while (!ran && reactor.seconds() - start < 5) {
        reactor.iterate(5);
    }
    other.join();
    EXPECT_TRUE(ran);
    EXPECT_EQ(ranOn, std::this_thread::get_id());
    EXPECT_LT(reactor.seconds() - start, 4);
}

TEST(ReactorThreadTest, DeferToThreadFiresOnTheReactorThread) {
    Reactor reactor(quiet());
    std::thread::id workedOn;
    auto d = braid::deferToThread(reactor, [&] {
        workedOn = std::this_thread::get_id();
        return 6 * 7;
    });
    std::thread::id firedOn;
    d.addCallback([&](int x) {
        firedOn = std::this_thread::get_id();
        return x;
    });
    ASSERT_TRUE(runUntil(reactor, [&] { return d.hasResult(); }));
    EXPECT_EQ(braid::testing::successResultOf(d), 42);
    EXPECT_NE(workedOn, std::this_thread::get_id());
    EXPECT_EQ(firedOn, std::this_thread::get_id());
}

TEST(ReactorThreadTest, CallInThreadAndThePoolStopsAtShutdown) {
    Reactor reactor(quiet());
    std::atomic<int> done{0};
    for (int i = 0; i < 8; ++i) {
        reactor.callInThread([&] { ++done; });
    }
    reactor.callWhenRunning([&] { reactor.stop(); });
    reactor.run(); // stopping the pool finishes its queued work
    EXPECT_EQ(done.load(), 8);
}

TEST(ReactorThreadTest, BlockingCallFromThreadRunsOnTheReactor) {
    Reactor reactor(quiet());
    int result = 0;
    std::thread worker([&] {
        result = braid::blockingCallFromThread(reactor, [] { return 5; });
        reactor.callFromThread([&] { reactor.stop(); });
    });
    reactor.run();
    worker.join();
    EXPECT_EQ(result, 5);
}

} // namespace
