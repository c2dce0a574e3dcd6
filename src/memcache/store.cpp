// memcache::Store: sharded hash tables of intrusive items, one allocation per item (header,
// key and value contiguous), LRU lists per shard and one global byte budget.
//
// Choices that follow memcached 1.6 (proto_text.c, items.c):
// - A set that cannot be stored (too large, or out of memory) removes the key's old item
//   (text `set`; memcached's `ms` does so in every mode, which the caller can add with
//   remove()). add/replace/cas/append/prepend leave it.
// - maxItemSize is checked as memcached does (fits()), not with itemSize(): the same
//   values are too large in both.
// - append/prepend whose joined item would exceed maxItemSize answer notStored, as
//   do_store_item does when the joined item cannot be allocated.
// - A cas value turns set and replace into cas (mset); on append/prepend it is checked
//   only if non-zero; cas 0 never matches for `cas`.
// - incr/decr rewrite the number in place when it fits, padded with trailing spaces to
//   the old length ("10" decr 1 is "9 "), else in a new, longer item.
// - touch and gat keep the cas; incr/decr, meta I and every store change it.
// - meta R compares the TTL the request found, before its own T.
#include "memcache/item.hpp"
#include <braid/memcache/store.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace braid::memcache {

namespace {

// 30 days: memcached's limit for a relative exptime.
constexpr std::int64_t relativeExpiryLimit = std::int64_t{60} * 60 * 24 * 30;

// Tries on other shards' locks before an insert gives up on evicting there.
constexpr int evictRounds = 3;

void addCounters(StoreStats& total, const StoreStats& s) {
    total.currItems += s.currItems;
    total.totalItems += s.totalItems;
    total.evictions += s.evictions;
    total.reclaimed += s.reclaimed;
    total.expiredUnfetched += s.expiredUnfetched;
    total.evictedUnfetched += s.evictedUnfetched;
    total.getHits += s.getHits;
    total.getMisses += s.getMisses;
    total.getExpired += s.getExpired;
    total.getFlushed += s.getFlushed;
    total.touchHits += s.touchHits;
    total.touchMisses += s.touchMisses;
    total.deleteHits += s.deleteHits;
    total.deleteMisses += s.deleteMisses;
    total.incrHits += s.incrHits;
    total.incrMisses += s.incrMisses;
    total.decrHits += s.decrHits;
    total.decrMisses += s.decrMisses;
    total.casHits += s.casHits;
    total.casMisses += s.casMisses;
    total.casBadval += s.casBadval;
}

// memcached's safe_strtoull on an item's data: optional leading white space and sign,
// decimal digits, then the end or white space; no overflow, nothing negative.
std::optional<std::uint64_t> parseCounter(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) {
        ++i;
    }
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        negative = text[i] == '-';
        ++i;
    }
    std::uint64_t value = 0;
    const auto* first = text.data() + i;
    const auto* last = text.data() + text.size();
    const auto [end, error] = std::from_chars(first, last, value);
    if (error != std::errc{} || end == first) {
        return std::nullopt;
    }
    if (end != last && std::isspace(static_cast<unsigned char>(*end)) == 0) {
        return std::nullopt;
    }
    if (negative) {
        // strtoull negates; memcached then refuses what looks negative as a signed number.
        value = ~value + 1;
        if (static_cast<std::int64_t>(value) < 0) {
            return std::nullopt;
        }
    }
    return value;
}

// memcached's limit on an item (measured on 1.6.18 with -I 1m): its 48-byte header, the
// cas, the key and its NUL, the value and its CRLF, and 4 bytes of flags unless they are
// 0, must fit in -I.
bool fits(std::size_t keyLength, std::size_t valueLength, std::uint32_t flags,
          std::size_t maxItemSize) {
    constexpr std::size_t header = 48 + 8 + 1 + 2;
    const std::size_t flagBytes = flags == 0 ? 0 : 4;
    return header + keyLength + valueLength + flagBytes <= maxItemSize;
}

} // namespace

