// memcache::Store's insides: an item is one allocation (this header, then the key, then
// the value), linked into its shard's hash table (by hashNext) and LRU list (by
// lruPrev/lruNext). Everything here runs under the shard's lock.
#pragma once

#include <braid/memcache/store.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

namespace braid::memcache {

// What a new item is made of; its value is first + second (append and prepend join two).
struct ItemInit {
    std::string_view key;
    std::string_view first;
    std::string_view second;
    std::uint32_t flags = 0;
    Seconds exptime = 0;

    [[nodiscard]] std::size_t valueLength() const { return first.size() + second.size(); }
};

struct Item {
    Item* hashNext = nullptr;
    Item* lruPrev = nullptr;
    Item* lruNext = nullptr;
    std::uint64_t hash = 0;
    std::uint64_t cas = 0;
    Seconds exptime = 0;
    Seconds storedAt = 0;   // last store or touch: what flush_all looks at
    Seconds lastAccess = 0; // last store, touch or fetch
    std::uint32_t flags = 0;
    std::uint32_t keyLength = 0;
    std::uint32_t valueLength = 0;
    bool fetched = false;   // fetched (or touched) since stored, memcached's ITEM_FETCHED
    bool stale = false;     // meta I, memcached's ITEM_STALE
    bool tokenSent = false; // a request won the recache, memcached's ITEM_TOKEN_SENT

    static Item* create(const ItemInit& init, Seconds now);
    static void destroy(Item* item) noexcept;

    [[nodiscard]] std::string_view key() const {
        return {reinterpret_cast<const char*>(this + 1), keyLength};
    }
    [[nodiscard]] std::string_view value() const {
        return {reinterpret_cast<const char*>(this + 1) + keyLength, valueLength};
    }
    char* valueData() { return reinterpret_cast<char*>(this + 1) + keyLength; }
    [[nodiscard]] std::size_t size() const;
};

// The bytes counted per item besides its key and value: the Item header (80 bytes on
// LP64), up to 16 bytes of bucket array (the table keeps 0.5 to 1 item per bucket), and
// 16 for malloc's chunk header and rounding.
inline constexpr std::size_t itemOverhead = sizeof(Item) + 16 + 16;

inline std::size_t Item::size() const {
    return Store::itemSize(keyLength, valueLength);
}

// A fast 64-bit hash (8 bytes per multiply, murmur3's finalizer). The shard takes the top
// bits, the bucket the bottom ones.
std::uint64_t hashKey(std::string_view key) noexcept;

// A chained hash table of items, keyed by their key; doubles when it holds more items than
// buckets.
class ItemTable {
public:
    ItemTable() : buckets_(initialBuckets, nullptr) {}

    [[nodiscard]] Item* find(std::string_view key, std::uint64_t hash) const;
    // Store::prefetch's three steps, each run for every key before the next, so that the
    // memory one step asks for has arrived when the next one reads it: asks the CPU for
    // the key's bucket; for the header and key of the bucket's first item; for that item's
    // LRU neighbours if it is the key's (a store or a fetch relinks it), or else for the
    // next item in the chain. None waits for the memory it asks for.
    void prefetchBucket(std::uint64_t hash) const { __builtin_prefetch(&buckets_[bucketOf(hash)]); }
    void prefetchFirstItem(std::uint64_t hash) const;
    void prefetchNeighboursOrNext(std::uint64_t hash) const;
    void insert(Item* item);
    void remove(Item* item);
    [[nodiscard]] std::size_t bucketCount() const { return buckets_.size(); }

    // Calls f(item) on a bucket's items while it returns true (f may free the item);
    // false if f stopped early.
    template <class F>
    bool forEachInBucket(std::size_t bucket, F&& f) {
        for (Item* item = buckets_[bucket]; item != nullptr;) {
            Item* next = item->hashNext;
            if (!f(item)) {
                return false;
            }
            item = next;
        }
        return true;
    }
    template <class F>
    void forEach(F&& f) {
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            forEachInBucket(i, f);
        }
    }

private:
    static constexpr std::size_t initialBuckets = 16;
    [[nodiscard]] std::size_t bucketOf(std::uint64_t hash) const {
        return hash & (buckets_.size() - 1);
    }
    void grow();

    std::vector<Item*> buckets_;
    std::size_t count_ = 0;
};

// A doubly linked list of items, most recently used first.
class LruList {
public:
    void pushFront(Item* item);
    void remove(Item* item);
    void moveToFront(Item* item) {
        remove(item);
        pushFront(item);
    }
    [[nodiscard]] Item* tail() const { return tail_; }

private:
    Item* head_ = nullptr;
    Item* tail_ = nullptr;
};

} // namespace braid::memcache
