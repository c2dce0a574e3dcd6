#include "connector.hpp"
#include "core.hpp"
#include "port.hpp"
#include <braid/error.hpp>
#include <braid/reactor.hpp>

#include <arpa/inet.h>

namespace braid {

namespace {

// A numeric IPv4 or IPv6 host, or nothing (a name, resolved elsewhere).
std::optional<Address> numericAddress(std::string_view host, std::uint16_t port) {
    std::string text(host);
    in6_addr storage{};
    if (::inet_pton(AF_INET, text.c_str(), &storage) == 1) {
        return Address::ipv4(text, port);
    }
    if (::inet_pton(AF_INET6, text.c_str(), &storage) == 1) {
        return Address::ipv6(text, port);
    }
    return std::nullopt;
}

Address listenAddress(std::uint16_t port, std::string_view interface) {
    if (interface.empty()) {
        return Address::ipv4("0.0.0.0", port);
    }
    if (auto address = numericAddress(interface, port)) {
        return *address;
    }
    throw CannotListenError("Couldn't listen on " + std::string(interface) + ":" +
                            std::to_string(port) + ": the interface must be a numeric address");
}

} // namespace

Reactor::Reactor() : Reactor(Options{}) {}

Reactor::Reactor(Options options) : core_(std::make_unique<detail::ReactorCore>(*this, options)) {}

Reactor::~Reactor() = default;

double Reactor::seconds() const {
    return core_->now();
}

void Reactor::run() {
    core_->run();
}
void Reactor::stop() {
    core_->stop();
}
bool Reactor::running() const {
    return core_->running();
}
void Reactor::iterate(double timeout) {
    core_->iterate(timeout);
}

void Reactor::callWhenRunning(detail::UniqueFunction<void()> f) {
    core_->callWhenRunning(std::move(f));
}

IReactorCore::TriggerId Reactor::addTrigger(std::string_view phase, std::string_view event,
                                            detail::UniqueFunction<Deferred<void>()> f) {
    return core_->addTrigger(phase, event, std::move(f));
}

void Reactor::removeSystemEventTrigger(TriggerId id) {
    core_->removeTrigger(id);
}

DelayedCall Reactor::schedule(double delay, detail::UniqueFunction<void()>&& fn) {
    return core_->timers.schedule(core_->now() + delay, std::move(fn));
}

std::shared_ptr<IListeningPort> Reactor::listenTCP(std::uint16_t port,
                                                   std::shared_ptr<Factory> factory, int backlog,
                                                   std::string_view interface) {
    auto listening = std::make_shared<detail::ListeningPort>(*core_, listenAddress(port, interface),
                                                             std::move(factory), backlog, 0);
    core_->addPort(listening);
    return listening;
}

std::shared_ptr<IListeningPort> Reactor::listenTCPReusePort(std::uint16_t port,
                                                            std::shared_ptr<Factory> factory,
                                                            int backlog,
                                                            std::string_view interface) {
    auto listening = std::make_shared<detail::ListeningPort>(*core_, listenAddress(port, interface),
                                                             std::move(factory), backlog, 0, true);
    core_->addPort(listening);
    return listening;
}

std::shared_ptr<IConnector> Reactor::connectTCP(std::string_view host, std::uint16_t port,
                                                std::shared_ptr<ClientFactory> factory,
                                                double timeout,
                                                std::optional<Address> bindAddress) {
    std::optional<Address> destination = numericAddress(host, port);
    std::optional<std::string> name;
    if (!destination) {
        destination = Address::ipv4("", port); // the host comes from the lookup
        name = std::string(host);
    }
    auto connector =
        std::make_shared<detail::Connector>(*core_, std::move(*destination), std::move(factory),
                                            timeout, std::move(bindAddress), std::move(name));
    core_->addConnector(connector);
    connector->connect();
    return connector;
}

std::shared_ptr<IListeningPort> Reactor::listenUNIX(std::string_view path,
                                                    std::shared_ptr<Factory> factory, int backlog,
                                                    int mode) {
    auto listening = std::make_shared<detail::ListeningPort>(
        *core_, Address::unix(std::string(path)), std::move(factory), backlog, mode);
    core_->addPort(listening);
    return listening;
}

std::shared_ptr<IConnector> Reactor::connectUNIX(std::string_view path,
                                                 std::shared_ptr<ClientFactory> factory,
                                                 double timeout) {
    auto connector = std::make_shared<detail::Connector>(*core_, Address::unix(std::string(path)),
                                                         std::move(factory), timeout, std::nullopt);
    core_->addConnector(connector);
    connector->connect();
    return connector;
}

void Reactor::callFromThread(detail::UniqueFunction<void()> f) {
    core_->calls.push(std::move(f));
}

void Reactor::callInThread(detail::UniqueFunction<void()> f) {
    getThreadPool().callInThread(std::move(f));
}

ThreadPool& Reactor::getThreadPool() {
    return core_->threadPool();
}

void Reactor::suggestThreadPoolSize(std::size_t size) {
    ThreadPool& pool = getThreadPool();
    pool.adjustPoolsize(std::min(pool.minThreads(), size), size);
}

const char* Reactor::backendName() const noexcept {
    return core_->poller->name();
}

std::size_t Reactor::connectionCount() const noexcept {
    return core_->connectionCount();
}

Reactor& reactor() {
    static Reactor instance;
    return instance;
}

} // namespace braid
