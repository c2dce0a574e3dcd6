// ReactorPool: two reactors on two threads share one address through SO_REUSEPORT; many
// blocking clients are all echoed, by both reactors, and stop() from another thread ends
// run() cleanly. The suite's name contains "Thread": ./dev test also runs it under TSan.
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/protocols/echo.hpp>
#include <braid/reactor_pool.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

// Echo, counting the connections its reactor accepted.
class CountingEchoFactory : public braid::Factory {
public:
    explicit CountingEchoFactory(std::atomic<int>& accepted) : accepted_(accepted) {}
    std::unique_ptr<braid::Protocol> buildProtocol(const braid::Address& /*address*/) override {
        accepted_.fetch_add(1, std::memory_order_relaxed);
        return std::make_unique<braid::protocols::Echo>();
    }

private:
    std::atomic<int>& accepted_;
};

// A blocking loopback client (with a receive timeout, so that a failure cannot hang).
int connectTo(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string readExactly(int fd, std::size_t size) {
    std::string received;
    std::array<char, 256> buffer{};
    while (received.size() < size) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue; // (on io_uring the kernel's notices to the reactors can interrupt us)
        }
        if (n <= 0) {
            break;
        }
        received.append(buffer.data(), static_cast<std::size_t>(n));
    }
    return received;
}

TEST(ReactorPoolThreadTest, EveryClientIsEchoedByBothReactorsAndStopJoins) {
    braid::ReactorPool pool(
        {.reactors = 2, .backend = std::nullopt, .installSignalHandlers = false});
    std::array<std::atomic<int>, 2> accepted{};
    const std::uint16_t port = pool.listenTCP(
        0, [&](std::size_t i) { return std::make_shared<CountingEchoFactory>(accepted.at(i)); },
        128, "127.0.0.1");
    ASSERT_NE(port, 0);
    std::thread runner([&] { pool.run(); });

    constexpr int clients = 64;
    std::vector<int> fds;
    for (int i = 0; i < clients; ++i) {
        fds.push_back(connectTo(port));
        ASSERT_GE(fds.back(), 0);
    }
    int answered = 0;
    for (int i = 0; i < clients; ++i) {
        const std::string message = "hello " + std::to_string(i) + "\n";
        ASSERT_EQ(::write(fds[static_cast<std::size_t>(i)], message.data(), message.size()),
                  static_cast<ssize_t>(message.size()));
        if (readExactly(fds[static_cast<std::size_t>(i)], message.size()) == message) {
            ++answered;
        }
    }
    for (int fd : fds) {
        ::close(fd);
    }
    EXPECT_EQ(answered, clients);
    EXPECT_EQ(accepted[0] + accepted[1], clients);
    // SO_REUSEPORT spreads by a hash of the addresses: 64 clients all on one socket would
    // be a 2^-63 chance.
    EXPECT_GT(accepted[0], 0);
    EXPECT_GT(accepted[1], 0);

    pool.stop();
    runner.join();
}

TEST(ReactorPoolThreadTest, CallInReactorRunsOnThatReactorsThread) {
    braid::ReactorPool pool(
        {.reactors = 2, .backend = std::nullopt, .installSignalHandlers = false});
    std::atomic<bool> ranElsewhere{false};
    const auto caller = std::this_thread::get_id();
    pool.callInReactor(1, [&] {
        ranElsewhere = std::this_thread::get_id() != caller;
        pool.stop(); // from a reactor thread: stops the whole pool
    });
    pool.run(); // reactor 0 on this thread
    EXPECT_TRUE(ranElsewhere);
}

TEST(ReactorPoolThreadTest, StopBeforeRunEndsRunAtOnce) {
    braid::ReactorPool pool(
        {.reactors = 3, .backend = std::nullopt, .installSignalHandlers = false});
    pool.stop();
    pool.run();
    EXPECT_THROW(pool.run(), braid::ReactorNotRestartable);
}

} // namespace
