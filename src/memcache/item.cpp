// Items, the hash and the intrusive hash table and LRU list behind memcache::Store.
#include "memcache/item.hpp"

#include <bit>

namespace braid::memcache {

Item* Item::create(const ItemInit& init, Seconds now) {
    void* memory = ::operator new(sizeof(Item) + init.key.size() + init.valueLength());
    auto* item = new (memory) Item;
    item->hash = hashKey(init.key);
    item->exptime = init.exptime;
    item->storedAt = now;
    item->lastAccess = now;
    item->flags = init.flags;
    item->keyLength = static_cast<std::uint32_t>(init.key.size());
    item->valueLength = static_cast<std::uint32_t>(init.valueLength());
    auto* data = reinterpret_cast<char*>(item + 1);
    // (memcpy from an empty view's null data is undefined, hence the checks.)
    if (!init.key.empty()) {
        std::memcpy(data, init.key.data(), init.key.size());
    }
    data += init.key.size();
    if (!init.first.empty()) {
        std::memcpy(data, init.first.data(), init.first.size());
    }
    if (!init.second.empty()) {
        std::memcpy(data + init.first.size(), init.second.data(), init.second.size());
    }
    return item;
}

void Item::destroy(Item* item) noexcept {
    item->~Item();
    ::operator delete(item);
}

std::uint64_t hashKey(std::string_view key) noexcept {
    constexpr std::uint64_t multiplier = 0x9E3779B97F4A7C15ULL;
    std::uint64_t h = key.size() * 0xff51afd7ed558ccdULL;
    std::size_t i = 0;
    for (; i + 8 <= key.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, key.data() + i, 8);
        h = std::rotl((h ^ word) * multiplier, 29);
    }
    if (i < key.size()) {
        std::uint64_t word = 0;
        std::memcpy(&word, key.data() + i, key.size() - i);
        h = std::rotl((h ^ word) * multiplier, 29);
    }
    // murmur3's fmix64
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

Item* ItemTable::find(std::string_view key, std::uint64_t hash) const {
    for (Item* item = buckets_[bucketOf(hash)]; item != nullptr; item = item->hashNext) {
        if (item->hash == hash && item->key() == key) {
            return item;
        }
    }
    return nullptr;
}

namespace {

// An item's header and the start of its key: the first three cache lines (the 80-byte
// header may straddle two, as malloc aligns items to 16 bytes only). Keys of up to about
// 100 bytes are covered whole.
void prefetchItem(const Item* item) {
    if (item != nullptr) {
        const char* bytes = reinterpret_cast<const char*>(item);
        __builtin_prefetch(bytes);
        __builtin_prefetch(bytes + 64);
        __builtin_prefetch(bytes + 128);
    }
}

} // namespace

void ItemTable::prefetchFirstItem(std::uint64_t hash) const {
    prefetchItem(buckets_[bucketOf(hash)]);
}

void ItemTable::prefetchNeighboursOrNext(std::uint64_t hash) const {
    const Item* item = buckets_[bucketOf(hash)];
    if (item == nullptr) {
        return;
    }
    if (item->hash != hash) {
        prefetchItem(item->hashNext);
        return;
    }
    if (item->lruPrev != nullptr) {
        __builtin_prefetch(item->lruPrev, 1);
    }
    if (item->lruNext != nullptr) {
        __builtin_prefetch(item->lruNext, 1);
    }
}

void ItemTable::insert(Item* item) {
    if (count_ >= buckets_.size()) {
        grow();
    }
    Item*& head = buckets_[bucketOf(item->hash)];
    item->hashNext = head;
    head = item;
    ++count_;
}

void ItemTable::remove(Item* item) {
    Item** link = &buckets_[bucketOf(item->hash)];
    while (*link != item) {
        link = &(*link)->hashNext;
    }
    *link = item->hashNext;
    item->hashNext = nullptr;
    --count_;
}

void ItemTable::grow() {
    std::vector<Item*> old(buckets_.size() * 2, nullptr);
    old.swap(buckets_);
    for (Item* chain : old) {
        while (chain != nullptr) {
            Item* next = chain->hashNext;
            Item*& head = buckets_[bucketOf(chain->hash)];
            chain->hashNext = head;
            head = chain;
            chain = next;
        }
    }
}

void LruList::pushFront(Item* item) {
    item->lruPrev = nullptr;
    item->lruNext = head_;
    if (head_ != nullptr) {
        head_->lruPrev = item;
    } else {
        tail_ = item;
    }
    head_ = item;
}

void LruList::remove(Item* item) {
    (item->lruPrev != nullptr ? item->lruPrev->lruNext : head_) = item->lruNext;
    (item->lruNext != nullptr ? item->lruNext->lruPrev : tail_) = item->lruPrev;
    item->lruPrev = nullptr;
    item->lruNext = nullptr;
}

} // namespace braid::memcache
