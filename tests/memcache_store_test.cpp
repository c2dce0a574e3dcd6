// memcache::Store: memcached 1.6's storage semantics (store modes, cas, incr/decr, expiry,
// flush_all, the meta extras), its memory limit with LRU eviction, and its thread safety
// (MemcacheStoreThreadTest also runs under ThreadSanitizer).
#include <braid/memcache/store.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using braid::memcache::absoluteExpiry;
using braid::memcache::ArithRequest;
using braid::memcache::ArithStatus;
using braid::memcache::DeleteRequest;
using braid::memcache::DeleteStatus;
using braid::memcache::GetOptions;
using braid::memcache::ItemView;
using braid::memcache::Seconds;
using braid::memcache::Store;
using braid::memcache::StoreMode;
using braid::memcache::StoreRequest;
using braid::memcache::StoreResult;
using braid::memcache::StoreStatus;

constexpr Seconds t0 = 1'700'000'000;

// What a get saw, copied out of the callback.
struct Seen {
    std::string value;
    std::uint32_t flags = 0;
    Seconds exptime = 0;
    std::uint64_t cas = 0;
    Seconds lastAccess = 0;
    bool fetchedBefore = false, stale = false, won = false, alreadyWon = false;
};

std::optional<Seen> get(Store& store, std::string_view key, Seconds now,
                        const GetOptions& options = {}) {
    std::optional<Seen> seen;
    store.get(key, now, options, [&](const ItemView& item) {
        seen = Seen{.value = std::string(item.value),
                    .flags = item.flags,
                    .exptime = item.exptime,
                    .cas = item.cas,
                    .lastAccess = item.lastAccess,
                    .fetchedBefore = item.fetchedBefore,
                    .stale = item.stale,
                    .won = item.won,
                    .alreadyWon = item.alreadyWon};
    });
    return seen;
}

// A get expected to hit: what it saw (a test failure and an empty Seen on a miss).
Seen found(Store& store, std::string_view key, Seconds now, const GetOptions& options = {}) {
    auto seen = get(store, key, now, options);
    if (!seen) {
        ADD_FAILURE() << "no item " << key;
        return {};
    }
    return *seen;
}

std::optional<std::string> value(Store& store, std::string_view key, Seconds now = t0) {
    auto seen = get(store, key, now);
    return seen ? std::optional(seen->value) : std::nullopt;
}

StoreResult put(Store& store, std::string_view key, std::string_view value,
                StoreMode mode = StoreMode::set, Seconds now = t0, Seconds exptime = 0,
                std::uint32_t flags = 0) {
    StoreRequest request;
    request.mode = mode;
    request.key = key;
    request.value = value;
    request.flags = flags;
    request.exptime = exptime;
    return store.store(request, now);
}

StoreResult casPut(Store& store, std::string_view key, std::string_view value, std::uint64_t cas) {
    StoreRequest request;
    request.mode = StoreMode::cas;
    request.key = key;
    request.value = value;
    request.compareCas = cas;
    return store.store(request, t0);
}

DeleteStatus remove(Store& store, std::string_view key) {
    DeleteRequest request;
    request.key = key;
    return store.remove(request, t0);
}

ArithRequest arith(std::string_view key, bool incr, std::uint64_t delta) {
    ArithRequest request;
    request.key = key;
    request.incr = incr;
    request.delta = delta;
    return request;
}

Store::Options smallOptions(std::size_t limit, bool evict = true) {
    Store::Options options;
    options.memoryLimit = limit;
    options.maxItemSize = std::size_t{1} << 20;
    options.shards = 64;
    options.evict = evict;
    return options;
}

TEST(MemcacheStoreTest, AbsoluteExpiryFollowsMemcachedRules) {
    EXPECT_EQ(absoluteExpiry(0, t0), 0);
    EXPECT_LE(absoluteExpiry(-1, t0), t0);
    EXPECT_NE(absoluteExpiry(-1, t0), 0);
    EXPECT_EQ(absoluteExpiry(100, t0), t0 + 100);
    constexpr Seconds thirtyDays = Seconds{60} * 60 * 24 * 30;
    EXPECT_EQ(absoluteExpiry(thirtyDays, t0), t0 + thirtyDays);
    EXPECT_EQ(absoluteExpiry(thirtyDays + 1, t0), thirtyDays + 1);
    EXPECT_EQ(absoluteExpiry(t0 + 5, t0), t0 + 5);
}

