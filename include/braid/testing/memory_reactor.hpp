// MemoryReactor (twisted.internet.testing.MemoryReactorClock): a fake reactor that records
// listen and connect calls instead of opening sockets, with a task::Clock for time, so
// code that takes an IReactorTCP& / IReactorCore& can be tested without a network.
#pragma once

#include <braid/address.hpp>
#include <braid/deferred.hpp>
#include <braid/detail/system_events.hpp>
#include <braid/factory.hpp>
#include <braid/interfaces.hpp>
#include <braid/log.hpp>
#include <braid/task/clock.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace braid::testing {

// What listenTCP/listenUNIX return: answers getHost() with the address asked for.
class MemoryListeningPort final : public IListeningPort {
public:
    explicit MemoryListeningPort(Address host) : host_(std::move(host)) {}

    // Sets `stopped` and returns a Deferred that has fired.
    Deferred<void> stopListening() override;
    [[nodiscard]] Address getHost() const override { return host_; }

    bool stopped = false;

private:
    Address host_;
};

// What connectTCP/connectUNIX return: records what is asked of it and tells no factory.
class MemoryConnector final : public IConnector {
public:
    explicit MemoryConnector(Address destination) : destination_(std::move(destination)) {}

    void stopConnecting() override { stoppedConnecting = true; }
    void disconnect() override { disconnected = true; }
    void connect() override { ++connectCalls; }
    [[nodiscard]] Address getDestination() const override { return destination_; }

    bool stoppedConnecting = false;
    bool disconnected = false;
    int connectCalls = 0; // calls to connect() (the first attempt is not one)

private:
    Address destination_;
};

// Time is the task::Clock it derives from (advance() moves it). listen/connect calls are
// recorded in the public vectors, in call order, each with the fake port or connector
// returned; connectTCP/connectUNIX call factory->startedConnecting() as a real connector
// does, and nothing else reaches the factories.
class MemoryReactor final : public task::Clock,
                            public IReactorCore,
                            public IReactorTCP,
                            public IReactorUNIX {
public:
    struct TCPServer {
        std::uint16_t port;
        std::shared_ptr<Factory> factory;
        int backlog;
        std::string interface;
        std::shared_ptr<MemoryListeningPort> listener;
    };
    struct TCPClient {
        std::string host;
        std::uint16_t port;
        std::shared_ptr<ClientFactory> factory;
        double timeout;
        std::optional<Address> bindAddress;
        std::shared_ptr<MemoryConnector> connector;
    };
    struct UNIXServer {
        std::string path;
        std::shared_ptr<Factory> factory;
        int backlog;
        int mode;
        std::shared_ptr<MemoryListeningPort> listener;
    };
    struct UNIXClient {
        std::string path;
        std::shared_ptr<ClientFactory> factory;
        double timeout;
        std::shared_ptr<MemoryConnector> connector;
    };

    MemoryReactor() = default;

    // IReactorCore. There is no loop to block in: run() fires the "startup" event (which
    // runs the callWhenRunning functions) and returns with running() still true; stop()
    // fires "shutdown" and clears it. run() after stop() throws ReactorNotRestartable.
    void run() override;
    void stop() override;
    [[nodiscard]] bool running() const override { return running_; }
    void callWhenRunning(braid::detail::UniqueFunction<void()> f) override;
    void removeSystemEventTrigger(TriggerId id) override;

    // Runs the "before", "during" and "after" triggers of `event` ("startup" or
    // "shutdown"), each once: the later phases wait for the Deferreds the "before"
    // triggers return. A trigger that throws or fails is logged, as by the real reactor.
    void fireSystemEvent(std::string_view event);

    [[nodiscard]] bool hasRun() const noexcept { return hasRun_; }
    [[nodiscard]] bool hasStopped() const noexcept { return hasStopped_; }

    // IReactorTCP: the port answers getHost() with `interface` ("" is 0.0.0.0) and `port`
    // as given (0 stays 0); the connector's destination is host and port as given.
    std::shared_ptr<IListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                              int backlog = 50,
                                              std::string_view interface = "") override;
    std::shared_ptr<IConnector>
    connectTCP(std::string_view host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
               double timeout = 30, std::optional<Address> bindAddress = std::nullopt) override;

    // IReactorUNIX
    std::shared_ptr<IListeningPort> listenUNIX(std::string_view path,
                                               std::shared_ptr<Factory> factory, int backlog = 50,
                                               int mode = 0666) override;
    std::shared_ptr<IConnector> connectUNIX(std::string_view path,
                                            std::shared_ptr<ClientFactory> factory,
                                            double timeout = 30) override;

    std::vector<TCPServer> tcpServers;
    std::vector<TCPClient> tcpClients;
    std::vector<UNIXServer> unixServers;
    std::vector<UNIXClient> unixClients;

protected:
    TriggerId addTrigger(std::string_view phase, std::string_view event,
                         braid::detail::UniqueFunction<Deferred<void>()> f) override;

private:
    Logger log_{"braid.testing.MemoryReactor"};
    braid::detail::SystemEvents events_{log_};
    bool running_ = false;
    bool hasRun_ = false;
    bool hasStopped_ = false;
};

} // namespace braid::testing
