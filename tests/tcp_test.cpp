// TCP and UNIX stream connections on real loopback sockets, on every backend: echo,
// large transfers, half-close, closing and aborting, backpressure, connect failures,
// descriptor exhaustion, misbehaving protocols.
#include <braid/error.hpp>
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

#include <array>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

using braid::Address;
using braid::ClientFactory;
using braid::Factory;
using braid::Failure;
using braid::IConnector;
using braid::Protocol;
using braid::Reactor;
using braid::testing::runUntil;

namespace {

// What a test protocol saw, kept outside it: the transport destroys the protocol.
struct Record {
    std::string received;
    bool made = false;
    bool lost = false;
    bool halfClosed = false;
    Failure reason;
};

// A protocol noting in its Record that it connected and how the connection ended.
class Recording : public Protocol {
public:
    explicit Recording(std::shared_ptr<Record> record = std::make_shared<Record>())
        : record_(std::move(record)) {}
    void connectionMade() override { record_->made = true; }
    void connectionLost(const Failure& reason) override {
        record_->lost = true;
        record_->reason = reason;
    }

protected:
    std::shared_ptr<Record> record_;
};

class Echo : public Recording {
public:
    using Recording::Recording;
    void dataReceived(std::string_view data) override {
        record_->received.append(data);
        transport->write(data);
    }
};

// Sends `message` once connected, records what comes back, closes after `expect` bytes.
class Sender : public Protocol {
public:
    Sender(std::shared_ptr<Record> record, std::string message, std::size_t expect,
           bool halfClose = false)
        : record_(std::move(record)),
          message_(std::move(message)),
          expect_(expect),
          halfClose_(halfClose) {}
    void connectionMade() override {
        record_->made = true;
        transport->write(message_);
        if (halfClose_) {
            transport->loseWriteConnection();
        }
    }
    void dataReceived(std::string_view data) override {
        record_->received.append(data);
        if (record_->received.size() >= expect_ && !halfClose_) {
            transport->loseConnection();
        }
    }
    void readConnectionLost() override {
        record_->halfClosed = true;
        transport->loseConnection();
    }
    void connectionLost(const Failure& reason) override {
        record_->lost = true;
        record_->reason = reason;
    }

private:
    std::shared_ptr<Record> record_;
    std::string message_;
    std::size_t expect_;
    bool halfClose_;
};

// A client factory recording connection failures.
class RecordingClientFactory : public ClientFactory {
public:
    explicit RecordingClientFactory(std::function<std::unique_ptr<Protocol>()> make)
        : make_(std::move(make)) {}
    std::unique_ptr<Protocol> buildProtocol(const Address&) override { return make_(); }
    void clientConnectionFailed(IConnector&, const Failure& reason) override {
        failed = true;
        failure = reason;
    }
    void clientConnectionLost(IConnector&, const Failure& reason) override {
        lostConnection = true;
        failure = reason;
    }
    bool failed = false;
    bool lostConnection = false;
    Failure failure;

private:
    std::function<std::unique_ptr<Protocol>()> make_;
};

// On connection, sends `chunks` copies of `chunk` as a pull producer (one per request for
// more), then closes.
class PullSender : public Protocol, public braid::IPullProducer {
public:
    PullSender(std::string chunk, int chunks) : chunk_(std::move(chunk)), left_(chunks) {}
    void connectionMade() override {
        transport->registerProducer(static_cast<braid::IPullProducer&>(*this));
    }
    void resumeProducing() override {
        if (left_ == 0) {
            transport->unregisterProducer();
            transport->loseConnection();
            return;
        }
        --left_;
        transport->write(chunk_);
    }
    void stopProducing() override { left_ = 0; }

private:
    std::string chunk_;
    int left_;
};

std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<char>('a' + i % 26);
    }
    return data;
}

class TcpTest : public ::testing::TestWithParam<Reactor::Backend> {
protected:
    Reactor reactor{Reactor::Options{.backend = GetParam(), .installSignalHandlers = false}};

    // Listens on a free loopback port with an Echo server recording into `server`.
    std::uint16_t listenEcho(std::shared_ptr<Record> server) {
        auto port =
            reactor.listenTCP(0, Factory::forProtocol<Echo>(std::move(server)), 50, "127.0.0.1");
        ports_.push_back(port);
        return port->getHost().port();
    }

    std::shared_ptr<RecordingClientFactory> send(std::uint16_t port, std::shared_ptr<Record> client,
                                                 std::string message, std::size_t expect,
                                                 bool halfClose = false) {
        auto factory = std::make_shared<RecordingClientFactory>(
            [=] { return std::make_unique<Sender>(client, message, expect, halfClose); });
        reactor.connectTCP("127.0.0.1", port, factory);
        return factory;
    }