TEST(MemcacheStoreTest, SetThenGetReturnsValueFlagsAndCas) {
    Store store({});
    const auto result = put(store, "k", "hello", StoreMode::set, t0, t0 + 100, 42);
    EXPECT_EQ(result.status, StoreStatus::stored);
    EXPECT_NE(result.cas, 0U);
    const auto seen = found(store, "k", t0);
    EXPECT_EQ(seen.value, "hello");
    EXPECT_EQ(seen.flags, 42U);
    EXPECT_EQ(seen.exptime, t0 + 100);
    EXPECT_EQ(seen.cas, result.cas);
    EXPECT_FALSE(get(store, "other", t0));
    const auto stats = store.stats();
    EXPECT_EQ(stats.getHits, 1U);
    EXPECT_EQ(stats.getMisses, 1U);
    EXPECT_EQ(stats.currItems, 1U);
    EXPECT_EQ(stats.totalItems, 1U);
    EXPECT_EQ(stats.bytes, Store::itemSize(1, 5));
    EXPECT_EQ(stats.limitMaxbytes, Store::Options{}.memoryLimit);
}

TEST(MemcacheStoreTest, PrefetchIsOnlyAHint) {
    Store store(smallOptions(std::size_t{1} << 20));
    put(store, "live", "v");
    put(store, "dead", "v", StoreMode::set, t0, t0); // expired as it is stored
    const auto before = store.stats();
    ASSERT_EQ(before.currItems, 2U);
    // A hit, an expired item and a miss: nothing counted, nothing reclaimed.
    const std::array<std::string_view, 3> keys{"live", "dead", "none"};
    store.prefetch(keys);
    const auto after = store.stats();
    EXPECT_EQ(after.getHits + after.getMisses + after.getExpired, 0U);
    EXPECT_EQ(after.currItems, before.currItems);
    EXPECT_EQ(after.reclaimed, before.reclaimed);
    EXPECT_EQ(value(store, "live"), "v");
}

TEST(MemcacheStoreTest, GetTakesLvalueAndConstCallables) {
    Store store({});
    put(store, "k", "v");
    std::string seen;
    auto copy = [&seen](const ItemView& item) { seen = item.value; };
    EXPECT_TRUE(store.get("k", t0, {}, copy));
    const auto& constCopy = copy;
    EXPECT_TRUE(store.get("k", t0, {}, constCopy));
    EXPECT_EQ(seen, "v");
}

TEST(MemcacheStoreTest, ItemSizeCountsARealisticOverhead) {
    EXPECT_GE(Store::itemSize(0, 0), 80U);
    EXPECT_EQ(Store::itemSize(10, 100) - Store::itemSize(0, 0), 110U);
}

TEST(MemcacheStoreTest, EveryModificationGetsANewCas) {
    Store store({});
    const auto first = put(store, "k", "1").cas;
    const auto second = put(store, "k", "2").cas;
    EXPECT_GT(second, first);
    EXPECT_TRUE(store.touch("k", t0 + 50, t0));
    EXPECT_EQ(found(store, "k", t0).cas, second); // touch keeps the cas
    const auto incremented = store.arithmetic(arith("k", true, 1), t0);
    EXPECT_GT(incremented.cas, second);
    EXPECT_EQ(found(store, "k", t0).cas, incremented.cas);
}

TEST(MemcacheStoreTest, NewCasOverridesTheCounter) {
    Store store({});
    StoreRequest request;
    request.key = "k";
    request.value = "v";
    request.newCas = 12345;
    EXPECT_EQ(store.store(request, t0).cas, 12345U);
    EXPECT_EQ(found(store, "k", t0).cas, 12345U);
}

TEST(MemcacheStoreTest, AddFailsOnALiveKeyAndSucceedsOnAMissingOne) {
    Store store({});
    EXPECT_EQ(put(store, "k", "a", StoreMode::add).status, StoreStatus::stored);
    EXPECT_EQ(put(store, "k", "b", StoreMode::add).status, StoreStatus::notStored);
    EXPECT_EQ(value(store, "k"), "a");
    put(store, "gone", "x", StoreMode::set, t0, t0 + 1);
    EXPECT_EQ(put(store, "gone", "y", StoreMode::add, t0 + 1).status, StoreStatus::stored);
}