Seconds absoluteExpiry(std::int64_t exptime, Seconds now) noexcept {
    if (exptime == 0) {
        return 0;
    }
    if (exptime < 0) {
        return std::max<Seconds>(now, 1);
    }
    return exptime <= relativeExpiryLimit ? now + exptime : exptime;
}

std::size_t Store::itemSize(std::size_t keyLength, std::size_t valueLength) noexcept {
    return itemOverhead + keyLength + valueLength;
}

// One shard: its lock, its slice of the items and its counters. Aligned so that two
// shards' locks never share a cache line.
struct alignas(64) Shard {
    std::mutex mutex;
    ItemTable table;
    LruList lru;
    StoreStats counters;
    std::size_t sweepBucket = 0; // where the periodic sweep resumes
};

struct Store::Impl {
    Options options;
    std::vector<Shard> shards;
    int shardBits = 0;
    std::atomic<std::size_t> used{0}; // bytes charged against memoryLimit
    std::atomic<std::uint64_t> nextCas{1};
    // flush_all: items with a cas below flushCas are gone (an immediate flush), and so
    // are items stored at or before oldestLive once now >= oldestLive (0: none pending).
    // The two are apart so that a later delayed flush cannot bring back what an earlier
    // immediate one removed but nothing has reclaimed yet.
    std::atomic<Seconds> oldestLive{0};
    std::atomic<std::uint64_t> flushCas{0};
    std::atomic<std::size_t> evictCursor{0};
    std::mutex sweepMutex;
    std::size_t sweepShard = 0; // under sweepMutex

    explicit Impl(Options o)
        : options(o),
          shards(std::bit_ceil(std::max<std::size_t>(o.shards, 1))),
          shardBits(std::countr_zero(shards.size())) {
        options.shards = shards.size();
        // Item lengths are 32-bit.
        options.maxItemSize = std::min<std::size_t>(options.maxItemSize, UINT32_MAX);
    }

    Shard& shardFor(std::uint64_t hash) {
        return shards[shardBits == 0 ? 0 : hash >> (64 - shardBits)];
    }

    std::uint64_t takeCas(const std::optional<std::uint64_t>& requested) {
        return requested ? *requested : nextCas.fetch_add(1, std::memory_order_relaxed);
    }

    // --- liveness ---------------------------------------------------------------------

    enum class Death : std::uint8_t { alive, expired, flushed };

    [[nodiscard]] Death deathOf(const Item& item, Seconds now) const {
        if (item.exptime != 0 && item.exptime <= now) {
            return Death::expired;
        }
        if (item.cas < flushCas.load(std::memory_order_acquire)) {
            return Death::flushed;
        }
        const Seconds oldest = oldestLive.load(std::memory_order_acquire);
        if (oldest != 0 && now >= oldest && item.storedAt <= oldest) {
            return Death::flushed;
        }
        return Death::alive;
    }

    // --- linking and freeing (under the shard's lock) ------------------------------------

    void release(std::size_t bytes) { used.fetch_sub(bytes, std::memory_order_relaxed); }

    void unlinkAndFree(Shard& shard, Item* item) {
        shard.table.remove(item);
        shard.lru.remove(item);
        const auto size = item->size();
        shard.counters.currItems -= 1;
        Item::destroy(item);
        release(size);
    }

    // Frees an item found dead (lazily or by the sweep), counting it as memcached does.
    void reclaim(Shard& shard, Item* item, Death death) {
        shard.counters.reclaimed += 1;
        if (death == Death::expired && !item->fetched) {
            shard.counters.expiredUnfetched += 1;
        }
        unlinkAndFree(shard, item);
    }

