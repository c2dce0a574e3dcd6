// braid/policies.hpp, after Twisted's test_policies: WrappingFactory and ProtocolWrapper,
// TimeoutMixin, TimeoutFactory and ThrottlingFactory on a task::Clock with StringTransport
// and Loopback; and a connection limit on a real reactor.
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/policies.hpp>
#include <braid/reactor.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/loopback.hpp>
#include <braid/testing/run_until.hpp>
#include <braid/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using braid::Address;
using braid::ClientFactory;
using braid::ConnectionDone;
using braid::Factory;
using braid::Failure;
using braid::IConnector;
using braid::IPushProducer;
using braid::Protocol;
using braid::ProtocolWrapper;
using braid::Reactor;
using braid::ThrottlingFactory;
using braid::TimeoutFactory;
using braid::TimeoutMixin;
using braid::TimeoutProtocol;
using braid::WrappingFactory;
using braid::task::Clock;
using braid::testing::Loopback;
using braid::testing::LoopbackOptions;
using braid::testing::runUntil;
using braid::testing::StringTransport;

namespace {

const Address somewhere = Address::ipv4("127.0.0.1", 1234);

// What a protocol saw, kept outside it (protocols die with their connections).
struct Record {
    std::string received;
    int made = 0;
    int lost = 0;
    std::optional<Failure> reason;
};

class Recording : public Protocol {
public:
    explicit Recording(std::shared_ptr<Record> record) : record_(std::move(record)) {}
    void connectionMade() override { ++record_->made; }
    void dataReceived(std::string_view data) override { record_->received.append(data); }
    void connectionLost(const Failure& reason) override {
        ++record_->lost;
        record_->reason = reason;
    }

protected:
    std::shared_ptr<Record> record_;
};

class Echo : public Recording {
public:
    using Recording::Recording;
    void dataReceived(std::string_view data) override {
        Recording::dataReceived(data);
        transport->write(data);
    }
};

// Ends a connection made on a StringTransport, as a real transport would.
void lose(Protocol& protocol) {
    braid::detail::deliverConnectionLost(protocol, Failure(ConnectionDone()));
}

// --- WrappingFactory / ProtocolWrapper ----------------------------------------------

TEST(WrappingFactory, WrapsTheProtocolsAndRelaysBothWays) {
    auto server = std::make_shared<Record>();
    auto client = std::make_shared<Record>();
    auto wrapping = std::make_shared<WrappingFactory>(Factory::forProtocol<Echo>(server));
    auto clientFactory = ClientFactory::forProtocol<Recording>(client);
    Loopback<Recording, ProtocolWrapper> loop(*clientFactory, *wrapping);
    EXPECT_EQ(server->made, 1);
    EXPECT_NE(dynamic_cast<Echo*>(&loop.server().wrappedProtocol()), nullptr);
    ASSERT_EQ(wrapping->protocols().size(), 1U);
    EXPECT_EQ(wrapping->protocols()[0], &loop.server());
    // The wrapped protocol's transport is the wrapper, which relays to the real one.
    EXPECT_EQ(loop.server().wrappedProtocol().transport, &loop.server());
    EXPECT_EQ(loop.server().getPeer(), loop.serverTransport().getPeer());

    loop.client().transport->write("hello");
    loop.pump();
    EXPECT_EQ(server->received, "hello");
    EXPECT_EQ(client->received, "hello");

    loop.server().wrappedProtocol().transport->loseConnection();
    EXPECT_TRUE(loop.server().disconnecting);
    loop.pump();
    EXPECT_EQ(server->lost, 1);
    ASSERT_TRUE(server->reason);
    EXPECT_TRUE(server->reason->check<ConnectionDone>());
    EXPECT_TRUE(wrapping->protocols().empty());
}

TEST(WrappingFactory, RefusesWhenTheWrappedFactoryRefuses) {
    class Refusing : public Factory {
        std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
            return nullptr;
        }
    };
    auto wrapping = std::make_shared<WrappingFactory>(std::make_shared<Refusing>());
    EXPECT_EQ(wrapping->buildProtocol(somewhere), nullptr);
}