TEST(MemcacheStoreTest, AddOnALiveKeyBumpsItsLru) {
    // Room for about three items: the one bumped by a failed add survives the next insert.
    // (One shard: the LRU order is per shard.)
    const auto size = Store::itemSize(2, 100);
    auto options = smallOptions((3 * size) + (size / 2));
    options.shards = 1;
    Store store(options);
    const std::string data(100, 'x');
    put(store, "k1", data);
    put(store, "k2", data);
    put(store, "k3", data);
    EXPECT_EQ(put(store, "k1", data, StoreMode::add).status, StoreStatus::notStored);
    put(store, "k4", data);
    EXPECT_TRUE(value(store, "k1"));
    EXPECT_FALSE(value(store, "k2"));
}

TEST(MemcacheStoreTest, ReplaceAppendPrependNeedAnExistingKey) {
    Store store({});
    EXPECT_EQ(put(store, "k", "v", StoreMode::replace).status, StoreStatus::notStored);
    EXPECT_EQ(put(store, "k", "v", StoreMode::append).status, StoreStatus::notStored);
    EXPECT_EQ(put(store, "k", "v", StoreMode::prepend).status, StoreStatus::notStored);
    EXPECT_FALSE(value(store, "k"));
    put(store, "k", "old");
    EXPECT_EQ(put(store, "k", "new", StoreMode::replace).status, StoreStatus::stored);
    EXPECT_EQ(value(store, "k"), "new");
}

TEST(MemcacheStoreTest, AppendAndPrependKeepFlagsAndExptime) {
    Store store({});
    put(store, "k", "mid", StoreMode::set, t0, t0 + 100, 7);
    EXPECT_EQ(put(store, "k", ">", StoreMode::append, t0, t0 + 5, 9).status, StoreStatus::stored);
    EXPECT_EQ(put(store, "k", "<", StoreMode::prepend, t0, 0, 1).status, StoreStatus::stored);
    const auto seen = found(store, "k", t0);
    EXPECT_EQ(seen.value, "<mid>");
    EXPECT_EQ(seen.flags, 7U);
    EXPECT_EQ(seen.exptime, t0 + 100);
    EXPECT_EQ(store.stats().bytes, Store::itemSize(1, 5));
}

TEST(MemcacheStoreTest, AppendWithVivifyCreatesAMissingItem) {
    Store store({});
    StoreRequest request;
    request.mode = StoreMode::append;
    request.key = "k";
    request.value = "v";
    request.vivifyExptime = t0 + 30;
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::stored);
    EXPECT_EQ(found(store, "k", t0).exptime, t0 + 30);
}

TEST(MemcacheStoreTest, AppendWithAMismatchedCasIsExists) {
    Store store({});
    const auto cas = put(store, "k", "a").cas;
    StoreRequest request;
    request.mode = StoreMode::append;
    request.key = "k";
    request.value = "b";
    request.compareCas = cas + 1;
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::exists);
    request.compareCas = cas;
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::stored);
    EXPECT_EQ(value(store, "k"), "ab");
}

TEST(MemcacheStoreTest, CasChecksTheItemsCas) {
    Store store({});
    EXPECT_EQ(casPut(store, "k", "v", 1).status, StoreStatus::notFound);
    const auto cas = put(store, "k", "v").cas;
    EXPECT_EQ(casPut(store, "k", "w", cas + 1).status, StoreStatus::exists);
    EXPECT_EQ(casPut(store, "k", "w", 0).status, StoreStatus::exists);
    const auto stored = casPut(store, "k", "w", cas);
    EXPECT_EQ(stored.status, StoreStatus::stored);
    EXPECT_NE(stored.cas, cas);
    EXPECT_EQ(value(store, "k"), "w");
    const auto stats = store.stats();
    EXPECT_EQ(stats.casMisses, 1U);
    EXPECT_EQ(stats.casBadval, 2U);
    EXPECT_EQ(stats.casHits, 1U);
}

TEST(MemcacheStoreTest, SetOrReplaceWithCompareCasActsAsCas) {
    Store store({});
    const auto cas = put(store, "k", "v").cas;
    StoreRequest request;
    request.key = "k";
    request.value = "w";
    request.compareCas = cas + 7;
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::exists);
    request.compareCas = cas;
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::stored);
    request.mode = StoreMode::replace; // so does replace, as memcached's mset
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::exists);
    EXPECT_EQ(store.stats().casBadval, 2U);
}