    // The live item with this key, freeing it if it is dead.
    Item* findLive(Shard& shard, std::string_view key, std::uint64_t hash, Seconds now) {
        Item* item = shard.table.find(key, hash);
        if (item == nullptr) {
            return nullptr;
        }
        const Death death = deathOf(*item, now);
        if (death == Death::alive) {
            return item;
        }
        if (death == Death::expired) {
            shard.counters.getExpired += 1;
        } else {
            shard.counters.getFlushed += 1;
        }
        reclaim(shard, item, death);
        return nullptr;
    }

    // Links a new item (its bytes already charged), replacing `old` if not null.
    static void link(Shard& shard, Item* fresh, Item* old) {
        if (old != nullptr) {
            shard.counters.currItems -= 1;
            shard.table.remove(old);
            shard.lru.remove(old);
            Item::destroy(old);
        }
        shard.table.insert(fresh);
        shard.lru.pushFront(fresh);
        shard.counters.currItems += 1;
        shard.counters.totalItems += 1;
    }

    // --- the byte budget ----------------------------------------------------------------

    bool tryCharge(std::size_t bytes) {
        std::size_t current = used.load(std::memory_order_relaxed);
        while (current + bytes <= options.memoryLimit) {
            if (used.compare_exchange_weak(current, current + bytes, std::memory_order_relaxed)) {
                return true;
            }
        }
        return false;
    }

    // Frees the least recently used item of a locked shard other than `keep`: a dead one
    // is reclaimed, a live one evicted (if allowed). False if there is none.
    bool evictOne(Shard& shard, const Item* keep, Seconds now) {
        Item* victim = shard.lru.tail();
        if (victim == keep && victim != nullptr) {
            victim = victim->lruPrev;
        }
        if (victim == nullptr) {
            return false;
        }
        const Death death = deathOf(*victim, now);
        if (death != Death::alive) {
            reclaim(shard, victim, death);
            return true;
        }
        if (!options.evict) {
            return false;
        }
        shard.counters.evictions += 1;
        if (!victim->fetched) {
            shard.counters.evictedUnfetched += 1;
        }
        unlinkAndFree(shard, victim);
        return true;
    }

    // Evicts one item from another shard. Their locks are only tried (we hold ours, and
    // waiting could deadlock with a thread doing the same the other way round).
    bool evictElsewhere(const Shard& own, Seconds now) {
        const std::size_t count = shards.size();
        for (int round = 0; round < evictRounds; ++round) {
            bool busy = false;
            const std::size_t start = evictCursor.fetch_add(1, std::memory_order_relaxed);
            for (std::size_t i = 0; i < count; ++i) {
                Shard& shard = shards[(start + i) % count];
                if (&shard == &own) {
                    continue;
                }
                std::unique_lock lock(shard.mutex, std::try_to_lock);
                if (!lock.owns_lock()) {
                    busy = true;
                    continue;
                }
                if (evictOne(shard, nullptr, now)) {
                    return true;
                }
            }
            if (!busy) {
                return false;
            }
            std::this_thread::yield();
        }
        return false;
    }

    // Charges `bytes`, evicting as needed: the inserting shard's LRU first (but not
    // `keep`, the item being replaced), then other shards'.
    bool reserve(Shard& shard, std::size_t bytes, const Item* keep, Seconds now) {
        if (bytes > options.memoryLimit) {
            return false;
        }
        while (!tryCharge(bytes)) {
            if (!evictOne(shard, keep, now) && !evictElsewhere(shard, now)) {
                return false;
            }
        }
        return true;
    }

    // Charges and allocates a new item meant to replace `old` (or be new, if null): only
    // the growth over `old` is charged. Null if there is no room.
    Item* allocate(Shard& shard, const Item* old, const ItemInit& init, Seconds now) {
        const std::size_t size = Store::itemSize(init.key.size(), init.valueLength());
        const std::size_t oldSize = old == nullptr ? 0 : old->size();
        if (size > oldSize && !reserve(shard, size - oldSize, old, now)) {
            return nullptr;
        }
        if (size < oldSize) {
            release(oldSize - size);
        }
        return Item::create(init, now);
    }

