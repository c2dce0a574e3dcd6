// Framing receivers (braid/basic.hpp): the cost per message of LineReceiver and
// Int32StringReceiver on a stream cut into 16 KiB reads, so that some messages span two
// reads, as they would from a socket.
#include <braid/basic.hpp>
#include <braid/testing/string_transport.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t readSize = 16 * 1024;

struct CountLines : braid::LineReceiver {
    void lineReceived(std::string_view line) override { bytes += line.size(); }
    std::size_t bytes = 0;
};

struct CountStrings : braid::Int32StringReceiver {
    void stringReceived(std::string_view string) override { bytes += string.size(); }
    std::size_t bytes = 0;
};

// Feeds `stream` in reads of readSize bytes.
template <class P>
void feed(P& proto, std::string_view stream) {
    while (!stream.empty()) {
        const std::size_t size = std::min(readSize, stream.size());
        proto.dataReceived(stream.substr(0, size));
        stream.remove_prefix(size);
    }
}

constexpr std::size_t messagesPerRound = 10'000;

// Lines of range(0) bytes.
void BM_LineReceiver(benchmark::State& state) {
    const auto length = static_cast<std::size_t>(state.range(0));
    std::string stream;
    for (std::size_t i = 0; i < messagesPerRound; ++i) {
        stream.append(length, 'x').append("\r\n");
    }
    braid::testing::StringTransport transport;
    CountLines proto;
    proto.makeConnection(transport);
    for (auto _ : state) {
        feed(proto, stream);
    }
    benchmark::DoNotOptimize(proto.bytes);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messagesPerRound));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_LineReceiver)->Arg(16)->Arg(100)->Arg(1000);

// Int32 strings of range(0) bytes.
void BM_Int32StringReceiver(benchmark::State& state) {
    const auto length = static_cast<std::size_t>(state.range(0));
    std::string stream;
    for (std::size_t i = 0; i < messagesPerRound; ++i) {
        stream.append(3, '\0').push_back(static_cast<char>(length));
        stream.append(length, 'x');
    }
    braid::testing::StringTransport transport;
    CountStrings proto;
    proto.makeConnection(transport);
    for (auto _ : state) {
        feed(proto, stream);
    }
    benchmark::DoNotOptimize(proto.bytes);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messagesPerRound));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_Int32StringReceiver)->Arg(16)->Arg(100)->Arg(200);

} // namespace
