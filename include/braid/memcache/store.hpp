// memcache::Store: the item store behind `braid memcached`, shared by every reactor thread.
// Keys hash to shards, each with its own lock, hash table and LRU list, so threads working
// on different keys do not wait for each other. Memory is counted honestly (key, value and
// per-item overhead) against one limit; over it, the least recently used items go.
//
// Times are whole seconds on the caller's clock (unix time in the server); expiry times
// are absolute (see absoluteExpiry() for the protocol's relative/absolute rule), 0 = never.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace braid::memcache {

using Seconds = std::int64_t;

// memcached's rule for an exptime sent by a client, given the current time: 0 never
// expires, negative is already expired, up to 30 days is relative to now, beyond that an
// absolute unix time. Returns the absolute expiry (0 = never; a time <= now = expired).
Seconds absoluteExpiry(std::int64_t exptime, Seconds now) noexcept;

// A read-only view of a live item, valid only inside the callback it is passed to (the
// item's shard is locked meanwhile: copy what you need, do not call back into the Store).
struct ItemView {
    std::string_view key;
    std::string_view value;
    std::uint32_t flags = 0;    // the client's opaque flags
    Seconds exptime = 0;        // absolute, 0 = never
    std::uint64_t cas = 0;      // unique per modification
    Seconds lastAccess = 0;     // before this access
    bool fetchedBefore = false; // fetched by a get since it was stored (meta 'h')
    bool stale = false;         // invalidated by a meta delete/set with I (meta 'X')
    bool won = false;           // this request won the right to recache (meta 'W')
    bool alreadyWon = false;    // another request won it earlier (meta 'Z')
};

struct GetOptions {
    std::optional<Seconds> touch;         // gat/gats, meta T: new absolute expiry
    bool bumpLru = true;                  // meta 'u' turns it off
    std::optional<Seconds> vivifyExptime; // meta N: on a miss, create an empty item and win
    std::optional<Seconds> recacheBelow;  // meta R: win if the remaining TTL is below this
};

enum class StoreMode : std::uint8_t { set, add, replace, append, prepend, cas };

enum class StoreStatus : std::uint8_t {
    stored,     // STORED / HD
    notStored,  // NOT_STORED / NS (add on a live key, replace/append/prepend on a missing one)
    exists,     // EXISTS / EX (cas mismatch)
    notFound,   // NOT_FOUND / NF (cas on a missing key)
    tooLarge,   // the item would exceed maxItemSize (as memcached measures it)
    outOfMemory // nothing could be evicted to make room (eviction disabled, or item > limit)
};

struct StoreRequest {
    StoreMode mode = StoreMode::set;
    std::string_view key;
    std::string_view value;
    std::uint32_t flags = 0;
    Seconds exptime = 0;                     // absolute, 0 = never
    std::optional<std::uint64_t> compareCas; // cas command, meta C
    std::optional<std::uint64_t> newCas;     // meta E: use this as the new cas value
    bool invalidate = false;                 // meta I: a cas older than the item's marks it stale
    std::optional<Seconds> vivifyExptime;    // meta N with append/prepend: create if missing
};

struct StoreResult {
    StoreStatus status = StoreStatus::notStored;
    std::uint64_t cas = 0; // the item's cas after a successful store
};

struct DeleteRequest {
    std::string_view key;
    std::optional<std::uint64_t> compareCas; // meta C
    std::optional<std::uint64_t> newCas;     // meta E
    bool invalidate = false;                 // meta I: mark stale instead of removing
    std::optional<Seconds> exptime;          // meta T together with I
};

enum class DeleteStatus : std::uint8_t { deleted, notFound, exists };

// outOfMemory: a longer number (or meta N's new item) found no room, as memcached's
// "SERVER_ERROR out of memory".
enum class ArithStatus : std::uint8_t { ok, notFound, nonNumeric, exists, outOfMemory };

struct ArithRequest {
    std::string_view key;
    bool incr = true; // incr wraps at 2^64, decr stops at 0
    std::uint64_t delta = 1;
    std::optional<std::uint64_t> compareCas; // meta C
    std::optional<std::uint64_t> newCas;     // meta E
    std::optional<Seconds> vivifyExptime;    // meta N: create with `initial` on a miss
    std::uint64_t initial = 0;               // meta J
    std::optional<Seconds> touch;            // meta T
};