    // --- operations ---------------------------------------------------------------------

    StoreResult store(const StoreRequest& request, Seconds now);
    static StoreStatus checkStore(Shard& shard, const StoreRequest& request, Item* old, Seconds now,
                                  bool& staleWrite);
    ArithResult vivifyCounter(Shard& shard, const ArithRequest& request, Seconds now);
};

namespace {

bool isAppend(StoreMode mode) {
    return mode == StoreMode::append || mode == StoreMode::prepend;
}

} // namespace

// Decides whether a store may go ahead, as memcached's do_store_item does, counting cas
// stats. Sets staleWrite for meta I's "older cas marks it stale" case.
StoreStatus Store::Impl::checkStore(Shard& shard, const StoreRequest& request, Item* old,
                                    Seconds now, bool& staleWrite) {
    // As memcached's mset: a cas value turns set and replace into cas.
    const bool casMode = request.mode == StoreMode::cas ||
                         (request.compareCas.has_value() &&
                          (request.mode == StoreMode::set || request.mode == StoreMode::replace));
    if (old == nullptr) {
        if (casMode) {
            shard.counters.casMisses += 1;
            return StoreStatus::notFound;
        }
        const bool creates = request.mode == StoreMode::set || request.mode == StoreMode::add ||
                             (isAppend(request.mode) && request.vivifyExptime);
        return creates ? StoreStatus::stored : StoreStatus::notStored;
    }
    const std::uint64_t expected = request.compareCas.value_or(0);
    if (casMode) {
        if (expected != 0 && expected == old->cas) {
            shard.counters.casHits += 1;
            return StoreStatus::stored;
        }
        if (request.invalidate && expected != 0 && expected < old->cas) {
            shard.counters.casHits += 1;
            staleWrite = true;
            return StoreStatus::stored;
        }
        shard.counters.casBadval += 1;
        return StoreStatus::exists;
    }
    switch (request.mode) {
    case StoreMode::add:
        // add fails on a live key but, as in memcached, counts as a use of it.
        old->lastAccess = now;
        shard.lru.moveToFront(old);
        return StoreStatus::notStored;
    case StoreMode::append:
    case StoreMode::prepend:
        return expected != 0 && expected != old->cas ? StoreStatus::exists : StoreStatus::stored;
    default: return StoreStatus::stored;
    }
}

StoreResult Store::Impl::store(const StoreRequest& request, Seconds now) {
    const std::uint64_t hash = hashKey(request.key);
    Shard& shard = shardFor(hash);
    const std::lock_guard lock(shard.mutex);
    Item* old = findLive(shard, request.key, hash, now);
    if (!fits(request.key.size(), request.value.size(), request.flags, options.maxItemSize)) {
        // memcached drops the old value when a set cannot be stored, rather than leave
        // stale data behind.
        if (request.mode == StoreMode::set && old != nullptr) {
            unlinkAndFree(shard, old);
        }
        return {.status = StoreStatus::tooLarge, .cas = 0};
    }
    bool staleWrite = false;
    const StoreStatus status = checkStore(shard, request, old, now, staleWrite);
    if (status != StoreStatus::stored) {
        return {.status = status, .cas = 0};
    }
    ItemInit init{.key = request.key,
                  .first = request.value,
                  .second = {},
                  .flags = request.flags,
                  .exptime = request.exptime};
    if (old != nullptr && isAppend(request.mode)) {
        // append/prepend keep the item's flags and exptime.
        init.first = request.mode == StoreMode::append ? old->value() : request.value;
        init.second = request.mode == StoreMode::append ? request.value : old->value();
        init.flags = old->flags;
        init.exptime = old->exptime;
        // memcached's do_store_item answers NOT_STORED when the joined item cannot be
        // allocated, too large included.
        if (!fits(init.key.size(), init.valueLength(), init.flags, options.maxItemSize)) {
            return {.status = StoreStatus::notStored, .cas = 0};
        }
    } else if (old == nullptr && isAppend(request.mode)) {
        init.exptime = request.vivifyExptime.value_or(0); // checkStore saw it set
    }
    if (staleWrite) {
        init.exptime = old->exptime;
    }
    Item* item = allocate(shard, old, init, now);
    if (item == nullptr) {
        if (request.mode == StoreMode::set && old != nullptr) {
            unlinkAndFree(shard, old);
        }
        return {.status = StoreStatus::outOfMemory, .cas = 0};
    }
    if (staleWrite) {
        item->stale = true;
        item->tokenSent = old->tokenSent;
    }
    item->cas = takeCas(request.newCas);
    link(shard, item, old);
    return {.status = StoreStatus::stored, .cas = item->cas};
}

