// memcached server request path without the network: one connection on a StringTransport
// fed reads of 16 pipelined sets (or gets) of 100-byte values on keys drawn from a key
// space of 100,000 (as the load test, bench/loadgen/mcload) or 1,000,000 (a store well
// beyond the caches). Per request: parsing, the store, the replies.
#include <braid/memcache/server.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/string_transport.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace braid;

constexpr std::size_t depth = 16;  // requests per read
constexpr std::size_t reads = 256; // distinct reads, cycled

std::string key(std::size_t i) {
    std::string digits = std::to_string(i);
    return "k" + std::string(9 - digits.size(), '0') + digits;
}

std::string set(std::size_t i) {
    return "set " + key(i) + " " + std::to_string(i & 0xffff) + " 0 100\r\n" +
           std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
}

struct Server {
    explicit Server(std::size_t keyCount) {
        memcache::ServerOptions options;
        options.store.memoryLimit = std::size_t{512} << 20;
        server = std::make_shared<memcache::Server>(std::move(options));
        factory = std::make_shared<memcache::ServerFactory>(server, clock);
        protocol = factory->buildProtocol(Address::ipv4("127.0.0.1", 40000));
        protocol->makeConnection(transport);
        for (std::size_t i = 0; i < keyCount; i += depth) {
            std::string batch;
            for (std::size_t j = i; j < i + depth && j < keyCount; ++j) {
                batch += set(j);
            }
            feed(batch);
        }
    }
    void feed(const std::string& read) {
        protocol->dataReceived(read);
        transport.clear();
    }

    task::Clock clock;
    testing::StringTransport transport{clock};
    std::shared_ptr<memcache::Server> server;
    std::shared_ptr<memcache::ServerFactory> factory;
    std::unique_ptr<Protocol> protocol;
};

std::vector<std::string> makeReads(bool gets, std::size_t keyCount) {
    std::mt19937 random(42); // NOLINT(cert-msc32-c,cert-msc51-cpp): the same reads every run
    std::uniform_int_distribution<std::size_t> pick(0, keyCount - 1);
    std::vector<std::string> made(reads);
    for (std::string& read : made) {
        for (std::size_t j = 0; j < depth; ++j) {
            read += gets ? "get " + key(pick(random)) + "\r\n" : set(pick(random));
        }
    }
    return made;
}

void run(benchmark::State& state, bool gets) {
    const auto keyCount = static_cast<std::size_t>(state.range(0));
    Server server(keyCount);
    const std::vector<std::string> all = makeReads(gets, keyCount);
    std::size_t i = 0;
    for (auto _ : state) {
        server.feed(all[i++ % reads]);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * depth));
}

void BM_MemcachedPipelinedSets(benchmark::State& state) {
    run(state, false);
}
BENCHMARK(BM_MemcachedPipelinedSets)->Arg(100'000)->Arg(1'000'000);

void BM_MemcachedPipelinedGets(benchmark::State& state) {
    run(state, true);
}
BENCHMARK(BM_MemcachedPipelinedGets)->Arg(100'000)->Arg(1'000'000);

} // namespace
