// Deferred micro-benchmarks: the cost of one link (addCallback + fire), of a co_await
// on a fired Deferred, and of a whole short chain, per operation.
#include <braid/deferred.hpp>
#include <braid/testing/deferred.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>

namespace {

// Cost per link of a chain of `links` callbacks added before the Deferred fires.
void BM_AddCallbackThenFire(benchmark::State& state) {
    const auto links = state.range(0);
    for (auto _ : state) {
        braid::Deferred<std::int64_t> d;
        for (std::int64_t i = 0; i < links; ++i) {
            d.addCallback([](std::int64_t x) { return x + 1; });
        }
        d.callback(0);
        benchmark::DoNotOptimize(braid::testing::successResultOf(d));
    }
    state.SetItemsProcessed(state.iterations() * links);
}
BENCHMARK(BM_AddCallbackThenFire)->Arg(1)->Arg(10)->Arg(100);

// Cost per link when the Deferred has already fired (the link runs at once).
void BM_AddCallbackAfterFire(benchmark::State& state) {
    const auto links = state.range(0);
    for (auto _ : state) {
        braid::Deferred<std::int64_t> d;
        d.callback(0);
        for (std::int64_t i = 0; i < links; ++i) {
            d.addCallback([](std::int64_t x) { return x + 1; });
        }
        benchmark::DoNotOptimize(braid::testing::successResultOf(d));
    }
    state.SetItemsProcessed(state.iterations() * links);
}
BENCHMARK(BM_AddCallbackAfterFire)->Arg(1)->Arg(10)->Arg(100);

braid::Deferred<std::int64_t> awaitFired(std::int64_t count) {
    std::int64_t total = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        total += co_await braid::succeed(i);
    }
    co_return total;
}

// Cost per co_await of an already-fired Deferred, including making it with succeed().
void BM_AwaitFiredDeferred(benchmark::State& state) {
    const auto awaits = state.range(0);
    for (auto _ : state) {
        auto d = awaitFired(awaits);
        benchmark::DoNotOptimize(braid::testing::successResultOf(d));
    }
    state.SetItemsProcessed(state.iterations() * awaits);
}
BENCHMARK(BM_AwaitFiredDeferred)->Arg(1000);

braid::Deferred<void> awaitSame(braid::Deferred<void> fired, std::int64_t count) {
    for (std::int64_t i = 0; i < count; ++i) {
        co_await fired;
    }
}

// Cost of the co_await alone, on one Deferred<void> that has fired.
void BM_AwaitFiredDeferredOnly(benchmark::State& state) {
    const auto awaits = state.range(0);
    for (auto _ : state) {
        auto d = awaitSame(braid::succeed(), awaits);
        benchmark::DoNotOptimize(d.hasResult());
    }
    state.SetItemsProcessed(state.iterations() * awaits);
}
BENCHMARK(BM_AwaitFiredDeferredOnly)->Arg(1000);

braid::Deferred<std::int64_t> awaitPending(braid::Deferred<std::int64_t>& gate) {
    std::int64_t x = co_await gate;
    co_return x + 1;
}

// A coroutine suspending on a pending Deferred and being resumed by its callback().
void BM_AwaitPendingDeferred(benchmark::State& state) {
    for (auto _ : state) {
        braid::Deferred<std::int64_t> gate;
        auto d = awaitPending(gate);
        gate.callback(1);
        benchmark::DoNotOptimize(braid::testing::successResultOf(d));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AwaitPendingDeferred);

} // namespace
