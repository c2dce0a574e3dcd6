// A braid server under hostile peers: one that never reads (memory must stay bounded by
// the write buffer's high-water mark) and descriptor exhaustion (accepting pauses, then
// resumes, without spinning).
#include <braid/factory.hpp>
#include <braid/producer.hpp>
#include <braid/reactor.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/testing/run_until.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

using braid::Address;
using braid::Factory;
using braid::Failure;
using braid::Protocol;
using braid::Reactor;
using braid::testing::runUntil;

namespace {

// Resident set size of this process, from /proc.
std::size_t rssBytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    std::size_t resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// A plain blocking-free client socket connected to 127.0.0.1:port.
int rawConnect(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    return fd;
}

// Writes as fast as the transport lets it: a push producer that the transport pauses
// above the high-water mark.
class Firehose : public Protocol, public braid::IPushProducer {
public:
    struct Stats {
        std::size_t pauses = 0;
        std::size_t maxBuffered = 0;
        std::size_t written = 0;
    };
    explicit Firehose(Stats* stats) : stats_(stats) {}

    void connectionMade() override {
        transport->registerProducer(static_cast<braid::IPushProducer&>(*this));
        produce();
    }
    void pauseProducing() override {
        paused_ = true;
        ++stats_->pauses;
    }
    void resumeProducing() override {
        paused_ = false;
        produce();
    }
    void stopProducing() override { paused_ = true; }

private:
    void produce() {
        // Write in slices from the loop (callLater 0) until paused, like a file sender.
        if (paused_ || !connected) {
            return;
        }
        transport->write(chunk_);
        stats_->written += chunk_.size();
        stats_->maxBuffered = std::max(stats_->maxBuffered, transport->bufferedBytes());
        callLater(0, [this] { produce(); });
    }

    Stats* stats_;
    bool paused_ = false;
    std::string chunk_ = std::string(16 * 1024, 'x');
};

TEST(TcpBackpressure, PushProducerIsPausedWhenThePeerDoesNotRead) {
    Reactor reactor({.backend = std::nullopt, .installSignalHandlers = false});
    Firehose::Stats stats;
    auto port = reactor.listenTCP(0, Factory::forProtocol<Firehose>(&stats), 50, "127.0.0.1");
    int peer = rawConnect(port->getHost().port()); // never reads
    std::size_t before = rssBytes();
    bool done = false;
    reactor.callLater(1.0, [&] { done = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return done; }, 10));
    EXPECT_GT(stats.pauses, 0U);
    braid::WriteBufferLimits limits;
    EXPECT_LE(stats.maxBuffered, limits.high + 16 * 1024);
    // The kernel buffers a few MB on loopback; braid adds no more than its mark.
    EXPECT_LT(stats.written, 64U * 1024U * 1024U);
    EXPECT_LT(rssBytes() - std::min(rssBytes(), before), 8U * 1024U * 1024U);
    ::close(peer);
}

// An echo server fed by a peer that sends without ever reading: the server's writes
// back pile up, so it must stop reading that peer instead of buffering without bound.
TEST(TcpBackpressure, EchoServerStopsReadingAPeerThatDoesNotRead) {
    Reactor reactor({.backend = std::nullopt, .installSignalHandlers = false});
    class Echo : public Protocol {
    public:
        explicit Echo(std::size_t* maxBuffered) : maxBuffered_(maxBuffered) {}
        void dataReceived(std::string_view data) override {
            transport->write(data);
            *maxBuffered_ = std::max(*maxBuffered_, transport->bufferedBytes());
        }

    private:
        std::size_t* maxBuffered_;
    };
    std::size_t maxBuffered = 0;
    auto port = reactor.listenTCP(0, Factory::forProtocol<Echo>(&maxBuffered), 50, "127.0.0.1");
    int peer = rawConnect(port->getHost().port());
    std::string chunk(64 * 1024, 'y');
    std::size_t sent = 0;
    std::size_t before = rssBytes();
    bool blocked = false;
    // Send until the kernel refuses more: the server stopped reading.
    ASSERT_TRUE(runUntil(
        reactor,
        [&] {
            ssize_t n = ::send(peer, chunk.data(), chunk.size(), MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
            }
            blocked = n < 0 && errno == EAGAIN;
            return blocked || sent > 512U * 1024U * 1024U;
        },
        20));
    // Let the server run a while longer with the peer still pushing.
    for (int i = 0; i < 50; ++i) {
        reactor.iterate(0.01);
        (void)::send(peer, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    }
    EXPECT_TRUE(blocked) << "the server kept reading " << sent << " bytes";
    braid::WriteBufferLimits limits;
    EXPECT_LE(maxBuffered, limits.high + 64 * 1024 * 2);
    EXPECT_LT(rssBytes() - std::min(rssBytes(), before), 16U * 1024U * 1024U);
    ::close(peer);
}

// With the descriptor limit lowered so that accept() fails with EMFILE, the port logs,
// pauses accepting (no busy loop) and accepts the waiting connections once descriptors
// are free again.
TEST(TcpDescriptorExhaustion, AcceptPausesAndResumes) {
    braid::testing::LogCapture log;
    Reactor reactor({.backend = std::nullopt, .installSignalHandlers = false});
    int accepted = 0;
    class Count : public Protocol {
    public:
        explicit Count(int* n) : n_(n) {}
        void connectionMade() override { ++*n_; }

    private:
        int* n_;
    };
    auto port = reactor.listenTCP(0, Factory::forProtocol<Count>(&accepted), 50, "127.0.0.1");
    rlimit original{};
    ::getrlimit(RLIMIT_NOFILE, &original);

    // Find the lowest free descriptor: the limit goes just above it.
    int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ::close(probe);
    std::vector<int> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(rawConnect(port->getHost().port()));
    }
    // The clients use probe..probe+5; allow two more descriptors for accepted sockets.
    rlimit lowered = original;
    lowered.rlim_cur = static_cast<rlim_t>(probe + 8);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
    for (int i = 0; i < 20; ++i) {
        reactor.iterate(0.01);
    }
    int acceptedWhileLimited = accepted;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
    EXPECT_LT(acceptedWhileLimited, 6);
    EXPECT_TRUE(log.contains("pausing accepting"));
    ASSERT_TRUE(runUntil(reactor, [&] { return accepted == 6; }, 5));
    for (int fd : clients) {
        ::close(fd);
    }
}

} // namespace
