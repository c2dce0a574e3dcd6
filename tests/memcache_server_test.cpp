// memcache::ServerFactory's connections on braid::testing transports: framing in any
// chunking, coalesced replies, expiry on a task::Clock, limits and backpressure. The byte
// for byte comparison with the real memcached is tests/integration/test_memcached.py.
#include <braid/memcache/server.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace braid::memcache {
namespace {

// A StringTransport that counts write() calls.
class CountingTransport : public testing::StringTransport {
public:
    using StringTransport::StringTransport;
    void write(std::string_view data) override {
        ++writes;
        StringTransport::write(data);
    }
    int writes = 0;
};

ServerOptions smallServer() {
    ServerOptions options;
    options.store.memoryLimit = std::size_t{8} << 20;
    options.store.maxItemSize = std::size_t{1} << 20;
    options.store.shards = 4;
    return options;
}

// One server, one factory on a fake clock, and connections made on StringTransports.
struct Harness {
    explicit Harness(ServerOptions options = smallServer())
        : server(std::make_shared<Server>(std::move(options))),
          factory(std::make_shared<ServerFactory>(server, clock)) {}

    struct Connection {
        std::unique_ptr<CountingTransport> transport;
        std::unique_ptr<Protocol> protocol;

        // Feeds `data` in pieces of `chunk` bytes (0: all at once); returns the replies.
        std::string send(std::string_view data, std::size_t chunk = 0) {
            transport->clear();
            std::size_t step = chunk == 0 ? data.size() : chunk;
            for (std::size_t at = 0; at < data.size(); at += step) {
                protocol->dataReceived(data.substr(at, step));
            }
            return transport->value();
        }
    };

    Connection connect() {
        Connection connection;
        connection.transport = std::make_unique<CountingTransport>(clock);
        connection.protocol = factory->buildProtocol(Address::ipv4("127.0.0.1", 40000));
        connection.protocol->makeConnection(*connection.transport);
        return connection;
    }

    std::string send(std::string_view data, std::size_t chunk = 0) {
        if (!connection.protocol) {
            connection = connect();
        }
        return connection.send(data, chunk);
    }

