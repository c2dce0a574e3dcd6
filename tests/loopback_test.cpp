// testing::Loopback: two protocols joined in memory, in every delivery mode, with closes,
// half-closes, dropped connections, producers and backpressure.
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/protocol.hpp>
#include <braid/testing/loopback.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::Address;
using braid::ConnectionAborted;
using braid::ConnectionDone;
using braid::ConnectionLost;
using braid::Failure;
using braid::Protocol;
using braid::testing::Delivery;
using braid::testing::Loopback;
using braid::testing::LoopbackOptions;

// Records everything that happens to it.
struct Peer : Protocol {
    Peer() = default;
    explicit Peer(std::string greeting) : greeting(std::move(greeting)) {}

    void connectionMade() override {
        events.emplace_back("made");
        if (!greeting.empty()) {
            transport->write(greeting);
        }
    }
    void dataReceived(std::string_view data) override {
        received.append(data);
        chunks.push_back(data.size());
    }
    void readConnectionLost() override {
        events.emplace_back("readLost");
        Protocol::readConnectionLost();
    }
    void writeConnectionLost() override { events.emplace_back("writeLost"); }
    void connectionLost(const Failure& failure) override {
        events.emplace_back("lost");
        reason = failure;
    }

    [[nodiscard]] bool lostCleanly() const { return reason && reason->check<ConnectionDone>(); }

    std::string greeting;
    std::string received;
    std::vector<std::size_t> chunks;
    std::vector<std::string> events;
    std::optional<Failure> reason;
};

struct EchoServer : Peer {
    void dataReceived(std::string_view data) override {
        Peer::dataReceived(data);
        transport->write(data);
    }
};

std::string payload(std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<char>('a' + (i * 7) % 26);
    }
    return data;
}

// --- delivery modes -----------------------------------------------------------------------

struct Mode {
    const char* name;
    LoopbackOptions options;
};

class LoopbackDeliveryTest : public ::testing::TestWithParam<Mode> {};

