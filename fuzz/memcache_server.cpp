// libFuzzer target: the memcached server's request parser and commands
// (src/memcache/connection.cpp), through a connection on a StringTransport.
//
// Oracle: the input is fed once whole and once in pieces whose sizes come from its first
// bytes, each to a fresh server; the replies must be the same bytes (the parser may not
// depend on how reads are split). Inputs asking for stats are only run, not compared:
// stats report CPU time; so are those whose two serves fall in different seconds.
#include "serve_in_pieces.hpp"
#include <braid/memcache/server.hpp>
#include <braid/task/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

namespace {

std::string serve(std::string_view input, std::string_view sizes) {
    braid::memcache::ServerOptions options;
    options.store.memoryLimit = std::size_t{1} << 20;
    options.store.maxItemSize = std::size_t{64} << 10;
    options.store.shards = 4;
    braid::task::Clock clock;
    auto server = std::make_shared<braid::memcache::Server>(options);
    auto factory = std::make_shared<braid::memcache::ServerFactory>(server, clock);
    return braid::fuzz::serveInPieces(*factory, clock, input, sizes);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    std::string_view sizes = all.substr(0, std::min<std::size_t>(8, all.size()));
    std::string_view input = all.substr(sizes.size());
    // A server's unix time is the wall clock when its factory is made (then moved by the
    // fuzz clock), so TTLs and absolute expiry times may differ between the two serves
    // when a second begins between them: those inputs are only run, not compared.
    const std::time_t start = std::time(nullptr);
    std::string whole = serve(input, {});
    std::string pieces = serve(input, sizes);
    const bool sameSecond = std::time(nullptr) == start;
    if (sameSecond && input.find("stats") == std::string_view::npos && whole != pieces) {
        std::abort();
    }
    return 0;
}
