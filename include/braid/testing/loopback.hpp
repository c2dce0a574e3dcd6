// Loopback: a client and a server protocol joined in memory (Twisted's iosim and
// protocols.loopback). Bytes move only when the test pumps, in the pieces it chooses, so
// protocol tests need no sockets, no reactor and no sleeps.
#pragma once

#include <braid/address.hpp>
#include <braid/factory.hpp>
#include <braid/failure.hpp>
#include <braid/protocol.hpp>
#include <braid/task/clock.hpp>
#include <braid/transport.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace braid::testing {

// How the bytes one side wrote reach the other side's dataReceived().
enum class Delivery : std::uint8_t {
    allAtOnce,      // all that is buffered, in one call
    oneByteAtATime, // one call per byte
    randomChunks,   // chunks of 1..maxChunk bytes, sizes drawn from std::mt19937(seed)
};

struct LoopbackOptions {
    Delivery delivery = Delivery::allAtOnce;
    std::uint32_t seed = 0;
    std::size_t maxChunk = 16;
    // Once this many bytes have been delivered (both directions together), both sides lose
    // the connection with ConnectionLost, dropping whatever is still buffered.
    std::optional<std::size_t> dropAfterBytes = std::nullopt;
    // The client's address (its getHost(), the server's getPeer()), and the server's.
    Address clientAddress = Address::ipv4("127.0.0.1", 54321);
    Address serverAddress = Address::ipv4("127.0.0.1", 8000);
    // The transports' clock(); nullptr: one the loopback owns. Must outlive the loopback.
    task::Clock* clock = nullptr;
};

namespace detail {
class LoopbackBase;
} // namespace detail

// One side's transport. It owns that side's protocol and behaves as a TCP transport does:
// writes are buffered until pumped to the peer, with backpressure (WriteBufferLimits,
// producers); loseConnection() closes once the buffer is delivered; abortConnection()
// drops it; loseWriteConnection() gives the peer readConnectionLost() after the buffer;
// pauseProducing() stops delivery to this side. As in TCP, the peer closing cleanly reads
// as end of file (readConnectionLost()), and data the peer will never read (still
// buffered when it closed, or written after) resets the connection: ConnectionLost.
// Closes happen during pump(), never inside the call that asked for them.
class LoopbackTransport final : public ITransport {
public:
    LoopbackTransport(const LoopbackTransport&) = delete;
    LoopbackTransport& operator=(const LoopbackTransport&) = delete;

    [[nodiscard]] Protocol& protocol() const noexcept { return *protocol_; }
    // connectionLost() has been delivered, with this reason.
    [[nodiscard]] bool disconnected() const noexcept { return lostReason_.has_value(); }
    [[nodiscard]] const std::optional<Failure>& lostReason() const noexcept { return lostReason_; }
    // loseConnection() was called.
    [[nodiscard]] bool disconnecting() const noexcept { return disconnecting_; }
    // pauseProducing() was called (and resumeProducing() not since).
    [[nodiscard]] bool paused() const noexcept { return readPaused_; }
    [[nodiscard]] IProducer* producer() const noexcept;

    // ITransport
    void write(std::string_view data) override { writeSequence({&data, 1}); }
    void writeSequence(std::span<const std::string_view> data) override;
    void loseConnection() override;
    void abortConnection() override;
    void loseWriteConnection() override;
    [[nodiscard]] bool closing() const noexcept override {
        return disconnecting_ || closeReason_.has_value() || disconnected();
    }
    [[nodiscard]] Address getPeer() const override { return peerAddress_; }
    [[nodiscard]] Address getHost() const override { return hostAddress_; }
    void setTcpNoDelay(bool /*enabled*/) override {}
    void setTcpKeepAlive(bool /*enabled*/) override {}
    void setWriteBufferLimits(WriteBufferLimits limits) override;
    // Written but not yet delivered to the peer.
    [[nodiscard]] std::size_t bufferedBytes() const override { return out_.size() - sent_; }
    [[nodiscard]] task::Clock& clock() override;

    // IConsumer: a push producer is paused above the high-water mark and resumed below the
    // low one; a pull producer is asked for a chunk at once and whenever the buffer empties.
    void registerProducer(IPushProducer& producer) override;
    void registerProducer(IPullProducer& producer) override;
    void unregisterProducer() override;

    // IPushProducer: pausing stops delivery to this side; stopProducing() loseConnection()s.
    void pauseProducing() override { readPaused_ = true; }
    void resumeProducing() override { readPaused_ = false; }
    void stopProducing() override { loseConnection(); }

private:
    friend class detail::LoopbackBase;

    LoopbackTransport(detail::LoopbackBase& loopback, Address host, Address peer)
        : loopback_(loopback), hostAddress_(std::move(host)), peerAddress_(std::move(peer)) {}

    [[nodiscard]] bool wantsToRead() const noexcept;
    // Written everything it ever will, so the peer reads end of file after the buffer.
    [[nodiscard]] bool sentEnd() const noexcept;
    void consumed(std::size_t size);
    void onDrained();
    void peerClosed();
    void checkHighWater();
    void checkLowWater();
    // Ends the connection with `reason` at the next pump (the first reason given wins).
    void setCloseReason(Failure reason);

