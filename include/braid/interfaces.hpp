// The reactor's interfaces (twisted.internet.interfaces): library code takes the one it
// needs as a parameter (IReactorTCP&, IReactorTime&, ...) so tests can pass a fake
// (braid::testing::MemoryReactor, task::Clock). braid::Reactor implements them all.
#pragma once

#include <braid/address.hpp>
#include <braid/deferred.hpp>
#include <braid/detail/function.hpp>
#include <braid/factory.hpp>
#include <braid/reactor_time.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace braid {

class ThreadPool;

// A port accepting connections (IListeningPort).
class IListeningPort {
public:
    virtual ~IListeningPort() = default;
    // Stops accepting; fires once the socket is closed and the factory stopped.
    // Connections already accepted go on.
    virtual Deferred<void> stopListening() = 0;
    // The address it listens on (with the real port when it was asked for port 0).
    [[nodiscard]] virtual Address getHost() const = 0;
};

class IReactorCore {
public:
    virtual ~IReactorCore() = default;

    // Runs the event loop until stop(). Throws ReactorNotRestartable if called again
    // after the loop has stopped.
    virtual void run() = 0;
    // Stops the loop: the shutdown triggers run, then run() returns. Throws
    // ReactorNotRunning if it is not running.
    virtual void stop() = 0;
    [[nodiscard]] virtual bool running() const = 0;
    // Calls f once the loop runs (at once if it already does).
    virtual void callWhenRunning(detail::UniqueFunction<void()> f) = 0;

    // phase: "before", "during" or "after"; event: "startup" or "shutdown"; anything
    // else throws std::invalid_argument. f returns void or Deferred<void>: the next phase
    // waits for the Deferreds of the "before" phase (e.g. connections draining).
    using TriggerId = std::uint64_t;
    template <class F>
    TriggerId addSystemEventTrigger(std::string_view phase, std::string_view event, F&& f) {
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            return addTrigger(phase, event, [f = std::forward<F>(f)]() mutable {
                f();
                return succeed();
            });
        } else {
            return addTrigger(phase, event, std::forward<F>(f));
        }
    }
    virtual void removeSystemEventTrigger(TriggerId id) = 0;

protected:
    // What implementations provide (not named addSystemEventTrigger so that overriding
    // it does not hide the template).
    virtual TriggerId addTrigger(std::string_view phase, std::string_view event,
                                 detail::UniqueFunction<Deferred<void>()> f) = 0;
};

class IReactorTCP {
public:
    virtual ~IReactorTCP() = default;
    // interface: "" for every IPv4 address, or a numeric IPv4/IPv6 address. Port 0
    // picks a free port (getHost() tells which). Throws CannotListenError.
    virtual std::shared_ptr<IListeningPort> listenTCP(std::uint16_t port,
                                                      std::shared_ptr<Factory> factory,
                                                      int backlog = 50,
                                                      std::string_view interface = "") = 0;
    // host: a name or a numeric address; names resolve without blocking the loop.
    // Failures reach factory->clientConnectionFailed (DNSLookupError,
    // ConnectionRefusedError, TimeoutError after `timeout` seconds).
    virtual std::shared_ptr<IConnector>
    connectTCP(std::string_view host, std::uint16_t port, std::shared_ptr<ClientFactory> factory,
               double timeout = 30, std::optional<Address> bindAddress = std::nullopt) = 0;
};

class IReactorUNIX {
public:
    virtual ~IReactorUNIX() = default;
    virtual std::shared_ptr<IListeningPort> listenUNIX(std::string_view path,
                                                       std::shared_ptr<Factory> factory,
                                                       int backlog = 50, int mode = 0666) = 0;
    virtual std::shared_ptr<IConnector> connectUNIX(std::string_view path,
                                                    std::shared_ptr<ClientFactory> factory,
                                                    double timeout = 30) = 0;
};

class IReactorThreads {
public:
    virtual ~IReactorThreads() = default;
    // Runs f on the reactor's thread pool.
    virtual void callInThread(detail::UniqueFunction<void()> f) = 0;
    // Runs f on the reactor's thread, soon. Safe from any thread.
    virtual void callFromThread(detail::UniqueFunction<void()> f) = 0;
    virtual ThreadPool& getThreadPool() = 0;
    virtual void suggestThreadPoolSize(std::size_t size) = 0;
};

} // namespace braid