struct ArithResult {
    ArithStatus status = ArithStatus::notFound;
    std::uint64_t value = 0;
    std::uint64_t cas = 0;
    Seconds exptime = 0;
};

// Counters as memcached's `stats` names them (those the store can know).
struct StoreStats {
    std::uint64_t currItems = 0, totalItems = 0, bytes = 0, evictions = 0, reclaimed = 0,
                  expiredUnfetched = 0, evictedUnfetched = 0;
    std::uint64_t getHits = 0, getMisses = 0, getExpired = 0, getFlushed = 0;
    std::uint64_t touchHits = 0, touchMisses = 0, deleteHits = 0, deleteMisses = 0;
    std::uint64_t incrHits = 0, incrMisses = 0, decrHits = 0, decrMisses = 0;
    std::uint64_t casHits = 0, casMisses = 0, casBadval = 0;
    std::uint64_t limitMaxbytes = 0;
};

class Store {
public:
    struct Options {
        std::size_t memoryLimit = std::size_t{64} << 20; // memcached -m
        std::size_t maxItemSize = std::size_t{1}
                                  << 20; // memcached -I: key + value + 59, + 4 with flags
        std::size_t shards = 64;         // a power of two
        bool evict = true;               // memcached -M turns it off
    };

    explicit Store(Options options);
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store();

    [[nodiscard]] const Options& options() const noexcept;

    // get/gets/gat/gats/mg: calls found(item) under the shard lock if the key is live and
    // returns true; false on a miss (counted in stats). With vivifyExptime, a miss creates
    // an empty item, calls found() with won = true and returns true.
    template <class F>
    bool get(std::string_view key, Seconds now, const GetOptions& options, F&& found) {
        // (F may be an lvalue reference, to a const callable too.)
        using Callable = std::remove_reference_t<F>;
        FoundRef ref{const_cast<void*>(static_cast<const void*>(std::addressof(found))),
                     [](void* f, const ItemView& item) { (*static_cast<Callable*>(f))(item); }};
        return getImpl(key, now, options, ref);
    }

    StoreResult store(const StoreRequest& request, Seconds now);

    // A hint that these keys are about to be used (a read's pipelined requests): their
    // buckets and items are asked of memory together, so that their cache misses overlap
    // instead of each request waiting for its own. Changes nothing; the first
    // maxPrefetchKeys keys are used.
    static constexpr std::size_t maxPrefetchKeys = 32;
    void prefetch(std::span<const std::string_view> keys) const;
    DeleteStatus remove(const DeleteRequest& request, Seconds now);
    ArithResult arithmetic(const ArithRequest& request, Seconds now);
    // touch: true if the key was live.
    bool touch(std::string_view key, Seconds exptime, Seconds now);

    // flush_all: every item stored at or before `at` is gone once the time is `at` (flush_all
    // with a delay passes now + delay - 1, as memcached). With at <= now, every item stored
    // so far goes at once, those stored later in the same second included.
    void flushAll(Seconds at, Seconds now);

    // Removes up to `budget` expired or flushed items (the periodic sweep; lazy expiry on
    // access handles the rest). Returns how many it removed.
    std::size_t sweep(Seconds now, std::size_t budget);

    // Whether an item of this shape is within maxItemSize, as memcached 1.6 measures it
    // (so that exactly the values memcached takes fit).
    [[nodiscard]] bool fitsItemSize(std::size_t keyLength, std::size_t valueLength,
                                    std::uint32_t flags) const noexcept;

    // The bytes an item with this key and value length is counted as against memoryLimit
    // (maxItemSize is checked as memcached measures items, so the same values fit).
    [[nodiscard]] static std::size_t itemSize(std::size_t keyLength,
                                              std::size_t valueLength) noexcept;

    [[nodiscard]] StoreStats stats() const;

private:
    struct FoundRef {
        void* f;
        void (*call)(void*, const ItemView&);
    };
    bool getImpl(std::string_view key, Seconds now, const GetOptions& options, FoundRef found);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace braid::memcache
