// Factory and ClientFactory (twisted.internet.protocol): what makes a Protocol for each
// connection. A listening port or connector holds its factory through a shared_ptr;
// state the connections share lives in the factory and is handed to each protocol's
// constructor, as seed 004 recommends.
#pragma once

#include <braid/address.hpp>
#include <braid/failure.hpp>
#include <braid/protocol.hpp>

#include <memory>
#include <tuple>
#include <utility>

namespace braid {

class Factory {
public:
    Factory() = default;
    Factory(const Factory&) = delete;
    Factory& operator=(const Factory&) = delete;
    virtual ~Factory() = default;

    // A new protocol for a connection with `address`, or nullptr to refuse it (the
    // connection is closed at once).
    virtual std::unique_ptr<Protocol> buildProtocol(const Address& address) = 0;

    // Called when the first port or connector starts using this factory, and when the
    // last one stops.
    virtual void startFactory() {}
    virtual void stopFactory() {}

    // For ports and connectors: count users, calling startFactory/stopFactory at the edges.
    void doStart();
    void doStop();

    // A factory whose buildProtocol() returns std::make_unique<P>(args...) (the arguments
    // are copied into the factory and passed as lvalues to every protocol).
    template <class P, class... Args>
    static std::shared_ptr<Factory> forProtocol(Args&&... args);

private:
    int numPorts_ = 0;
};

using ServerFactory = Factory;

class IConnector;

// A factory for outgoing connections, told how connecting goes.
class ClientFactory : public Factory {
public:
    virtual void startedConnecting(IConnector& connector) { (void)connector; }
    // The connection could not be made (refused, timed out, name not found...).
    virtual void clientConnectionFailed(IConnector& connector, const Failure& reason) {
        (void)connector;
        (void)reason;
    }
    // An established connection ended.
    virtual void clientConnectionLost(IConnector& connector, const Failure& reason) {
        (void)connector;
        (void)reason;
    }

    template <class P, class... Args>
    static std::shared_ptr<ClientFactory> forProtocol(Args&&... args);
};

// An outgoing connection attempt (twisted.internet.interfaces.IConnector). Connectors are
// always owned by a shared_ptr, so that what retries later (ReconnectingClientFactory)
// can keep the one it was given alive.
class IConnector : public std::enable_shared_from_this<IConnector> {
public:
    virtual ~IConnector() = default;
    // Stops an attempt in progress (clientConnectionFailed gets UserError).
    virtual void stopConnecting() = 0;
    // Stops the attempt, or closes the connection if it is up.
    virtual void disconnect() = 0;
    // Tries again (after a failure or a loss), with the same factory.
    virtual void connect() = 0;
    [[nodiscard]] virtual Address getDestination() const = 0;
};

namespace detail {
template <class Base, class P, class... Args>
class ProtocolFactory final : public Base {
public:
    explicit ProtocolFactory(Args... args) : args_(std::move(args)...) {}
    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        return std::apply([](auto&... a) { return std::make_unique<P>(a...); }, args_);
    }

private:
    std::tuple<Args...> args_;
};
} // namespace detail

template <class P, class... Args>
std::shared_ptr<Factory> Factory::forProtocol(Args&&... args) {
    return std::make_shared<detail::ProtocolFactory<Factory, P, std::decay_t<Args>...>>(
        std::forward<Args>(args)...);
}

template <class P, class... Args>
std::shared_ptr<ClientFactory> ClientFactory::forProtocol(Args&&... args) {
    return std::make_shared<detail::ProtocolFactory<ClientFactory, P, std::decay_t<Args>...>>(
        std::forward<Args>(args)...);
}

} // namespace braid
