// web::Agent, HTTPConnectionPool, RedirectAgent, getPage and client::ResponseParser,
// against canned server bytes delivered whole, a byte at a time and in random chunks.
#include <braid/error.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/loopback.hpp>
#include <braid/testing/memory_reactor.hpp>
#include <braid/testing/string_transport.hpp>
#include <braid/web/agent.hpp>
#include <braid/web/client/response_parser.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::Address;
using braid::ConnectionDone;
using braid::ConnectionRefusedError;
using braid::Failure;
using braid::Protocol;
using braid::TimeoutError;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::MemoryReactor;
using braid::testing::StringTransport;
using braid::testing::successResultOf;
namespace web = braid::web;
using web::client::ResponseParser;

enum class Mode { whole, byteAtATime, randomChunks };

// Hands `data` to `feed` in pieces as `mode` says.
template <class Feed>
void deliver(std::string_view data, Mode mode, Feed&& feed) {
    if (mode == Mode::whole) {
        feed(data);
        return;
    }
    std::mt19937 random(42);
    while (!data.empty()) {
        std::size_t size = mode == Mode::byteAtATime ? 1 : 1 + random() % 7;
        size = std::min(size, data.size());
        feed(data.substr(0, size));
        data.remove_prefix(size);
    }
}

// The body of `response`, which must be complete.
std::string bodyOf(const web::Response& response) {
    auto body = web::readBody(response);
    return successResultOf(body);
}

// ---- the parser ---------------------------------------------------------------------

struct Events : ResponseParser::Handler {
    std::vector<web::client::ResponseHead> heads;
    std::string body;
    int completed = 0;
    void headReceived(web::client::ResponseHead head) override { heads.push_back(std::move(head)); }
    void bodyDataReceived(std::string_view data) override { body.append(data); }
    void bodyComplete() override { ++completed; }
};

class ResponseParserTest : public ::testing::TestWithParam<Mode> {
protected:
    // Parses `bytes`; returns the bytes left over after the response.
    std::string parse(std::string_view bytes, bool head = false, bool close = false) {
        ResponseParser parser(events, head);
        std::string rest;
        deliver(bytes, GetParam(), [&](std::string_view piece) {
            std::size_t used = parser.complete() ? 0 : parser.feed(piece);
            rest.append(piece.substr(used));
        });
        if (close) {
            parser.connectionLost();
        }
        persistent = parser.persistent();
        return rest;
    }
    Events events;
    bool persistent = false;
};

TEST_P(ResponseParserTest, ContentLength) {
    std::string rest = parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b \r\n\r\nhelloEXTRA");
    ASSERT_EQ(events.heads.size(), 1u);
    EXPECT_EQ(events.heads[0].version, "HTTP/1.1");
    EXPECT_EQ(events.heads[0].code, 200);
    EXPECT_EQ(events.heads[0].phrase, "OK");
    EXPECT_EQ(events.heads[0].headers.getFirst("x-a"), "b");
    EXPECT_EQ(events.body, "hello");
    EXPECT_EQ(events.completed, 1);
    EXPECT_EQ(rest, "EXTRA");
    EXPECT_TRUE(persistent);
}

TEST_P(ResponseParserTest, Chunked) {
    parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n");
    EXPECT_EQ(events.body, "helloabcdefghijklmnopqrstuvwxyz");
    EXPECT_EQ(events.completed, 1);
    EXPECT_TRUE(persistent);
}

TEST_P(ResponseParserTest, UntilClose) {
    parse("HTTP/1.0 200 OK\r\n\r\nall of it", false, true);
    EXPECT_EQ(events.body, "all of it");
    EXPECT_EQ(events.completed, 1);
    EXPECT_FALSE(persistent);
}

TEST_P(ResponseParserTest, NoBodyForHeadAnd204And304) {
    parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true);
    parse("HTTP/1.1 204 No Content\r\n\r\n");
    parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n");
    EXPECT_EQ(events.completed, 3);
    EXPECT_EQ(events.body, "");
}

