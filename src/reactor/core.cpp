#include "core.hpp"

#include "connector.hpp"
#include "port.hpp"
#include "stream.hpp"
#include <braid/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string_view>

namespace braid::detail {

namespace {

// The backend asked for, by the options or BRAID_REACTOR; nullopt: none in particular.
std::optional<Reactor::Backend> chosenBackend(const Reactor::Options& options) {
    if (options.backend) {
        return options.backend;
    }
    const char* chosen = std::getenv("BRAID_REACTOR");
    std::string_view name(chosen != nullptr ? chosen : "");
    if (name.empty()) {
        return std::nullopt;
    }
    if (name == "epoll") {
        return Reactor::Backend::epoll;
    }
    if (name == "poll") {
        return Reactor::Backend::poll;
    }
    if (name == "uring" || name == "io_uring") {
        return Reactor::Backend::uring;
    }
    throw std::invalid_argument("BRAID_REACTOR must be 'epoll', 'poll' or 'uring', not '" +
                                std::string(name) + "'");
}

// epoll unless another backend is asked for; epoll too, with a warning, where the kernel
// refuses io_uring.
std::unique_ptr<Poller> makePoller(const Reactor::Options& options, Logger& log) {
    switch (chosenBackend(options).value_or(Reactor::Backend::epoll)) {
    case Reactor::Backend::poll: return makePollPoller();
    case Reactor::Backend::epoll: return makeEpollPoller();
    case Reactor::Backend::uring: break;
    }
    if (auto poller = makeUringPoller()) {
        return poller;
    }
    log.warn("io_uring is not available here (it needs Linux 5.19+): using epoll");
    return makeEpollPoller();
}

// sendfile(2) has no MSG_NOSIGNAL: a peer that has gone would kill the process with
// SIGPIPE. Like Python (and so Twisted) and nginx, ignore it, unless the program installed
// a handler of its own; every write then fails with EPIPE instead.
void ignoreSigpipe() {
    static const bool once = [] {
        struct sigaction current{};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            ::signal(SIGPIPE, SIG_IGN);
        }
        return true;
    }();
    (void)once;
}

} // namespace

// SIGINT/SIGTERM stop the running reactor: the handler only writes a byte to a pipe
// (async-signal-safe); the loop reads it and calls stop().
class ReactorCore::SignalPipe final : public IOHandler {
public:
    explicit SignalPipe(ReactorCore& core) : core_(core) {
        if (::pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
            throw std::system_error(errno, std::generic_category(), "pipe2");
        }
        writeFd = fds_[1];
        struct sigaction action{};
        action.sa_handler = &SignalPipe::onSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGINT, &action, &previousInt_);
        ::sigaction(SIGTERM, &action, &previousTerm_);
        core_.poller->add(fds_[0], Poller::readable, *this);
    }
    SignalPipe(const SignalPipe&) = delete;
    SignalPipe& operator=(const SignalPipe&) = delete;
    ~SignalPipe() override {
        ::sigaction(SIGINT, &previousInt_, nullptr);
        ::sigaction(SIGTERM, &previousTerm_, nullptr);
        writeFd = -1;
        core_.poller->remove(fds_[0], *this);
        ::close(fds_[0]);
        ::close(fds_[1]);
    }

    void onReady(std::uint32_t /*events*/) override {
        char drained[64];
        while (::read(fds_[0], drained, sizeof(drained)) > 0) {
        }
        if (core_.running()) {
            core_.log.info("received a signal, shutting down");
            core_.stop();
        }
    }

private:
    static void onSignal(int /*signal*/) {
        int saved = errno;
        if (writeFd >= 0) {
            char byte = 1;
            [[maybe_unused]] ssize_t ignored = ::write(writeFd, &byte, 1);
        }
        errno = saved;
    }

    static inline volatile std::sig_atomic_t writeFd = -1;

    ReactorCore& core_;
    int fds_[2] = {-1, -1};
    struct sigaction previousInt_{};
    struct sigaction previousTerm_{};
};

