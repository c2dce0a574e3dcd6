// Connector: one outgoing TCP or UNIX connection attempt and the connection it leads to
// (Twisted's BaseConnector). It tells its ClientFactory how it goes, and can connect()
// again after a failure or a loss, which is what ReconnectingClientFactory relies on.
#pragma once

#include "poller.hpp"
#include "resolver.hpp"
#include <braid/address.hpp>
#include <braid/factory.hpp>
#include <braid/reactor_time.hpp>

#include <memory>
#include <optional>
#include <string>

namespace braid::detail {

class ReactorCore;
class StreamConnection;

class Connector final : public IConnector, public IOHandler {
public:
    // destination: a numeric TCP address or a UNIX path; with hostName, the destination's
    // host is looked up from it (on each connect(), as Twisted's connectTCP does).
    Connector(ReactorCore& core, Address destination, std::shared_ptr<ClientFactory> factory,
              double timeout, std::optional<Address> bindAddress,
              std::optional<std::string> hostName = std::nullopt);
    Connector(const Connector&) = delete;
    Connector& operator=(const Connector&) = delete;
    ~Connector() override;

    // IConnector
    void stopConnecting() override;
    void disconnect() override;
    void connect() override;
    [[nodiscard]] Address getDestination() const override { return destination_; }

    void onReady(std::uint32_t events) override;

    // From the connection it made.
    void connectionLost(const Failure& reason);
    // The reactor is going away mid-connect: close the socket, drop the self-reference.
    void abandon();

private:
    enum class State { disconnected, connecting, connected };

    // Itself, through IConnector's enable_shared_from_this.
    std::shared_ptr<Connector> self() {
        return std::static_pointer_cast<Connector>(shared_from_this());
    }
    void resolve();
    void attempt();
    void failSoon(int error);
    void connected();
    void failed(Failure reason);
    void stopFactoryIfIdle();
    void closeSocket();

    ReactorCore& core_;
    Address destination_;
    std::shared_ptr<ClientFactory> factory_;
    double timeout_;
    std::optional<Address> bindAddress_;
    std::optional<std::string> hostName_;
    std::shared_ptr<Resolver::Lookup> lookup_;
    State state_ = State::disconnected;
    bool factoryStarted_ = false;
    int fd_ = -1;
    DelayedCall timeoutCall_;
    DelayedCall pendingFailure_;
    std::shared_ptr<Connector> self_; // alive while connecting (the poller holds a raw pointer)
    StreamConnection* connection_ = nullptr; // while connected; owned by the reactor
};

} // namespace braid::detail