TEST_P(ResponseParserTest, InterimResponsesAreSkipped) {
    parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    ASSERT_EQ(events.heads.size(), 1u);
    EXPECT_EQ(events.heads[0].code, 201);
    EXPECT_EQ(events.completed, 1);
}

TEST_P(ResponseParserTest, Persistence) {
    parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    EXPECT_FALSE(persistent);
    parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(persistent);
}

TEST_P(ResponseParserTest, MalformedResponsesAreRejected) {
    for (std::string_view bad : {
             "HTTP/1.1 20 OK\r\n\r\n",
             "HTTP/1.1 200OK\r\n\r\n",
             "ICY 200 OK\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
             "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
             "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
             "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
             "HTTP/1.1 101 Switching\r\n\r\n",
         }) {
        Events fresh;
        events = fresh;
        EXPECT_THROW(parse(bad), web::client::ParseError) << bad;
    }
}

TEST_P(ResponseParserTest, Limits) {
    EXPECT_THROW(parse("HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"),
                 web::client::ParseError);
    std::string many = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 101; ++i) {
        many += "X: y\r\n";
    }
    EXPECT_THROW(parse(many + "\r\n"), web::client::ParseError);
}

TEST_P(ResponseParserTest, CutShort) {
    EXPECT_THROW(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, true),
                 web::client::ParseError);
}

INSTANTIATE_TEST_SUITE_P(Modes, ResponseParserTest,
                         ::testing::Values(Mode::whole, Mode::byteAtATime, Mode::randomChunks));

// ---- URI ------------------------------------------------------------------------------

TEST(WebURITest, Parses) {
    web::URI uri = web::URI::fromBytes("HTTP://Example.COM:8080/a/b?x=1#frag");
    EXPECT_EQ(uri.scheme, "http");
    EXPECT_EQ(uri.host, "example.com");
    EXPECT_EQ(uri.port, 8080);
    EXPECT_EQ(uri.path, "/a/b?x=1");
    EXPECT_EQ(uri.hostHeader(), "example.com:8080");
    web::URI v6 = web::URI::fromBytes("http://[::1]/");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 80);
    EXPECT_EQ(v6.hostHeader(), "[::1]");
    EXPECT_EQ(web::URI::fromBytes("http://h?q").path, "/?q");
    for (const char* bad : {"a_bad_url", "http://", "http://h:0/", "http://h:99999/",
                            "http://[::1/", "http://u@h/", "http://h/a b"}) {
        EXPECT_THROW(web::URI::fromBytes(bad), web::InvalidURI) << bad;
    }
}

TEST(WebURITest, Resolves) {
    web::URI base = web::URI::fromBytes("http://h/a/b?q");
    EXPECT_EQ(base.resolve("/x").toString(), "http://h/x");
    EXPECT_EQ(base.resolve("c").toString(), "http://h/a/c");
    EXPECT_EQ(base.resolve("?z").toString(), "http://h/a/b?z");
    EXPECT_EQ(base.resolve("//o:81/p").toString(), "http://o:81/p");
    EXPECT_EQ(base.resolve("http://o/p").toString(), "http://o/p");
}

// ---- Agent ----------------------------------------------------------------------------

// A connection the agent asked the MemoryReactor for, made with a StringTransport.
struct FakeConnection {
    std::unique_ptr<Protocol> protocol;
    std::unique_ptr<StringTransport> transport;

    FakeConnection(std::unique_ptr<Protocol> p, std::unique_ptr<StringTransport> t)
        : protocol(std::move(p)), transport(std::move(t)) {}
    FakeConnection(FakeConnection&&) = default;
    // The protocol goes first, as a real transport's does.
    ~FakeConnection() { protocol.reset(); }

    void receive(std::string_view data, Mode mode = Mode::whole) {
        deliver(data, mode, [&](std::string_view piece) { protocol->dataReceived(piece); });
    }
    void lose(const Failure& reason = Failure(ConnectionDone())) {
        braid::detail::deliverConnectionLost(*protocol, reason);
    }
};