    std::vector<std::shared_ptr<braid::IListeningPort>> ports_;
};

TEST_P(TcpTest, EchoRoundTripAndCleanClose) {
    auto server = std::make_shared<Record>();
    auto client = std::make_shared<Record>();
    auto port = listenEcho(server);
    auto factory = send(port, client, "hello braid", 11);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost && server->lost; }));
    EXPECT_EQ(client->received, "hello braid");
    EXPECT_EQ(server->received, "hello braid");
    EXPECT_TRUE(client->reason.check<braid::ConnectionDone>());
    EXPECT_TRUE(server->reason.check<braid::ConnectionDone>());
    EXPECT_TRUE(factory->lostConnection);
    EXPECT_EQ(reactor.connectionCount(), 0U);
}

TEST_P(TcpTest, LargeTransferArrivesWhole) {
    auto server = std::make_shared<Record>();
    auto client = std::make_shared<Record>();
    auto port = listenEcho(server);
    std::string big = pattern(4 * 1024 * 1024);
    send(port, client, big, big.size());
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost; }, 20));
    EXPECT_EQ(client->received.size(), big.size());
    EXPECT_TRUE(client->received == big);
}

// The peer half-closes right after sending a lot; an echo server that knows nothing of
// half-close still sends everything back before closing.
TEST_P(TcpTest, HalfCloseDeliversEverythingAlreadyWritten) {
    auto server = std::make_shared<Record>();
    auto client = std::make_shared<Record>();
    auto port = listenEcho(server);
    std::string big = pattern(2 * 1024 * 1024);
    send(port, client, big, big.size(), true);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost && server->lost; }, 20));
    EXPECT_TRUE(client->halfClosed);
    EXPECT_EQ(client->received.size(), big.size());
    EXPECT_TRUE(client->received == big);
    EXPECT_TRUE(server->reason.check<braid::ConnectionDone>());
}

// Each chunk of a pull producer may go straight to the kernel, leaving nothing queued: the
// transport must still ask for the next one.
TEST_P(TcpTest, PullProducerIsAskedUntilItIsDone) {
    std::string chunk = pattern(64 * 1024);
    auto port = reactor.listenTCP(0, Factory::forProtocol<PullSender>(chunk, 64), 50, "127.0.0.1");
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, "", SIZE_MAX);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost; }, 20));
    EXPECT_EQ(client->received.size(), chunk.size() * 64);
    EXPECT_TRUE(client->reason.check<braid::ConnectionDone>());
}

// Pauses reading after every chunk and resumes a little later: what arrives meanwhile
// (on io_uring, bytes already on their way when reading paused) and the end of file come
// after it, in order.
class PausingReader : public Recording {
public:
    using Recording::Recording;
    void dataReceived(std::string_view data) override {
        record_->received.append(data);
        transport->pauseProducing();
        transport->clock().callLater(0.002, [this] { transport->resumeProducing(); });
    }
    void readConnectionLost() override {
        record_->halfClosed = true;
        transport->loseConnection();
    }
};

TEST_P(TcpTest, PausedReadingKeepsBytesAndTheEndInOrder) {
    auto server = std::make_shared<Record>();
    auto port = reactor.listenTCP(0, Factory::forProtocol<PausingReader>(server), 50, "127.0.0.1");
    std::string big = pattern(512 * 1024);
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, big, 0, true);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost && server->lost; }, 20));
    EXPECT_TRUE(server->halfClosed);
    EXPECT_EQ(server->received.size(), big.size());
    EXPECT_TRUE(server->received == big);
    EXPECT_TRUE(server->reason.check<braid::ConnectionDone>());
}

TEST_P(TcpTest, ManyConcurrentConnections) {
    auto server = std::make_shared<Record>();
    auto port = listenEcho(server);
    std::vector<std::shared_ptr<Record>> clients;
    for (int i = 0; i < 200; ++i) {
        clients.push_back(std::make_shared<Record>());
        send(port, clients.back(), "message " + std::to_string(i), 8 + std::to_string(i).size());
    }
    ASSERT_TRUE(runUntil(
        reactor,
        [&] {
            return std::all_of(clients.begin(), clients.end(), [](auto& c) { return c->lost; });
        },
        20));
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(clients[i]->received, "message " + std::to_string(i));
    }
}

