// Connection policies, after twisted.protocols.policies: WrappingFactory / ProtocolWrapper
// (protocols wrapping another factory's), ThrottlingFactory (connection and bandwidth
// limits), TimeoutFactory (idle timeout per connection) and TimeoutMixin.
#pragma once

#include <braid/address.hpp>
#include <braid/factory.hpp>
#include <braid/failure.hpp>
#include <braid/protocol.hpp>
#include <braid/reactor_time.hpp>
#include <braid/transport.hpp>

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace braid {

class WrappingFactory;

// A protocol that wraps another and acts as its transport: events from the real
// transport go to the wrapped protocol, and what the wrapped protocol does to its
// transport goes to the real one. Subclasses override either side to watch or change
// the traffic. It owns the wrapped protocol and keeps its factory alive.
class ProtocolWrapper : public Protocol, public ITransport {
public:
    ProtocolWrapper(std::shared_ptr<WrappingFactory> factory,
                    std::unique_ptr<Protocol> wrappedProtocol);
    ~ProtocolWrapper() override;

    // Protocol: registers with the factory, then connects the wrapped protocol to this.
    void makeConnection(ITransport& transport) override;
    void dataReceived(std::string_view data) override;
    void connectionLost(const Failure& reason) override;
    void readConnectionLost() override;
    void writeConnectionLost() override;

    // ITransport, relayed to the real transport.
    void write(std::string_view data) override;
    void writeSequence(std::span<const std::string_view> data) override;
    void loseConnection() override;
    void abortConnection() override;
    void loseWriteConnection() override;
    [[nodiscard]] Address getPeer() const override;
    [[nodiscard]] Address getHost() const override;
    void setTcpNoDelay(bool enabled) override;
    void setTcpKeepAlive(bool enabled) override;
    void setWriteBufferLimits(WriteBufferLimits limits) override;
    [[nodiscard]] std::size_t bufferedBytes() const override;
    [[nodiscard]] bool closing() const noexcept override;
    [[nodiscard]] IReactorTime& clock() override;
    void registerProducer(IPushProducer& producer) override;
    void registerProducer(IPullProducer& producer) override;
    void unregisterProducer() override;
    void pauseProducing() override;
    void resumeProducing() override;
    void stopProducing() override;

    [[nodiscard]] Protocol& wrappedProtocol() const noexcept { return *wrappedProtocol_; }
    [[nodiscard]] WrappingFactory& factory() const noexcept { return *factory_; }

    bool disconnecting = false; // loseConnection() was called

private:
    std::shared_ptr<WrappingFactory> factory_;
    std::unique_ptr<Protocol> wrappedProtocol_;
    bool registered_ = false;
};

// Wraps a factory: each protocol it builds is a ProtocolWrapper around one from the
// wrapped factory (which is refused when the wrapped factory refuses). It keeps track
// of its live protocols. Create it with std::make_shared (its protocols share it).
class WrappingFactory : public ClientFactory, public std::enable_shared_from_this<WrappingFactory> {
public:
    explicit WrappingFactory(std::shared_ptr<Factory> wrappedFactory);

    std::unique_ptr<Protocol> buildProtocol(const Address& address) override;
    // Start and stop the wrapped factory along with this one.
    void startFactory() override;
    void stopFactory() override;
    // Relayed when the wrapped factory is a ClientFactory.
    void startedConnecting(IConnector& connector) override;
    void clientConnectionFailed(IConnector& connector, const Failure& reason) override;
    void clientConnectionLost(IConnector& connector, const Failure& reason) override;

    // Called by the protocols when they connect and when they go.
    virtual void registerProtocol(ProtocolWrapper& protocol);
    virtual void unregisterProtocol(ProtocolWrapper& protocol);

    // The connected protocols, in connection order.
    [[nodiscard]] const std::vector<ProtocolWrapper*>& protocols() const noexcept {
        return protocols_;
    }

    const std::shared_ptr<Factory> wrappedFactory;

protected:
    // The wrapper around a protocol from the wrapped factory (Twisted's `protocol` class
    // attribute): subclasses return their own ProtocolWrapper subclass.
    virtual std::unique_ptr<ProtocolWrapper> wrap(std::unique_ptr<Protocol> wrapped);

private:
    std::vector<ProtocolWrapper*> protocols_;
};

// A ProtocolWrapper counting the bytes that go through it for its ThrottlingFactory,
// which pauses and resumes it.
class ThrottlingFactory;

class ThrottlingProtocol : public ProtocolWrapper {
public:
    ThrottlingProtocol(const std::shared_ptr<ThrottlingFactory>& factory,
                       std::unique_ptr<Protocol> wrappedProtocol);

    void write(std::string_view data) override;
    void writeSequence(std::span<const std::string_view> data) override;
    void dataReceived(std::string_view data) override;
    void registerProducer(IPushProducer& producer) override;
    void registerProducer(IPullProducer& producer) override;
    void unregisterProducer() override;

    // Reading pauses the real transport; writing pauses the wrapped protocol's push
    // producer, if it registered one (as in Twisted, writes are throttled only then).
    void throttleReads();
    void unthrottleReads();
    void throttleWrites();
    void unthrottleWrites();

private:
    ThrottlingFactory& throttlingFactory_;
    IPushProducer* producer_ = nullptr;
};

// Limits the number of simultaneous connections (those beyond maxConnectionCount are
// refused) and, for all its connections together, the bytes read and written per
// second: once a second it checks the last second's count, and if it went over the
// limit it pauses the connections for the time that averages the rate down to it
// (count / limit - 1 seconds), as Twisted does.
class ThrottlingFactory : public WrappingFactory {
public:
    explicit ThrottlingFactory(
        std::shared_ptr<Factory> wrappedFactory,
        std::size_t maxConnectionCount = std::numeric_limits<std::size_t>::max(),
        std::optional<double> readLimit = std::nullopt,
        std::optional<double> writeLimit = std::nullopt);
    ~ThrottlingFactory() override;

    std::unique_ptr<Protocol> buildProtocol(const Address& address) override;
    void unregisterProtocol(ProtocolWrapper& protocol) override;

    void registerWritten(std::size_t length) { writtenThisSecond_ += length; }
    void registerRead(std::size_t length) { readThisSecond_ += length; }

    [[nodiscard]] std::size_t connectionCount() const noexcept { return connectionCount_; }
    [[nodiscard]] std::size_t readThisSecond() const noexcept { return readThisSecond_; }
    [[nodiscard]] std::size_t writtenThisSecond() const noexcept { return writtenThisSecond_; }

    std::size_t maxConnectionCount;
    std::optional<double> readLimit;  // bytes per second
    std::optional<double> writeLimit; // bytes per second
    // The clock the checks run on; nullptr (the default) means braid::reactor().
    IReactorTime* clock = nullptr;

protected:
    std::unique_ptr<ProtocolWrapper> wrap(std::unique_ptr<Protocol> wrapped) override;

private:
    void checkReadBandwidth();
    void checkWriteBandwidth();
    // Calls f on every protocol.
    template <class F>
    void forEachProtocol(F f);
    IReactorTime& theClock() const;
    void cancelCalls();

    std::size_t connectionCount_ = 0;
    std::size_t readThisSecond_ = 0;
    std::size_t writtenThisSecond_ = 0;
    DelayedCall unthrottleReadsCall_;
    DelayedCall checkReadBandwidthCall_;
    DelayedCall unthrottleWritesCall_;
    DelayedCall checkWriteBandwidthCall_;
};

// A timeout for protocols that want one (Twisted's TimeoutMixin): derive from it next
// to Protocol. After setTimeout(seconds), timeoutConnection() is called when that long
// passes without resetTimeout(). The timer runs on the protocol's transport's clock and
// is cancelled with the connection.
//
//     class Session : public Protocol, public TimeoutMixin {
//         void connectionMade() override { setTimeout(30); }
//         void dataReceived(std::string_view data) override { resetTimeout(); ... }
//     };
class TimeoutMixin {
public:
    TimeoutMixin() = default;
    TimeoutMixin(const TimeoutMixin&) = delete;
    TimeoutMixin& operator=(const TimeoutMixin&) = delete;
    virtual ~TimeoutMixin() = default;

    // Sets the timeout to `period` seconds from now (std::nullopt: no timeout) and
    // returns the previous period. Needs the protocol connected (a transport).
    std::optional<double> setTimeout(std::optional<double> period);
    // Starts the countdown again, if there is one.
    void resetTimeout();
    // The current period (Twisted's timeOut).
    [[nodiscard]] std::optional<double> timeOut() const noexcept { return timeOut_; }

    // The timeout passed. By default closes the connection (loseConnection()).
    virtual void timeoutConnection();

private:
    Protocol& protocol();
    void timedOut();

    std::optional<double> timeOut_;
    DelayedCall timeoutCall_;
};

// Closes a connection that has been idle (nothing read or written) for
// timeoutPeriod seconds: the wrapper TimeoutFactory puts around each protocol.
class TimeoutProtocol : public ProtocolWrapper, public TimeoutMixin {
public:
    TimeoutProtocol(std::shared_ptr<WrappingFactory> factory,
                    std::unique_ptr<Protocol> wrappedProtocol, std::optional<double> timeoutPeriod);

    void connectionMade() override;
    void write(std::string_view data) override;
    void writeSequence(std::span<const std::string_view> data) override;
    void dataReceived(std::string_view data) override;

    // No more timeout.
    void cancelTimeout() { setTimeout(std::nullopt); }
    // Calls timeoutFunc().
    void timeoutConnection() override;
    // The connection was idle too long: loseConnection() by default.
    virtual void timeoutFunc();

private:
    std::optional<double> initialPeriod_;
};

// Wraps each protocol of a factory in a TimeoutProtocol (idle timeout, 30 minutes by
// default).
class TimeoutFactory : public WrappingFactory {
public:
    explicit TimeoutFactory(std::shared_ptr<Factory> wrappedFactory,
                            std::optional<double> timeoutPeriod = 30 * 60);

    std::optional<double> timeoutPeriod;

protected:
    std::unique_ptr<ProtocolWrapper> wrap(std::unique_ptr<Protocol> wrapped) override;
};

} // namespace braid