class AgentTest : public ::testing::TestWithParam<Mode> {
protected:
    FakeConnection accept(std::size_t index) {
        MemoryReactor::TCPClient& client = reactor.tcpClients.at(index);
        FakeConnection connection{client.factory->buildProtocol(Address::ipv4("127.0.0.1", 80)),
                                  std::make_unique<StringTransport>(reactor)};
        connection.protocol->makeConnection(*connection.transport);
        return connection;
    }

    MemoryReactor reactor;
    std::shared_ptr<web::HTTPConnectionPool> pool =
        std::make_shared<web::HTTPConnectionPool>(reactor);
    web::Agent agent{reactor, pool};
};

TEST_P(AgentTest, GetWithContentLength) {
    web::Agent plain(reactor);
    auto response = plain.request("GET", "http://example.com:8080/a?b=c", {{"X-Test", "1"}});
    ASSERT_EQ(reactor.tcpClients.size(), 1u);
    EXPECT_EQ(reactor.tcpClients[0].host, "example.com");
    EXPECT_EQ(reactor.tcpClients[0].port, 8080);
    FakeConnection c = accept(0);
    EXPECT_EQ(c.transport->value(), "GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\n"
                                    "X-Test: 1\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(hasNoResult(response));
    c.receive(
        "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world",
        GetParam());
    web::Response r = successResultOf(response);
    EXPECT_EQ(r.code, 200);
    EXPECT_EQ(r.phrase, "OK");
    EXPECT_EQ(r.version, "HTTP/1.1");
    EXPECT_EQ(r.length, 11u);
    EXPECT_EQ(r.headers.getFirst("content-type"), "text/plain");
    auto body = web::readBody(r);
    EXPECT_EQ(successResultOf(body), "hello world");
    EXPECT_TRUE(c.transport->disconnecting); // not persistent: closed
}

TEST_P(AgentTest, ChunkedAndUntilCloseBodies) {
    auto first = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
              GetParam());
    web::Response chunked = successResultOf(first);
    EXPECT_EQ(chunked.length, std::nullopt);
    auto body = web::readBody(chunked);
    // readBody after the body ended: the stream kept it.
    EXPECT_EQ(successResultOf(body), "abc");

    auto second = agent.request("GET", "http://h/");
    ASSERT_EQ(reactor.tcpClients.size(), 1u); // reused
    c.transport->clear();
    c.receive("HTTP/1.0 200 OK\r\n\r\nuntil the end", GetParam());
    auto untilClose = web::readBody(successResultOf(second));
    EXPECT_TRUE(hasNoResult(untilClose));
    c.lose();
    EXPECT_EQ(successResultOf(untilClose), "until the end");
}