TEST(MemcacheStoreTest, TooLargeItemsAreRefusedAndASetDropsTheOldValue) {
    Store::Options options;
    options.maxItemSize = 1024;
    Store store(options);
    const std::string big(1024, 'x');
    put(store, "k", "small");
    EXPECT_EQ(put(store, "k", big, StoreMode::add).status, StoreStatus::tooLarge);
    EXPECT_EQ(value(store, "k"), "small");
    EXPECT_EQ(put(store, "k", big, StoreMode::replace).status, StoreStatus::tooLarge);
    EXPECT_EQ(value(store, "k"), "small");
    EXPECT_EQ(put(store, "k", big).status, StoreStatus::tooLarge);
    EXPECT_FALSE(value(store, "k")); // as memcached: no stale data left behind
}

TEST(MemcacheStoreTest, TheSizeLimitIsMemcachedsOwn) {
    // memcached 1.6 with -I 1m stores up to 1048576 - 59 - key bytes, 4 fewer with flags.
    Store store({});
    const std::size_t limit = std::size_t{1} << 20;
    EXPECT_EQ(put(store, "probe", std::string(limit - 59 - 5, 'x')).status, StoreStatus::stored);
    EXPECT_EQ(put(store, "probe", std::string(limit - 59 - 4, 'x')).status, StoreStatus::tooLarge);
    const std::string flagged(limit - 63 - 5, 'x');
    EXPECT_EQ(put(store, "probe", flagged, StoreMode::set, t0, 0, 1).status, StoreStatus::stored);
    EXPECT_EQ(put(store, "probe", flagged + "x", StoreMode::set, t0, 0, 1).status,
              StoreStatus::tooLarge);
    // (That failed set removed the item.) An append past the limit is NOT_STORED in
    // memcached, not too large.
    put(store, "probe", flagged, StoreMode::set, t0, 0, 1);
    EXPECT_EQ(put(store, "probe", "y", StoreMode::append).status, StoreStatus::notStored);
    EXPECT_EQ(found(store, "probe", t0).value.size(), flagged.size());
}

TEST(MemcacheStoreTest, DecrPadsAShorterNumberWithSpacesInPlace) {
    Store store({});
    put(store, "k", "10");
    const auto result = store.arithmetic(arith("k", false, 1), t0);
    EXPECT_EQ(result.status, ArithStatus::ok);
    EXPECT_EQ(result.value, 9U);
    EXPECT_EQ(value(store, "k"), "9 ");
    EXPECT_EQ(store.arithmetic(arith("k", true, 5), t0).value, 14U);
    EXPECT_EQ(value(store, "k"), "14");
}

TEST(MemcacheStoreTest, IncrGrowsTheValueWhenTheNumberGetsLonger) {
    Store store({});
    put(store, "k", "99", StoreMode::set, t0, t0 + 100, 3);
    const auto result = store.arithmetic(arith("k", true, 1), t0);
    EXPECT_EQ(result.value, 100U);
    EXPECT_EQ(result.exptime, t0 + 100);
    const auto seen = found(store, "k", t0);
    EXPECT_EQ(seen.value, "100");
    EXPECT_EQ(seen.flags, 3U);
    EXPECT_EQ(seen.cas, result.cas);
    EXPECT_EQ(store.stats().bytes, Store::itemSize(1, 3));
}

TEST(MemcacheStoreTest, IncrWrapsAndDecrStopsAtZero) {
    Store store({});
    put(store, "k", "18446744073709551615");
    EXPECT_EQ(store.arithmetic(arith("k", true, 2), t0).value, 1U);
    EXPECT_EQ(value(store, "k"), "1                   ");
    EXPECT_EQ(store.arithmetic(arith("k", false, 5), t0).value, 0U);
}

TEST(MemcacheStoreTest, ArithmeticParsesLikeMemcached) {
    Store store({});
    const auto result = [&](std::string_view text) {
        put(store, "k", text);
        return store.arithmetic(arith("k", true, 1), t0).status;
    };
    EXPECT_EQ(result("5 "), ArithStatus::ok);
    EXPECT_EQ(result(" 5"), ArithStatus::ok);
    EXPECT_EQ(result("007"), ArithStatus::ok);
    EXPECT_EQ(value(store, "k"), "8  ");
    EXPECT_EQ(result(""), ArithStatus::nonNumeric);
    EXPECT_EQ(result("abc"), ArithStatus::nonNumeric);
    EXPECT_EQ(result("12abc"), ArithStatus::nonNumeric);
    EXPECT_EQ(result("-1"), ArithStatus::nonNumeric);
    EXPECT_EQ(result("18446744073709551616"), ArithStatus::nonNumeric);
}

