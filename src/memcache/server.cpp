#include "connection.hpp"
#include <braid/memcache/server.hpp>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <iterator>

namespace braid::memcache {

namespace {

Seconds wallClock() {
    return static_cast<Seconds>(std::time(nullptr));
}

void stat(std::string& out, std::string_view name, const auto& value) {
    fmt::format_to(std::back_inserter(out), "STAT {} {}\r\n", name, value);
}

double cpuSeconds(const timeval& time) {
    return static_cast<double>(time.tv_sec) + (static_cast<double>(time.tv_usec) / 1e6);
}

// The sum of every reactor's counters, less the base `stats reset` left.
struct CounterTotals {
    std::uint64_t cmdSet = 0, cmdFlush = 0, cmdTouch = 0, cmdMeta = 0, bytesRead = 0,
                  bytesWritten = 0, storeTooLarge = 0, storeNoMemory = 0, getKeys = 0;

    void add(const ThreadCounters& counters, std::int64_t sign) {
        auto take = [sign](std::uint64_t& total, const std::atomic<std::uint64_t>& counter) {
            total += static_cast<std::uint64_t>(sign) * counter.load(std::memory_order_relaxed);
        };
        take(cmdSet, counters.cmdSet);
        take(cmdFlush, counters.cmdFlush);
        take(cmdTouch, counters.cmdTouch);
        take(cmdMeta, counters.cmdMeta);
        take(bytesRead, counters.bytesRead);
        take(bytesWritten, counters.bytesWritten);
        take(storeTooLarge, counters.storeTooLarge);
        take(storeNoMemory, counters.storeNoMemory);
        take(getKeys, counters.getKeys);
    }
};

void copyCounters(ThreadCounters& to, const CounterTotals& from) {
    to.cmdSet = from.cmdSet;
    to.cmdFlush = from.cmdFlush;
    to.cmdTouch = from.cmdTouch;
    to.cmdMeta = from.cmdMeta;
    to.bytesRead = from.bytesRead;
    to.bytesWritten = from.bytesWritten;
    to.storeTooLarge = from.storeTooLarge;
    to.storeNoMemory = from.storeNoMemory;
    to.getKeys = from.getKeys;
}

} // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      store_(options_.store),
      started_(wallClock()),
      verbosity_(options_.verbosity) {}

bool Server::admit() noexcept {
    std::uint64_t open = currConnections_.fetch_add(1, std::memory_order_relaxed);
    if (open >= options_.maxConnections) {
        currConnections_.fetch_sub(1, std::memory_order_relaxed);
        rejectedConnections_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    totalConnections_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void Server::release() noexcept {
    currConnections_.fetch_sub(1, std::memory_order_relaxed);
}

void Server::attach(const ThreadCounters* counters) {
    std::lock_guard lock(countersMutex_);
    counters_.push_back(counters);
}

void Server::detach(const ThreadCounters* counters) {
    std::lock_guard lock(countersMutex_);
    CounterTotals kept;
    kept.add(retired_, 1);
    kept.add(*counters, 1);
    copyCounters(retired_, kept);
    std::erase(counters_, counters);
}

void Server::resetStats() {
    // The counters keep counting; reset stores their current sum, negated, as the base.
    std::lock_guard lock(countersMutex_);
    CounterTotals base;
    for (const ThreadCounters* counters : counters_) {
        base.add(*counters, -1);
    }
    copyCounters(retired_, base);
    totalConnections_.store(0, std::memory_order_relaxed);
    rejectedConnections_.store(0, std::memory_order_relaxed);
}

std::string Server::generalStats(Seconds now) const {
    CounterTotals totals;
    {
        std::lock_guard lock(countersMutex_);
        totals.add(retired_, 1);
        for (const ThreadCounters* counters : counters_) {
            totals.add(*counters, 1);
        }
    }
    StoreStats store = store_.stats();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::string out;
    stat(out, "pid", getpid());
    stat(out, "uptime", now - started_);
    stat(out, "time", now);
    stat(out, "version", options_.version);
    stat(out, "pointer_size", sizeof(void*) * 8);
    stat(out, "rusage_user", fmt::format("{:.6f}", cpuSeconds(usage.ru_utime)));
    stat(out, "rusage_system", fmt::format("{:.6f}", cpuSeconds(usage.ru_stime)));
    stat(out, "max_connections", options_.maxConnections);
    stat(out, "curr_connections", currConnections_.load(std::memory_order_relaxed));
    stat(out, "total_connections", totalConnections_.load(std::memory_order_relaxed));
    stat(out, "rejected_connections", rejectedConnections_.load(std::memory_order_relaxed));
    stat(out, "cmd_get", store.getHits + store.getMisses);
    stat(out, "cmd_set", totals.cmdSet);
    stat(out, "cmd_flush", totals.cmdFlush);
    stat(out, "cmd_touch", store.touchHits + store.touchMisses);
    stat(out, "cmd_meta", totals.cmdMeta);
    stat(out, "get_hits", store.getHits);
    stat(out, "get_misses", store.getMisses);
    stat(out, "get_expired", store.getExpired);
    stat(out, "get_flushed", store.getFlushed);
    stat(out, "delete_misses", store.deleteMisses);
    stat(out, "delete_hits", store.deleteHits);
    stat(out, "incr_misses", store.incrMisses);
    stat(out, "incr_hits", store.incrHits);
    stat(out, "decr_misses", store.decrMisses);
    stat(out, "decr_hits", store.decrHits);
    stat(out, "cas_misses", store.casMisses);
    stat(out, "cas_hits", store.casHits);
    stat(out, "cas_badval", store.casBadval);
    stat(out, "touch_hits", store.touchHits);
    stat(out, "touch_misses", store.touchMisses);
    stat(out, "store_too_large", totals.storeTooLarge);
    stat(out, "store_no_memory", totals.storeNoMemory);
    stat(out, "auth_cmds", 0);
    stat(out, "auth_errors", 0);
    stat(out, "bytes_read", totals.bytesRead);
    stat(out, "bytes_written", totals.bytesWritten);
    stat(out, "limit_maxbytes", options_.store.memoryLimit);
    stat(out, "accepting_conns", 1);
    stat(out, "threads", options_.threads);
    stat(out, "conn_yields", 0);
    stat(out, "bytes", store.bytes);
    stat(out, "curr_items", store.currItems);
    stat(out, "total_items", store.totalItems);
    stat(out, "expired_unfetched", store.expiredUnfetched);
    stat(out, "evicted_unfetched", store.evictedUnfetched);
    stat(out, "evictions", store.evictions);
    stat(out, "reclaimed", store.reclaimed);
    return out;
}

std::string Server::settingsStats() const {
    const Store::Options& store = options_.store;
    std::string out;
    stat(out, "maxbytes", store.memoryLimit);
    stat(out, "maxconns", options_.maxConnections);
    stat(out, "verbosity", verbosity());
    stat(out, "evictions", store.evict ? "on" : "off");
    stat(out, "num_threads", options_.threads);
    stat(out, "cas_enabled", "yes");
    stat(out, "item_size_max", store.maxItemSize);
    stat(out, "flush_enabled", "yes");
    stat(out, "shards", store.shards);
    return out;
}

// braid has no slab classes: all items are reported as class 1.
std::string Server::itemStats(Seconds /*now*/) const {
    StoreStats store = store_.stats();
    std::string out;
    if (store.currItems == 0) {
        return out;
    }
    stat(out, "items:1:number", store.currItems);
    stat(out, "items:1:mem_requested", store.bytes);
    stat(out, "items:1:evicted", store.evictions);
    stat(out, "items:1:outofmemory", 0);
    stat(out, "items:1:reclaimed", store.reclaimed);
    stat(out, "items:1:expired_unfetched", store.expiredUnfetched);
    stat(out, "items:1:evicted_unfetched", store.evictedUnfetched);
    return out;
}

std::string Server::slabStats() const {
    StoreStats store = store_.stats();
    std::string out;
    if (store.currItems != 0) {
        stat(out, "1:used_chunks", store.currItems);
        stat(out, "1:get_hits", store.getHits);
        stat(out, "1:delete_hits", store.deleteHits);
        stat(out, "1:incr_hits", store.incrHits);
        stat(out, "1:decr_hits", store.decrHits);
        stat(out, "1:cas_hits", store.casHits);
        stat(out, "1:cas_badval", store.casBadval);
        stat(out, "1:touch_hits", store.touchHits);
    }
    stat(out, "active_slabs", store.currItems != 0 ? 1 : 0);
    stat(out, "total_malloced", store.bytes);
    return out;
}

ServerFactory::ServerFactory(std::shared_ptr<Server> server, IReactorTime& clock)
    : server_(std::move(server)),
      clock_(clock),
      clockBase_(clock.seconds()),
      unixBase_(wallClock()) {
    server_->attach(&counters_);
}

ServerFactory::~ServerFactory() {
    server_->detach(&counters_);
}

Seconds ServerFactory::now() const {
    return unixBase_ + static_cast<Seconds>(std::floor(clock_.seconds() - clockBase_));
}

std::unique_ptr<Protocol> ServerFactory::buildProtocol(const Address& /*address*/) {
    return std::make_unique<detail::Connection>(shared_from_this());
}

void ServerFactory::startFactory() {
    sweepCall_ = clock_.callLater(server_->options().sweepInterval, [this] { sweep(); });
}

void ServerFactory::stopFactory() {
    if (sweepCall_.active()) {
        sweepCall_.cancel();
    }
}

// Lazy expiry frees what is read; the sweep frees what nobody reads any more.
void ServerFactory::sweep() {
    server_->store().sweep(now(), server_->options().sweepBudget);
    sweepCall_ = clock_.callLater(server_->options().sweepInterval, [this] { sweep(); });
}

} // namespace braid::memcache