TEST_P(AgentTest, HeadAnd204HaveNoBody) {
    auto head = agent.request("HEAD", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", GetParam());
    EXPECT_EQ(bodyOf(successResultOf(head)), "");
    auto noContent = agent.request("DELETE", "http://h/x");
    c.receive("HTTP/1.1 204 No Content\r\n\r\n", GetParam());
    web::Response r = successResultOf(noContent);
    EXPECT_EQ(r.code, 204);
    EXPECT_EQ(bodyOf(r), "");
    EXPECT_EQ(reactor.tcpClients.size(), 1u);
}

TEST_P(AgentTest, RequestBodies) {
    auto sized = agent.request("POST", "http://h/", {},
                               std::make_shared<web::StringBodyProducer>("a=1&b=2"));
    FakeConnection c = accept(0);
    EXPECT_EQ(c.transport->value(),
              "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\na=1&b=2");
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", GetParam());
    ASSERT_EQ(successResultOf(sized).code, 200);
    c.transport->clear();
    auto chunked = agent.request("PUT", "http://h/", {},
                                 std::make_shared<web::StringBodyProducer>("hello", false));
    EXPECT_EQ(c.transport->value(),
              "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n0\r\n\r\n");
    c.receive("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", GetParam());
    EXPECT_EQ(successResultOf(chunked).code, 201);
}

TEST_P(AgentTest, KeepAliveReuseAndLimits) {
    pool->setMaxPersistentPerHost(1);
    pool->setCachedConnectionTimeout(10);
    auto a = agent.request("GET", "http://h/");
    auto b = agent.request("GET", "http://h/");
    ASSERT_EQ(reactor.tcpClients.size(), 2u); // both busy at once: two connections
    FakeConnection ca = accept(0);
    FakeConnection cb = accept(1);
    EXPECT_EQ(ca.transport->value(), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    ca.receive("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", GetParam());
    // Not back in the pool until its body was read.
    EXPECT_EQ(pool->cachedConnectionCount(), 1u);
    EXPECT_EQ(bodyOf(successResultOf(a)), "ok");
    cb.receive("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", GetParam());
    EXPECT_TRUE(cb.transport->disconnecting); // over maxPersistentPerHost
    EXPECT_EQ(pool->cachedConnectionCount(), 1u);
    // The idle one closes after cachedConnectionTimeout.
    reactor.advance(10);
    EXPECT_TRUE(ca.transport->disconnecting);
    ca.lose();
    EXPECT_EQ(pool->cachedConnectionCount(), 0u);
    (void)successResultOf(b);
}

TEST_P(AgentTest, ServerCloseIsNotReused) {
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", GetParam());
    EXPECT_EQ(successResultOf(a).code, 200);
    EXPECT_TRUE(c.transport->disconnecting);
    EXPECT_EQ(pool->cachedConnectionCount(), 0u);
}

TEST_P(AgentTest, IdleConnectionClosedByServerLeavesThePool) {
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", GetParam());
    (void)successResultOf(a);
    EXPECT_EQ(pool->cachedConnectionCount(), 1u);
    c.lose();
    EXPECT_EQ(pool->cachedConnectionCount(), 0u);
    auto b = agent.request("GET", "http://h/");
    EXPECT_EQ(reactor.tcpClients.size(), 2u);
}

TEST_P(AgentTest, ReusedConnectionClosedBeforeAnAnswerIsRetriedOnce) {
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", GetParam());
    (void)successResultOf(a);
    auto get = agent.request("GET", "http://h/again");
    ASSERT_EQ(reactor.tcpClients.size(), 1u);
    c.lose(); // the server timed the idle connection out just then
    ASSERT_EQ(reactor.tcpClients.size(), 2u);
    FakeConnection fresh = accept(1);
    EXPECT_EQ(fresh.transport->value(), "GET /again HTTP/1.1\r\nHost: h\r\n\r\n");
    fresh.receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", GetParam());
    EXPECT_EQ(successResultOf(get).code, 200);
    // Not a POST: it may have had an effect.
    auto post =
        agent.request("POST", "http://h/", {}, std::make_shared<web::StringBodyProducer>("x"));
    fresh.lose();
    EXPECT_TRUE(failureResultOf(post).check<web::ResponseNeverReceived>());
    EXPECT_EQ(reactor.tcpClients.size(), 2u);
}

TEST_P(AgentTest, BodyBeforeDeliverBodyPausesTheConnection) {
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", GetParam());
    web::Response r = successResultOf(a);
    EXPECT_EQ(c.transport->producerState(), StringTransport::ProducerState::paused);
    auto body = web::readBody(r);
    EXPECT_EQ(c.transport->producerState(), StringTransport::ProducerState::producing);
    c.receive("def", GetParam());
    EXPECT_EQ(successResultOf(body), "abcdef");
    EXPECT_THROW(r.deliverBody(std::make_unique<Protocol>()), std::logic_error);
}

TEST_P(AgentTest, StoppingTheBodyAbortsTheConnection) {
    struct Stopper : Protocol {
        void dataReceived(std::string_view /*data*/) override { transport->stopProducing(); }
        void connectionLost(const Failure& reason) override { *lost = reason; }
        std::shared_ptr<Failure> lost = std::make_shared<Failure>();
    };
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n", GetParam());
    auto stopper = std::make_unique<Stopper>();
    std::shared_ptr<Failure> lost = stopper->lost;
    successResultOf(a).deliverBody(std::move(stopper));
    c.receive("abc", GetParam());
    EXPECT_TRUE(c.transport->aborted);
    c.lose(Failure(braid::ConnectionAborted()));
    EXPECT_TRUE(lost->check<web::ResponseFailed>());
    EXPECT_EQ(pool->cachedConnectionCount(), 0u);
}

TEST_P(AgentTest, MalformedResponseFails) {
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 2OO OK\r\n\r\n", GetParam());
    EXPECT_TRUE(c.transport->aborted);
    c.lose(Failure(braid::ConnectionAborted()));
    Failure failure = failureResultOf(a);
    ASSERT_TRUE(failure.check<web::ResponseFailed>());
    EXPECT_TRUE(
        failure.value<web::ResponseFailed>()->reasons.at(0).check<web::client::ParseError>());
}

TEST_P(AgentTest, ConnectionLostMidBody) {
    auto a = agent.request("GET", "http://h/");
    FakeConnection c = accept(0);
    c.receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", GetParam());
    auto body = web::readBody(successResultOf(a));
    c.lose(Failure(braid::ConnectionLost()));
    Failure failure = failureResultOf(body);
    ASSERT_TRUE(failure.check<web::ResponseFailed>());
    EXPECT_TRUE(failure.value<web::ResponseFailed>()->reasons.at(0).check<braid::ConnectionLost>());
}

INSTANTIATE_TEST_SUITE_P(Modes, AgentTest,
                         ::testing::Values(Mode::whole, Mode::byteAtATime, Mode::randomChunks));

TEST(WebAgentTest, ConnectFailuresPassThrough) {
    MemoryReactor reactor;
    web::Agent agent(reactor);
    auto a = agent.request("GET", "http://h/");
    reactor.tcpClients[0].factory->clientConnectionFailed(*reactor.tcpClients[0].connector,
                                                          Failure(ConnectionRefusedError()));
    EXPECT_TRUE(failureResultOf(a).check<ConnectionRefusedError>());
}

TEST(WebAgentTest, SchemesAndBadURLs) {
    MemoryReactor reactor;
    web::Agent agent(reactor);
    auto tls = agent.request("GET", "https://h/");
    Failure failure = failureResultOf(tls);
    ASSERT_TRUE(failure.check<web::SchemeNotSupported>());
    EXPECT_NE(failure.getErrorMessage().find("TLS not supported yet"), std::string::npos);
    auto bad = agent.request("GET", "a_bad_url");
    EXPECT_TRUE(failureResultOf(bad).check<web::InvalidURI>());
    auto injected = agent.request("GET", "http://h/", {{"X", "a\r\nEvil: 1"}});
    FakeConnection c{reactor.tcpClients[0].factory->buildProtocol(Address()),
                     std::make_unique<StringTransport>(reactor)};
    c.protocol->makeConnection(*c.transport);
    EXPECT_TRUE(failureResultOf(injected).check<web::InvalidURI>());
    EXPECT_EQ(c.transport->value(), "");
    EXPECT_TRUE(reactor.tcpClients.size() == 1u);
}

TEST(WebAgentTest, CancelWhileConnectingAndWhileWaiting) {
    MemoryReactor reactor;
    web::Agent agent(reactor);
    auto connecting = agent.request("GET", "http://h/");
    connecting.cancel();
    EXPECT_TRUE(failureResultOf(connecting).check<braid::CancelledError>());
    EXPECT_TRUE(reactor.tcpClients[0].connector->stoppedConnecting);

    auto waiting = agent.request("GET", "http://h/");
    FakeConnection c{reactor.tcpClients[1].factory->buildProtocol(Address()),
                     std::make_unique<StringTransport>(reactor)};
    c.protocol->makeConnection(*c.transport);
    waiting.cancel();
    EXPECT_TRUE(c.transport->aborted);
    c.lose(Failure(braid::ConnectionAborted()));
    EXPECT_TRUE(failureResultOf(waiting).check<braid::CancelledError>());
}

TEST(WebAgentTest, TimeoutWhileConnecting) {
    MemoryReactor reactor;
    web::Agent agent(reactor, nullptr, {.connectTimeout = 30, .requestTimeout = 5});
    auto a = agent.request("GET", "http://h/");
    EXPECT_EQ(reactor.tcpClients[0].timeout, 30);
    reactor.advance(5);
    EXPECT_TRUE(failureResultOf(a).check<TimeoutError>());
    EXPECT_TRUE(reactor.tcpClients[0].connector->stoppedConnecting);
}

TEST(WebAgentTest, TimeoutWaitingForTheResponseAndTheBody) {
    MemoryReactor reactor;
    web::Agent agent(reactor, nullptr, {.connectTimeout = 30, .requestTimeout = 5});
    auto a = agent.request("GET", "http://h/");
    reactor.advance(2);
    FakeConnection c{reactor.tcpClients[0].factory->buildProtocol(Address()),
                     std::make_unique<StringTransport>(reactor)};
    c.protocol->makeConnection(*c.transport);
    reactor.advance(3);
    EXPECT_TRUE(c.transport->aborted);
    c.lose(Failure(braid::ConnectionAborted()));
    EXPECT_TRUE(failureResultOf(a).check<TimeoutError>());

    auto b = agent.request("GET", "http://h/");
    FakeConnection d{reactor.tcpClients[1].factory->buildProtocol(Address()),
                     std::make_unique<StringTransport>(reactor)};
    d.protocol->makeConnection(*d.transport);
    d.receive("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc");
    auto body = web::readBody(successResultOf(b));
    reactor.advance(5);
    EXPECT_TRUE(d.transport->aborted);
    d.lose(Failure(braid::ConnectionAborted()));
    Failure failure = failureResultOf(body);
    ASSERT_TRUE(failure.check<web::ResponseFailed>());
    EXPECT_TRUE(failure.value<web::ResponseFailed>()->reasons.at(0).check<TimeoutError>());
}

// ---- Agent over a Loopback: real transport semantics (buffering, closes) ---------------

// Answers each request (once its head is in) with the next canned response; closes
// after the last one.
struct CannedServer : Protocol {
    explicit CannedServer(std::vector<std::string> responses) : responses(std::move(responses)) {}
    void dataReceived(std::string_view data) override {
        received.append(data);
        std::size_t end = 0;
        while ((end = received.find("\r\n\r\n")) != std::string::npos) {
            requests.push_back(received.substr(0, end));
            received.erase(0, end + 4);
            transport->write(responses.at(requests.size() - 1));
            if (requests.size() == responses.size()) {
                transport->loseConnection();
            }
        }
    }
    std::vector<std::string> responses;
    std::vector<std::string> requests;
    std::string received;
};

class AgentLoopbackTest : public ::testing::TestWithParam<braid::testing::Delivery> {};

TEST_P(AgentLoopbackTest, ThreeResponsesOnOneKeptAliveConnection) {
    MemoryReactor reactor;
    auto pool = std::make_shared<web::HTTPConnectionPool>(reactor);
    web::Agent agent(reactor, pool);
    auto first = agent.request("GET", "http://h/1");
    auto serverFactory = braid::Factory::forProtocol<CannedServer>(std::vector<std::string>{
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nthird, until the end"});
    braid::testing::Loopback<Protocol, CannedServer> loop(
        *reactor.tcpClients.at(0).factory, *serverFactory,
        {.delivery = GetParam(), .seed = 7, .maxChunk = 5, .clock = &reactor});
    // Body bytes that come before anyone reads them pause the connection until readBody.
    auto bodyOf = [&loop](braid::Deferred<web::Response>& response) {
        loop.pump();
        auto body = web::readBody(successResultOf(response));
        loop.pump();
        return successResultOf(body);
    };
    EXPECT_EQ(bodyOf(first), "first");
    auto second = agent.request("GET", "http://h/2");
    EXPECT_EQ(bodyOf(second), "second");
    auto third = agent.request("GET", "http://h/3");
    EXPECT_EQ(bodyOf(third), "third, until the end");
    EXPECT_EQ(reactor.tcpClients.size(), 1u);
    ASSERT_EQ(loop.server().requests.size(), 3u);
    EXPECT_EQ(loop.server().requests[2], "GET /3 HTTP/1.1\r\nHost: h");
    EXPECT_EQ(pool->cachedConnectionCount(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Deliveries, AgentLoopbackTest,
                         ::testing::Values(braid::testing::Delivery::allAtOnce,
                                           braid::testing::Delivery::oneByteAtATime,
                                           braid::testing::Delivery::randomChunks));

// ---- RedirectAgent and getPage -------------------------------------------------------

class RedirectTest : public ::testing::Test {
protected:
    // Answers the newest connection with `response`; returns the request it got.
    std::string answer(std::string_view response) {
        FakeConnection c{reactor.tcpClients.back().factory->buildProtocol(Address()),
                         std::make_unique<StringTransport>(reactor)};
        c.protocol->makeConnection(*c.transport);
        c.receive(response);
        std::string request = c.transport->value();
        connections.push_back(std::move(c));
        return request;
    }

    MemoryReactor reactor;
    web::Agent agent{reactor};
    web::RedirectAgent redirects{agent, 3};
    std::vector<FakeConnection> connections;
};

TEST_F(RedirectTest, FollowsRelativeAndAbsoluteLocations) {
    auto page = web::getPage(redirects, "http://a/start");
    answer("HTTP/1.1 301 Moved\r\nLocation: /next\r\nContent-Length: 3\r\n\r\nxyz");
    EXPECT_EQ(
        answer("HTTP/1.1 302 Found\r\nLocation: http://b:81/there\r\nContent-Length: 0\r\n\r\n"),
        "GET /next HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(reactor.tcpClients.back().host, "b");
    EXPECT_EQ(reactor.tcpClients.back().port, 81);
    EXPECT_EQ(answer("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"),
              "GET /there HTTP/1.1\r\nHost: b:81\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(successResultOf(page), "done");
}

TEST_F(RedirectTest, PostBecomesGetOn303And302ButNotOn307) {
    auto post = redirects.request("POST", "http://a/form", {{"Authorization", "x"}},
                                  std::make_shared<web::StringBodyProducer>("data"));
    answer("HTTP/1.1 307 Temporary\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
    std::string repeated = answer(
        "HTTP/1.1 303 See Other\r\nLocation: http://other/result\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(repeated, "POST /again HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\n"
                        "Connection: close\r\nContent-Length: 4\r\n\r\ndata");
    // 303 to another origin: GET, no body, no credentials.
    EXPECT_EQ(answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
              "GET /result HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(successResultOf(post).code, 200);
}

TEST_F(RedirectTest, LimitAndMissingLocation) {
    auto loop = redirects.request("GET", "http://a/");
    for (int i = 0; i < 4; ++i) {
        answer("HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
    }
    EXPECT_TRUE(failureResultOf(loop).check<web::InfiniteRedirection>());
    auto nowhere = redirects.request("GET", "http://a/");
    answer("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(failureResultOf(nowhere).check<web::RedirectWithNoLocation>());
}

TEST_F(RedirectTest, GetPageFailsOutside2xx) {
    auto page = web::getPage(redirects, "http://a/missing");
    answer("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
    Failure failure = failureResultOf(page);
    ASSERT_TRUE(failure.check<web::Error>());
    EXPECT_EQ(failure.value<web::Error>()->status, 404);
    EXPECT_EQ(failure.value<web::Error>()->message, "Not Found");
    EXPECT_EQ(failure.value<web::Error>()->response, "nope");
}

} // namespace
