// memcache::MemCacheProtocol against braid's memcached server over the in-memory loopback
// (every delivery mode), and its errors and timeout on a StringTransport.
#include <braid/memcache/client.hpp>
#include <braid/memcache/server.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/loopback.hpp>
#include <braid/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace braid::memcache {
namespace {

using testing::Delivery;

template <class T>
std::optional<T> resultOf(Deferred<T>& d) {
    std::optional<T> out;
    d.addCallback([&](T value) {
        out = value;
        return value;
    });
    return out;
}

// A client and braid's server joined in memory.
struct Pair {
    explicit Pair(Delivery delivery, std::uint32_t seed = 0)
        : server(std::make_shared<Server>(ServerOptions{})),
          serverFactory(std::make_shared<ServerFactory>(server, clock)),
          clientFactory(ClientFactory::forProtocol<MemCacheProtocol>()),
          loop(*clientFactory, *serverFactory,
               testing::LoopbackOptions{.delivery = delivery,
                                        .seed = seed,
                                        .maxChunk = 9,
                                        .dropAfterBytes = std::nullopt,
                                        .clientAddress = Address::ipv4("127.0.0.1", 5000),
                                        .serverAddress = Address::ipv4("127.0.0.1", 11211),
                                        .clock = &clock}) {}

    MemCacheProtocol& client() { return loop.client(); }

