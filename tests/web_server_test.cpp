// braid::web's server (Site, Resource, Request and the HTTP channel) on a StringTransport:
// every case is fed all at once, one byte at a time and in random pieces, and must give
// the same bytes back. Real clients (curl, http.client) are tests/integration/test_web.py.
#include <braid/error.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/testing/string_transport.hpp>
#include <braid/web/error_page.hpp>
#include <braid/web/resource.hpp>
#include <braid/web/site.hpp>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace braid::web {
namespace {

constexpr std::string_view epochDate = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n";

// The response a string-rendering resource gives: status, Date, Server, `headers`
// (each ending in \r\n), Content-Length, the default Content-Type, then `body`.
std::string response(std::string_view body, std::string_view headers = {}, int code = 200,
                     std::string_view phrase = "OK") {
    return fmt::format("HTTP/1.1 {} {}\r\n{}Server: braid\r\n{}Content-Length: {}\r\n"
                       "Content-Type: text/html\r\n\r\n{}",
                       code, phrase, epochDate, headers, body.size(), body);
}

class Hello : public Resource {
public:
    [[nodiscard]] bool isLeaf() const override { return true; }
    RenderResult render_GET(Request& /*request*/) override { return "Hello Twisted"; }
};

// Echoes the body, the args and a header and a cookie.
class Echo : public Resource {
public:
    RenderResult render_GET(Request& request) override { return describe(request); }
    RenderResult render_POST(Request& request) override { return describe(request); }
    [[nodiscard]] std::vector<std::string> allowedMethods() const override {
        return {"GET", "HEAD", "POST"};
    }

private:
    static std::string describe(Request& request) {
        std::string out =
            fmt::format("{} {} [{}]", request.method(), request.path(), request.content());
        for (const auto& [name, values] : request.args()) {
            out += fmt::format(" {}={}", name, fmt::join(values, ","));
        }
        out += fmt::format(" x={} c={}", request.getHeader("x-TEST").value_or("-"),
                           request.getCookie("c").value_or("-"));
        return out;
    }
};

// Writes in two pieces without a Content-Length (chunked).
class Streaming : public Resource {
public:
    RenderResult render_GET(Request& request) override {
        request.write("ab");
        request.write("cde");
        request.finish();
        return NOT_DONE_YET;
    }
};

// Answers when the test fires its Deferred.
class Later : public Resource {
public:
    RenderResult render_GET(Request& request) override {
        requests.push_back(request.shared_from_this());
        Deferred<std::string> d;
        pending.push_back(d);
        return d;
    }
    std::vector<std::shared_ptr<Request>> requests;
    std::vector<Deferred<std::string>> pending;
};

class NoContent : public Resource {
public:
    RenderResult render_GET(Request& request) override {
        request.setResponseCode(204);
        return "";
    }
};

class Broken : public Resource {
public:
    RenderResult render_GET(Request& /*request*/) override {
        throw std::runtime_error("broken <resource>");
    }
};

std::shared_ptr<Resource> tree(const std::shared_ptr<Later>& later) {
    auto root = std::make_shared<Resource>();
    root->putChild("hello", std::make_shared<Hello>());
    root->putChild("echo", std::make_shared<Echo>());
    root->putChild("stream", std::make_shared<Streaming>());
    root->putChild("later", later);
    root->putChild("broken", std::make_shared<Broken>());
    root->putChild("empty", std::make_shared<NoContent>());
    auto sub = std::make_shared<Resource>();
    sub->putChild("", std::make_shared<Echo>());
    root->putChild("sub", sub);
    return root;
}

enum class Delivery : std::uint8_t { whole, bytes, random };

// A Site on a StringTransport and a fake clock.
class WebServerTest : public ::testing::TestWithParam<Delivery> {
protected:
    void SetUp() override { connect(); }
    void TearDown() override { disconnect(); }

    void connect(SiteLimits limits = {}) {
        site = std::make_shared<Site>(tree(later), limits);
        site->wallClock = [] { return 0.0; };
        transport = std::make_unique<testing::StringTransport>(clock);
        protocol = site->buildProtocol(Address::ipv4("127.0.0.1", 1));
        protocol->makeConnection(*transport);
    }