TEST_P(LoopbackDeliveryTest, EchoesEverythingWhateverTheDelivery) {
    std::string sent = payload(3000);
    Loopback<Peer, EchoServer> loop(std::make_unique<Peer>(sent), std::make_unique<EchoServer>(),
                                    GetParam().options);
    loop.pump();
    EXPECT_EQ(loop.server().received, sent);
    EXPECT_EQ(loop.client().received, sent);
    EXPECT_EQ(loop.deliveredBytes(), 2 * sent.size());
    EXPECT_TRUE(loop.client().connected);
    EXPECT_FALSE(loop.client().reason.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Modes, LoopbackDeliveryTest,
    ::testing::Values(
        Mode{"allAtOnce", {}}, Mode{"oneByte", {.delivery = Delivery::oneByteAtATime}},
        Mode{"random1", {.delivery = Delivery::randomChunks, .seed = 1}},
        Mode{"random2", {.delivery = Delivery::randomChunks, .seed = 2}},
        Mode{"random3small", {.delivery = Delivery::randomChunks, .seed = 3, .maxChunk = 2}},
        Mode{"random4large", {.delivery = Delivery::randomChunks, .seed = 4, .maxChunk = 1000}}),
    [](const ::testing::TestParamInfo<Mode>& info) { return std::string(info.param.name); });

std::vector<std::size_t> serverChunks(LoopbackOptions options) {
    Loopback<Peer, Peer> loop(std::make_unique<Peer>(payload(500)), std::make_unique<Peer>(),
                              std::move(options));
    loop.pump();
    EXPECT_EQ(loop.server().received, payload(500));
    return loop.server().chunks;
}

TEST(LoopbackTest, AllAtOnceDeliversOneChunk) {
    EXPECT_EQ(serverChunks({}), std::vector<std::size_t>{500});
}

TEST(LoopbackTest, OneByteAtATimeDeliversSingleBytes) {
    EXPECT_EQ(serverChunks({.delivery = Delivery::oneByteAtATime}),
              std::vector<std::size_t>(500, 1));
}

TEST(LoopbackTest, RandomChunksAreWithinBoundsAndFollowTheSeed) {
    LoopbackOptions options{.delivery = Delivery::randomChunks, .seed = 42, .maxChunk = 9};
    std::vector<std::size_t> chunks = serverChunks(options);
    EXPECT_TRUE(std::all_of(chunks.begin(), chunks.end(),
                            [](std::size_t size) { return size >= 1 && size <= 9; }));
    EXPECT_GT(std::count(chunks.begin(), chunks.end(), 1), 0);
    EXPECT_GT(std::count(chunks.begin(), chunks.end(), 9), 0);
    EXPECT_EQ(serverChunks(options), chunks);
    options.seed = 43;
    EXPECT_NE(serverChunks(options), chunks);
}

TEST(LoopbackTest, RandomChunksNeedAPositiveMaximum) {
    EXPECT_THROW((Loopback<>({.delivery = Delivery::randomChunks, .maxChunk = 0})),
                 std::invalid_argument);
}

TEST(LoopbackTest, PumpOnceMovesOneStepEachWay) {
    Loopback<Peer, Peer> loop({.delivery = Delivery::oneByteAtATime});
    std::array<std::string_view, 2> pieces{"a", "bc"};
    loop.client().transport->writeSequence(pieces);
    loop.server().transport->write("z");
    EXPECT_TRUE(loop.pumpOnce());
    EXPECT_EQ(loop.server().received, "a");
    EXPECT_EQ(loop.client().received, "z");
    EXPECT_TRUE(loop.pumpOnce());
    EXPECT_TRUE(loop.pumpOnce());
    EXPECT_EQ(loop.server().received, "abc");
    EXPECT_FALSE(loop.pumpOnce());
}

// --- setting up -------------------------------------------------------------------------

struct Ordered : Protocol {
    Ordered(std::string name, std::vector<std::string>& journal)
        : name(std::move(name)), journal(journal) {}
    void connectionMade() override { journal.push_back(name); }
    std::string name;
    std::vector<std::string>& journal;
};

TEST(LoopbackTest, TheServersConnectionIsMadeFirst) {
    std::vector<std::string> journal;
    Loopback loop(std::make_unique<Ordered>("client", journal),
                  std::make_unique<Ordered>("server", journal));
    EXPECT_EQ(journal, (std::vector<std::string>{"server", "client"}));
    EXPECT_EQ(loop.client().transport, &loop.clientTransport());
    EXPECT_EQ(loop.server().transport, &loop.serverTransport());
}

TEST(LoopbackTest, AddressesAreConfigurable) {
    Loopback<> defaults;
    EXPECT_EQ(defaults.clientTransport().getPeer(), defaults.serverTransport().getHost());
    EXPECT_EQ(defaults.serverTransport().getPeer(), defaults.clientTransport().getHost());

    Address client = Address::ipv6("::1", 40000);
    Address server = Address::unix("/tmp/server.sock");
    Loopback<> loop({.clientAddress = client, .serverAddress = server});
    EXPECT_EQ(loop.clientTransport().getHost(), client);
    EXPECT_EQ(loop.clientTransport().getPeer(), server);
    EXPECT_EQ(loop.serverTransport().getHost(), server);
    EXPECT_EQ(loop.serverTransport().getPeer(), client);
}

struct AddressFactory : braid::ClientFactory {
    std::unique_ptr<Protocol> buildProtocol(const Address& address) override {
        asked = address;
        return std::make_unique<Peer>();
    }
    Address asked;
};

TEST(LoopbackTest, FactoriesGetThePeersAddress) {
    AddressFactory clientFactory;
    AddressFactory serverFactory;
    Loopback<Peer, Peer> loop(clientFactory, serverFactory,
                              {.clientAddress = Address::ipv4("10.0.0.1", 1),
                               .serverAddress = Address::ipv4("10.0.0.2", 2)});
    EXPECT_EQ(serverFactory.asked, Address::ipv4("10.0.0.1", 1));
    EXPECT_EQ(clientFactory.asked, Address::ipv4("10.0.0.2", 2));
    EXPECT_EQ(loop.client().events, std::vector<std::string>{"made"});
}

TEST(LoopbackTest, FactoriesMadeWithForProtocol) {
    auto clientFactory = braid::ClientFactory::forProtocol<Peer>(std::string("ping"));
    auto serverFactory = braid::Factory::forProtocol<EchoServer>();
    Loopback<Peer, EchoServer> loop(*clientFactory, *serverFactory);
    loop.pump();
    EXPECT_EQ(loop.client().received, "ping");
}

TEST(LoopbackTest, AFactoryBuildingTheWrongTypeIsRejected) {
    auto clientFactory = braid::ClientFactory::forProtocol<Peer>();
    auto serverFactory = braid::Factory::forProtocol<Peer>();
    EXPECT_THROW((Loopback<Peer, EchoServer>(*clientFactory, *serverFactory)),
                 std::invalid_argument);
}

TEST(LoopbackTest, ClockIsItsOwnOrTheOneGiven) {
    braid::task::Clock clock;
    Loopback<> given({.clock = &clock});
    EXPECT_EQ(&given.clock(), &clock);
    EXPECT_EQ(&given.serverTransport().clock(), &clock);
    Loopback<> own;
    EXPECT_NE(&own.clock(), &clock);
    EXPECT_EQ(&own.clientTransport().clock(), &own.clock());
}

// --- closing ------------------------------------------------------------------------------

struct Goodbye : Peer {
    void connectionMade() override {
        Peer::connectionMade();
        transport->write("goodbye");
        transport->loseConnection();
    }
};

TEST(LoopbackTest, LoseConnectionDeliversTheBufferFirst) {
    Loopback<Peer, Goodbye> loop({.delivery = Delivery::oneByteAtATime});
    EXPECT_TRUE(loop.serverTransport().disconnecting());
    EXPECT_FALSE(loop.server().reason.has_value()); // closes during pump(), not before
    loop.pump();
    EXPECT_EQ(loop.client().received, "goodbye");
    EXPECT_TRUE(loop.server().lostCleanly());
    EXPECT_TRUE(loop.client().lostCleanly());
    EXPECT_FALSE(loop.server().connected);
    EXPECT_EQ(loop.server().events, (std::vector<std::string>{"made", "lost"}));
    // The peer read end of file, and its default readConnectionLost() closed its side.
    EXPECT_EQ(loop.client().events, (std::vector<std::string>{"made", "readLost", "lost"}));
    ASSERT_TRUE(loop.serverTransport().lostReason().has_value());
    EXPECT_TRUE(loop.serverTransport().lostReason()->check<ConnectionDone>());
    EXPECT_TRUE(loop.clientTransport().disconnected());
}

struct Aborter : Peer {
    void connectionMade() override {
        Peer::connectionMade();
        transport->write("never delivered");
        transport->abortConnection();
    }
};

TEST(LoopbackTest, AbortConnectionDropsTheBuffer) {
    Loopback<Peer, Aborter> loop;
    EXPECT_EQ(loop.serverTransport().bufferedBytes(), 0U);
    loop.pump();
    EXPECT_EQ(loop.client().received, "");
    ASSERT_TRUE(loop.server().reason.has_value());
    EXPECT_TRUE(loop.server().reason->check<ConnectionAborted>());
    ASSERT_TRUE(loop.client().reason.has_value());
    EXPECT_TRUE(loop.client().reason->check<ConnectionLost>());
    EXPECT_FALSE(loop.client().reason->check<ConnectionAborted>());
}

struct LateWriter : Peer {
    void readConnectionLost() override {
        events.emplace_back("readLost");
        transport->write("too late");
    }
};

TEST(LoopbackTest, WritingToAPeerThatClosedResetsTheConnection) {
    Loopback<LateWriter, Goodbye> loop;
    loop.pump();
    EXPECT_EQ(loop.client().received, "goodbye");
    EXPECT_TRUE(loop.server().lostCleanly());
    ASSERT_TRUE(loop.client().reason.has_value());
    EXPECT_TRUE(loop.client().reason->check<ConnectionLost>());
    EXPECT_EQ(loop.server().received, "");
}

struct Hangup : Peer {
    void connectionMade() override {
        Peer::connectionMade();
        transport->loseConnection();
    }
};

TEST(LoopbackTest, DataThePeerNeverReadsResetsTheConnection) {
    Loopback<Hangup, Peer> loop(std::make_unique<Hangup>(), std::make_unique<Peer>("unread"));
    loop.pump();
    EXPECT_EQ(loop.client().received, "");
    EXPECT_TRUE(loop.client().lostCleanly());
    ASSERT_TRUE(loop.server().reason.has_value());
    EXPECT_TRUE(loop.server().reason->check<ConnectionLost>());
}

TEST(LoopbackTest, DropAfterBytesLosesBothSides) {
    std::string sent = payload(100);
    Loopback<Peer, EchoServer> loop(std::make_unique<Peer>(sent), std::make_unique<EchoServer>(),
                                    {.dropAfterBytes = 30});
    loop.pump();
    EXPECT_EQ(loop.server().received, sent.substr(0, 30));
    EXPECT_EQ(loop.client().received, "");
    EXPECT_EQ(loop.deliveredBytes(), 30U);
    for (Peer* peer : {static_cast<Peer*>(&loop.client()), static_cast<Peer*>(&loop.server())}) {
        ASSERT_TRUE(peer->reason.has_value());
        EXPECT_TRUE(peer->reason->check<ConnectionLost>());
        EXPECT_FALSE(peer->reason->check<ConnectionAborted>());
    }
}

TEST(LoopbackTest, DropAfterBytesCountsBothDirections) {
    std::string sent = payload(100);
    Loopback<Peer, EchoServer> loop(std::make_unique<Peer>(sent), std::make_unique<EchoServer>(),
                                    {.delivery = Delivery::oneByteAtATime, .dropAfterBytes = 31});
    loop.pump();
    EXPECT_EQ(loop.server().received, sent.substr(0, 16));
    EXPECT_EQ(loop.client().received, sent.substr(0, 15));
    EXPECT_FALSE(loop.client().connected);
}

TEST(LoopbackTest, DropAfterZeroBytesDeliversNothing) {
    Loopback<Peer, Peer> loop(std::make_unique<Peer>("hello"), std::make_unique<Peer>(),
                              {.dropAfterBytes = 0});
    loop.pump();
    EXPECT_EQ(loop.server().received, "");
    EXPECT_TRUE(loop.server().reason->check<ConnectionLost>());
    EXPECT_TRUE(loop.client().reason->check<ConnectionLost>());
}

// --- half-close ---------------------------------------------------------------------------

struct Requester : Peer {
    void connectionMade() override {
        Peer::connectionMade();
        transport->write("request");
        transport->loseWriteConnection();
        transport->write(" ignored");
    }
};

struct HalfCloseServer : Peer {
    void readConnectionLost() override {
        events.emplace_back("readLost");
        transport->write("response to " + received);
        transport->loseConnection();
    }
};

TEST(LoopbackTest, HalfCloseLetsThePeerAnswerAfterEndOfFile) {
    Loopback<Requester, HalfCloseServer> loop(
        {.delivery = Delivery::randomChunks, .seed = 5, .maxChunk = 3});
    loop.pump();
    EXPECT_EQ(loop.server().received, "request");
    EXPECT_EQ(loop.client().received, "response to request");
    EXPECT_EQ(loop.server().events, (std::vector<std::string>{"made", "readLost", "lost"}));
    EXPECT_EQ(loop.client().events,
              (std::vector<std::string>{"made", "writeLost", "readLost", "lost"}));
    EXPECT_TRUE(loop.server().lostCleanly());
    EXPECT_TRUE(loop.client().lostCleanly());
}

TEST(LoopbackTest, DefaultReadConnectionLostClosesAfterTheReplies) {
    Loopback<Requester, EchoServer> loop({.delivery = Delivery::oneByteAtATime});
    loop.pump();
    EXPECT_EQ(loop.client().received, "request");
    EXPECT_EQ(loop.server().events, (std::vector<std::string>{"made", "readLost", "lost"}));
    EXPECT_TRUE(loop.server().lostCleanly());
    EXPECT_TRUE(loop.client().lostCleanly());
}

// --- producers and backpressure -----------------------------------------------------------

// Writes `total` bytes in 1 KiB pieces whenever it is not paused, then closes.
struct Streamer : Peer, braid::IPushProducer {
    static constexpr std::size_t total = 64 * 1024;

    void connectionMade() override {
        transport->setWriteBufferLimits({.high = 4096, .low = 1024});
        transport->registerProducer(*this);
        produce();
    }
    void produce() {
        while (!paused && sent < total) {
            transport->write(std::string(1024, 'x'));
            sent += 1024;
            maxBuffered = std::max(maxBuffered, transport->bufferedBytes());
        }
        if (sent == total && !finished) {
            finished = true;
            transport->unregisterProducer();
            transport->loseConnection();
        }
    }
    void pauseProducing() override {
        paused = true;
        ++pauses;
    }
    void resumeProducing() override {
        paused = false;
        produce();
    }
    void stopProducing() override { stopped = true; }

    std::size_t sent = 0;
    std::size_t maxBuffered = 0;
    int pauses = 0;
    bool paused = false;
    bool finished = false;
    bool stopped = false;
};

TEST(LoopbackTest, PushProducerIsPausedAboveTheHighWaterMark) {
    Loopback<Peer, Streamer> loop({.delivery = Delivery::randomChunks, .seed = 9, .maxChunk = 700});
    EXPECT_TRUE(loop.server().paused);
    EXPECT_EQ(loop.serverTransport().producer(), &loop.server());
    loop.pump();
    EXPECT_EQ(loop.client().received.size(), Streamer::total);
    EXPECT_GT(loop.server().pauses, 10);
    EXPECT_LE(loop.server().maxBuffered, 4096U + 1024U);
    EXPECT_TRUE(loop.client().lostCleanly());
    EXPECT_FALSE(loop.server().stopped); // unregistered before closing
}

TEST(LoopbackTest, PauseProducingStopsDeliveryToThatSide) {
    Loopback<Peer, Streamer> loop;
    loop.clientTransport().pauseProducing();
    EXPECT_TRUE(loop.clientTransport().paused());
    loop.pump();
    EXPECT_EQ(loop.client().received, "");
    EXPECT_EQ(loop.serverTransport().bufferedBytes(), loop.server().sent);
    EXPECT_EQ(loop.server().pauses, 1);

    loop.clientTransport().resumeProducing();
    loop.pump();
    EXPECT_EQ(loop.client().received.size(), Streamer::total);
}

TEST(LoopbackTest, ASideAboveItsHighWaterMarkStopsReading) {
    std::string sent = payload(100);
    Loopback<Peer, EchoServer> loop(std::make_unique<Peer>(sent), std::make_unique<EchoServer>(),
                                    {.delivery = Delivery::oneByteAtATime});
    loop.serverTransport().setWriteBufferLimits({.high = 8, .low = 2});
    loop.clientTransport().pauseProducing(); // the client does not read the echoes
    loop.pump();
    EXPECT_EQ(loop.server().received.size(), 9U); // the ninth byte crossed the mark
    EXPECT_EQ(loop.serverTransport().bufferedBytes(), 9U);

    loop.clientTransport().resumeProducing();
    loop.pump();
    EXPECT_EQ(loop.client().received, sent);
}

TEST(LoopbackTest, WithoutPauseReadingASideKeepsReading) {
    std::string sent = payload(100);
    Loopback<Peer, EchoServer> loop(std::make_unique<Peer>(sent), std::make_unique<EchoServer>(),
                                    {.delivery = Delivery::oneByteAtATime});
    loop.serverTransport().setWriteBufferLimits({.high = 8, .low = 2, .pauseReading = false});
    loop.clientTransport().pauseProducing();
    loop.pump();
    EXPECT_EQ(loop.server().received, sent);
    EXPECT_EQ(loop.serverTransport().bufferedBytes(), 100U);
}

// Writes three chunks, one each time it is asked, then unregisters and closes.
struct Puller : Peer, braid::IPullProducer {
    void connectionMade() override { transport->registerProducer(*this); }
    void resumeProducing() override {
        bufferedWhenAsked.push_back(transport->bufferedBytes());
        if (++asked <= 3) {
            transport->write("chunk" + std::to_string(asked) + ";");
            return;
        }
        transport->loseConnection();
        transport->unregisterProducer();
    }
    void stopProducing() override {}

    int asked = 0;
    std::vector<std::size_t> bufferedWhenAsked;
};

TEST(LoopbackTest, PullProducerIsAskedWheneverTheBufferEmpties) {
    Loopback<Peer, Puller> loop({.delivery = Delivery::oneByteAtATime});
    EXPECT_EQ(loop.server().asked, 1); // at once, when registered
    loop.pump();
    EXPECT_EQ(loop.client().received, "chunk1;chunk2;chunk3;");
    EXPECT_EQ(loop.server().asked, 4);
    EXPECT_EQ(loop.server().bufferedWhenAsked, (std::vector<std::size_t>{0, 0, 0, 0}));
    EXPECT_TRUE(loop.server().lostCleanly());
}

struct AbortOnData : Peer {
    void dataReceived(std::string_view data) override {
        Peer::dataReceived(data);
        transport->abortConnection();
    }
};

TEST(LoopbackTest, ClosingStopsTheRegisteredProducer) {
    Loopback<AbortOnData, Streamer> loop;
    loop.pump();
    EXPECT_TRUE(loop.server().stopped);
    EXPECT_TRUE(loop.server().reason->check<ConnectionLost>());
    EXPECT_TRUE(loop.client().reason->check<ConnectionAborted>());
    EXPECT_EQ(loop.serverTransport().producer(), nullptr);
}

// --- time ---------------------------------------------------------------------------------

struct Timed : Peer {
    void connectionMade() override {
        Peer::connectionMade();
        callLater(0, [this] { transport->write("soon"); });
        callLater(5, [this] { fired = true; });
    }
    bool fired = false;
};

TEST(LoopbackTest, PumpRunsTheCallsDueNow) {
    Loopback<Peer, Timed> loop;
    loop.pump();
    EXPECT_EQ(loop.client().received, "soon");
    EXPECT_FALSE(loop.server().fired);
    loop.clock().advance(5);
    EXPECT_TRUE(loop.server().fired);
}

TEST(LoopbackTest, ProtocolCallsAreCancelledWhenTheConnectionIsLost) {
    Loopback<Peer, Timed> loop;
    loop.client().transport->loseConnection();
    loop.pump();
    EXPECT_FALSE(loop.server().connected);
    loop.clock().advance(10);
    EXPECT_FALSE(loop.server().fired);
}

// --- misbehaving protocols ----------------------------------------------------------------

TEST(LoopbackTest, PumpGivesUpOnProtocolsThatNeverStop) {
    Loopback<EchoServer, EchoServer> loop;
    loop.client().transport->write("ping");
    EXPECT_THROW(loop.pump(100), std::runtime_error);
}

struct Thrower : Peer {
    void dataReceived(std::string_view /*data*/) override { throw std::domain_error("bad data"); }
};

TEST(LoopbackTest, ProtocolExceptionsPropagateOutOfPump) {
    Loopback<Peer, Thrower> loop(std::make_unique<Peer>("x"), std::make_unique<Thrower>());
    EXPECT_THROW(loop.pump(), std::domain_error);
}

} // namespace
