// detail::CallQueue, the reactor's callFromThread queue: FIFO drains, no loss under
// concurrent producers, one eventfd wakeup per burst, errors logged. The suite's name
// contains "Thread", so ./dev test also runs it under ThreadSanitizer.
#include <braid/detail/call_queue.hpp>
#include <braid/testing/log_capture.hpp>

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using braid::detail::CallQueue;

// Whether fd is readable within `milliseconds`.
bool readable(int fd, int milliseconds = 0) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, milliseconds) == 1;
}

// The eventfd's counter (how many wakeups were written since the last drain), cleared.
std::uint64_t takeWakeups(const CallQueue& queue) {
    std::uint64_t count = 0;
    return ::read(queue.fd(), &count, sizeof count) == sizeof count ? count : 0;
}

TEST(CallQueueThreadTest, DrainRunsCallsInTheOrderTheyWerePushed) {
    CallQueue queue;
    std::vector<int> ran;
    for (int i = 0; i < 1000; ++i) {
        queue.push([&ran, i] { ran.push_back(i); });
    }
    EXPECT_EQ(queue.drain(), 1000U);
    ASSERT_EQ(ran.size(), 1000U);
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(ran[static_cast<std::size_t>(i)], i);
    }
}

TEST(CallQueueThreadTest, FdIsReadableOnlyWhileCallsArePending) {
    CallQueue queue;
    EXPECT_FALSE(readable(queue.fd()));
    EXPECT_EQ(queue.drain(), 0U);
    queue.push([] {});
    EXPECT_TRUE(readable(queue.fd()));
    EXPECT_EQ(queue.drain(), 1U);
    EXPECT_FALSE(readable(queue.fd()));
}

TEST(CallQueueThreadTest, ABurstWritesTheEventfdOnce) {
    CallQueue queue;
    int ran = 0;
    for (int i = 0; i < 100; ++i) {
        queue.push([&ran] { ++ran; });
    }
    EXPECT_EQ(takeWakeups(queue), 1U);
    EXPECT_EQ(queue.drain(), 100U); // its own read finds the eventfd already cleared
    queue.push([&ran] { ++ran; });
    queue.push([&ran] { ++ran; });
    EXPECT_EQ(takeWakeups(queue), 1U);
    EXPECT_EQ(queue.drain(), 2U);
    EXPECT_EQ(ran, 102);
}

TEST(CallQueueThreadTest, CallsQueuedDuringADrainWaitForTheNextOne) {
    CallQueue queue;
    std::vector<int> ran;
    queue.push([&] {
        ran.push_back(1);
        queue.push([&] { ran.push_back(3); });
    });
    queue.push([&] { ran.push_back(2); });
    EXPECT_EQ(queue.drain(), 2U);
    EXPECT_EQ(ran, (std::vector<int>{1, 2}));
    EXPECT_TRUE(readable(queue.fd())); // the reactor wakes again for it
    EXPECT_EQ(queue.drain(), 1U);
    EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(CallQueueThreadTest, ACallThatThrowsIsLoggedAndTheDrainGoesOn) {
    braid::testing::LogCapture log;
    CallQueue queue;
    std::vector<int> ran;
    queue.push([&] { ran.push_back(1); });
    queue.push([] { throw std::runtime_error("kaboom"); });
    queue.push([&] { ran.push_back(3); });
    EXPECT_EQ(queue.drain(), 3U);
    EXPECT_EQ(ran, (std::vector<int>{1, 3}));
    ASSERT_EQ(log.count("kaboom"), 1U);
    for (const braid::LogEvent& event : log.events()) {
        if (event.text.find("kaboom") != std::string::npos) {
            EXPECT_EQ(event.ns, "braid.threads");
            EXPECT_EQ(event.level, braid::LogLevel::error);
        }
    }
}

TEST(CallQueueThreadTest, DestructionDropsPendingCalls) {
    auto token = std::make_shared<int>(0);
    {
        CallQueue queue;
        for (int i = 0; i < 3; ++i) {
            queue.push([token] { ++*token; });
        }
        EXPECT_EQ(token.use_count(), 4);
    }
    EXPECT_EQ(token.use_count(), 1);
    EXPECT_EQ(*token, 0);
}

// 4 producers push 10,000 calls each while this thread drains whenever the eventfd says
// so: every call runs once, each producer's calls in order.
TEST(CallQueueThreadTest, NoCallIsLostWithFourProducers) {
    constexpr int producers = 4;
    constexpr int perProducer = 10'000;
    CallQueue queue;
    std::array<std::vector<int>, producers> seen; // only touched by drained calls
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&queue, &seen, p] {
            for (int i = 0; i < perProducer; ++i) {
                queue.push([&seen, p, i] { seen[static_cast<std::size_t>(p)].push_back(i); });
            }
        });
    }
    std::size_t total = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (total < std::size_t{producers * perProducer} &&
           std::chrono::steady_clock::now() < deadline) {
        if (readable(queue.fd(), 10)) {
            total += queue.drain();
        }
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(total, std::size_t{producers * perProducer});
    EXPECT_EQ(queue.drain(), 0U);
    for (const std::vector<int>& calls : seen) {
        ASSERT_EQ(calls.size(), std::size_t{perProducer});
        for (int i = 0; i < perProducer; ++i) {
            ASSERT_EQ(calls[static_cast<std::size_t>(i)], i);
        }
    }
}

} // namespace
