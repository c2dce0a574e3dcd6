// Int8/16/32StringReceiver (braid/basic.hpp) under libFuzzer: the same strings and limit
// errors whether the stream comes in one read or in pieces (fuzz/cut_oracle.hpp).
//
// Input: the prefix size and MAX_LENGTH, then the read sizes and the stream. A string that
// starts with "P" pauses the receiver, one that starts with "Q" closes the connection.
#include "cut_oracle.hpp"
#include <braid/basic.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::fuzz::Events;

template <class Base>
struct Receiver : Base {
    void stringReceived(std::string_view string) override {
        events.push_back("string:" + std::string(string));
        if (string.starts_with('P')) {
            this->pauseProducing();
        } else if (string.starts_with('Q')) {
            this->transport->loseConnection();
        }
    }
    void lengthLimitExceeded(std::size_t length) override {
        events.push_back("limit:" + std::to_string(length));
        Base::lengthLimitExceeded(length);
    }
    Events events;
};

template <class Base>
Events run(std::size_t maxLength, std::string_view stream, const std::vector<std::size_t>& cuts) {
    braid::testing::StringTransport transport;
    Receiver<Base> receiver;
    receiver.makeConnection(transport);
    receiver.MAX_LENGTH = maxLength;
    braid::fuzz::feed(receiver, transport, stream, cuts, maxLength + 4);
    Events events = std::move(receiver.events);
    events.push_back(braid::fuzz::endState(transport, receiver));
    return events;
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    braid::fuzz::Input input;
    if (!braid::fuzz::split(data, size, 2, input)) {
        return 0;
    }
    const std::size_t maxLength = std::size_t{input.config[1]} * 2;
    braid::fuzz::compareCuts(
        input, [&](std::string_view stream, const std::vector<std::size_t>& cuts) {
            switch (input.config[0] % 3) {
            case 0: return run<braid::Int8StringReceiver>(maxLength, stream, cuts);
            case 1: return run<braid::Int16StringReceiver>(maxLength, stream, cuts);
            default: return run<braid::Int32StringReceiver>(maxLength, stream, cuts);
            }
        });
    return 0;
}