TEST_P(TcpTest, ConnectionRefused) {
    // A port that was just released: nobody listens there.
    auto port = reactor.listenTCP(0, Factory::forProtocol<Echo>(), 50, "127.0.0.1");
    std::uint16_t number = port->getHost().port();
    bool stopped = false;
    port->stopListening().addCallback([&] { stopped = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return stopped; }));
    auto client = std::make_shared<Record>();
    auto factory = send(number, client, "x", 1);
    ASSERT_TRUE(runUntil(reactor, [&] { return factory->failed; }));
    EXPECT_TRUE(factory->failure.check<braid::ConnectionRefusedError>());
    EXPECT_FALSE(client->made);
}

// A listening socket that never accepts and whose backlog is full drops new SYNs, so
// connecting to it hangs until braid's timeout.
TEST_P(TcpTest, ConnectTimeout) {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), length), 0);
    ASSERT_EQ(::listen(listener, 0), 0);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) { // fill the accept queue
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        ::connect(s, reinterpret_cast<sockaddr*>(&address), length);
        fillers.push_back(s);
    }
    auto factory =
        std::make_shared<RecordingClientFactory>([] { return std::make_unique<Echo>(); });
    reactor.connectTCP("127.0.0.1", ntohs(address.sin_port), factory, 0.3);
    ASSERT_TRUE(runUntil(reactor, [&] { return factory->failed; }, 10));
    EXPECT_TRUE(factory->failure.check<braid::TimeoutError>());
    for (int s : fillers) {
        ::close(s);
    }
    ::close(listener);
}

TEST_P(TcpTest, LoseConnectionSendsWhatIsBufferedFirst) {
    std::string big = pattern(3 * 1024 * 1024);
    class Blurt : public Protocol {
    public:
        explicit Blurt(std::string data) : data_(std::move(data)) {}
        void connectionMade() override {
            transport->write(data_);
            transport->loseConnection();
        }

    private:
        std::string data_;
    };
    auto port = reactor.listenTCP(0, Factory::forProtocol<Blurt>(big), 50, "127.0.0.1");
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, "", big.size() + 1); // reads until the server closes
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost; }, 20));
    EXPECT_EQ(client->received.size(), big.size());
}

// Writes of the received bytes themselves are sent from the read buffer without a
// copy; mixing them with other writes and closing must keep order and lose nothing.
TEST_P(TcpTest, WritesOfReceivedBytesKeepOrderAndFlushBeforeClosing) {
    class EchoTwiceAndClose : public Protocol {
    public:
        void dataReceived(std::string_view data) override {
            transport->write(data.substr(0, 3));
            transport->write("|");
            transport->write(data);
            transport->loseConnection();
        }
    };
    auto port = reactor.listenTCP(0, Factory::forProtocol<EchoTwiceAndClose>(), 50, "127.0.0.1");
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, "abcdef", 100);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost; }));
    EXPECT_EQ(client->received, "abc|abcdef");

    class EchoThenClose : public Protocol {
    public:
        void dataReceived(std::string_view data) override {
            transport->write(data);
            transport->loseConnection();
        }
    };
    auto port2 = reactor.listenTCP(0, Factory::forProtocol<EchoThenClose>(), 50, "127.0.0.1");
    auto client2 = std::make_shared<Record>();
    send(port2->getHost().port(), client2, "once", 100);
    ASSERT_TRUE(runUntil(reactor, [&] { return client2->lost; }));
    EXPECT_EQ(client2->received, "once");
}

TEST_P(TcpTest, AbortConnectionDropsTheBufferAndReportsConnectionAborted) {
    class Aborter : public Recording {
    public:
        using Recording::Recording;
        void connectionMade() override {
            transport->write(pattern(32 * 1024 * 1024)); // more than the kernel takes at once
            transport->abortConnection();
        }
    };
    auto server = std::make_shared<Record>();
    auto port = reactor.listenTCP(0, Factory::forProtocol<Aborter>(server), 50, "127.0.0.1");
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, "", 1 << 30);
    ASSERT_TRUE(runUntil(reactor, [&] { return server->lost && client->lost; }));
    EXPECT_TRUE(server->reason.check<braid::ConnectionAborted>());
    EXPECT_LT(client->received.size(), 32U * 1024U * 1024U);
    EXPECT_TRUE(client->reason.check<braid::ConnectionLost>()) << client->reason.toString();
}

