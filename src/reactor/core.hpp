// ReactorCore: the state behind braid::Reactor (a pimpl, so that the public header needs
// no system headers): the poller, the timers, the shared read buffer, the connections
// and the work deferred to the end of a loop iteration.
#pragma once

#include "linger.hpp"
#include "poller.hpp"
#include "resolver.hpp"
#include <braid/detail/call_queue.hpp>
#include <braid/detail/system_events.hpp>
#include <braid/log.hpp>
#include <braid/reactor.hpp>
#include <braid/threads.hpp>
#include <braid/timer_queue.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

namespace braid::detail {

class StreamConnection;
class ListeningPort;
class Connector;
class LingeringClose;

class ReactorCore {
public:
    ReactorCore(Reactor& owner, Reactor::Options options);
    ReactorCore(const ReactorCore&) = delete;
    ReactorCore& operator=(const ReactorCore&) = delete;
    ~ReactorCore();

    Reactor& owner;
    Logger log{"braid.reactor"}; // before the poller, which may warn while it is made
    std::unique_ptr<Poller> poller;
    TimerQueue timers;
    CallQueue calls; // callFromThread; declared before what pushes to it from threads

    // Every connection reads into this one buffer: dataReceived gets a view of it, valid
    // for the call, so an idle connection holds no read buffer at all.
    static constexpr std::size_t readBufferSize = 64 * 1024;
    std::unique_ptr<char[]> readBuffer;

    [[nodiscard]] double now() const;

    // Takes ownership of a connection (indexed by its fd) and starts it.
    void adopt(std::unique_ptr<StreamConnection> connection, std::unique_ptr<Protocol> protocol);
    // The connection has work for the end of this iteration (closing, half-closing):
    // done there so that a protocol is never destroyed while one of its methods runs.
    void defer(StreamConnection& connection);
    // The connection has more to do than its edge-triggered events will say (reads left
    // after its share of this iteration, a pull producer to ask again): it is served at the
    // start of the next iteration, which then does not sleep. forgetAgain() when it closes.
    void again(StreamConnection& connection);
    void forgetAgain(StreamConnection& connection);
    [[nodiscard]] std::size_t connectionCount() const noexcept { return connectionCount_; }

    // Keeps an object (a port or connector being stopped) alive until the end of the
    // iteration, since its handler may still be on the stack.
    void keepUntilIterationEnd(std::shared_ptr<void> object);

    // Listening ports are owned here until stopListening(); connectors are tracked so
    // that a reactor destroyed mid-connect releases them.
    void addPort(std::shared_ptr<ListeningPort> port);
    void removePort(ListeningPort& port);
    void addConnector(const std::shared_ptr<Connector>& connector);

    // An orderly close: FIN now, the descriptor closed once the peer is done (see
    // LingeringClose). Takes ownership of fd.
    void linger(int fd);
    void endLinger(LingeringClose& lingering);

    // The reactor's thread pool, started on first use.
    ThreadPool& threadPool();
    Resolver& resolver() { return *resolver_; }

    void run();
    void stop();
    void iterate(double timeout);
    [[nodiscard]] bool running() const noexcept { return state_ == State::running; }

    void callWhenRunning(UniqueFunction<void()> f);
    IReactorCore::TriggerId addTrigger(std::string_view phase, std::string_view event,
                                       UniqueFunction<Deferred<void>()> f);
    void removeTrigger(IReactorCore::TriggerId id);

    // Runs f, logging (not propagating) what it throws. Returns false if it threw.
    template <class F>
    bool guarded(const char* what, F&& f) noexcept {
        try {
            f();
            return true;
        } catch (...) {
            logException(what);
            return false;
        }
    }
    void logException(const char* what) noexcept;

private:
    enum class State { idle, running, stopping, stopped };

    void runTimers();
    void finishIteration();
    void serveAgain();
    [[nodiscard]] int pollTimeoutMs(double maxSeconds) const;
    void fireStartup();
    void beginShutdown();
    void installSignalHandlers();
    void restoreSignalHandlers();
    void closeAllConnections();

    Reactor::Options options_;
    State state_ = State::idle;
    bool exitLoop_ = false;
    std::vector<std::unique_ptr<StreamConnection>> connections_; // by fd
    std::size_t connectionCount_ = 0;
    std::vector<StreamConnection*> deferred_;
    std::vector<StreamConnection*> again_;
    std::vector<std::shared_ptr<void>> keepAlive_;
    std::vector<std::shared_ptr<ListeningPort>> ports_;
    std::vector<std::weak_ptr<Connector>> connectors_;
    std::unordered_map<LingeringClose*, std::unique_ptr<LingeringClose>> lingering_;
    SystemEvents events_{log};

    class SignalPipe;
    std::unique_ptr<SignalPipe> signals_;
    class CallQueueWatcher;
    std::unique_ptr<CallQueueWatcher> callsWatcher_;
    std::unique_ptr<ThreadPool> threadPool_;
    std::unique_ptr<Resolver> resolver_;
};

} // namespace braid::detail
