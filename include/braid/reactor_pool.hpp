// braid::ReactorPool: N reactors, one per thread, serving one address through one
// SO_REUSEPORT socket each, so that the kernel spreads connections among the threads
// (Twisted runs one reactor per process; this is its multi-process deployment in threads).
#pragma once

#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

namespace braid {

class ReactorPool {
public:
    struct Options {
        std::size_t reactors = 2;
        std::optional<Reactor::Backend> backend;
        // run() makes SIGINT and SIGTERM stop the pool (through reactor 0).
        bool installSignalHandlers = true;
    };

    // Makes reactor i's factory: every reactor gets its own, so protocols and factories
    // stay single-threaded.
    using FactoryMaker = std::function<std::shared_ptr<Factory>(std::size_t reactor)>;

    explicit ReactorPool(Options options);
    ReactorPool(const ReactorPool&) = delete;
    ReactorPool& operator=(const ReactorPool&) = delete;
    ReactorPool(ReactorPool&&) = delete;
    ReactorPool& operator=(ReactorPool&&) = delete;
    // Stops the pool and joins its threads if run() has not returned.
    ~ReactorPool();

    [[nodiscard]] std::size_t size() const noexcept { return reactors_.size(); }
    // Reactor i: use it only from its own thread (callInReactor), or before run().
    [[nodiscard]] Reactor& reactor(std::size_t i) { return *reactors_.at(i); }

    // Listens on the same TCP address in every reactor, one SO_REUSEPORT socket each
    // (port 0: a free port, the same for all). Call before run(). Returns the port.
    std::uint16_t listenTCP(std::uint16_t port, const FactoryMaker& makeFactory, int backlog = 50,
                            std::string_view interface = "");

    // Runs reactor 0 on the calling thread and the others on threads of their own.
    // Returns once every reactor has stopped: after stop(), a signal, or any reactor
    // stopping (which stops the others). Once only, as a Reactor's (ReactorNotRestartable).
    void run();

    // From any thread, a signal handler excepted (signals go through reactor 0's).
    void stop();

    // Runs f on reactor i's thread (Reactor::callFromThread).
    void callInReactor(std::size_t i, detail::UniqueFunction<void()> f);

private:
    void join();

    std::vector<std::unique_ptr<Reactor>> reactors_;
    std::vector<std::thread> threads_;
    bool ran_ = false;
};

} // namespace braid