// meta N on a miss: a new item holding `initial`, with N's exptime.
ArithResult Store::Impl::vivifyCounter(Shard& shard, const ArithRequest& request, Seconds now) {
    std::array<char, 20> digits{};
    const auto* end = std::to_chars(digits.begin(), digits.end(), request.initial).ptr;
    const ItemInit init{
        .key = request.key,
        .first = std::string_view(digits.data(), static_cast<std::size_t>(end - digits.begin())),
        .second = {},
        .flags = 0,
        .exptime = request.vivifyExptime.value_or(0)}; // the caller saw it set
    Item* item = allocate(shard, nullptr, init, now);
    if (item == nullptr) {
        return {.status = ArithStatus::outOfMemory, .value = 0, .cas = 0, .exptime = 0};
    }
    item->cas = takeCas(request.newCas);
    link(shard, item, nullptr);
    return {.status = ArithStatus::ok,
            .value = request.initial,
            .cas = item->cas,
            .exptime = item->exptime};
}

Store::Store(Options options) : impl_(std::make_unique<Impl>(options)) {}

Store::~Store() {
    for (Shard& shard : impl_->shards) {
        shard.table.forEach([](Item* item) {
            Item::destroy(item);
            return true;
        });
    }
}

const Store::Options& Store::options() const noexcept {
    return impl_->options;
}

StoreResult Store::store(const StoreRequest& request, Seconds now) {
    return impl_->store(request, now);
}

void Store::prefetch(std::span<const std::string_view> keys) const {
    std::array<std::uint64_t, maxPrefetchKeys> hashes{};
    const std::size_t count = std::min(keys.size(), hashes.size());
    for (std::size_t i = 0; i < count; ++i) {
        hashes[i] = hashKey(keys[i]);
    }
    // Each step asks for every key's memory before the next one looks at what arrived.
    for (auto step : {&ItemTable::prefetchBucket, &ItemTable::prefetchFirstItem,
                      &ItemTable::prefetchNeighboursOrNext}) {
        for (std::size_t i = 0; i < count; ++i) {
            Shard& shard = impl_->shardFor(hashes[i]);
            const std::lock_guard lock(shard.mutex);
            (shard.table.*step)(hashes[i]);
        }
    }
}

