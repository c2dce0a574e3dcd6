// Protocol (makeConnection, readConnectionLost, callLater cancelled with the connection)
// and Factory (doStart/doStop counting, forProtocol).
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/protocol.hpp>
#include <braid/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using braid::Address;
using braid::ConnectionDone;
using braid::DelayedCall;
using braid::Failure;
using braid::Protocol;
using braid::testing::StringTransport;

struct Recorder : Protocol {
    void connectionMade() override {
        madeWithTransport = transport != nullptr;
        madeConnected = connected;
        ++made;
    }
    void connectionLost(const Failure& reason) override {
        lost = reason;
        lostWhileConnected = connected;
        pendingWhenLost = pending.active();
    }

    int made = 0;
    bool madeWithTransport = false;
    bool madeConnected = false;
    std::optional<Failure> lost;
    bool lostWhileConnected = true;
    DelayedCall pending;
    bool pendingWhenLost = true;
};

TEST(ProtocolTest, MakeConnectionSetsTransportThenCallsConnectionMade) {
    StringTransport transport;
    Recorder proto;
    EXPECT_FALSE(proto.connected);
    proto.makeConnection(transport);
    EXPECT_EQ(proto.transport, &transport);
    EXPECT_TRUE(proto.connected);
    EXPECT_EQ(proto.made, 1);
    EXPECT_TRUE(proto.madeWithTransport);
    EXPECT_TRUE(proto.madeConnected);
}

TEST(ProtocolTest, ReadConnectionLostLosesTheConnectionByDefault) {
    StringTransport transport;
    Protocol proto;
    proto.makeConnection(transport);
    proto.readConnectionLost();
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_FALSE(transport.aborted);
}

TEST(ProtocolTest, CallLaterRunsOnTheTransportsClock) {
    StringTransport transport;
    Protocol proto;
    proto.makeConnection(transport);
    std::vector<int> ran;
    DelayedCall call = proto.callLater(2, [&ran](int value) { ran.push_back(value); }, 7);
    EXPECT_DOUBLE_EQ(call.getTime(), 2.0);
    transport.clock().advance(1.5);
    EXPECT_TRUE(ran.empty());
    transport.clock().advance(0.5);
    EXPECT_EQ(ran, std::vector<int>{7});
}

TEST(ProtocolTest, DeliverConnectionLostCancelsPendingCallsBeforeConnectionLost) {
    StringTransport transport;
    Recorder proto;
    proto.makeConnection(transport);
    bool ran = false;
    proto.pending = proto.callLater(1, [&ran] { ran = true; });
    braid::detail::deliverConnectionLost(proto, ConnectionDone());

    ASSERT_TRUE(proto.lost.has_value());
    EXPECT_TRUE(proto.lost->check<ConnectionDone>());
    EXPECT_FALSE(proto.connected);
    EXPECT_FALSE(proto.lostWhileConnected);
    EXPECT_FALSE(proto.pendingWhenLost);
    EXPECT_TRUE(proto.pending.cancelled());
    transport.clock().advance(5);
    EXPECT_FALSE(ran);
}

TEST(ProtocolTest, CallsThatRanOrWereCancelledAreLeftAlone) {
    StringTransport transport;
    Recorder proto;
    proto.makeConnection(transport);
    int ran = 0;
    DelayedCall early = proto.callLater(1, [&ran] { ++ran; });
    DelayedCall cancelled = proto.callLater(1, [&ran] { ++ran; });
    cancelled.cancel();
    DelayedCall late = proto.callLater(3, [&ran] { ++ran; });
    transport.clock().advance(2);
    EXPECT_NO_THROW(braid::detail::deliverConnectionLost(proto, ConnectionDone()));
    EXPECT_TRUE(early.called());
    EXPECT_TRUE(late.cancelled());
    transport.clock().advance(5);
    EXPECT_EQ(ran, 1);
}