    task::Clock clock;
    std::shared_ptr<Server> server;
    std::shared_ptr<ServerFactory> serverFactory;
    std::shared_ptr<ClientFactory> clientFactory;
    testing::Loopback<MemCacheProtocol, Protocol> loop;
};

class MemCacheProtocolTest : public ::testing::TestWithParam<Delivery> {};

TEST_P(MemCacheProtocolTest, PipelinedCommandsGetTheirOwnAnswers) {
    Pair pair(GetParam(), 3);
    MemCacheProtocol& client = pair.client();
    auto stored = client.set("k", "hello\r\nworld", 7);
    auto added = client.add("k", "x");
    auto got = client.get("k", true);
    auto missing = client.get("nothing");
    auto counter = client.set("n", "41");
    auto incremented = client.increment("n");
    auto decremented = client.decrement("n", 100);
    auto noCounter = client.increment("none");
    auto many = client.getMultiple({"k", "n", "none"});
    auto appended = client.append("k", "!");
    auto touched = client.touch("k", 100);
    auto removed = client.remove("n");
    auto removedAgain = client.remove("n");
    auto version = client.version();
    pair.loop.pump();

    EXPECT_EQ(true, resultOf(stored));
    EXPECT_EQ(false, resultOf(added));
    std::optional<std::optional<Value>> value = resultOf(got);
    ASSERT_TRUE(value && *value);
    EXPECT_EQ("hello\r\nworld", (*value)->value);
    EXPECT_EQ(7U, (*value)->flags);
    EXPECT_NE(0U, (*value)->cas);
    EXPECT_EQ(std::make_optional(std::optional<Value>{}), resultOf(missing));
    EXPECT_EQ(true, resultOf(counter));
    EXPECT_EQ(std::make_optional(std::optional<std::uint64_t>{42}), resultOf(incremented));
    EXPECT_EQ(std::make_optional(std::optional<std::uint64_t>{0}), resultOf(decremented));
    EXPECT_EQ(std::make_optional(std::optional<std::uint64_t>{}), resultOf(noCounter));
    auto values = resultOf(many);
    ASSERT_TRUE(values);
    EXPECT_EQ(2U, values->size());
    EXPECT_EQ(true, resultOf(appended));
    EXPECT_EQ(true, resultOf(touched));
    EXPECT_EQ(true, resultOf(removed));
    EXPECT_EQ(false, resultOf(removedAgain));
    EXPECT_EQ("1.6.18-braid", resultOf(version));
}

TEST_P(MemCacheProtocolTest, CheckAndSetUsesTheCasValue) {
    Pair pair(GetParam(), 5);
    MemCacheProtocol& client = pair.client();
    auto stored = client.set("k", "v1");
    auto got = client.get("k", true);
    pair.loop.pump();
    std::uint64_t cas = (*resultOf(got))->cas;
    auto first = client.checkAndSet("k", "v2", cas);
    auto second = client.checkAndSet("k", "v3", cas);
    auto now = client.get("k");
    pair.loop.pump();
    EXPECT_EQ(true, resultOf(first));
    EXPECT_EQ(false, resultOf(second));
    EXPECT_EQ("v2", (*resultOf(now))->value);
}

TEST_P(MemCacheProtocolTest, StatsAndFlushAll) {
    Pair pair(GetParam(), 7);
    MemCacheProtocol& client = pair.client();
    auto stored = client.set("k", "v");
    auto stats = client.stats();
    auto flushed = client.flushAll();
    auto after = client.get("k");
    pair.loop.pump();
    auto pairs = resultOf(stats);
    ASSERT_TRUE(pairs);
    EXPECT_EQ("1", pairs->at("curr_items"));
    EXPECT_EQ(true, resultOf(flushed));
    EXPECT_EQ(std::make_optional(std::optional<Value>{}), resultOf(after));
}

INSTANTIATE_TEST_SUITE_P(AllDeliveries, MemCacheProtocolTest,
                         ::testing::Values(Delivery::allAtOnce, Delivery::oneByteAtATime,
                                           Delivery::randomChunks));

// A client on a StringTransport: what it sends, and how it takes bad answers.
struct Alone {
    Alone() : transport(clock) { protocol.makeConnection(transport); }
    task::Clock clock;
    testing::StringTransport transport;
    MemCacheProtocol protocol{5.0};
};

template <class T>
std::string failureOf(Deferred<T>& d) {
    std::string out;
    d.addErrback([&](const Failure& failure) -> T {
        out = failure.typeName() + ": " + failure.getErrorMessage();
        throw std::runtime_error("handled");
    });
    d.addErrback([](const Failure&) -> T { return T{}; });
    return out;
}

TEST(MemCacheProtocolAlone, SendsTheTextProtocol) {
    Alone alone;
    auto a = alone.protocol.set("k", "v", 3, 60);
    auto b = alone.protocol.getMultiple({"a", "b"}, true);
    auto c = alone.protocol.checkAndSet("k", "w", 99);
    EXPECT_EQ("set k 3 60 1\r\nv\r\ngets a b\r\ncas k 0 0 1 99\r\nw\r\n", alone.transport.value());
    alone.protocol.dataReceived("STORED\r\nEND\r\nEXISTS\r\n");
    EXPECT_EQ(true, resultOf(a));
    EXPECT_EQ(false, resultOf(c));
}

TEST(MemCacheProtocolAlone, RefusesBadKeysWithoutSending) {
    Alone alone;
    auto tooLong = alone.protocol.get(std::string(251, 'k'));
    auto spaced = alone.protocol.set("a b", "v");
    EXPECT_NE(std::string::npos, failureOf(tooLong).find("Key too long"));
    EXPECT_NE(std::string::npos, failureOf(spaced).find("Invalid key"));
    EXPECT_EQ("", alone.transport.value());
}

TEST(MemCacheProtocolAlone, ErrorAnswersFailTheirCommandOnly) {
    Alone alone;
    auto a = alone.protocol.set("k", "v");
    auto b = alone.protocol.increment("k");
    auto c = alone.protocol.version();
    auto d = alone.protocol.get("k");
    alone.protocol.dataReceived("SERVER_ERROR out of memory storing object\r\n"
                                "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
                                "ERROR\r\nEND\r\n");
    EXPECT_NE(std::string::npos, failureOf(a).find("out of memory storing object"));
    EXPECT_NE(std::string::npos, failureOf(b).find("non-numeric"));
    EXPECT_NE(std::string::npos, failureOf(c).find("NoSuchCommand"));
    EXPECT_EQ(std::make_optional(std::optional<Value>{}), resultOf(d));
}

TEST(MemCacheProtocolAlone, SilenceFailsEverythingPendingAndDisconnects) {
    Alone alone;
    auto a = alone.protocol.get("k");
    auto b = alone.protocol.set("k", "v");
    alone.clock.advance(4);
    alone.protocol.dataReceived("VALUE k 0 1\r\n"); // an answer starts: the timer restarts
    alone.clock.advance(4);
    EXPECT_FALSE(alone.transport.disconnecting);
    alone.clock.advance(1);
    EXPECT_TRUE(alone.transport.disconnecting);
    EXPECT_NE(std::string::npos, failureOf(a).find("TimeoutError"));
    EXPECT_NE(std::string::npos, failureOf(b).find("TimeoutError"));
}

TEST(MemCacheProtocolAlone, NoTimerWhileNothingIsPending) {
    Alone alone;
    auto a = alone.protocol.set("k", "v");
    alone.protocol.dataReceived("STORED\r\n");
    EXPECT_EQ(true, resultOf(a));
    alone.clock.advance(100);
    EXPECT_FALSE(alone.transport.disconnecting);
}

TEST(MemCacheProtocolAlone, AGarbledAnswerFailsEverythingAndAborts) {
    Alone alone;
    auto a = alone.protocol.get("k");
    auto b = alone.protocol.version();
    alone.protocol.dataReceived("VALUE k 0 1\r\nxyz\r\n");
    EXPECT_TRUE(alone.transport.disconnecting);
    EXPECT_NE(std::string::npos, failureOf(a).find("ServerError"));
    EXPECT_NE(std::string::npos, failureOf(b).find("ServerError"));
}

TEST(MemCacheProtocolAlone, AValueForANonGetFailsEverythingAndAborts) {
    Alone alone;
    auto a = alone.protocol.set("k", "v");
    alone.protocol.dataReceived("VALUE k 0 1\r\nx\r\n");
    EXPECT_TRUE(alone.transport.disconnecting);
    EXPECT_NE(std::string::npos, failureOf(a).find("not a get"));
}

} // namespace
} // namespace braid::memcache