TEST(WrappingFactory, StartsStopsAndTellsTheWrappedFactory) {
    struct Client : ClientFactory {
        std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
            return nullptr;
        }
        void startFactory() override { events.emplace_back("start"); }
        void stopFactory() override { events.emplace_back("stop"); }
        void startedConnecting(IConnector& /*connector*/) override {
            events.emplace_back("connecting");
        }
        void clientConnectionFailed(IConnector& /*connector*/, const Failure& /*r*/) override {
            events.emplace_back("failed");
        }
        void clientConnectionLost(IConnector& /*connector*/, const Failure& /*r*/) override {
            events.emplace_back("lost");
        }
        std::vector<std::string> events;
    };
    struct NoConnector : IConnector {
        void stopConnecting() override {}
        void disconnect() override {}
        void connect() override {}
        [[nodiscard]] Address getDestination() const override { return somewhere; }
    } connector;
    auto wrapped = std::make_shared<Client>();
    auto wrapping = std::make_shared<WrappingFactory>(wrapped);
    wrapping->doStart();
    wrapping->startedConnecting(connector);
    wrapping->clientConnectionFailed(connector, Failure(ConnectionDone()));
    wrapping->clientConnectionLost(connector, Failure(ConnectionDone()));
    wrapping->doStop();
    EXPECT_EQ(wrapped->events,
              (std::vector<std::string>{"start", "connecting", "failed", "lost", "stop"}));
}

