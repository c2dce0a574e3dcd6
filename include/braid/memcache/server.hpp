// memcache::Server and ServerFactory: a memcached-compatible server (text and meta
// protocols of memcached 1.6) on braid's reactor. One Server holds what every connection
// shares, the Store included, and may be used from several reactor threads; each reactor
// gets its own ServerFactory, which keeps that thread's counters.
//
//     auto server = std::make_shared<memcache::Server>(memcache::ServerOptions{});
//     reactor.listenTCP(11211, std::make_shared<memcache::ServerFactory>(server, reactor));
#pragma once

#include <braid/factory.hpp>
#include <braid/memcache/store.hpp>
#include <braid/reactor_time.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace braid::memcache {

struct ServerOptions {
    Store::Options store{};
    std::size_t maxConnections = 1024; // memcached -c: beyond it, "ERROR Too many open connections"
    std::size_t threads = 1;           // reported in stats (memcached -t)
    int verbosity = 0;                 // memcached -v; the `verbosity` command changes it
    // A request line without its newline may not grow beyond this (memcached: 2048 bytes,
    // except for get/gets with many keys, which may grow to maxMultigetLine).
    std::size_t maxLineLength = 2048;
    std::size_t maxMultigetLine = std::size_t{1} << 20;
    std::string version = "1.6.18-braid";
    // How often each reactor sweeps expired items out of the store, and how many per pass.
    double sweepInterval = 1.0;
    std::size_t sweepBudget = 2000;
};

// One reactor thread's counters. Only its thread writes them (relaxed loads and stores,
// no read-modify-write); `stats` reads them from any thread.
struct ThreadCounters {
    std::atomic<std::uint64_t> cmdSet{0}, cmdFlush{0}, cmdTouch{0}, cmdMeta{0}, bytesRead{0},
        bytesWritten{0}, storeTooLarge{0}, storeNoMemory{0}, getCommands{0}, getKeys{0};

    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

class Server {
public:
    explicit Server(ServerOptions options);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] Store& store() noexcept { return store_; }
    [[nodiscard]] const ServerOptions& options() const noexcept { return options_; }

    // Connection accounting: admit() is false when maxConnections are open already.
    bool admit() noexcept;
    void release() noexcept;

    void setVerbosity(int level) noexcept { verbosity_.store(level, std::memory_order_relaxed); }
    [[nodiscard]] int verbosity() const noexcept {
        return verbosity_.load(std::memory_order_relaxed);
    }

    // Each reactor's counters, added into `stats`.
    void attach(const ThreadCounters* counters);
    void detach(const ThreadCounters* counters);

    // The body of `stats` (no subcommand), `stats settings`, `stats items` and `stats
    // slabs`: "STAT name value\r\n" lines, without the final END. `now` is unix time.
    [[nodiscard]] std::string generalStats(Seconds now) const;
    [[nodiscard]] std::string settingsStats() const;
    [[nodiscard]] std::string itemStats(Seconds now) const;
    [[nodiscard]] std::string slabStats() const;
    // `stats reset`.
    void resetStats();

private:
    ServerOptions options_;
    Store store_;
    Seconds started_; // unix time
    std::atomic<int> verbosity_;
    std::atomic<std::uint64_t> currConnections_{0}, totalConnections_{0}, rejectedConnections_{0};

    mutable std::mutex countersMutex_;
    std::vector<const ThreadCounters*> counters_;
    ThreadCounters retired_; // the counters of reactors gone, and the base that reset subtracts
};

// Builds the protocol of each connection, on one reactor. Its clock gives the time
// (unix seconds: the wall clock when the factory starts, advanced by the clock), and its
// startFactory() starts the periodic expiry sweep.
class ServerFactory final : public Factory, public std::enable_shared_from_this<ServerFactory> {
public:
    ServerFactory(std::shared_ptr<Server> server, IReactorTime& clock);
    ~ServerFactory() override;

    std::unique_ptr<Protocol> buildProtocol(const Address& address) override;
    void startFactory() override;
    void stopFactory() override;

    [[nodiscard]] Server& server() noexcept { return *server_; }
    [[nodiscard]] ThreadCounters& counters() noexcept { return counters_; }
    [[nodiscard]] IReactorTime& clock() noexcept { return clock_; }
    // The current unix time in whole seconds, as memcached's clock: it moves with the
    // factory's clock.
    [[nodiscard]] Seconds now() const;

private:
    void sweep();

    std::shared_ptr<Server> server_;
    IReactorTime& clock_;
    double clockBase_; // clock_.seconds() when the factory was made
    Seconds unixBase_; // the wall clock then
    ThreadCounters counters_;
    DelayedCall sweepCall_;
};

} // namespace braid::memcache
