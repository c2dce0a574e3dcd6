// Threads: the cost of callFromThread (CallQueue push + drain, batched as named, on one
// thread and from a producer thread), and the round-trip latency of deferToThread
// through a reactor-like loop that sleeps in poll() on the queue's eventfd.
#include <braid/deferred.hpp>
#include <braid/detail/call_queue.hpp>
#include <braid/interfaces.hpp>
#include <braid/threads.hpp>

#include <benchmark/benchmark.h>
#include <poll.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>

namespace {

using braid::detail::CallQueue;
using braid::detail::UniqueFunction;

// Waits (up to a second) for the queue's eventfd, then drains; returns how many ran.
std::size_t waitAndDrain(CallQueue& queue) {
    pollfd p{queue.fd(), POLLIN, 0};
    return ::poll(&p, 1, 1000) == 1 ? queue.drain() : 0;
}

// Pushes `batch` calls, then drains them, on one thread.
void BM_CallFromThreadPushDrain(benchmark::State& state) {
    CallQueue queue;
    const auto batch = static_cast<std::size_t>(state.range(0));
    std::uint64_t counter = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < batch; ++i) {
            queue.push([&counter] { ++counter; });
        }
        benchmark::DoNotOptimize(queue.drain());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CallFromThreadPushDrain)->Arg(1)->Arg(16)->Arg(256);

// One producer thread pushes 100,000 calls while this thread sleeps in poll() and drains,
// as a reactor does.
void BM_CallFromThreadCrossThread(benchmark::State& state) {
    constexpr std::uint64_t calls = 100'000;
    CallQueue queue;
    std::uint64_t counter = 0;
    std::uint64_t wakeups = 0;
    for (auto _ : state) {
        counter = 0;
        std::thread producer([&queue, &counter] {
            for (std::uint64_t i = 0; i < calls; ++i) {
                queue.push([&counter] { ++counter; });
            }
        });
        while (counter < calls) {
            wakeups += waitAndDrain(queue) > 0 ? 1 : 0;
        }
        producer.join();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(calls));
    state.counters["drains/call"] =
        static_cast<double>(wakeups) / static_cast<double>(state.iterations() * calls);
}
BENCHMARK(BM_CallFromThreadCrossThread)->UseRealTime()->Unit(benchmark::kMillisecond);

// IReactorThreads over a ThreadPool and a CallQueue; the benchmark thread is its reactor.
class BenchReactor final : public braid::IReactorThreads {
public:
    BenchReactor() { pool_.start(); }
    ~BenchReactor() override { pool_.stop(); }
    void callInThread(UniqueFunction<void()> f) override { pool_.callInThread(std::move(f)); }
    void callFromThread(UniqueFunction<void()> f) override { queue_.push(std::move(f)); }
    braid::ThreadPool& getThreadPool() override { return pool_; }
    void suggestThreadPoolSize(std::size_t size) override {
        pool_.adjustPoolsize(std::min(pool_.minThreads(), size), size);
    }
    CallQueue& queue() { return queue_; }

private:
    CallQueue queue_; // outlives the pool's workers
    braid::ThreadPool pool_{1, 1, "bench"};
};

// deferToThread of a trivial function, waited for: reactor -> worker -> reactor.
void BM_DeferToThreadRoundTrip(benchmark::State& state) {
    BenchReactor reactor;
    for (auto _ : state) {
        bool fired = false;
        braid::deferToThread(reactor, [] { return 1; }).addCallback([&fired](int value) {
            fired = true;
            return value;
        });
        while (!fired) {
            waitAndDrain(reactor.queue());
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DeferToThreadRoundTrip)->UseRealTime();

} // namespace