TEST(WrappingFactory, TheWrappedProtocolsTimersGoWithTheConnection) {
    struct Ticking : Protocol {
        void connectionMade() override {
            callLater(1, [] { FAIL() << "ran after the end"; });
        }
    };
    auto wrapping = std::make_shared<WrappingFactory>(Factory::forProtocol<Ticking>());
    Clock clock;
    StringTransport transport(clock);
    auto protocol = wrapping->buildProtocol(somewhere);
    protocol->makeConnection(transport);
    EXPECT_EQ(clock.getDelayedCalls().size(), 1U);
    lose(*protocol);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(WrappingFactory, AWrapperDestroyedWithoutConnectionLostUnregisters) {
    auto wrapping = std::make_shared<WrappingFactory>(
        Factory::forProtocol<Recording>(std::make_shared<Record>()));
    StringTransport transport;
    {
        auto protocol = wrapping->buildProtocol(somewhere);
        protocol->makeConnection(transport);
        EXPECT_EQ(wrapping->protocols().size(), 1U);
    }
    EXPECT_TRUE(wrapping->protocols().empty());
}

// --- TimeoutMixin -------------------------------------------------------------------

class TimingOut : public Protocol, public TimeoutMixin {
public:
    void dataReceived(std::string_view /*data*/) override { resetTimeout(); }
};

class TimeoutMixinTest : public ::testing::Test {
protected:
    void SetUp() override { protocol.makeConnection(transport); }

    Clock clock;
    StringTransport transport{clock};
    TimingOut protocol;
};

TEST_F(TimeoutMixinTest, TimesOutAfterThePeriodAndLosesTheConnection) {
    EXPECT_EQ(protocol.setTimeout(5), std::nullopt);
    clock.advance(4.9);
    EXPECT_FALSE(transport.disconnecting);
    clock.advance(0.1);
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_FALSE(transport.aborted);
}

TEST_F(TimeoutMixinTest, ResetTimeoutStartsTheCountdownAgain) {
    protocol.setTimeout(5);
    clock.advance(4);
    protocol.dataReceived("x");
    clock.advance(4);
    EXPECT_FALSE(transport.disconnecting);
    clock.advance(1);
    EXPECT_TRUE(transport.disconnecting);
}

TEST_F(TimeoutMixinTest, SetTimeoutReturnsThePreviousPeriodAndNoneCancels) {
    protocol.setTimeout(5);
    EXPECT_EQ(protocol.setTimeout(10), 5);
    clock.advance(9);
    EXPECT_FALSE(transport.disconnecting);
    EXPECT_EQ(protocol.setTimeout(std::nullopt), 10);
    EXPECT_EQ(protocol.timeOut(), std::nullopt);
    clock.advance(100);
    EXPECT_FALSE(transport.disconnecting);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    protocol.resetTimeout(); // no timeout: nothing happens
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST_F(TimeoutMixinTest, CanBeSetAgainAfterItFired) {
    protocol.setTimeout(1);
    clock.advance(1);
    transport.disconnecting = false;
    protocol.setTimeout(2);
    clock.advance(2);
    EXPECT_TRUE(transport.disconnecting);
}

TEST_F(TimeoutMixinTest, ConnectionLostCancelsIt) {
    protocol.setTimeout(1);
    lose(protocol);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
    protocol.resetTimeout();
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

TEST(TimeoutMixin, TimeoutConnectionCanBeOverridden) {
    struct Aborting : Protocol, TimeoutMixin {
        void timeoutConnection() override { transport->abortConnection(); }
    };
    Clock clock;
    StringTransport transport(clock);
    Aborting protocol;
    protocol.makeConnection(transport);
    protocol.setTimeout(1);
    clock.advance(1);
    EXPECT_TRUE(transport.aborted);
}

TEST(TimeoutMixin, NeedsAConnectedProtocol) {
    TimingOut protocol;
    EXPECT_THROW(protocol.setTimeout(1), std::logic_error);
}

// --- TimeoutFactory -----------------------------------------------------------------

class TimeoutFactoryTest : public ::testing::Test {
protected:
    Clock clock;
    std::shared_ptr<Record> server = std::make_shared<Record>();
    std::shared_ptr<Record> client = std::make_shared<Record>();
    std::shared_ptr<TimeoutFactory> factory =
        std::make_shared<TimeoutFactory>(Factory::forProtocol<Echo>(server), 10);
    std::shared_ptr<ClientFactory> clientFactory = ClientFactory::forProtocol<Recording>(client);
    Loopback<Recording, TimeoutProtocol> loop{
        *clientFactory, *factory,
        LoopbackOptions{.delivery = braid::testing::Delivery::allAtOnce,
                        .seed = 0,
                        .maxChunk = 16,
                        .dropAfterBytes = std::nullopt,
                        .clientAddress = Address::ipv4("127.0.0.1", 54321),
                        .serverAddress = Address::ipv4("127.0.0.1", 8000),
                        .clock = &clock}};
};

TEST_F(TimeoutFactoryTest, ClosesAnIdleConnection) {
    EXPECT_EQ(loop.server().timeOut(), 10);
    clock.advance(9.9);
    loop.pump();
    EXPECT_EQ(client->lost, 0);
    clock.advance(0.1);
    loop.pump();
    EXPECT_EQ(server->lost, 1);
    EXPECT_EQ(client->lost, 1);
    ASSERT_TRUE(client->reason);
    EXPECT_TRUE(client->reason->check<ConnectionDone>());
}

TEST_F(TimeoutFactoryTest, TrafficKeepsItOpen) {
    for (int i = 0; i < 5; ++i) {
        clock.advance(6);
        loop.client().transport->write("ping");
        loop.pump();
    }
    EXPECT_EQ(client->lost, 0);
    EXPECT_EQ(client->received, "pingpingpingpingping");
    clock.advance(10);
    loop.pump();
    EXPECT_EQ(client->lost, 1);
}

TEST_F(TimeoutFactoryTest, CancelTimeoutKeepsItOpenForGood) {
    loop.server().cancelTimeout();
    clock.advance(1000);
    loop.pump();
    EXPECT_EQ(client->lost, 0);
}

// --- ThrottlingFactory --------------------------------------------------------------

// A push producer counting how it is paced.
struct CountingProducer : IPushProducer {
    void pauseProducing() override { ++pauses; }
    void resumeProducing() override { ++resumes; }
    void stopProducing() override {}
    int pauses = 0;
    int resumes = 0;
};

class ThrottlingTest : public ::testing::Test {
protected:
    std::shared_ptr<ThrottlingFactory> makeFactory(std::size_t maxConnections,
                                                   std::optional<double> readLimit,
                                                   std::optional<double> writeLimit) {
        auto factory = std::make_shared<ThrottlingFactory>(Factory::forProtocol<Recording>(record),
                                                           maxConnections, readLimit, writeLimit);
        factory->clock = &clock;
        return factory;
    }

    Clock clock;
    std::shared_ptr<Record> record = std::make_shared<Record>();
};

TEST_F(ThrottlingTest, RefusesConnectionsBeyondTheLimit) {
    auto factory = makeFactory(2, std::nullopt, std::nullopt);
    StringTransport t1(clock);
    StringTransport t2(clock);
    StringTransport t3(clock);
    auto p1 = factory->buildProtocol(somewhere);
    auto p2 = factory->buildProtocol(somewhere);
    ASSERT_NE(p1, nullptr);
    ASSERT_NE(p2, nullptr);
    p1->makeConnection(t1);
    p2->makeConnection(t2);
    EXPECT_EQ(factory->connectionCount(), 2U);
    EXPECT_EQ(factory->buildProtocol(somewhere), nullptr);
    lose(*p1);
    EXPECT_EQ(factory->connectionCount(), 1U);
    auto p3 = factory->buildProtocol(somewhere);
    ASSERT_NE(p3, nullptr);
    p3->makeConnection(t3);
    EXPECT_EQ(record->made, 3);
}

TEST_F(ThrottlingTest, PausesReadingForTheTimeThatEvensOutTheRate) {
    auto factory = makeFactory(10, 10.0, std::nullopt);
    StringTransport transport(clock);
    auto protocol = factory->buildProtocol(somewhere);
    protocol->makeConnection(transport);
    protocol->dataReceived(std::string(25, 'x'));
    EXPECT_EQ(factory->readThisSecond(), 25U);
    EXPECT_EQ(record->received.size(), 25U);
    clock.advance(1); // 25 bytes in a second, limit 10: paused for 25/10 - 1 = 1.5 s
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::paused);
    EXPECT_EQ(factory->readThisSecond(), 0U);
    clock.advance(1.4);
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::paused);
    clock.advance(0.1);
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::producing);
    // Within the limit: no pause.
    protocol->dataReceived(std::string(10, 'x'));
    clock.advance(1);
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::producing);
}

