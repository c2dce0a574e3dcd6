// memcache::Store micro-benchmarks: a get hit and a set of a 100-byte value over 10,000
// keys, on 1 and 2 threads sharing one store (per operation, per thread).
#include <braid/memcache/store.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

namespace {

using braid::memcache::GetOptions;
using braid::memcache::ItemView;
using braid::memcache::Store;
using braid::memcache::StoreRequest;

constexpr braid::memcache::Seconds now = 1'700'000'000;
constexpr std::size_t keyCount = 10'000;

const std::vector<std::string>& keys() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> made;
        for (std::size_t i = 0; i < keyCount; ++i) {
            made.push_back("user:" + std::to_string(i * 7919));
        }
        return made;
    }();
    return all;
}

const std::string& payload() {
    static const std::string value(100, 'v');
    return value;
}

void setKey(Store& store, const std::string& key) {
    StoreRequest request;
    request.key = key;
    request.value = payload();
    benchmark::DoNotOptimize(store.store(request, now));
}

// One store for every benchmark and thread.
Store& sharedStore() {
    static Store store{Store::Options{}};
    return store;
}

void BM_StoreGetHit(benchmark::State& state) {
    Store& store = sharedStore();
    const auto& all = keys();
    for (const auto& key : all) {
        setKey(store, key);
    }
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 4099;
    const GetOptions options;
    for (auto _ : state) {
        std::size_t length = 0;
        store.get(all[i % keyCount], now, options,
                  [&](const ItemView& item) { length = item.value.size(); });
        benchmark::DoNotOptimize(length);
        ++i;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreGetHit)->Threads(1)->Threads(2);

void BM_StoreSet(benchmark::State& state) {
    Store& store = sharedStore();
    const auto& all = keys();
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 4099;
    for (auto _ : state) {
        setKey(store, all[i % keyCount]);
        ++i;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreSet)->Threads(1)->Threads(2);

} // namespace