    detail::LoopbackBase& loopback_;
    LoopbackTransport* other_ = nullptr;
    std::unique_ptr<Protocol> protocol_;
    Address hostAddress_;
    Address peerAddress_;

    std::string out_; // written, not delivered yet, from out_[sent_]
    std::size_t sent_ = 0;
    WriteBufferLimits limits_;
    IPushProducer* pushProducer_ = nullptr;
    IPullProducer* pullProducer_ = nullptr;
    std::optional<Failure> closeReason_; // closing at the next pump
    std::optional<Failure> lostReason_;  // closed

    bool disconnecting_ = false;
    bool readShut_ = false;   // read end of file (readConnectionLost)
    bool readPaused_ = false; // pauseProducing()
    bool throttled_ = false;  // above the high-water mark
    bool writeShutRequested_ = false;
    bool writeShut_ = false;
};

namespace detail {

// What Loopback<C, S> is made of, apart from the protocols' types.
class LoopbackBase {
public:
    LoopbackBase(const LoopbackBase&) = delete;
    LoopbackBase& operator=(const LoopbackBase&) = delete;

    // One round (Twisted's IOPump.pump()): runs the calls due on the clock (advance(0)),
    // then moves one step each way, client to server first: a pending close, one chunk, a
    // half-close, or an end of file. Returns whether anything moved.
    bool pumpOnce();
    // Rounds until one moves nothing (Twisted's IOPump.flush()). Throws std::runtime_error
    // after maxRounds rounds, for protocols that never stop talking.
    void pump(std::size_t maxRounds = 1'000'000);

    [[nodiscard]] LoopbackTransport& clientTransport() noexcept { return client_; }
    [[nodiscard]] LoopbackTransport& serverTransport() noexcept { return server_; }
    [[nodiscard]] task::Clock& clock() noexcept { return *clock_; }
    // Bytes delivered so far, both directions together.
    [[nodiscard]] std::size_t deliveredBytes() const noexcept { return delivered_; }

protected:
    explicit LoopbackBase(LoopbackOptions options);
    ~LoopbackBase() = default;

    // Hands each protocol to its transport and makes the connections: the server's
    // first, as accept() completes before the client hears that connect() did.
    void start(std::unique_ptr<Protocol> client, std::unique_ptr<Protocol> server);

    // factory.buildProtocol(peer), which must be a P.
    template <class P>
    static std::unique_ptr<Protocol> build(Factory& factory, const Address& peer) {
        std::unique_ptr<Protocol> protocol = factory.buildProtocol(peer);
        if (dynamic_cast<P*>(protocol.get()) == nullptr) {
            throw std::invalid_argument(
                "Loopback: a factory refused the connection or built a protocol of another type");
        }
        return protocol;
    }

private:
    bool transfer(LoopbackTransport& from, LoopbackTransport& to);
    void deliverChunk(LoopbackTransport& from, LoopbackTransport& to);
    [[nodiscard]] std::size_t chunkSize(std::size_t available);
    void close(LoopbackTransport& side, LoopbackTransport& other);

    LoopbackOptions options_;
    task::Clock ownClock_;
    task::Clock* clock_;
    std::mt19937 random_;
    std::size_t delivered_ = 0;
    // After the clocks: the protocols die first, cancelling their calls.
    LoopbackTransport client_;
    LoopbackTransport server_;
};

} // namespace detail

// A client protocol C and a server protocol S joined in memory; the loopback owns both,
// and keeps them after connectionLost() so tests can look at them.
//
//     Loopback<EchoClient, EchoServer> loop({.delivery = Delivery::oneByteAtATime});
//     loop.client().transport->write("hello");
//     loop.pump();
//     EXPECT_EQ(loop.client().received, "hello");
//
// Loopback<> joins two plain Protocols. Exceptions thrown by the protocols propagate out
// of pump() (a real reactor would log them and abort the connection).
template <class C = Protocol, class S = Protocol>
    requires std::derived_from<C, Protocol> && std::derived_from<S, Protocol>
class Loopback final : public detail::LoopbackBase {
public:
    // Default-constructed protocols.
    explicit Loopback(LoopbackOptions options = {})
        requires std::default_initializable<C> && std::default_initializable<S>
        : Loopback(std::make_unique<C>(), std::make_unique<S>(), std::move(options)) {}

    Loopback(std::unique_ptr<C> client, std::unique_ptr<S> server, LoopbackOptions options = {})
        : LoopbackBase(std::move(options)) {
        start(std::move(client), std::move(server));
    }

    // Protocols from factories, each given the other side's address as a port or
    // connector would. Only buildProtocol() is called: starting and stopping factories
    // and telling a ClientFactory how connecting went are ports' and connectors' business.
    // Throws std::invalid_argument when a factory returns no protocol or not a C / an S.
    Loopback(ClientFactory& clientFactory, Factory& serverFactory, LoopbackOptions options = {})
        : LoopbackBase(std::move(options)) {
        std::unique_ptr<Protocol> server = build<S>(serverFactory, serverTransport().getPeer());
        std::unique_ptr<Protocol> client = build<C>(clientFactory, clientTransport().getPeer());
        start(std::move(client), std::move(server));
    }

    [[nodiscard]] C& client() noexcept { return static_cast<C&>(clientTransport().protocol()); }
    [[nodiscard]] S& server() noexcept { return static_cast<S&>(serverTransport().protocol()); }
};

} // namespace braid::testing
