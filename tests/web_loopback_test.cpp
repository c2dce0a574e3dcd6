// braid::web's server against a raw client over testing::Loopback, whose transports have
// real backpressure: a streaming response through a push producer is paused while the
// client does not read, and a client going away stops it.
#include <braid/testing/loopback.hpp>
#include <braid/web/resource.hpp>
#include <braid/web/site.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

namespace braid::web {
namespace {

constexpr int chunkCount = 64;
constexpr std::size_t chunkSize = 8192;

// Writes chunkCount chunks of chunkSize bytes as fast as the transport takes them.
class BigProducer : public IPushProducer {
public:
    explicit BigProducer(std::shared_ptr<Request> request) : request_(std::move(request)) {}

    void produce() {
        while (!paused_ && !stopped && written < chunkCount) {
            ++written;
            request_->write(std::string(chunkSize, 'x'));
        }
        if (written == chunkCount && !request_->finished()) {
            request_->unregisterProducer();
            request_->finish();
        }
    }
    void pauseProducing() override {
        paused_ = true;
        ++pauses;
    }
    void resumeProducing() override {
        paused_ = false;
        produce();
    }
    void stopProducing() override { stopped = true; }

    int written = 0;
    int pauses = 0;
    bool stopped = false;

private:
    std::shared_ptr<Request> request_;
    bool paused_ = false;
};

class Big : public Resource {
public:
    RenderResult render_GET(Request& request) override {
        producer = std::make_shared<BigProducer>(request.shared_from_this());
        request.registerProducer(*producer);
        producer->produce();
        return NOT_DONE_YET;
    }
    std::shared_ptr<BigProducer> producer;
};

class RawClient : public Protocol {
public:
    void dataReceived(std::string_view data) override { received.append(data); }
    std::string received;
};

struct WebLoopback {
    WebLoopback() {
        auto root = std::make_shared<Resource>();
        root->putChild("big", big);
        site = std::make_shared<Site>(root);
    }
    std::shared_ptr<Big> big = std::make_shared<Big>();
    std::shared_ptr<Site> site;
};

TEST(WebLoopbackTest, StreamingFollowsBackpressure) {
    WebLoopback web;
    testing::Loopback<RawClient, Protocol> loop(
        std::make_unique<RawClient>(), web.site->buildProtocol(Address::ipv4("127.0.0.1", 1)),
        {.delivery = testing::Delivery::randomChunks, .seed = 7, .maxChunk = 4096});
    loop.clientTransport().pauseProducing(); // the client reads nothing for now
    loop.client().transport->write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    loop.pump();
    ASSERT_NE(web.big->producer, nullptr);
    EXPECT_GE(web.big->producer->pauses, 1);
    EXPECT_LT(web.big->producer->written, chunkCount);
    EXPECT_LE(loop.serverTransport().bufferedBytes(), (std::size_t{64} * 1024) + chunkSize + 64);

    loop.clientTransport().resumeProducing();
    loop.pump();
    EXPECT_EQ(web.big->producer->written, chunkCount);
    const std::string& received = loop.client().received;
    EXPECT_TRUE(received.starts_with("HTTP/1.1 200 OK\r\n"));
    EXPECT_TRUE(received.ends_with("\r\n0\r\n\r\n"));
    EXPECT_GT(received.size(), chunkCount * chunkSize);
    EXPECT_FALSE(loop.serverTransport().disconnected());
}

TEST(WebLoopbackTest, ClientGoingAwayStopsTheProducer) {
    WebLoopback web;
    testing::Loopback<RawClient, Protocol> loop(
        std::make_unique<RawClient>(), web.site->buildProtocol(Address::ipv4("127.0.0.1", 1)));
    loop.clientTransport().pauseProducing();
    loop.client().transport->write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    loop.pump();
    ASSERT_NE(web.big->producer, nullptr);
    loop.client().transport->abortConnection();
    loop.pump();
    EXPECT_TRUE(web.big->producer->stopped);
    EXPECT_TRUE(loop.serverTransport().disconnected());
}

} // namespace
} // namespace braid::web