bool Store::getImpl(std::string_view key, Seconds now, const GetOptions& options, FoundRef found) {
    const std::uint64_t hash = hashKey(key);
    Shard& shard = impl_->shardFor(hash);
    const std::lock_guard lock(shard.mutex);
    auto& counters = shard.counters;
    Item* item = impl_->findLive(shard, key, hash, now);
    bool created = false;
    if (item == nullptr && options.vivifyExptime) {
        const ItemInit init{
            .key = key, .first = {}, .second = {}, .flags = 0, .exptime = *options.vivifyExptime};
        item = impl_->allocate(shard, nullptr, init, now);
        if (item != nullptr) {
            item->cas = impl_->takeCas(std::nullopt);
            Impl::link(shard, item, nullptr);
            created = true;
        }
    }
    if (item == nullptr) {
        (options.touch ? counters.touchMisses : counters.getMisses) += 1;
        return false;
    }
    (options.touch ? counters.touchHits : counters.getHits) += 1;
    // meta R looks at the TTL this request found, before its own T.
    bool won = created;
    if (options.recacheBelow && !item->tokenSent && !created && item->exptime != 0 &&
        item->exptime - now < *options.recacheBelow) {
        won = true;
    }
    if (options.touch) {
        item->exptime = *options.touch;
        item->storedAt = now;
    }
    const bool alreadyWon = item->tokenSent;
    // A stale item hands the recache token to the first request that sees it.
    if (item->stale && !item->tokenSent) {
        won = true;
    }
    if (won) {
        item->tokenSent = true;
    }
    const ItemView view{.key = item->key(),
                        .value = item->value(),
                        .flags = item->flags,
                        .exptime = item->exptime,
                        .cas = item->cas,
                        .lastAccess = item->lastAccess,
                        .fetchedBefore = item->fetched,
                        .stale = item->stale,
                        .won = won,
                        .alreadyWon = alreadyWon};
    if (options.bumpLru) {
        item->fetched = true;
        item->lastAccess = now;
        shard.lru.moveToFront(item);
    }
    found.call(found.f, view);
    return true;
}

DeleteStatus Store::remove(const DeleteRequest& request, Seconds now) {
    const std::uint64_t hash = hashKey(request.key);
    Shard& shard = impl_->shardFor(hash);
    const std::lock_guard lock(shard.mutex);
    Item* item = impl_->findLive(shard, request.key, hash, now);
    if (item == nullptr) {
        shard.counters.deleteMisses += 1;
        return DeleteStatus::notFound;
    }
    if (request.compareCas && *request.compareCas != item->cas) {
        shard.counters.deleteMisses += 1;
        return DeleteStatus::exists;
    }
    if (request.invalidate) {
        // meta I: keep the item, marked stale, so the next reader wins the recache.
        if (request.exptime) {
            item->exptime = *request.exptime;
        }
        item->stale = true;
        item->tokenSent = false;
        item->cas = impl_->takeCas(request.newCas);
        return DeleteStatus::deleted;
    }
    shard.counters.deleteHits += 1;
    impl_->unlinkAndFree(shard, item);
    return DeleteStatus::deleted;
}

ArithResult Store::arithmetic(const ArithRequest& request, Seconds now) {
    const std::uint64_t hash = hashKey(request.key);
    Shard& shard = impl_->shardFor(hash);
    const std::lock_guard lock(shard.mutex);
    auto& counters = shard.counters;
    Item* item = impl_->findLive(shard, request.key, hash, now);
    if (item == nullptr) {
        if (!request.vivifyExptime) {
            (request.incr ? counters.incrMisses : counters.decrMisses) += 1;
            return {};
        }
        return impl_->vivifyCounter(shard, request, now);
    }
    if (request.compareCas && *request.compareCas != 0 && *request.compareCas != item->cas) {
        return {.status = ArithStatus::exists, .value = 0, .cas = 0, .exptime = 0};
    }
    const auto current = parseCounter(item->value());
    if (!current) {
        return {.status = ArithStatus::nonNumeric, .value = 0, .cas = 0, .exptime = 0};
    }
    std::uint64_t value = *current;
    if (request.incr) {
        value += request.delta; // wraps modulo 2^64, as memcached's
    } else {
        value = request.delta > value ? 0 : value - request.delta;
    }
    (request.incr ? counters.incrHits : counters.decrHits) += 1;
    std::array<char, 20> digits{};
    const auto length = static_cast<std::size_t>(
        std::to_chars(digits.begin(), digits.end(), value).ptr - digits.begin());
    const std::string_view text(digits.data(), length);
    if (length <= item->valueLength) {
        // In place, as memcached: a shorter number is padded with spaces to the old length.
        char* data = item->valueData();
        std::memcpy(data, text.data(), length);
        std::memset(data + length, ' ', item->valueLength - length);
    } else {
        const ItemInit init{.key = item->key(),
                            .first = text,
                            .second = {},
                            .flags = item->flags,
                            .exptime = item->exptime};
        Item* grown = impl_->allocate(shard, item, init, now);
        if (grown == nullptr) {
            return {.status = ArithStatus::outOfMemory, .value = 0, .cas = 0, .exptime = 0};
        }
        Impl::link(shard, grown, item);
        item = grown;
    }
    item->cas = impl_->takeCas(request.newCas);
    item->storedAt = now;
    item->lastAccess = now;
    shard.lru.moveToFront(item);
    if (request.touch) {
        item->exptime = *request.touch;
    }
    return {.status = ArithStatus::ok, .value = value, .cas = item->cas, .exptime = item->exptime};
}