TEST(MemcacheStoreTest, ArithmeticCountsHitsAndMisses) {
    Store store({});
    EXPECT_EQ(store.arithmetic(arith("k", true, 1), t0).status, ArithStatus::notFound);
    EXPECT_EQ(store.arithmetic(arith("k", false, 1), t0).status, ArithStatus::notFound);
    put(store, "k", "1");
    store.arithmetic(arith("k", true, 1), t0);
    store.arithmetic(arith("k", false, 1), t0);
    store.arithmetic(arith("k", false, 1), t0);
    const auto stats = store.stats();
    EXPECT_EQ(stats.incrMisses, 1U);
    EXPECT_EQ(stats.decrMisses, 1U);
    EXPECT_EQ(stats.incrHits, 1U);
    EXPECT_EQ(stats.decrHits, 2U);
}

TEST(MemcacheStoreTest, ArithmeticMetaExtras) {
    Store store({});
    auto request = arith("k", true, 5);
    request.vivifyExptime = t0 + 60;
    request.initial = 40;
    auto result = store.arithmetic(request, t0);
    EXPECT_EQ(result.status, ArithStatus::ok);
    EXPECT_EQ(result.value, 40U); // created with J's value, not incremented
    EXPECT_EQ(result.exptime, t0 + 60);
    EXPECT_EQ(value(store, "k"), "40");
    request.compareCas = result.cas + 1;
    EXPECT_EQ(store.arithmetic(request, t0).status, ArithStatus::exists);
    request.compareCas = result.cas;
    request.newCas = 999;
    request.touch = t0 + 500;
    result = store.arithmetic(request, t0);
    EXPECT_EQ(result.value, 45U);
    EXPECT_EQ(result.cas, 999U);
    EXPECT_EQ(result.exptime, t0 + 500);
}

TEST(MemcacheStoreTest, ExpiredItemsAreLazilyFreed) {
    Store store({});
    put(store, "k", "v", StoreMode::set, t0, t0 + 10);
    EXPECT_TRUE(value(store, "k", t0 + 9));
    put(store, "unfetched", "v", StoreMode::set, t0, t0 + 10);
    EXPECT_FALSE(value(store, "k", t0 + 10));
    EXPECT_FALSE(value(store, "unfetched", t0 + 10));
    const auto stats = store.stats();
    EXPECT_EQ(stats.currItems, 0U);
    EXPECT_EQ(stats.bytes, 0U);
    EXPECT_EQ(stats.getExpired, 2U);
    EXPECT_EQ(stats.reclaimed, 2U);
    EXPECT_EQ(stats.expiredUnfetched, 1U);
    EXPECT_EQ(stats.getMisses, 2U);
}

TEST(MemcacheStoreTest, TouchChangesExptimeOnly) {
    Store store({});
    put(store, "k", "v", StoreMode::set, t0, t0 + 10);
    EXPECT_TRUE(store.touch("k", t0 + 100, t0 + 5));
    EXPECT_TRUE(value(store, "k", t0 + 50));
    EXPECT_FALSE(store.touch("missing", t0 + 100, t0));
    const auto stats = store.stats();
    EXPECT_EQ(stats.touchHits, 1U);
    EXPECT_EQ(stats.touchMisses, 1U);
}

TEST(MemcacheStoreTest, GetAndTouchCountsAsATouch) {
    Store store({});
    put(store, "k", "v");
    GetOptions options;
    options.touch = t0 + 3;
    EXPECT_EQ(found(store, "k", t0, options).exptime, t0 + 3);
    EXPECT_FALSE(get(store, "missing", t0, options));
    const auto stats = store.stats();
    EXPECT_EQ(stats.touchHits, 1U);
    EXPECT_EQ(stats.touchMisses, 1U);
    EXPECT_EQ(stats.getHits, 0U);
    EXPECT_FALSE(value(store, "k", t0 + 3));
}

TEST(MemcacheStoreTest, FlushAllNowDropsEarlierItemsOnly) {
    Store store({});
    put(store, "before", "v");
    store.flushAll(t0 - 1, t0);
    put(store, "after", "v");
    EXPECT_FALSE(value(store, "before"));
    EXPECT_TRUE(value(store, "after"));
    EXPECT_EQ(store.stats().getFlushed, 1U);
}