// Drains callFromThread calls when the queue's eventfd is readable.
class ReactorCore::CallQueueWatcher final : public IOHandler {
public:
    explicit CallQueueWatcher(ReactorCore& core) : core_(core) {
        core_.poller->add(core_.calls.fd(), Poller::readable, *this);
    }
    CallQueueWatcher(const CallQueueWatcher&) = delete;
    CallQueueWatcher& operator=(const CallQueueWatcher&) = delete;
    ~CallQueueWatcher() override { core_.poller->remove(core_.calls.fd(), *this); }
    void onReady(std::uint32_t /*events*/) override { core_.calls.drain(); }

private:
    ReactorCore& core_;
};

ReactorCore::ReactorCore(Reactor& owner, Reactor::Options options)
    : owner(owner),
      poller(makePoller(options, log)),
      timers(owner),
      readBuffer(std::make_unique<char[]>(readBufferSize)),
      options_(options),
      callsWatcher_(std::make_unique<CallQueueWatcher>(*this)),
      resolver_(std::make_unique<Resolver>(calls)) {
    ignoreSigpipe();
    // Work given to threads is finished (and the threads joined) during shutdown, as
    // Twisted stops its thread pool.
    addTrigger("during", "shutdown", [this] {
        if (threadPool_) {
            threadPool_->stop();
        }
        return succeed();
    });
}

ThreadPool& ReactorCore::threadPool() {
    if (!threadPool_) {
        threadPool_ = std::make_unique<ThreadPool>(0, 10, "braid-pool");
        threadPool_->start();
    }
    return *threadPool_;
}

ReactorCore::~ReactorCore() {
    lingering_.clear();
    resolver_.reset(); // joins lookups before the call queue they answer through goes
    if (threadPool_) {
        threadPool_->stop(); // answers the threads queue for the loop are dropped with it
    }
    closeAllConnections();
    std::vector<std::shared_ptr<ListeningPort>> ports;
    ports.swap(ports_);
    for (auto& port : ports) {
        (void)port->stopListening();
    }
    for (auto& weak : connectors_) {
        if (auto connector = weak.lock()) {
            connector->abandon();
        }
    }
    keepAlive_.clear();
}

