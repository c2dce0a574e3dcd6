// StringTransport (twisted.internet.testing.StringTransport): an ITransport that records
// what a protocol does to it, for testing one protocol with no peer, no reactor, no socket.
#pragma once

#include <braid/address.hpp>
#include <braid/task/clock.hpp>
#include <braid/transport.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace braid::testing {

// Usage, as in Twisted: `StringTransport transport; proto.makeConnection(transport);
// proto.dataReceived("..."); EXPECT_EQ(transport.value(), "...");`. Nothing is delivered
// anywhere and nothing closes by itself: loseConnection() only sets `disconnecting`, and
// the test decides when the protocol hears connectionLost. Registered producers are
// recorded, not driven.
class StringTransport : public ITransport {
public:
    // Its own state as a producer of the peer's data (pauseProducing() and friends).
    enum class ProducerState : std::uint8_t { producing, paused, stopped };

    // With a clock of its own.
    StringTransport();
    // With `clock` (which must outlive the transport) as clock().
    explicit StringTransport(task::Clock& clock);
    StringTransport(const StringTransport&) = delete;
    StringTransport& operator=(const StringTransport&) = delete;

    // Everything written since construction or the last clear().
    [[nodiscard]] const std::string& value() const noexcept { return written_; }
    void clear() noexcept { written_.clear(); }

    // The producer registered, if any, and whether it is a push producer.
    [[nodiscard]] IProducer* producer() const noexcept { return producer_; }
    [[nodiscard]] bool streaming() const noexcept { return streaming_; }

    [[nodiscard]] ProducerState producerState() const noexcept { return producerState_; }

    [[nodiscard]] WriteBufferLimits writeBufferLimits() const noexcept { return limits_; }

    // ITransport. write() records even after loseConnection(), as Twisted's does.
    void write(std::string_view data) override { written_.append(data); }
    void writeSequence(std::span<const std::string_view> data) override;
    void loseConnection() override { disconnecting = true; }
    // Sets `aborted` and `disconnecting`; what was written stays in value().
    void abortConnection() override;
    void loseWriteConnection() override { writeDisconnecting = true; }
    [[nodiscard]] bool closing() const noexcept override { return disconnecting; }
    [[nodiscard]] Address getPeer() const override { return peerAddress; }
    [[nodiscard]] Address getHost() const override { return hostAddress; }
    void setTcpNoDelay(bool enabled) override { tcpNoDelay = enabled; }
    void setTcpKeepAlive(bool enabled) override { tcpKeepAlive = enabled; }
    void setWriteBufferLimits(WriteBufferLimits limits) override { limits_ = limits; }
    // Nothing is ever buffered: writes are "sent" at once.
    [[nodiscard]] std::size_t bufferedBytes() const override { return 0; }
    [[nodiscard]] task::Clock& clock() override { return *clock_; }

    // IConsumer. Registering a second producer, or unregistering when none is registered,
    // throws std::logic_error (Twisted raises RuntimeError).
    void registerProducer(IPushProducer& producer) override;
    void registerProducer(IPullProducer& producer) override;
    void unregisterProducer() override;

    // IPushProducer: they only change producerState(). Pausing or resuming after
    // stopProducing() throws std::logic_error.
    void pauseProducing() override;
    void resumeProducing() override;
    void stopProducing() override;

    bool disconnecting = false;      // loseConnection() or abortConnection() was called
    bool aborted = false;            // abortConnection() was called
    bool writeDisconnecting = false; // loseWriteConnection() was called
    bool tcpNoDelay = false;
    bool tcpKeepAlive = false;
    // Twisted's defaults.
    Address hostAddress = Address::ipv4("10.0.0.1", 12345);
    Address peerAddress = Address::ipv4("192.168.1.1", 54321);

private:
    void setProducer(IProducer& producer, bool streaming);
    void setProducerState(ProducerState state);

    task::Clock ownClock_;
    task::Clock* clock_;
    std::string written_;
    WriteBufferLimits limits_;
    IProducer* producer_ = nullptr;
    bool streaming_ = false;
    ProducerState producerState_ = ProducerState::producing;
};

} // namespace braid::testing