bool Store::touch(std::string_view key, Seconds exptime, Seconds now) {
    const std::uint64_t hash = hashKey(key);
    Shard& shard = impl_->shardFor(hash);
    const std::lock_guard lock(shard.mutex);
    Item* item = impl_->findLive(shard, key, hash, now);
    if (item == nullptr) {
        shard.counters.touchMisses += 1;
        return false;
    }
    shard.counters.touchHits += 1;
    // The cas stays: touch changes no data.
    item->exptime = exptime;
    item->storedAt = now;
    item->lastAccess = now;
    item->fetched = true;
    shard.lru.moveToFront(item);
    return true;
}

void Store::flushAll(Seconds at, Seconds now) {
    if (at <= now) {
        impl_->flushCas.store(impl_->nextCas.load(std::memory_order_relaxed),
                              std::memory_order_release);
    }
    impl_->oldestLive.store(std::max<Seconds>(at, 1), std::memory_order_release);
}

std::size_t Store::sweep(Seconds now, std::size_t budget) {
    const std::lock_guard sweepLock(impl_->sweepMutex);
    // Bounded work: a few buckets and items looked at per item removed.
    std::size_t examineLeft = (4 * budget) + 64;
    std::size_t removed = 0;
    for (std::size_t visited = 0; visited < impl_->shards.size(); ++visited) {
        Shard& shard = impl_->shards[impl_->sweepShard];
        const std::lock_guard lock(shard.mutex);
        while (shard.sweepBucket < shard.table.bucketCount() && examineLeft > 0) {
            --examineLeft;
            const bool done = shard.table.forEachInBucket(shard.sweepBucket, [&](Item* item) {
                if (removed == budget || examineLeft == 0) {
                    return false;
                }
                --examineLeft;
                const auto death = impl_->deathOf(*item, now);
                if (death != Impl::Death::alive) {
                    impl_->reclaim(shard, item, death);
                    ++removed;
                }
                return true;
            });
            if (!done) {
                break; // out of budget: this bucket again next time
            }
            ++shard.sweepBucket;
        }
        if (shard.sweepBucket < shard.table.bucketCount()) {
            break;
        }
        shard.sweepBucket = 0;
        impl_->sweepShard = (impl_->sweepShard + 1) % impl_->shards.size();
    }
    return removed;
}

StoreStats Store::stats() const {
    StoreStats total;
    for (Shard& shard : impl_->shards) {
        const std::lock_guard lock(shard.mutex);
        addCounters(total, shard.counters);
    }
    // The global count: summing shards read one after another could count an item twice
    // while it moves, and briefly exceed the limit.
    total.bytes = impl_->used.load(std::memory_order_relaxed);
    total.limitMaxbytes = impl_->options.memoryLimit;
    return total;
}

bool Store::fitsItemSize(std::size_t keyLength, std::size_t valueLength,
                         std::uint32_t flags) const noexcept {
    return fits(keyLength, valueLength, flags, impl_->options.maxItemSize);
}

} // namespace braid::memcache