    void disconnect(const Failure& reason = Failure(ConnectionDone())) {
        if (protocol) {
            braid::detail::deliverConnectionLost(*protocol, reason);
            protocol.reset();
        }
    }

    // Feeds `data` the way the parameter says; returns everything written so far.
    std::string send(std::string_view data) {
        std::mt19937 random(42);
        std::size_t at = 0;
        while (at < data.size()) {
            std::size_t size = data.size();
            if (GetParam() == Delivery::bytes) {
                size = 1;
            } else if (GetParam() == Delivery::random) {
                size = std::uniform_int_distribution<std::size_t>(1, 17)(random);
            }
            protocol->dataReceived(data.substr(at, size));
            at += size;
        }
        return transport->value();
    }

    task::Clock clock;
    std::shared_ptr<Later> later = std::make_shared<Later>();
    std::shared_ptr<Site> site;
    std::unique_ptr<testing::StringTransport> transport;
    std::unique_ptr<Protocol> protocol;
};

INSTANTIATE_TEST_SUITE_P(Delivery, WebServerTest,
                         ::testing::Values(Delivery::whole, Delivery::bytes, Delivery::random));

TEST_P(WebServerTest, GetAndKeepAlive) {
    EXPECT_EQ(send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"), response("Hello Twisted"));
    transport->clear();
    EXPECT_EQ(send("GET /hello/any/thing HTTP/1.1\r\nHost: x\r\n\r\n"), response("Hello Twisted"));
    EXPECT_FALSE(transport->disconnecting);
}

TEST_P(WebServerTest, Http10ClosesUnlessKeepAlive) {
    std::string kept = response("Hello Twisted");
    kept.insert(kept.find("\r\n\r\n") + 2, "Connection: keep-alive\r\n");
    EXPECT_EQ(send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), kept);
    EXPECT_FALSE(transport->disconnecting);
    transport->clear();
    std::string expected = response("Hello Twisted");
    expected.insert(expected.find("\r\n\r\n") + 2, "Connection: close\r\n");
    EXPECT_EQ(send("GET /hello HTTP/1.0\r\n\r\nGET /hello HTTP/1.0\r\n\r\n"), expected);
    EXPECT_TRUE(transport->disconnecting);
}

TEST_P(WebServerTest, ConnectionCloseClosesAfterTheResponse) {
    std::string expected = response("Hello Twisted");
    expected.insert(expected.find("\r\n\r\n") + 2, "Connection: close\r\n");
    EXPECT_EQ(send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), expected);
    EXPECT_TRUE(transport->disconnecting);
}

TEST_P(WebServerTest, UpgradesAreAnsweredThenClosed) {
    std::string expected = response("Hello Twisted");
    EXPECT_EQ(send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: other\r\n\r\n"
                   "\x01\x02 not http"),
              expected);
    EXPECT_TRUE(transport->disconnecting);
}

TEST_P(WebServerTest, PipelinedResponsesComeInOrder) {
    std::string out = send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(out, "");
    ASSERT_EQ(later->pending.size(), 2U);
    later->pending[1].callback("third");
    EXPECT_EQ(transport->value(), "");
    later->pending[0].callback("first");
    EXPECT_EQ(transport->value(),
              response("first") + response("Hello Twisted") + response("third"));
    EXPECT_FALSE(transport->disconnecting);
}

TEST_P(WebServerTest, ChunkedResponseWithoutContentLength) {
    EXPECT_EQ(send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"),
              fmt::format("HTTP/1.1 200 OK\r\n{}Server: braid\r\nContent-Type: "
                          "text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n",
                          epochDate));
}

TEST_P(WebServerTest, Http10StreamEndsWithTheConnection) {
    EXPECT_EQ(send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
              fmt::format("HTTP/1.1 200 OK\r\n{}Server: braid\r\nContent-Type: "
                          "text/html\r\nConnection: close\r\n\r\nabcde",
                          epochDate));
    EXPECT_TRUE(transport->disconnecting);
}