TEST(MemcacheStoreTest, DelayedFlushAllTakesEffectAtItsTime) {
    Store store({});
    put(store, "k", "v");
    store.flushAll(t0 + 10, t0);
    put(store, "k2", "v", StoreMode::set, t0 + 5);
    EXPECT_TRUE(value(store, "k", t0 + 9));
    EXPECT_FALSE(value(store, "k", t0 + 10));
    EXPECT_FALSE(value(store, "k2", t0 + 10));
    put(store, "k3", "v", StoreMode::set, t0 + 11);
    EXPECT_TRUE(value(store, "k3", t0 + 11));
}

TEST(MemcacheStoreTest, ALaterDelayedFlushDoesNotBringBackFlushedItems) {
    Store store({});
    put(store, "k", "v");
    store.flushAll(t0 - 1, t0); // k is dead, but still in its shard
    store.flushAll(t0 + 100, t0);
    EXPECT_FALSE(value(store, "k"));
}

TEST(MemcacheStoreTest, SweepRemovesDeadItemsWithinItsBudget) {
    Store store({});
    for (int i = 0; i < 100; ++i) {
        put(store, "dead" + std::to_string(i), "v", StoreMode::set, t0, t0 + 1);
        put(store, "live" + std::to_string(i), "v");
    }
    std::size_t total = 0;
    for (int call = 0; call < 1000 && total < 100; ++call) {
        const auto removed = store.sweep(t0 + 1, 10);
        EXPECT_LE(removed, 10U);
        total += removed;
    }
    EXPECT_EQ(total, 100U);
    const auto stats = store.stats();
    EXPECT_EQ(stats.currItems, 100U);
    EXPECT_EQ(stats.reclaimed, 100U);
    EXPECT_EQ(stats.expiredUnfetched, 100U);
    EXPECT_EQ(store.sweep(t0 + 1, 1000), 0U);
}

TEST(MemcacheStoreTest, DeleteChecksCasAndCounts) {
    Store store({});
    const auto cas = put(store, "k", "v").cas;
    DeleteRequest request;
    request.key = "k";
    request.compareCas = cas + 1;
    EXPECT_EQ(store.remove(request, t0), DeleteStatus::exists);
    request.compareCas = cas;
    EXPECT_EQ(store.remove(request, t0), DeleteStatus::deleted);
    EXPECT_EQ(store.remove(request, t0), DeleteStatus::notFound);
    const auto stats = store.stats();
    EXPECT_EQ(stats.deleteHits, 1U);
    EXPECT_EQ(stats.deleteMisses, 2U);
    EXPECT_EQ(stats.bytes, 0U);
}

TEST(MemcacheStoreTest, InvalidatingDeleteMarksStaleAndTheNextReaderWins) {
    Store store({});
    const auto cas = put(store, "k", "v", StoreMode::set, t0, t0 + 100).cas;
    DeleteRequest request;
    request.key = "k";
    request.invalidate = true;
    request.exptime = t0 + 30;
    EXPECT_EQ(store.remove(request, t0), DeleteStatus::deleted);
    const auto first = found(store, "k", t0);
    EXPECT_EQ(first.value, "v");
    EXPECT_TRUE(first.stale);
    EXPECT_TRUE(first.won);
    EXPECT_FALSE(first.alreadyWon);
    EXPECT_EQ(first.exptime, t0 + 30);
    EXPECT_GT(first.cas, cas);
    const auto second = found(store, "k", t0);
    EXPECT_TRUE(second.stale);
    EXPECT_FALSE(second.won);
    EXPECT_TRUE(second.alreadyWon);
}

TEST(MemcacheStoreTest, InvalidatingSetWithAnOlderCasStoresAStaleValue) {
    Store store({});
    const auto oldCas = put(store, "k", "v1", StoreMode::set, t0, t0 + 100).cas;
    const auto newCas = put(store, "k", "v2", StoreMode::set, t0, t0 + 100).cas;
    ASSERT_LT(oldCas, newCas);
    StoreRequest request;
    request.key = "k";
    request.value = "v3";
    request.exptime = t0 + 5;
    request.compareCas = oldCas;
    request.invalidate = true;
    EXPECT_EQ(store.store(request, t0).status, StoreStatus::stored);
    const auto seen = found(store, "k", t0);
    EXPECT_EQ(seen.value, "v3");
    EXPECT_TRUE(seen.stale);
    EXPECT_EQ(seen.exptime, t0 + 100); // the TTL stays
    put(store, "k", "fresh");
    EXPECT_FALSE(found(store, "k", t0).stale);
}

