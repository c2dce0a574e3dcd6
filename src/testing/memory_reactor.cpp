#include <braid/deferred_list.hpp>
#include <braid/error.hpp>
#include <braid/log.hpp>
#include <braid/testing/memory_reactor.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace braid::testing {

namespace {

Address inetAddress(std::string_view host, std::uint16_t port) {
    if (host.find(':') != std::string_view::npos) {
        return Address::ipv6(std::string(host), port);
    }
    return Address::ipv4(std::string(host.empty() ? "0.0.0.0" : host), port);
}

} // namespace

Deferred<void> MemoryListeningPort::stopListening() {
    stopped = true;
    return succeed();
}

// --- IReactorCore --------------------------------------------------------------------------

void MemoryReactor::run() {
    if (hasStopped_) {
        throw ReactorNotRestartable();
    }
    if (running_) {
        throw std::logic_error("MemoryReactor::run(): already running");
    }
    running_ = true;
    hasRun_ = true;
    fireSystemEvent("startup");
}

void MemoryReactor::stop() {
    if (!running_) {
        throw ReactorNotRunning();
    }
    running_ = false;
    hasStopped_ = true;
    fireSystemEvent("shutdown");
}

void MemoryReactor::callWhenRunning(braid::detail::UniqueFunction<void()> f) {
    if (running_) {
        f();
        return;
    }
    addSystemEventTrigger("after", "startup", std::move(f));
}

IReactorCore::TriggerId
MemoryReactor::addTrigger(std::string_view phase, std::string_view event,
                          braid::detail::UniqueFunction<Deferred<void>()> f) {
    return events_.add(phase, event, std::move(f));
}

void MemoryReactor::removeSystemEventTrigger(TriggerId id) {
    events_.remove(id);
}

void MemoryReactor::fireSystemEvent(std::string_view event) {
    events_.fire(event, [] {}, [] {});
}

// --- IReactorTCP and IReactorUNIX -----------------------------------------------------------

std::shared_ptr<IListeningPort> MemoryReactor::listenTCP(std::uint16_t port,
                                                         std::shared_ptr<Factory> factory,
                                                         int backlog, std::string_view interface) {
    auto listener = std::make_shared<MemoryListeningPort>(inetAddress(interface, port));
    tcpServers.push_back(
        TCPServer{port, std::move(factory), backlog, std::string(interface), listener});
    return listener;
}

std::shared_ptr<IConnector> MemoryReactor::connectTCP(std::string_view host, std::uint16_t port,
                                                      std::shared_ptr<ClientFactory> factory,
                                                      double timeout,
                                                      std::optional<Address> bindAddress) {
    auto connector = std::make_shared<MemoryConnector>(inetAddress(host, port));
    tcpClients.push_back(
        TCPClient{std::string(host), port, factory, timeout, std::move(bindAddress), connector});
    factory->startedConnecting(*connector);
    return connector;
}

std::shared_ptr<IListeningPort> MemoryReactor::listenUNIX(std::string_view path,
                                                          std::shared_ptr<Factory> factory,
                                                          int backlog, int mode) {
    auto listener = std::make_shared<MemoryListeningPort>(Address::unix(std::string(path)));
    unixServers.push_back(
        UNIXServer{std::string(path), std::move(factory), backlog, mode, listener});
    return listener;
}

std::shared_ptr<IConnector> MemoryReactor::connectUNIX(std::string_view path,
                                                       std::shared_ptr<ClientFactory> factory,
                                                       double timeout) {
    auto connector = std::make_shared<MemoryConnector>(Address::unix(std::string(path)));
    unixClients.push_back(UNIXClient{std::string(path), factory, timeout, connector});
    factory->startedConnecting(*connector);
    return connector;
}

} // namespace braid::testing
