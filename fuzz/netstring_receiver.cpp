// NetstringReceiver (braid/basic.hpp) under libFuzzer: the same netstrings and the same
// protocol errors whether the stream comes in one read or in pieces (fuzz/cut_oracle.hpp).
//
// Input: MAX_LENGTH, then the read sizes and the stream. A string that starts with "P"
// pauses the receiver, one that starts with "Q" closes the connection.
#include "cut_oracle.hpp"
#include <braid/basic.hpp>
#include <braid/log.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::fuzz::Events;

struct Receiver : braid::NetstringReceiver {
    void stringReceived(std::string_view string) override {
        events.push_back("string:" + std::string(string));
        if (string.starts_with('P')) {
            pauseProducing();
        } else if (string.starts_with('Q')) {
            transport->loseConnection();
        }
    }
    Events events;
};

Events run(std::size_t maxLength, std::string_view stream, const std::vector<std::size_t>& cuts) {
    braid::testing::StringTransport transport;
    Receiver receiver;
    receiver.makeConnection(transport);
    receiver.MAX_LENGTH = maxLength;
    braid::fuzz::feed(receiver, transport, stream, cuts, maxLength + 1);
    Events events = std::move(receiver.events);
    events.emplace_back(receiver.brokenPeer() ? "broken" : "not broken");
    events.push_back(braid::fuzz::endState(transport, receiver));
    return events;
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Every protocol error is logged; not on the fuzzer's stderr.
    static const bool quiet = [] {
        braid::logPublisher().setDefaultObserverEnabled(false);
        return true;
    }();
    (void)quiet;
    braid::fuzz::Input input;
    if (!braid::fuzz::split(data, size, 1, input)) {
        return 0;
    }
    const std::size_t maxLength = std::size_t{input.config[0]} * 4;
    braid::fuzz::compareCuts(input,
                             [&](std::string_view stream, const std::vector<std::size_t>& cuts) {
                                 return run(maxLength, stream, cuts);
                             });
    return 0;
}