TEST_P(WebServerTest, RequestBodiesAndArgs) {
    EXPECT_EQ(send("POST /echo?a=1&b=x+y%21 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
              response("POST /echo [hello] a=1 b=x y! x=- c=-"));
    transport->clear();
    EXPECT_EQ(send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"),
              response("POST /echo [abcde] x=- c=-"));
}

TEST_P(WebServerTest, FormBodyArgs) {
    EXPECT_EQ(send("POST /echo?a=0 HTTP/1.1\r\nHost: x\r\nContent-Type: "
                   "application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: 13\r\n\r\n"
                   "a=1&b=%3Cb%3E"),
              response("POST /echo [a=1&b=%3Cb%3E] a=0,1 b=<b> x=- c=-"));
}

TEST_P(WebServerTest, HeadersAndCookiesAnyCase) {
    EXPECT_EQ(send("GET /echo HTTP/1.1\r\nhost: x\r\nX-Test: yes\r\nCookie: a=1; c=two\r\n\r\n"),
              response("GET /echo [] x=yes c=two"));
}

TEST_P(WebServerTest, AccessLogHasOneCombinedLinePerRequest) {
    std::vector<std::string> lines;
    site->accessLog = [&](std::string_view line) { lines.emplace_back(line); };
    site->wallClock = [] { return 1700000000.5; };
    send("GET /hello?a=1 HTTP/1.1\r\nHost: x\r\nReferer: http://r/\r\n"
         "User-Agent: say \"hi\"\\\xc3\xa9\r\n\r\n"
         "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
         "GET /missing HTTP/1.0\r\n\r\n");
    ASSERT_EQ(lines.size(), 3U);
    EXPECT_EQ(lines[0], "192.168.1.1 - - [14/Nov/2023:22:13:20 +0000] \"GET /hello?a=1 HTTP/1.1\" "
                        "200 13 \"http://r/\" \"say \\x22hi\\x22\\x5c\\xc3\\xa9\"");
    EXPECT_EQ(lines[1], "192.168.1.1 - - [14/Nov/2023:22:13:20 +0000] \"HEAD /hello HTTP/1.1\" "
                        "200 - \"-\" \"-\"");
    EXPECT_THAT(lines[2], ::testing::StartsWith("192.168.1.1 - - [14/Nov/2023:22:13:20 +0000] "
                                                "\"GET /missing HTTP/1.0\" 404 "));
}

TEST_P(WebServerTest, HeadSendsNoBody) {
    std::string expected = response("Hello Twisted");
    expected.resize(expected.size() - std::string_view("Hello Twisted").size());
    EXPECT_EQ(send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"), expected);
    transport->clear();
    EXPECT_EQ(send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n"),
              fmt::format("HTTP/1.1 200 OK\r\n{}Server: braid\r\nContent-Type: text/html\r\n\r\n",
                          epochDate));
    EXPECT_FALSE(transport->disconnecting);
}

TEST_P(WebServerTest, NoContentHasNoLengthNorType) {
    EXPECT_EQ(send("GET /empty HTTP/1.1\r\nHost: x\r\n\r\n"),
              fmt::format("HTTP/1.1 204 No Content\r\n{}Server: braid\r\n\r\n", epochDate));
    EXPECT_FALSE(transport->disconnecting);
}

TEST_P(WebServerTest, ExpectContinue) {
    EXPECT_EQ(
        send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
        "HTTP/1.1 100 Continue\r\n\r\n");
    EXPECT_EQ(send("hi"), "HTTP/1.1 100 Continue\r\n\r\n" + response("POST /echo [hi] x=- c=-"));
}

TEST_P(WebServerTest, TraversalNotFoundAndMethodNotAllowed) {
    EXPECT_EQ(send("GET /sub/ HTTP/1.1\r\nHost: x\r\n\r\n"), response("GET /sub/ [] x=- c=-"));
    transport->clear();
    std::string notFound = send("GET /nothing/here HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(notFound.starts_with("HTTP/1.1 404 Not Found\r\n")) << notFound;
    EXPECT_NE(notFound.find("No Such Resource"), std::string::npos);
    transport->clear();
    std::string notAllowed = send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(notAllowed.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << notAllowed;
    EXPECT_NE(notAllowed.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << notAllowed;
    EXPECT_FALSE(transport->disconnecting);
}

TEST_P(WebServerTest, RenderFailureIs500WithoutDetails) {
    testing::LogCapture logs;
    std::string out = send("GET /broken HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 500 Internal Server Error\r\n")) << out;
    EXPECT_EQ(out.find("broken"), std::string::npos);
    later->requests.clear();
    transport->clear();
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    later->pending.at(0).errback(Failure(std::runtime_error("no")));
    EXPECT_TRUE(transport->value().starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
    EXPECT_EQ(logs.count("Exception rendering"), 2U);
    EXPECT_TRUE(logs.contains("broken <resource>"));
}

// A bad request answered with `status`, Connection: close, and the connection closed.
void expectRejected(const std::string& out, int status, const testing::StringTransport& t) {
    EXPECT_TRUE(out.starts_with(fmt::format("HTTP/1.1 {} ", status))) << out;
    EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos) << out;
    EXPECT_TRUE(t.disconnecting);
}

TEST_P(WebServerTest, ContentLengthWithTransferEncodingIsRejected) {
    expectRejected(send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\n\r\n"),
                   400, *transport);
}

TEST_P(WebServerTest, MissingHostOnHttp11) {
    expectRejected(send("GET /hello HTTP/1.1\r\n\r\n"), 400, *transport);
}

TEST_P(WebServerTest, Malformed) {
    expectRejected(send("GET /hello HTTP/1.1\r\nHost x\r\n\r\n"), 400, *transport);
}

TEST_P(WebServerTest, UriTooLong) {
    expectRejected(send("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414,
                   *transport);
}

// Found by fuzz/web_request.cpp: the limit must win however the reads were cut.
TEST_P(WebServerTest, UriTooLongThenMalformed) {
    expectRejected(send("GET /" + std::string(9000, 'a') + std::string(1, '\0')), 414, *transport);
}

TEST_P(WebServerTest, HeadersTooLarge) {
    expectRejected(send("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(17000, 'a') + "\r\n\r\n"),
                   431, *transport);
}

TEST_P(WebServerTest, TooManyHeaders) {
    std::string request = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 120; ++i) {
        request += fmt::format("X-{}: y\r\n", i);
    }
    expectRejected(send(request + "\r\n"), 431, *transport);
}

TEST_P(WebServerTest, BodyTooLarge) {
    disconnect();
    connect(SiteLimits{.maxUriLength = 8192,
                       .maxHeaderBytes = 16384,
                       .maxHeaders = 100,
                       .maxBodySize = 10,
                       .maxPipelinedRequests = 16,
                       .headerTimeout = 30,
                       .idleTimeout = 60});
    expectRejected(send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"), 413,
                   *transport);
    disconnect();
    connect(SiteLimits{.maxUriLength = 8192,
                       .maxHeaderBytes = 16384,
                       .maxHeaders = 100,
                       .maxBodySize = 10,
                       .maxPipelinedRequests = 16,
                       .headerTimeout = 30,
                       .idleTimeout = 60});
    expectRejected(send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"),
                   413, *transport);
}

TEST_P(WebServerTest, ErrorAfterPipelinedRequestsComesInOrder) {
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    EXPECT_EQ(transport->value(), "");
    later->pending.at(0).callback("first");
    std::string out = transport->value();
    EXPECT_TRUE(out.starts_with(response("first") + "HTTP/1.1 400 Bad Request\r\n")) << out;
    EXPECT_TRUE(transport->disconnecting);
}

TEST_P(WebServerTest, HeaderTimeoutCutsOffSlowClients) {
    send("GET /hello HTTP/1.1\r\nHost: x\r\n");
    clock.advance(29);
    EXPECT_FALSE(transport->disconnecting);
    clock.advance(1);
    expectRejected(transport->value(), 408, *transport);
}

TEST_P(WebServerTest, IdleKeepAliveTimeout) {
    send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    clock.advance(59);
    send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    clock.advance(59);
    EXPECT_FALSE(transport->disconnecting);
    clock.advance(1);
    EXPECT_TRUE(transport->disconnecting);
}

TEST_P(WebServerTest, StalledBodyTimesOut) {
    send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    clock.advance(59);
    send("6");
    clock.advance(59);
    EXPECT_FALSE(transport->disconnecting);
    clock.advance(1);
    expectRejected(transport->value(), 408, *transport);
}

TEST_P(WebServerTest, AsyncRenderingIsNotTimedOut) {
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    clock.advance(600);
    EXPECT_FALSE(transport->disconnecting);
    later->pending.at(0).callback("late");
    EXPECT_EQ(transport->value(), response("late"));
}

TEST_P(WebServerTest, NotifyFinish) {
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    bool finished = false;
    later->requests.at(0)->notifyFinish().addCallback([&] { finished = true; });
    Failure lost;
    later->requests.at(1)->notifyFinish().addErrback([&](Failure f) { lost = std::move(f); });
    later->pending.at(0).callback("ok");
    EXPECT_TRUE(finished);
    disconnect(Failure(ConnectionLost()));
    EXPECT_TRUE(lost.check<ConnectionLost>());
    // The resource may still answer: nothing happens.
    later->pending.at(1).callback("too late");
}

// Writes one piece each time it is resumed, three in all.
class Pusher : public IPushProducer {
public:
    explicit Pusher(std::shared_ptr<Request> request) : request_(std::move(request)) {}
    void pauseProducing() override { paused = true; }
    void resumeProducing() override { paused = false; }
    void stopProducing() override { stopped = true; }
    bool paused = false;
    bool stopped = false;

private:
    std::shared_ptr<Request> request_;
};

TEST_P(WebServerTest, ProducersArePacedByThePipeline) {
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    Pusher first(later->requests.at(0));
    Pusher second(later->requests.at(1));
    later->requests.at(0)->registerProducer(first);
    later->requests.at(1)->registerProducer(second);
    EXPECT_EQ(transport->producer(), &first);
    EXPECT_TRUE(second.paused);
    later->requests.at(1)->write("second");
    EXPECT_EQ(transport->value(), "");
    later->requests.at(0)->write("first");
    later->requests.at(0)->finish();
    EXPECT_EQ(transport->producer(), &second);
    EXPECT_FALSE(second.paused);
    std::string out = transport->value();
    EXPECT_LT(out.find("first"), out.find("second"));
    later->requests.at(1)->finish();
    EXPECT_EQ(transport->producer(), nullptr);
}

class Puller : public IPullProducer {
public:
    void resumeProducing() override {}
    void stopProducing() override { stopped = true; }
    bool stopped = false;
};

TEST_P(WebServerTest, PullProducersWaitTheirTurn) {
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    Puller first;
    Puller second;
    later->requests.at(0)->registerProducer(first);
    later->requests.at(1)->registerProducer(second);
    EXPECT_EQ(transport->producer(), &first);
    EXPECT_FALSE(transport->streaming());
    later->requests.at(0)->finish();
    EXPECT_EQ(transport->producer(), &second);
    disconnect(Failure(ConnectionLost()));
    EXPECT_FALSE(first.stopped); // finished: unregistered before
}

TEST_P(WebServerTest, ProducersOfQueuedRequestsStopWithTheConnection) {
    send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /later HTTP/1.1\r\nHost: x\r\n\r\n");
    Puller second;
    later->requests.at(1)->registerProducer(second);
    disconnect(Failure(ConnectionLost()));
    EXPECT_TRUE(second.stopped);
    Puller late;
    later->requests.at(0)->registerProducer(late);
    EXPECT_TRUE(late.stopped);
}

TEST_P(WebServerTest, TooManyPipelinedRequestsPauseReading) {
    std::string request = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n";
    std::string all;
    for (int i = 0; i < 20; ++i) {
        all += request;
    }
    send(all);
    EXPECT_EQ(later->pending.size(), 16U);
    EXPECT_EQ(transport->producerState(), testing::StringTransport::ProducerState::paused);
    for (std::size_t i = 0; i < 20; ++i) {
        later->pending.at(i).callback(std::to_string(i));
    }
    EXPECT_EQ(later->pending.size(), 20U);
    EXPECT_EQ(transport->producerState(), testing::StringTransport::ProducerState::producing);
    std::string out = transport->value();
    EXPECT_LT(out.find("\r\n\r\n15"), out.find("\r\n\r\n19"));
}

TEST(WebServerResourceTest, ErrorPageEscapes) {
    EXPECT_EQ(escapeHtml("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;");
}

} // namespace
} // namespace braid::web