TEST_F(ThrottlingTest, ThrottledReadsHoldTheBytesBackOnALoopback) {
    auto factory = makeFactory(10, 10.0, std::nullopt);
    auto client = ClientFactory::forProtocol<Recording>(std::make_shared<Record>());
    Loopback<Recording, ProtocolWrapper> loop(
        *client, *factory,
        LoopbackOptions{.delivery = braid::testing::Delivery::allAtOnce,
                        .seed = 0,
                        .maxChunk = 16,
                        .dropAfterBytes = std::nullopt,
                        .clientAddress = Address::ipv4("127.0.0.1", 54321),
                        .serverAddress = Address::ipv4("127.0.0.1", 8000),
                        .clock = &clock});
    loop.client().transport->write(std::string(20, 'x'));
    loop.pump();
    clock.advance(1); // 20 bytes for a limit of 10: paused for 1 s
    loop.client().transport->write("more");
    loop.pump();
    EXPECT_EQ(record->received.size(), 20U);
    clock.advance(1);
    loop.pump();
    EXPECT_EQ(record->received.size(), 24U);
}

TEST_F(ThrottlingTest, PausesTheProducerForWrites) {
    auto factory = makeFactory(10, std::nullopt, 10.0);
    StringTransport transport(clock);
    auto protocol = factory->buildProtocol(somewhere);
    protocol->makeConnection(transport);
    Protocol& wrapped = dynamic_cast<ProtocolWrapper&>(*protocol).wrappedProtocol();
    CountingProducer producer;
    wrapped.transport->registerProducer(producer);
    EXPECT_EQ(transport.producer(), &producer);
    std::string_view pieces[] = {"0123456789", "0123456789"};
    wrapped.transport->writeSequence(pieces);
    wrapped.transport->write("0123456789");
    EXPECT_EQ(transport.value().size(), 30U);
    EXPECT_EQ(factory->writtenThisSecond(), 30U);
    clock.advance(1); // 30 bytes, limit 10: paused for 2 s
    EXPECT_EQ(producer.pauses, 1);
    clock.advance(1.9);
    EXPECT_EQ(producer.resumes, 0);
    clock.advance(0.1);
    EXPECT_EQ(producer.resumes, 1);
    wrapped.transport->unregisterProducer();
    wrapped.transport->write(std::string(100, 'x'));
    clock.advance(1); // no producer: nothing to pause
    EXPECT_EQ(producer.pauses, 1);
}

TEST_F(ThrottlingTest, TheChecksStopWithTheLastConnection) {
    auto factory = makeFactory(10, 10.0, 10.0);
    StringTransport transport(clock);
    auto protocol = factory->buildProtocol(somewhere);
    protocol->makeConnection(transport);
    protocol->dataReceived(std::string(50, 'x'));
    clock.advance(1);
    EXPECT_FALSE(clock.getDelayedCalls().empty());
    lose(*protocol);
    EXPECT_EQ(factory->connectionCount(), 0U);
    EXPECT_TRUE(clock.getDelayedCalls().empty());
}

// On a real reactor: with maxConnectionCount 1, a second client is accepted by the
// kernel and closed at once, while the first stays connected.
TEST(ThrottlingFactoryOnTheReactor, RefusesTheExtraConnection) {
    Reactor reactor{Reactor::Options{.backend = std::nullopt, .installSignalHandlers = false}};
    auto served = std::make_shared<Record>();
    auto factory = std::make_shared<ThrottlingFactory>(Factory::forProtocol<Echo>(served), 1);
    factory->clock = &reactor;
    auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
    std::uint16_t portNumber = port->getHost().port();

    auto first = std::make_shared<Record>();
    auto second = std::make_shared<Record>();
    auto c1 = reactor.connectTCP("127.0.0.1", portNumber, ClientFactory::forProtocol<Echo>(first));
    ASSERT_TRUE(runUntil(reactor, [&] { return served->made == 1; }));
    auto c2 = reactor.connectTCP("127.0.0.1", portNumber, ClientFactory::forProtocol<Echo>(second));
    ASSERT_TRUE(runUntil(reactor, [&] { return second->lost == 1; }));
    EXPECT_EQ(served->made, 1);
    EXPECT_EQ(first->lost, 0);
    EXPECT_EQ(factory->connectionCount(), 1U);

    c1->disconnect();
    ASSERT_TRUE(runUntil(reactor, [&] { return factory->connectionCount() == 0; }));
    (void)port->stopListening();
    reactor.iterate(0);
}

} // namespace
