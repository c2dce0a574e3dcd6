// The oracle of the framing fuzzers (fuzz/line_receiver.cpp, int_string_receiver.cpp,
// netstring_receiver.cpp): a receiver must report the same events whether the stream comes
// in one read or cut into reads whose sizes the input chooses. Anything else abort()s.
#pragma once

#include <braid/testing/string_transport.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace braid::fuzz {

using Events = std::vector<std::string>;

// An input: `configBytes` bytes for the target, 4 bytes of read sizes, then the stream.
struct Input {
    std::span<const std::uint8_t> config;
    std::vector<std::size_t> cuts; // read sizes, used in turn
    std::string_view stream;
};

inline bool split(const std::uint8_t* data, std::size_t size, std::size_t configBytes,
                  Input& input) {
    constexpr std::size_t cutBytes = 4;
    if (size < configBytes + cutBytes) {
        return false;
    }
    input.config = {data, configBytes};
    for (std::size_t i = configBytes; i < configBytes + cutBytes; ++i) {
        // 0 reads one byte at a time; otherwise 1 to 64 bytes.
        input.cuts.push_back(data[i] == 0 ? 1 : 1 + data[i] % 64);
    }
    const std::size_t header = configBytes + cutBytes;
    input.stream = {reinterpret_cast<const char*>(data) + header, size - header};
    return true;
}

// Feeds stream to proto as a transport would: in reads of the given sizes (all of it when
// cuts is empty), no more once the transport is closing, resuming the protocol after each
// read it paused on (the reactor would resume it later). bound: the most the protocol may
// buffer between reads while not paused.
template <class P>
void feed(P& proto, testing::StringTransport& transport, std::string_view stream,
          const std::vector<std::size_t>& cuts, std::size_t bound) {
    std::size_t next = 0;
    while (!stream.empty() && !transport.disconnecting) {
        const std::size_t size = cuts.empty() ? stream.size() : cuts[next++ % cuts.size()];
        proto.dataReceived(stream.substr(0, size));
        stream.remove_prefix(std::min(size, stream.size()));
        while (proto.paused() && !transport.disconnecting) {
            proto.resumeProducing();
        }
        if (!transport.disconnecting && proto.bufferedBytes() > bound) {
            std::fprintf(stderr, "buffered %zu bytes, more than %zu\n", proto.bufferedBytes(),
                         bound);
            std::abort();
        }
    }
}

// How the connection was left: closing, or open with what the receiver still buffers.
template <class R>
std::string endState(const testing::StringTransport& transport, const R& receiver) {
    return transport.disconnecting ? std::string("closing")
                                   : "open, buffered " + std::to_string(receiver.bufferedBytes());
}

inline void expectSame(const Events& whole, const Events& cut) {
    if (whole == cut) {
        return;
    }
    std::fprintf(stderr, "in one read:\n");
    for (const std::string& event : whole) {
        std::fprintf(stderr, "  %s\n", event.c_str());
    }
    std::fprintf(stderr, "in pieces:\n");
    for (const std::string& event : cut) {
        std::fprintf(stderr, "  %s\n", event.c_str());
    }
    std::abort();
}

// Runs `events(stream, cuts)` both ways and compares.
template <class Run>
void compareCuts(const Input& input, Run run) {
    expectSame(run(input.stream, std::vector<std::size_t>{}), run(input.stream, input.cuts));
}

} // namespace braid::fuzz
