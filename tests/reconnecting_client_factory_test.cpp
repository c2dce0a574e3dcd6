// ReconnectingClientFactory: the backoff sequence checked exactly against Twisted's (Python's
// random seeded with 42 drives both), maxRetries, stopTrying, resetDelay on a task::Clock;
// and a real client that rides out its server going away and coming back on the same port.
#include <braid/error.hpp>
#include <braid/reactor.hpp>
#include <braid/reconnecting_client_factory.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/memory_reactor.hpp>
#include <braid/testing/run_until.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using braid::Address;
using braid::ConnectionDone;
using braid::ConnectionRefusedError;
using braid::Factory;
using braid::Failure;
using braid::IConnector;
using braid::IListeningPort;
using braid::Protocol;
using braid::Reactor;
using braid::ReconnectingClientFactory;
using braid::task::Clock;
using braid::testing::MemoryConnector;
using braid::testing::runUntil;

namespace {

// Python's random.Random(seed).random(): MT19937 seeded by init_by_array({seed}), and
// 53-bit doubles from two outputs, so the test can compare with numbers Python computed.
class PythonRandom {
public:
    explicit PythonRandom(std::uint32_t seed) {
        constexpr std::size_t n = 624;
        std::array<std::uint32_t, n> mt{};
        mt[0] = 19650218U;
        for (std::size_t i = 1; i < n; ++i) {
            mt[i] = 1812433253U * (mt[i - 1] ^ (mt[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
        }
        std::size_t i = 1;
        for (std::size_t k = n; k > 0; --k) { // init_by_array with the one-word key {seed}
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + seed;
            if (++i >= n) {
                mt[0] = mt[n - 1];
                i = 1;
            }
        }
        for (std::size_t k = n - 1; k > 0; --k) {
            mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) -
                    static_cast<std::uint32_t>(i);
            if (++i >= n) {
                mt[0] = mt[n - 1];
                i = 1;
            }
        }
        mt[0] = 0x80000000U;
        // The engine's text form: its state words, then (libstdc++) its position.
        std::stringstream state;
        for (std::uint32_t word : mt) {
            state << word << ' ';
        }
        state << n;
        state >> engine_;
    }

    double operator()() {
        auto a = static_cast<double>(engine_() >> 5);
        auto b = static_cast<double>(engine_() >> 6);
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }

private:
    std::mt19937 engine_;
};

class Factory42 : public ReconnectingClientFactory {
public:
    explicit Factory42(Clock& clock) {
        this->clock = &clock;
        random = PythonRandom(42);
    }
    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        resetDelay();
        return std::make_unique<Protocol>();
    }
};

const Failure refused{ConnectionRefusedError()};

TEST(PythonRandom, MatchesPython) {
    PythonRandom random(42);
    EXPECT_EQ(random(), 0.6394267984578837);
    EXPECT_EQ(random(), 0.025010755222666936);
    EXPECT_EQ(random(), 0.27502931836911926);
}

TEST(ReconnectingClientFactory, HasTwistedsDefaults) {
    Clock clock;
    Factory42 factory(clock);
    EXPECT_EQ(factory.initialDelay, 1.0);
    EXPECT_EQ(factory.maxDelay, 3600);
    EXPECT_EQ(factory.factor, 2.7182818284590451);
    EXPECT_EQ(factory.jitter, 0.11962656472);
    EXPECT_EQ(factory.delay, 1.0);
    EXPECT_EQ(factory.retries, 0);
    EXPECT_FALSE(factory.maxRetries);
    EXPECT_TRUE(factory.continueTrying);
}

// Python: r = random.Random(42); delay = 1.0; each retry
//   delay = min(delay * factor, 3600); delay = r.normalvariate(delay, delay * jitter)
TEST(ReconnectingClientFactory, DelaysFollowTwistedsFormulaExactly) {
    const std::vector<double> expected = {2.79805673352138,  7.1538436385084285, 22.365143691566637,
                                          59.79070585875527, 143.55544138231616, 416.60135534662993,
                                          974.2591473873975, 3198.931899129603,  3460.2482834078664,
                                          4109.17548454742,  4247.858421470669,  4439.561881591948};
    Clock clock;
    auto factory = std::make_shared<Factory42>(clock);
    auto connector = std::make_shared<MemoryConnector>(Address::ipv4("127.0.0.1", 1));
    for (std::size_t i = 0; i < expected.size(); ++i) {
        factory->clientConnectionFailed(*connector, refused);
        EXPECT_EQ(factory->delay, expected[i]) << "retry " << i + 1;
        EXPECT_EQ(factory->retries, static_cast<int>(i + 1));
        ASSERT_EQ(clock.getDelayedCalls().size(), 1U);
        EXPECT_EQ(clock.getDelayedCalls()[0].getTime(), clock.seconds() + expected[i]);
        clock.advance(expected[i]);
        EXPECT_EQ(connector->connectCalls, static_cast<int>(i + 1));
    }
}

TEST(ReconnectingClientFactory, WithoutJitterTheDelayGrowsByTheFactorUpToMaxDelay) {
    Clock clock;
    Factory42 factory(clock);
    factory.jitter = 0;
    factory.factor = 2;
    factory.maxDelay = 10;
    auto connector = std::make_shared<MemoryConnector>(Address::ipv4("127.0.0.1", 1));
    std::vector<double> delays;
    for (int i = 0; i < 5; ++i) {
        factory.clientConnectionLost(*connector, Failure(ConnectionDone()));
        delays.push_back(factory.delay);
        clock.advance(factory.delay);
    }
    EXPECT_EQ(delays, (std::vector<double>{2, 4, 8, 10, 10}));
}

TEST(ReconnectingClientFactory, GivesUpAfterMaxRetries) {
    Clock clock;
    Factory42 factory(clock);
    factory.maxRetries = 2;
    auto connector = std::make_shared<MemoryConnector>(Address::ipv4("127.0.0.1", 1));
    for (int i = 0; i < 3; ++i) {
        factory.clientConnectionFailed(*connector, refused);
        clock.advance(1000);
    }
    EXPECT_EQ(connector->connectCalls, 2);
    EXPECT_EQ(factory.retries, 3);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(ReconnectingClientFactory, StopTryingCancelsTheRetryAndStopsConnecting) {
    Clock clock;
    Factory42 factory(clock);
    auto connector = std::make_shared<MemoryConnector>(Address::ipv4("127.0.0.1", 1));
    factory.clientConnectionFailed(*connector, refused);
    factory.stopTrying();
    EXPECT_FALSE(factory.continueTrying);
    EXPECT_TRUE(connector->stoppedConnecting);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    factory.clientConnectionLost(*connector, refused);
    factory.retry();
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    EXPECT_EQ(connector->connectCalls, 0);
}

TEST(ReconnectingClientFactory, ResetDelayStartsOver) {
    Clock clock;
    Factory42 factory(clock);
    auto connector = std::make_shared<MemoryConnector>(Address::ipv4("127.0.0.1", 1));
    factory.clientConnectionFailed(*connector, refused);
    clock.advance(factory.delay);
    (void)factory.buildProtocol(connector->getDestination()); // connected: resetDelay()
    EXPECT_EQ(factory.delay, 1.0);
    EXPECT_EQ(factory.retries, 0);
}

TEST(ReconnectingClientFactory, RetryWithoutAConnectorThrows) {
    Clock clock;
    Factory42 factory(clock);
    EXPECT_THROW(factory.retry(), std::logic_error);
}

TEST(ReconnectingClientFactory, TheRetryKeepsTheConnectorAlive) {
    Clock clock;
    Factory42 factory(clock);
    std::weak_ptr<MemoryConnector> watch;
    {
        auto connector = std::make_shared<MemoryConnector>(Address::ipv4("127.0.0.1", 1));
        watch = connector;
        factory.clientConnectionFailed(*connector, refused);
    }
    ASSERT_FALSE(watch.expired());
    clock.advance(factory.delay);
    EXPECT_TRUE(watch.expired());
}

// --- on a real reactor --------------------------------------------------------------

struct Shared {
    std::string received; // by the client, over all its connections
    int connections = 0;  // client side connectionMade count
    int lost = 0;
    int failed = 0;
};

// Echoes what it gets.
class EchoServer : public Protocol {
    void dataReceived(std::string_view data) override { transport->write(data); }
};

// Sends "ping<n>" on each connection.
class Pinger : public Protocol {
public:
    explicit Pinger(Shared& shared) : shared_(shared) {}
    void connectionMade() override {
        ++shared_.connections;
        transport->write("ping" + std::to_string(shared_.connections) + ";");
    }
    void dataReceived(std::string_view data) override { shared_.received.append(data); }

private:
    Shared& shared_;
};

class PingerFactory : public ReconnectingClientFactory {
public:
    explicit PingerFactory(Shared& shared) : shared_(shared) {}
    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        resetDelay();
        return std::make_unique<Pinger>(shared_);
    }
    void clientConnectionFailed(IConnector& connector, const Failure& reason) override {
        ++shared_.failed;
        ReconnectingClientFactory::clientConnectionFailed(connector, reason);
    }
    void clientConnectionLost(IConnector& connector, const Failure& reason) override {
        ++shared_.lost;
        ReconnectingClientFactory::clientConnectionLost(connector, reason);
    }

private:
    Shared& shared_;
};

// Tracks the server's connections so the test can drop them.
class ServerFactory : public Factory {
public:
    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        auto protocol = std::make_unique<EchoServer>();
        last = protocol.get();
        return protocol;
    }
    EchoServer* last = nullptr;
};

TEST(ReconnectingClientFactoryOnTheReactor, ReconnectsWhenTheServerComesBack) {
    Reactor reactor{Reactor::Options{.backend = std::nullopt, .installSignalHandlers = false}};
    auto server = std::make_shared<ServerFactory>();
    std::shared_ptr<IListeningPort> port = reactor.listenTCP(0, server, 50, "127.0.0.1");
    const std::uint16_t portNumber = port->getHost().port();

    Shared shared;
    auto client = std::make_shared<PingerFactory>(shared);
    client->clock = &reactor;
    client->initialDelay = client->delay = 0.02;
    client->factor = 1.5;
    client->maxDelay = 0.1;
    (void)reactor.connectTCP("127.0.0.1", portNumber, client); // the connector is not kept
    ASSERT_TRUE(runUntil(reactor, [&] { return shared.received == "ping1;"; }));

    // The server goes away: no more listening, and the connection dropped.
    bool stopped = false;
    port->stopListening().addCallback([&] { stopped = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return stopped; }));
    server->last->transport->loseConnection();
    ASSERT_TRUE(runUntil(reactor, [&] { return shared.lost == 1 && shared.failed >= 2; }));
    EXPECT_EQ(shared.connections, 1);
    EXPECT_GE(client->retries, 2);

    // Back on the same port: the client finds it and talks again.
    port = reactor.listenTCP(portNumber, server, 50, "127.0.0.1");
    ASSERT_TRUE(runUntil(reactor, [&] { return shared.received == "ping1;ping2;"; }));
    EXPECT_EQ(shared.connections, 2);
    EXPECT_EQ(client->retries, 0); // resetDelay() on connecting

    // stopTrying() ends it: the next loss is not followed by a retry.
    client->stopTrying();
    server->last->transport->loseConnection();
    ASSERT_TRUE(runUntil(reactor, [&] { return shared.lost == 2; }));
    EXPECT_FALSE(runUntil(reactor, [&] { return shared.connections > 2; }, 0.3));
    EXPECT_EQ(client->retries, 0);
    bool closed = false;
    port->stopListening().addCallback([&] { closed = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return closed; }));
}

} // namespace