// Writing pieces to a peer that has gone (it closed, then reset the connection when our
// bytes arrived) ends only that connection: EPIPE, not a SIGPIPE for the process.
TEST_P(TcpTest, WriteSequenceToAGonePeerFailsTheConnectionOnly) {
    class Ticker : public Recording {
    public:
        using Recording::Recording;
        void connectionMade() override {
            Recording::connectionMade();
            transport->pauseProducing();          // not reading: the peer's close goes unseen
            callLater(0.001, [this] { tick(); }); // once the peer has closed
        }
        void tick() {
            std::array<std::string_view, 2> pieces{"tick", "\n"};
            transport->writeSequence(pieces);     // on loopback, the peer's RST is back at once...
            transport->writeSequence(pieces);     // ...so this one meets EPIPE
            callLater(0.001, [this] { tick(); }); // cancelled when the connection goes
        }
    };
    auto server = std::make_shared<Record>();
    auto port = reactor.listenTCP(0, Factory::forProtocol<Ticker>(server), 50, "127.0.0.1");
    int peer = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port->getHost().port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(peer, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_TRUE(runUntil(reactor, [&] { return server->made; }));
    ::close(peer); // FIN; the ticks that follow are answered with RST, then EPIPE
    ASSERT_TRUE(runUntil(reactor, [&] { return server->lost; }));
    EXPECT_TRUE(server->reason.check<braid::ConnectionLost>()) << server->reason.toString();
}

TEST_P(TcpTest, ThrowingProtocolIsAbortedAndOthersGoOn) {
    braid::testing::LogCapture log;
    class Thrower : public Recording {
    public:
        using Recording::Recording;
        void dataReceived(std::string_view data) override {
            if (data.find("boom") != std::string_view::npos) {
                throw std::runtime_error("protocol bug");
            }
            transport->write(data);
        }
    };
    auto server = std::make_shared<Record>();
    auto port = reactor.listenTCP(0, Factory::forProtocol<Thrower>(server), 50, "127.0.0.1");
    auto bad = std::make_shared<Record>();
    auto good = std::make_shared<Record>();
    send(port->getHost().port(), bad, "boom", 1);
    send(port->getHost().port(), good, "fine", 4);
    ASSERT_TRUE(runUntil(reactor, [&] { return bad->lost && good->lost; }));
    EXPECT_EQ(good->received, "fine");
    EXPECT_TRUE(log.contains("protocol bug"));
}

TEST_P(TcpTest, FactoryRefusingAConnectionClosesIt) {
    class Refuser : public Factory {
    public:
        std::unique_ptr<Protocol> buildProtocol(const Address&) override { return nullptr; }
    };
    auto port = reactor.listenTCP(0, std::make_shared<Refuser>(), 50, "127.0.0.1");
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, "anyone?", 1);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost; }));
    EXPECT_TRUE(client->received.empty());
}

TEST_P(TcpTest, StopListeningStopsTheFactoryAndFires) {
    class Counting : public Factory {
    public:
        std::unique_ptr<Protocol> buildProtocol(const Address&) override {
            return std::make_unique<Echo>();
        }
        void startFactory() override { ++starts; }
        void stopFactory() override { ++stops; }
        int starts = 0;
        int stops = 0;
    };
    auto factory = std::make_shared<Counting>();
    auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
    EXPECT_EQ(factory->starts, 1);
    bool stopped = false;
    port->stopListening().addCallback([&] { stopped = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return stopped; }));
    EXPECT_EQ(factory->stops, 1);
}

TEST_P(TcpTest, AddressesOfBothEnds) {
    Address serverSawPeer;
    Address clientSawHost;
    class Peek : public Protocol {
    public:
        explicit Peek(Address* out) : out_(out) {}
        void connectionMade() override {
            *out_ = transport->getPeer();
            transport->loseConnection();
        }

    private:
        Address* out_;
    };
    auto port = reactor.listenTCP(0, Factory::forProtocol<Peek>(&serverSawPeer), 50, "127.0.0.1");
    EXPECT_EQ(port->getHost().host(), "127.0.0.1");
    EXPECT_NE(port->getHost().port(), 0);
    auto factory = std::make_shared<RecordingClientFactory>(
        [&] { return std::make_unique<Peek>(&clientSawHost); });
    reactor.connectTCP("127.0.0.1", port->getHost().port(), factory);
    ASSERT_TRUE(
        runUntil(reactor, [&] { return serverSawPeer.port() != 0 && factory->lostConnection; }));
    EXPECT_EQ(serverSawPeer.host(), "127.0.0.1");
    EXPECT_EQ(clientSawHost, port->getHost());
}