double ReactorCore::now() const {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void ReactorCore::logException(const char* what) noexcept {
    try {
        Failure failure = Failure::current();
        log.error("Unhandled exception in {what}: {failure}", fmt::arg("what", what),
                  fmt::arg("failure", failure.toString()));
    } catch (...) { // NOLINT(bugprone-empty-catch): logging must not throw
    }
}

// --- connections and end-of-iteration work ------------------------------------------------

void ReactorCore::adopt(std::unique_ptr<StreamConnection> connection,
                        std::unique_ptr<Protocol> protocol) {
    auto fd = static_cast<std::size_t>(connection->fd());
    if (connections_.size() <= fd) {
        connections_.resize(fd + 1);
    }
    StreamConnection& started = *connection;
    connections_[fd] = std::move(connection);
    ++connectionCount_;
    started.start(std::move(protocol));
}

void ReactorCore::defer(StreamConnection& connection) {
    deferred_.push_back(&connection);
}

void ReactorCore::keepUntilIterationEnd(std::shared_ptr<void> object) {
    keepAlive_.push_back(std::move(object));
}

void ReactorCore::addPort(std::shared_ptr<ListeningPort> port) {
    port->startListening();
    ports_.push_back(std::move(port));
}

void ReactorCore::removePort(ListeningPort& port) {
    for (auto it = ports_.begin(); it != ports_.end(); ++it) {
        if (it->get() == &port) {
            keepAlive_.push_back(std::move(*it));
            ports_.erase(it);
            return;
        }
    }
}

void ReactorCore::addConnector(const std::shared_ptr<Connector>& connector) {
    std::erase_if(connectors_, [](const std::weak_ptr<Connector>& weak) { return weak.expired(); });
    connectors_.push_back(connector);
}

void ReactorCore::linger(int fd) {
    auto lingering = std::make_unique<LingeringClose>(*this, fd);
    LingeringClose* key = lingering.get();
    lingering_.emplace(key, std::move(lingering));
}

void ReactorCore::endLinger(LingeringClose& lingering) {
    auto it = lingering_.find(&lingering);
    if (it != lingering_.end()) {
        // It may be on the stack (its onReady): destroyed at the end of the iteration.
        keepAlive_.push_back(std::shared_ptr<LingeringClose>(std::move(it->second)));
        lingering_.erase(it);
    }
}

void ReactorCore::again(StreamConnection& connection) {
    again_.push_back(&connection);
}

void ReactorCore::forgetAgain(StreamConnection& connection) {
    std::erase(again_, &connection);
}

// One pass: connections asking again while served are served in the next iteration.
void ReactorCore::serveAgain() {
    std::vector<StreamConnection*> batch;
    batch.swap(again_);
    for (StreamConnection* connection : batch) {
        connection->serveAgain();
    }
}

void ReactorCore::finishIteration() {
    while (!deferred_.empty()) {
        std::vector<StreamConnection*> batch;
        batch.swap(deferred_);
        for (StreamConnection* connection : batch) {
            int fd = connection->fd();
            if (connection->finishIteration()) {
                connections_[static_cast<std::size_t>(fd)].reset();
                --connectionCount_;
            }
        }
    }
    keepAlive_.clear();
}

void ReactorCore::closeAllConnections() {
    Failure reason(ConnectionLost("Connection was closed because the reactor shut down."));
    for (auto& connection : connections_) {
        if (connection) {
            connection->closeNow(reason);
            connection.reset();
            --connectionCount_;
        }
    }
    deferred_.clear();
    again_.clear();
}

// --- the loop ----------------------------------------------------------------------------

int ReactorCore::pollTimeoutMs(double maxSeconds) const {
    if (!deferred_.empty() || !again_.empty() || exitLoop_) {
        return 0;
    }
    double wait = maxSeconds;
    if (std::optional<double> next = timers.nextTime()) {
        double untilTimer = std::max(0.0, *next - now());
        wait = wait < 0 ? untilTimer : std::min(wait, untilTimer);
    }
    if (wait < 0) {
        return -1;
    }
    // Round up: waking a little late is fine, waking early means a spin through the loop.
    return static_cast<int>(std::min(std::ceil(wait * 1000.0), 3'600'000.0));
}

void ReactorCore::runTimers() {
    // Calls scheduled by these calls wait for the next iteration, so a callLater(0) loop
    // cannot starve I/O.
    std::uint64_t limit = timers.nextSequence();
    double current = now();
    for (;;) {
        bool ran = false;
        bool ok = guarded("a timed call", [&] { ran = timers.runNext(current, limit); });
        if (ok && !ran) {
            break;
        }
        // A call that threw was removed before it ran: go on with the next one.
    }
    finishIteration();
}

void ReactorCore::iterate(double timeout) {
    poller->poll(pollTimeoutMs(timeout));
    serveAgain();
    finishIteration();
    runTimers();
}

void ReactorCore::run() {
    if (state_ == State::stopped) {
        throw ReactorNotRestartable();
    }
    if (state_ != State::idle) {
        throw std::logic_error("Reactor::run(): the reactor is already running");
    }
    state_ = State::running;
    if (options_.installSignalHandlers) {
        signals_ = std::make_unique<SignalPipe>(*this);
    }
    fireStartup();
    while (!exitLoop_) {
        iterate(-1);
    }
    signals_.reset();
    closeAllConnections();
    state_ = State::stopped;
}

void ReactorCore::stop() {
    if (state_ != State::running) {
        throw ReactorNotRunning();
    }
    state_ = State::stopping;
    owner.callLater(0, [this] { beginShutdown(); });
}

void ReactorCore::callWhenRunning(UniqueFunction<void()> f) {
    if (state_ == State::running) {
        guarded("callWhenRunning", f);
        return;
    }
    owner.addSystemEventTrigger("after", "startup", std::move(f));
}

IReactorCore::TriggerId ReactorCore::addTrigger(std::string_view phase, std::string_view event,
                                                UniqueFunction<Deferred<void>()> f) {
    return events_.add(phase, event, std::move(f));
}

void ReactorCore::removeTrigger(IReactorCore::TriggerId id) {
    events_.remove(id);
}

void ReactorCore::fireStartup() {
    events_.fire("startup", [] {}, [] {});
}

// Connections are closed between the "during" and the "after" phases, as Twisted's
// reactor disconnects everything "during shutdown".
void ReactorCore::beginShutdown() {
    events_.fire("shutdown", [this] { closeAllConnections(); }, [this] { exitLoop_ = true; });
}

} // namespace braid::detail