    task::Clock clock;
    std::shared_ptr<Server> server;
    std::shared_ptr<ServerFactory> factory;
    Connection connection;
};

constexpr std::string_view script =
    "set a 0 0 1\r\nx\r\nget a b\r\ngets a\r\nadd a 0 0 1\r\ny\r\nappend a 0 0 2\r\nzz\r\n"
    "incr a 1\r\nset n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\ndelete a\r\nget a n\r\n"
    "set big 0 0 2000000\r\n" // refused, its data swallowed
    "ms k 2 c k\r\nhi\r\nmg k v f t s\r\nma n v\r\nmd k q\r\nmg k\r\nbogus\r\nversion\r\n";

std::string withSwallowedData(std::string_view text) {
    std::string out(text);
    std::size_t at =
        out.find("set big 0 0 2000000\r\n") + std::string_view("set big 0 0 2000000\r\n").size();
    out.insert(at, std::string(2000000, 'v') + "\r\n");
    return out;
}

TEST(MemcacheServerTest, AnswersTheSameWhateverTheChunking) {
    const std::string requests = withSwallowedData(script);
    Harness whole;
    const std::string expected = whole.send(requests);
    EXPECT_NE(std::string::npos, expected.find("VALUE a 0 1\r\nx\r\nEND\r\n"));
    EXPECT_NE(std::string::npos, expected.find("SERVER_ERROR object too large for cache\r\n"));
    EXPECT_NE(std::string::npos, expected.find("ERROR\r\nVERSION "));

    for (std::size_t chunk : {1, 2, 3, 7, 100, 4096}) {
        Harness pieces;
        EXPECT_EQ(expected, pieces.send(requests, chunk)) << "chunk " << chunk;
    }
    std::mt19937 random(7);
    for (int round = 0; round < 5; ++round) {
        Harness chunks;
        chunks.connection = chunks.connect();
        std::string got;
        for (std::size_t at = 0; at < requests.size();) {
            std::size_t size = std::uniform_int_distribution<std::size_t>(1, 50)(random);
            got += chunks.connection.send(std::string_view(requests).substr(at, size));
            at += size;
        }
        EXPECT_EQ(expected, got) << "round " << round;
    }
}

TEST(MemcacheServerTest, RepliesOfOneReadGoOutInOneWrite) {
    Harness harness;
    harness.send("set a 0 0 1\r\nx\r\n");
    std::string gets;
    for (int i = 0; i < 100; ++i) {
        gets += "get a\r\n";
    }
    harness.connection.transport->writes = 0;
    std::string replies = harness.send(gets);
    EXPECT_EQ(1, harness.connection.transport->writes);
    EXPECT_EQ(100 * std::string_view("VALUE a 0 1\r\nx\r\nEND\r\n").size(), replies.size());
}

TEST(MemcacheServerTest, ItemsExpireOnTheClock) {
    Harness harness;
    harness.send("set a 0 10 1\r\nx\r\nset b 0 0 1\r\ny\r\n");
    harness.clock.advance(9);
    EXPECT_EQ("VALUE a 0 1\r\nx\r\nEND\r\n", harness.send("get a\r\n"));
    harness.clock.advance(1);
    EXPECT_EQ("END\r\n", harness.send("get a\r\n"));
    EXPECT_EQ("VALUE b 0 1\r\ny\r\nEND\r\n", harness.send("get b\r\n"));
}

TEST(MemcacheServerTest, AbsoluteAndNegativeExpiry) {
    Harness harness;
    Seconds now = harness.factory->now();
    harness.send("set a 0 " + std::to_string(now + 5) + " 1\r\nx\r\nset b 0 -1 1\r\ny\r\n");
    EXPECT_EQ("VALUE a 0 1\r\nx\r\nEND\r\n", harness.send("get a b\r\n"));
    harness.clock.advance(5);
    EXPECT_EQ("END\r\n", harness.send("get a\r\n"));
}

TEST(MemcacheServerTest, TouchAndGatMoveTheExpiry) {
    Harness harness;
    harness.send("set a 0 5 1\r\nx\r\n");
    EXPECT_EQ("TOUCHED\r\n", harness.send("touch a 100\r\n"));
    harness.clock.advance(50);
    EXPECT_EQ("VALUE a 0 1\r\nx\r\nEND\r\n", harness.send("gat 10 a\r\n"));
    harness.clock.advance(10);
    EXPECT_EQ("END\r\n", harness.send("get a\r\n"));
}

TEST(MemcacheServerTest, TheSweepFreesExpiredItemsNobodyReads) {
    Harness harness;
    harness.factory->doStart();
    std::string sets;
    for (int i = 0; i < 50; ++i) {
        sets += "set k" + std::to_string(i) + " 0 2 1 noreply\r\nx\r\n";
    }
    harness.send(sets);
    EXPECT_EQ(50U, harness.server->store().stats().currItems);
    harness.clock.pump({1.0, 1.0, 1.0});
    EXPECT_EQ(0U, harness.server->store().stats().currItems);
    harness.factory->doStop();
}

TEST(MemcacheServerTest, FlushAllWithADelay) {
    Harness harness;
    harness.send("set a 0 0 1\r\nx\r\n");
    EXPECT_EQ("OK\r\n", harness.send("flush_all 10\r\n"));
    harness.clock.advance(5);
    EXPECT_EQ("VALUE a 0 1\r\nx\r\nEND\r\n", harness.send("get a\r\n"));
    harness.clock.advance(5);
    EXPECT_EQ("END\r\n", harness.send("get a\r\n"));
}

TEST(MemcacheServerTest, ALineWithNoEndClosesTheConnection) {
    Harness harness;
    harness.send("set a 0 0 1\r\nx\r\n");
    EXPECT_EQ("", harness.send(std::string(2048, 'x')));
    EXPECT_FALSE(harness.connection.transport->disconnecting);
    harness.send("y");
    EXPECT_TRUE(harness.connection.transport->disconnecting);
}

TEST(MemcacheServerTest, ALongMultiGetIsAllowed) {
    Harness harness;
    harness.send("set k1 0 0 1\r\nx\r\n");
    std::string get = "get";
    for (int i = 0; i < 1000; ++i) {
        get += " k" + std::to_string(i);
    }
    std::string reply = harness.send(get + "\r\n", 512);
    EXPECT_EQ("VALUE k1 0 1\r\nx\r\nEND\r\n", reply);
    EXPECT_FALSE(harness.connection.transport->disconnecting);
}

TEST(MemcacheServerTest, QuitSendsWhatIsAnsweredThenCloses) {
    Harness harness;
    EXPECT_EQ("VERSION 1.6.18-braid\r\n", harness.send("version\r\nquit\r\nversion\r\n"));
    EXPECT_TRUE(harness.connection.transport->disconnecting);
}

TEST(MemcacheServerTest, RefusesConnectionsBeyondTheLimit) {
    ServerOptions options = smallServer();
    options.maxConnections = 1;
    Harness harness(options);
    Harness::Connection first = harness.connect();
    Harness::Connection second = harness.connect();
    EXPECT_EQ("ERROR Too many open connections\r\n", second.transport->value());
    EXPECT_TRUE(second.transport->disconnecting);
    EXPECT_FALSE(first.transport->disconnecting);
    EXPECT_EQ("VERSION 1.6.18-braid\r\n", first.send("version\r\n"));
}

TEST(MemcacheServerTest, PausedConnectionsKeepTheirInputUntilResumed) {
    Harness harness;
    harness.send("set a 0 0 1\r\nx\r\n");
    auto* producer = dynamic_cast<IPushProducer*>(harness.connection.transport->producer());
    ASSERT_NE(nullptr, producer);
    producer->pauseProducing();
    EXPECT_EQ("", harness.send("get a\r\nget a\r\n"));
    producer->resumeProducing();
    EXPECT_EQ("VALUE a 0 1\r\nx\r\nEND\r\nVALUE a 0 1\r\nx\r\nEND\r\n",
              harness.connection.transport->value());
}

TEST(MemcacheServerTest, StatsReportsCountersAndTheLimit) {
    Harness harness;
    harness.send("set a 0 0 1\r\nx\r\nget a b\r\n");
    std::string stats = harness.send("stats\r\n");
    EXPECT_NE(std::string::npos, stats.find("STAT cmd_get 2\r\n"));
    EXPECT_NE(std::string::npos, stats.find("STAT get_hits 1\r\n"));
    EXPECT_NE(std::string::npos, stats.find("STAT get_misses 1\r\n"));
    EXPECT_NE(std::string::npos, stats.find("STAT cmd_set 1\r\n"));
    EXPECT_NE(std::string::npos, stats.find("STAT curr_items 1\r\n"));
    EXPECT_NE(std::string::npos, stats.find("STAT curr_connections 1\r\n"));
    EXPECT_NE(std::string::npos, stats.find("STAT limit_maxbytes 8388608\r\n"));
    EXPECT_TRUE(stats.ends_with("END\r\n"));
    EXPECT_EQ("RESET\r\n", harness.send("stats reset\r\n"));
    EXPECT_NE(std::string::npos, harness.send("stats\r\n").find("STAT cmd_set 0\r\n"));
}

} // namespace
} // namespace braid::memcache