TEST_P(TcpTest, ProtocolTimersAreCancelledWhenTheConnectionGoes) {
    auto fired = std::make_shared<bool>(false);
    class Timed : public Protocol {
    public:
        explicit Timed(std::shared_ptr<bool> f) : fired_(std::move(f)) {}
        void connectionMade() override {
            callLater(0.05, [this] { *fired_ = true; });
            transport->loseConnection();
        }

    private:
        std::shared_ptr<bool> fired_;
    };
    auto port = reactor.listenTCP(0, Factory::forProtocol<Timed>(fired), 50, "127.0.0.1");
    auto client = std::make_shared<Record>();
    send(port->getHost().port(), client, "", 1);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost; }));
    bool waited = false;
    reactor.callLater(0.1, [&] { waited = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return waited; }));
    EXPECT_FALSE(*fired);
}

TEST_P(TcpTest, HostNamesResolveWithoutBlockingTheLoop) {
    auto server = std::make_shared<Record>();
    auto port = listenEcho(server);
    auto client = std::make_shared<Record>();
    auto factory = std::make_shared<RecordingClientFactory>(
        [&] { return std::make_unique<Sender>(client, "by name", 7); });
    reactor.connectTCP("localhost", port, factory);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost || factory->failed; }));
    EXPECT_EQ(client->received, "by name");
}

TEST_P(TcpTest, UnresolvableNameFailsWithDNSLookupError) {
    auto factory =
        std::make_shared<RecordingClientFactory>([] { return std::make_unique<Echo>(); });
    // Longer than a DNS name may be: rejected locally, no query goes out.
    reactor.connectTCP(std::string(300, 'x') + ".invalid", 80, factory);
    ASSERT_TRUE(runUntil(reactor, [&] { return factory->failed; }));
    EXPECT_TRUE(factory->failure.check<braid::DNSLookupError>()) << factory->failure.toString();
}

TEST_P(TcpTest, StopConnectingDuringTheLookupFailsWithUserError) {
    auto factory =
        std::make_shared<RecordingClientFactory>([] { return std::make_unique<Echo>(); });
    auto connector = reactor.connectTCP("localhost", 1, factory);
    connector->stopConnecting();
    EXPECT_TRUE(factory->failed);
    EXPECT_TRUE(factory->failure.check<braid::UserError>());
    for (int i = 0; i < 20; ++i) {
        reactor.iterate(0.01); // the lookup's answer arrives and is dropped
    }
}

TEST_P(TcpTest, UnixSocketEcho) {
    std::string path = "/tmp/braid-test-" + std::to_string(::getpid()) + ".sock";
    auto server = std::make_shared<Record>();
    auto port = reactor.listenUNIX(path, Factory::forProtocol<Echo>(server), 50, 0600);
    EXPECT_EQ(port->getHost(), Address::unix(path));
    auto client = std::make_shared<Record>();
    auto factory = std::make_shared<RecordingClientFactory>(
        [&] { return std::make_unique<Sender>(client, "over unix", 9); });
    reactor.connectUNIX(path, factory);
    ASSERT_TRUE(runUntil(reactor, [&] { return client->lost && server->lost; }));
    EXPECT_EQ(client->received, "over unix");
    bool stopped = false;
    port->stopListening().addCallback([&] { stopped = true; });
    ASSERT_TRUE(runUntil(reactor, [&] { return stopped; }));
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the socket file is removed";
}

TEST_P(TcpTest, UnixConnectToMissingPathIsRefused) {
    auto factory =
        std::make_shared<RecordingClientFactory>([] { return std::make_unique<Echo>(); });
    reactor.connectUNIX("/tmp/braid-no-such-socket", factory);
    ASSERT_TRUE(runUntil(reactor, [&] { return factory->failed; }));
    EXPECT_TRUE(factory->failure.check<braid::ConnectionRefusedError>());
}

TEST_P(TcpTest, ListenOnABusyPortThrowsCannotListenError) {
    auto port = reactor.listenTCP(0, Factory::forProtocol<Echo>(), 50, "127.0.0.1");
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port->getHost().port());
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::close(fd);
    EXPECT_THROW(
        reactor.listenTCP(port->getHost().port(), Factory::forProtocol<Echo>(), 50, "127.0.0.1"),
        braid::CannotListenError);
}

INSTANTIATE_TEST_SUITE_P(Backends, TcpTest,
                         ::testing::Values(Reactor::Backend::epoll, Reactor::Backend::poll,
                                           Reactor::Backend::uring),
                         [](const auto& info) {
                             switch (info.param) {
                             case Reactor::Backend::epoll: return "epoll";
                             case Reactor::Backend::poll: return "poll";
                             default: return "uring";
                             }
                         });

} // namespace