TEST(ProtocolTest, DestroyingAProtocolCancelsItsCalls) {
    StringTransport transport;
    auto proto = std::make_unique<Protocol>();
    proto->makeConnection(transport);
    bool ran = false;
    DelayedCall call = proto->callLater(1, [&ran] { ran = true; });
    proto.reset();
    EXPECT_TRUE(call.cancelled());
    transport.clock().advance(2);
    EXPECT_FALSE(ran);
}

// --- Factory ---------------------------------------------------------------------------

struct CountingFactory : braid::Factory {
    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        return std::make_unique<Protocol>();
    }
    void startFactory() override {
        if (failStart) {
            throw std::runtime_error("cannot start");
        }
        ++starts;
    }
    void stopFactory() override { ++stops; }

    int starts = 0;
    int stops = 0;
    bool failStart = false;
};

TEST(FactoryTest, StartsOnTheFirstUserAndStopsAfterTheLast) {
    CountingFactory factory;
    factory.doStart();
    factory.doStart();
    EXPECT_EQ(factory.starts, 1);
    factory.doStop();
    EXPECT_EQ(factory.stops, 0);
    factory.doStop();
    EXPECT_EQ(factory.stops, 1);
    factory.doStart();
    EXPECT_EQ(factory.starts, 2);
}

TEST(FactoryTest, ExtraStopsAreIgnored) {
    CountingFactory factory;
    factory.doStop();
    EXPECT_EQ(factory.stops, 0);
    factory.doStart();
    factory.doStop();
    factory.doStop();
    EXPECT_EQ(factory.stops, 1);
    factory.doStart();
    EXPECT_EQ(factory.starts, 2);
}

TEST(FactoryTest, AFailedStartDoesNotCountAUser) {
    CountingFactory factory;
    factory.failStart = true;
    EXPECT_THROW(factory.doStart(), std::runtime_error);
    factory.failStart = false;
    factory.doStart();
    EXPECT_EQ(factory.starts, 1);
    factory.doStop();
    EXPECT_EQ(factory.stops, 1);
}

struct Shared {
    int connections = 0;
};

struct Greeter : Protocol {
    Greeter(std::string greeting, int number, std::shared_ptr<Shared> shared)
        : greeting(std::move(greeting)), number(number), shared(std::move(shared)) {
        ++this->shared->connections;
    }
    std::string greeting;
    int number;
    std::shared_ptr<Shared> shared;
};

TEST(FactoryTest, ForProtocolPassesCopiesOfItsArgumentsToEveryProtocol) {
    auto shared = std::make_shared<Shared>();
    std::string greeting = "hello";
    std::shared_ptr<braid::Factory> factory =
        braid::Factory::forProtocol<Greeter>(greeting, 42, shared);
    greeting = "changed";

    auto first = factory->buildProtocol(Address::ipv4("10.0.0.1", 1));
    auto second = factory->buildProtocol(Address::ipv4("10.0.0.2", 2));
    auto* greeter = dynamic_cast<Greeter*>(first.get());
    ASSERT_NE(greeter, nullptr);
    EXPECT_EQ(greeter->greeting, "hello");
    EXPECT_EQ(greeter->number, 42);
    EXPECT_EQ(greeter->shared, shared);
    EXPECT_NE(first, second);
    EXPECT_EQ(shared->connections, 2);
}

TEST(FactoryTest, ClientFactoryForProtocol) {
    auto shared = std::make_shared<Shared>();
    std::shared_ptr<braid::ClientFactory> factory =
        braid::ClientFactory::forProtocol<Greeter>("hi", 1, shared);
    auto proto = factory->buildProtocol(Address::ipv4("10.0.0.1", 1));
    ASSERT_NE(dynamic_cast<Greeter*>(proto.get()), nullptr);
    EXPECT_EQ(dynamic_cast<Greeter&>(*proto).greeting, "hi");
}

} // namespace
