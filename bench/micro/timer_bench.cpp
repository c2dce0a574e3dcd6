// Timers: the cost of callLater + cancel, callLater + run and reset, with other calls
// pending (100,000 unless the name says otherwise), on a task::Clock over TimerQueue, the
// queue the reactors use.
#include <braid/task/clock.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <vector>

namespace {

using braid::DelayedCall;
using braid::task::Clock;

constexpr int backgroundCalls = 100'000;

// Delays drawn once, so the benchmark loops do not time the random generator.
std::vector<double> randomDelays(std::size_t count, double low, double high) {
    std::mt19937_64 random(42);
    std::uniform_real_distribution<double> delay(low, high);
    std::vector<double> delays(count);
    for (double& d : delays) {
        d = delay(random);
    }
    return delays;
}

// `count` pending calls, due between `from` and `from + 1000` seconds.
std::vector<DelayedCall> fill(Clock& clock, std::size_t count, double from, long* counter) {
    std::vector<DelayedCall> calls;
    calls.reserve(count);
    for (double delay : randomDelays(count, from, from + 1000)) {
        calls.push_back(clock.callLater(delay, [counter] { ++*counter; }));
    }
    return calls;
}

void BM_CallLaterCancel(benchmark::State& state) {
    Clock clock;
    long counter = 0;
    const std::vector<DelayedCall> background =
        fill(clock, static_cast<std::size_t>(state.range(0)), 0, &counter);
    const std::vector<double> delays = randomDelays(1024, 0, 1000);
    std::size_t i = 0;
    for (auto _ : state) {
        DelayedCall call = clock.callLater(delays[i++ & 1023], [&counter] { ++counter; });
        call.cancel();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CallLaterCancel)->Arg(0)->Arg(backgroundCalls);

// Each call is scheduled within the next second and run by advance(1) every 1024 calls.
void BM_CallLaterRun(benchmark::State& state) {
    Clock clock;
    long counter = 0;
    const std::vector<DelayedCall> background =
        fill(clock, static_cast<std::size_t>(state.range(0)), 1e9, &counter);
    const std::vector<double> delays = randomDelays(1024, 0, 1);
    std::size_t i = 0;
    for (auto _ : state) {
        clock.callLater(delays[i & 1023], [&counter] { ++counter; });
        if ((++i & 1023) == 0) {
            clock.advance(1);
        }
    }
    clock.advance(1);
    benchmark::DoNotOptimize(counter);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CallLaterRun)->Arg(0)->Arg(backgroundCalls);

// A connection timeout pushed back on activity (TimeoutMixin.resetTimeout): 100,000
// calls, each reset to 60 s from now in turn while the clock moves slowly, so none fires.
void BM_Reset(benchmark::State& state) {
    Clock clock;
    long counter = 0;
    std::vector<DelayedCall> calls = fill(clock, backgroundCalls, 0, &counter);
    for (DelayedCall& call : calls) {
        call.reset(60);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        calls[i % backgroundCalls].reset(60);
        if ((++i & 1023) == 0) {
            clock.advance(0.01);
        }
    }
    state.SetItemsProcessed(state.iterations());
    if (counter != 0) {
        state.SkipWithError("a timeout fired");
    }
}
BENCHMARK(BM_Reset);

} // namespace