TEST(MemcacheStoreTest, VivifyOnMissCreatesAnEmptyItemAndWins) {
    Store store({});
    GetOptions options;
    options.vivifyExptime = t0 + 30;
    const auto first = found(store, "k", t0, options);
    EXPECT_EQ(first.value, "");
    EXPECT_TRUE(first.won);
    EXPECT_EQ(first.exptime, t0 + 30);
    const auto second = found(store, "k", t0, options);
    EXPECT_FALSE(second.won);
    EXPECT_TRUE(second.alreadyWon);
}

TEST(MemcacheStoreTest, RecacheWinsWhenTheTtlIsLow) {
    Store store({});
    put(store, "k", "v", StoreMode::set, t0, t0 + 100);
    GetOptions options;
    options.recacheBelow = 30;
    EXPECT_FALSE(found(store, "k", t0, options).won);
    const auto late = found(store, "k", t0 + 80, options);
    EXPECT_TRUE(late.won);
    EXPECT_FALSE(late.alreadyWon);
    const auto later = found(store, "k", t0 + 81, options);
    EXPECT_FALSE(later.won);
    EXPECT_TRUE(later.alreadyWon);
}

TEST(MemcacheStoreTest, FetchedBeforeAndLastAccessDescribeEarlierAccesses) {
    Store store({});
    put(store, "k", "v");
    GetOptions noBump;
    noBump.bumpLru = false;
    auto seen = found(store, "k", t0 + 5, noBump);
    EXPECT_FALSE(seen.fetchedBefore);
    EXPECT_EQ(seen.lastAccess, t0);
    seen = found(store, "k", t0 + 7);
    EXPECT_FALSE(seen.fetchedBefore); // the unbumped get left no trace
    EXPECT_EQ(seen.lastAccess, t0);
    seen = found(store, "k", t0 + 9);
    EXPECT_TRUE(seen.fetchedBefore);
    EXPECT_EQ(seen.lastAccess, t0 + 7);
}

TEST(MemcacheStoreTest, LargeItemsFitASmallLimitWithManyShards) {
    Store store(smallOptions(std::size_t{2} << 20));
    const std::string big((std::size_t{1} << 20) - Store::itemSize(4, 0), 'x');
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(put(store, "big" + std::to_string(i), big).status, StoreStatus::stored);
        EXPECT_LE(store.stats().bytes, std::size_t{2} << 20);
    }
    EXPECT_TRUE(value(store, "big9"));
    EXPECT_GE(store.stats().evictions, 8U);
}

TEST(MemcacheStoreTest, WritingFarPastTheLimitEvictsTheLeastRecentlyUsed) {
    const std::size_t limit = std::size_t{256} * 1024;
    Store store(smallOptions(limit));
    const std::string data(200, 'v');
    const std::vector<std::string> hot = {"hot-a", "hot-b", "hot-c"};
    for (const auto& key : hot) {
        put(store, key, data);
    }
    std::uint64_t writes = 0;
    for (int i = 0; i < 20'000; ++i) { // about 20 times the limit
        put(store, "cold" + std::to_string(i), data);
        ++writes;
        if (i % 50 == 0) {
            for (const auto& key : hot) {
                ASSERT_TRUE(value(store, key)) << key << " after " << i;
            }
        }
        ASSERT_LE(store.stats().bytes, limit);
    }
    const auto stats = store.stats();
    EXPECT_GT(stats.evictions, 0U);
    EXPECT_EQ(stats.currItems + stats.evictions, writes + hot.size());
    EXPECT_GT(stats.evictedUnfetched, 0U);
    EXPECT_FALSE(value(store, "cold0"));
    EXPECT_TRUE(value(store, "cold19999"));
}

TEST(MemcacheStoreTest, WithoutEvictionAFullStoreRefusesAndAFailedSetDropsTheOldValue) {
    const auto size = Store::itemSize(2, 100);
    Store store(smallOptions(2 * size, false));
    const std::string data(100, 'x');
    EXPECT_EQ(put(store, "k1", data).status, StoreStatus::stored);
    EXPECT_EQ(put(store, "k2", data).status, StoreStatus::stored);
    EXPECT_EQ(put(store, "k3", data).status, StoreStatus::outOfMemory);
    EXPECT_EQ(put(store, "k1", data + "more").status, StoreStatus::outOfMemory);
    EXPECT_FALSE(value(store, "k1"));
    EXPECT_EQ(put(store, "k3", data).status, StoreStatus::stored);
    EXPECT_EQ(store.stats().evictions, 0U);
}

