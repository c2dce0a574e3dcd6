// braid::Reactor: the event loop (Twisted's reactor). One thread runs it; it watches
// sockets through epoll (default), io_uring or poll, runs timers, and delivers connection
// events to protocols. braid::reactor() is the process-wide one the seeds' style uses;
// library code should take the interface it needs (IReactorTCP&, IReactorTime&...) instead.
#pragma once

#include <braid/interfaces.hpp>
#include <braid/reactor_time.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace braid {

namespace detail {
class ReactorCore;
} // namespace detail

class Reactor final : public IReactorTime,
                      public IReactorCore,
                      public IReactorTCP,
                      public IReactorUNIX,
                      public IReactorThreads {
public:
    // uring: io_uring (Linux 5.19+), which also reads and sends for connections, one system
    // call per loop iteration (the runner's choice); epoll where the kernel refuses it.
    enum class Backend { epoll, poll, uring };

    struct Options {
        // Unset: BRAID_REACTOR=epoll|poll|uring from the environment, else epoll.
        std::optional<Backend> backend;
        // run() makes SIGINT and SIGTERM stop this reactor (restored when run() returns).
        bool installSignalHandlers = true;
    };

    Reactor();
    explicit Reactor(Options options);
    Reactor(const Reactor&) = delete;
    Reactor& operator=(const Reactor&) = delete;
    ~Reactor() override;

    // IReactorTime: seconds() is CLOCK_MONOTONIC, so timers ignore wall-clock jumps.
    [[nodiscard]] double seconds() const override;

    // IReactorCore
    void run() override;
    void stop() override;
    [[nodiscard]] bool running() const override;
    void callWhenRunning(detail::UniqueFunction<void()> f) override;
    void removeSystemEventTrigger(TriggerId id) override;

    // One pass of the loop: waits up to `timeout` seconds for events, then handles what
    // is ready and the due timers (Twisted's reactor.iterate). For tests and embedding.
    void iterate(double timeout = 0);

    // IReactorTCP
    std::shared_ptr<IListeningPort> listenTCP(std::uint16_t port, std::shared_ptr<Factory> factory,
                                              int backlog = 50,
                                              std::string_view interface = "") override;
    std::shared_ptr<IConnector>
    connectTCP(std::string_view host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
               double timeout = 30, std::optional<Address> bindAddress = std::nullopt) override;

    // listenTCP with SO_REUSEPORT: several sockets, in one reactor or several (see
    // ReactorPool), listen on the same address and the kernel spreads connections.
    std::shared_ptr<IListeningPort> listenTCPReusePort(std::uint16_t port,
                                                       std::shared_ptr<Factory> factory,
                                                       int backlog = 50,
                                                       std::string_view interface = "");

    // IReactorUNIX
    std::shared_ptr<IListeningPort> listenUNIX(std::string_view path,
                                               std::shared_ptr<Factory> factory, int backlog = 50,
                                               int mode = 0666) override;
    std::shared_ptr<IConnector> connectUNIX(std::string_view path,
                                            std::shared_ptr<ClientFactory> factory,
                                            double timeout = 30) override;

    // IReactorThreads. The thread pool (10 threads at most by default) starts on first
    // use and is stopped, its work finished, during shutdown.
    void callInThread(detail::UniqueFunction<void()> f) override;
    void callFromThread(detail::UniqueFunction<void()> f) override;
    ThreadPool& getThreadPool() override;
    void suggestThreadPoolSize(std::size_t size) override;

    // "epoll" or "poll".
    [[nodiscard]] const char* backendName() const noexcept;

    // The number of open connections (accepted and connected).
    [[nodiscard]] std::size_t connectionCount() const noexcept;

protected:
    DelayedCall schedule(double delay, detail::UniqueFunction<void()>&& fn) override;
    TriggerId addTrigger(std::string_view phase, std::string_view event,
                         detail::UniqueFunction<Deferred<void>()> f) override;

private:
    std::unique_ptr<detail::ReactorCore> core_;
};

// The process-wide reactor, created on first use.
Reactor& reactor();

} // namespace braid
