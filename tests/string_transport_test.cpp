// testing::StringTransport: what it records of a protocol's calls.
#include <braid/protocol.hpp>
#include <braid/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <string_view>

namespace {

using braid::Address;
using braid::testing::StringTransport;
using State = StringTransport::ProducerState;

struct Echo : braid::Protocol {
    void dataReceived(std::string_view data) override { transport->write(data); }
};

struct PushProducer : braid::IPushProducer {
    void pauseProducing() override {}
    void resumeProducing() override {}
    void stopProducing() override {}
};

struct PullProducer : braid::IPullProducer {
    void resumeProducing() override { ++resumed; }
    void stopProducing() override {}
    int resumed = 0;
};

TEST(StringTransportTest, RecordsWritesUntilCleared) {
    StringTransport transport;
    Echo proto;
    proto.makeConnection(transport);
    proto.dataReceived("hello ");
    std::array<std::string_view, 2> pieces{"wor", "ld"};
    transport.writeSequence(pieces);
    EXPECT_EQ(transport.value(), "hello world");
    transport.clear();
    EXPECT_EQ(transport.value(), "");
    proto.dataReceived("again");
    EXPECT_EQ(transport.value(), "again");
    EXPECT_EQ(transport.bufferedBytes(), 0U);
}

TEST(StringTransportTest, LoseConnectionOnlySetsDisconnecting) {
    StringTransport transport;
    EXPECT_FALSE(transport.disconnecting);
    transport.loseConnection();
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_FALSE(transport.aborted);
    transport.write("after");
    EXPECT_EQ(transport.value(), "after");
}

TEST(StringTransportTest, AbortConnectionSetsAbortedAndDisconnecting) {
    StringTransport transport;
    transport.write("kept");
    transport.abortConnection();
    EXPECT_TRUE(transport.aborted);
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_EQ(transport.value(), "kept");
}

TEST(StringTransportTest, LoseWriteConnectionAndTcpOptionsAreRecorded) {
    StringTransport transport;
    transport.loseWriteConnection();
    transport.setTcpNoDelay(true);
    transport.setTcpKeepAlive(true);
    EXPECT_TRUE(transport.writeDisconnecting);
    EXPECT_FALSE(transport.disconnecting);
    EXPECT_TRUE(transport.tcpNoDelay);
    EXPECT_TRUE(transport.tcpKeepAlive);
}

TEST(StringTransportTest, RecordsTheRegisteredProducer) {
    StringTransport transport;
    PushProducer push;
    EXPECT_EQ(transport.producer(), nullptr);
    transport.registerProducer(push);
    EXPECT_EQ(transport.producer(), &push);
    EXPECT_TRUE(transport.streaming());
    EXPECT_THROW(transport.registerProducer(push), std::logic_error);
    transport.unregisterProducer();
    EXPECT_EQ(transport.producer(), nullptr);
    EXPECT_THROW(transport.unregisterProducer(), std::logic_error);

    PullProducer pull;
    transport.registerProducer(pull);
    EXPECT_EQ(transport.producer(), &pull);
    EXPECT_FALSE(transport.streaming());
    EXPECT_EQ(pull.resumed, 0); // recorded, not driven
}

TEST(StringTransportTest, ProducerStateFollowsPauseResumeStop) {
    StringTransport transport;
    EXPECT_EQ(transport.producerState(), State::producing);
    transport.pauseProducing();
    EXPECT_EQ(transport.producerState(), State::paused);
    transport.resumeProducing();
    EXPECT_EQ(transport.producerState(), State::producing);
    transport.stopProducing();
    EXPECT_EQ(transport.producerState(), State::stopped);
    EXPECT_THROW(transport.pauseProducing(), std::logic_error);
    EXPECT_THROW(transport.resumeProducing(), std::logic_error);
}

TEST(StringTransportTest, AddressesAreTwistedsDefaultsAndConfigurable) {
    StringTransport transport;
    EXPECT_EQ(transport.getHost(), Address::ipv4("10.0.0.1", 12345));
    EXPECT_EQ(transport.getPeer(), Address::ipv4("192.168.1.1", 54321));
    transport.peerAddress = Address::unix("/tmp/peer");
    transport.hostAddress = Address::ipv6("::1", 80);
    EXPECT_EQ(transport.getPeer(), Address::unix("/tmp/peer"));
    EXPECT_EQ(transport.getHost(), Address::ipv6("::1", 80));
}

TEST(StringTransportTest, WriteBufferLimitsAreStored) {
    StringTransport transport;
    transport.setWriteBufferLimits({.high = 10, .low = 5, .pauseReading = false});
    EXPECT_EQ(transport.writeBufferLimits().high, 10U);
    EXPECT_EQ(transport.writeBufferLimits().low, 5U);
    EXPECT_FALSE(transport.writeBufferLimits().pauseReading);
}

TEST(StringTransportTest, ClockIsItsOwnOrTheOneGiven) {
    braid::task::Clock shared;
    StringTransport given(shared);
    EXPECT_EQ(&given.clock(), &shared);

    StringTransport own;
    EXPECT_NE(&own.clock(), &shared);
    braid::Protocol proto;
    proto.makeConnection(own);
    bool ran = false;
    proto.callLater(3, [&ran] { ran = true; });
    own.clock().advance(3);
    EXPECT_TRUE(ran);
}

} // namespace