TEST(MemcacheStoreTest, ExpiredItemsAreReclaimedBeforeLiveOnesAreRefused) {
    const auto size = Store::itemSize(2, 100);
    Store store(smallOptions(2 * size, false));
    const std::string data(100, 'x');
    put(store, "k1", data, StoreMode::set, t0, t0 + 1);
    put(store, "k2", data);
    EXPECT_EQ(put(store, "k3", data, StoreMode::set, t0 + 1).status, StoreStatus::stored);
    EXPECT_EQ(store.stats().reclaimed, 1U);
}

// --- threads ---------------------------------------------------------------------------

constexpr int threadCount = 4;

TEST(MemcacheStoreThreadTest, ConcurrentIncrementsAllCount) {
    Store::Options options;
    options.shards = 4;
    Store store(options);
    const std::vector<std::string> keys = {"a", "b", "c", "d", "e"};
    for (const auto& key : keys) {
        put(store, key, "0");
    }
    constexpr int perThread = 2000;
    std::vector<std::thread> threads;
    for (int t = 0; t < threadCount; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < perThread; ++i) {
                store.arithmetic(
                    arith(keys[static_cast<std::size_t>(i + t) % keys.size()], true, 3), t0);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::uint64_t total = 0;
    for (const auto& key : keys) {
        total += std::stoull(value(store, key).value_or("0"));
    }
    EXPECT_EQ(total, std::uint64_t{3} * threadCount * perThread);
    EXPECT_EQ(store.stats().incrHits, std::uint64_t{threadCount} * perThread);
}

TEST(MemcacheStoreThreadTest, MixedOperationsKeepTheAccountsStraight) {
    const std::size_t limit = std::size_t{64} * 1024;
    Store store(smallOptions(limit));
    constexpr int keySpace = 300;
    constexpr int perThread = 4000;
    std::atomic<std::uint64_t> gets{0};
    std::atomic<bool> overLimit{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < threadCount; ++t) {
        threads.emplace_back([&, t] {
            std::uint32_t state = 12345U + static_cast<std::uint32_t>(t);
            for (int i = 0; i < perThread; ++i) {
                state = state * 1664525U + 1013904223U;
                const auto key = "key" + std::to_string((state >> 8) % keySpace);
                switch ((state >> 24) % 6) {
                case 0:
                    // One set in four stores an item already dead, for the sweeper.
                    put(store, key, std::string((state >> 4) % 400, 'x'), StoreMode::set, t0,
                        (state & 3) == 0 ? t0 : 0);
                    break;
                case 1: put(store, key, "7", StoreMode::add); break;
                case 2: put(store, key, "yz", StoreMode::append); break;
                case 3: store.arithmetic(arith(key, (state & 1) != 0, 1), t0); break;
                case 4: remove(store, key); break;
                default: value(store, key); gets.fetch_add(1, std::memory_order_relaxed);
                }
                if (i % 8 == 0) {
                    // The prefetch hint reads buckets and items other threads change.
                    const std::string more = "key" + std::to_string(state % keySpace);
                    const std::array<std::string_view, 3> keys{key, more, "absent"};
                    store.prefetch(keys);
                }
                if (i % 100 == 0 && store.stats().bytes > limit) {
                    overLimit = true;
                }
            }
        });
    }
    std::atomic<bool> done{false};
    std::thread sweeper([&] {
        while (!done.load()) {
            store.sweep(t0, 16);
            std::this_thread::yield();
        }
    });
    for (auto& thread : threads) {
        thread.join();
    }
    done = true;
    sweeper.join();
    EXPECT_FALSE(overLimit);
    const auto before = store.stats();
    EXPECT_EQ(before.getHits + before.getMisses, gets.load());
    std::size_t bytes = 0;
    std::size_t items = 0;
    for (int k = 0; k < keySpace; ++k) {
        const auto key = "key" + std::to_string(k);
        if (const auto text = value(store, key)) {
            bytes += Store::itemSize(key.size(), text->size());
            ++items;
        }
    }
    const auto after = store.stats();
    EXPECT_EQ(after.bytes, bytes);
    EXPECT_EQ(after.currItems, items);
    EXPECT_LE(after.bytes, limit);
    EXPECT_GT(after.reclaimed, 0U);
}

} // namespace
