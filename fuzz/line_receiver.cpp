// LineReceiver (braid/basic.hpp) under libFuzzer: the same lines, raw data, limits and
// closes whether the stream comes in one read or in pieces (fuzz/cut_oracle.hpp).
//
// Input: MAX_LENGTH, the delimiter, then the read sizes and the stream. Lines act on the
// receiver by their first byte: "R<n>" reads n % 16 raw bytes then goes back to lines,
// "P" pauses, "Q" closes, "D<n>" changes the delimiter.
#include "cut_oracle.hpp"
#include <braid/basic.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::fuzz::Events;

// Self-overlapping ones ("aab", "\r\n\r\n") are the hard cases for a split delimiter.
constexpr std::array<std::string_view, 5> delimiters{"\r\n", "\n", "aa", "aab", "\r\n\r\n"};
constexpr std::size_t longestDelimiter = 4;

struct Receiver : braid::LineReceiver {
    void lineReceived(std::string_view line) override {
        events.push_back("line:" + std::string(line));
        const char command = line.empty() ? '\0' : line.front();
        const auto argument = static_cast<unsigned char>(line.size() > 1 ? line[1] : 0);
        if (command == 'R') {
            rawLeft = argument % 16;
            copyExtra = argument % 2 == 1;
            setRawMode();
        } else if (command == 'P') {
            pauseProducing();
        } else if (command == 'Q') {
            transport->loseConnection();
        } else if (command == 'D') {
            delimiter = delimiters[argument % delimiters.size()];
        }
    }

    void rawDataReceived(std::string_view data) override {
        const std::size_t mine = std::min(rawLeft, data.size());
        raw.append(data.substr(0, mine));
        rawLeft -= mine;
        if (rawLeft > 0) {
            return;
        }
        events.push_back("raw:" + raw);
        raw.clear();
        // Both ways back: a part of the data (no copy) and a string of its own.
        if (copyExtra) {
            setLineMode(std::string(data.substr(mine)));
        } else {
            setLineMode(data.substr(mine));
        }
    }

    void lineLengthExceeded(std::string_view line) override {
        events.emplace_back("exceeded");
        LineReceiver::lineLengthExceeded(line);
    }

    Events events;
    std::size_t rawLeft = 0;
    bool copyExtra = false;
    std::string raw;
};

Events run(const braid::fuzz::Input& input, std::string_view stream,
           const std::vector<std::size_t>& cuts) {
    braid::testing::StringTransport transport;
    Receiver receiver;
    receiver.makeConnection(transport);
    receiver.MAX_LENGTH = input.config[0] % 80;
    receiver.delimiter = delimiters[input.config[1] % delimiters.size()];
    braid::fuzz::feed(receiver, transport, stream, cuts,
                      receiver.MAX_LENGTH + longestDelimiter - 1);
    Events events = std::move(receiver.events);
    events.emplace_back(transport.disconnecting ? "closing" : "open");
    if (!transport.disconnecting) {
        // What is left is the same too: a partial line or raw bytes.
        events.push_back((receiver.lineMode() ? "line mode, buffered: " : "raw mode, buffered: ") +
                         receiver.clearLineBuffer() + ", raw: " + receiver.raw);
    }
    return events;
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    braid::fuzz::Input input;
    if (!braid::fuzz::split(data, size, 2, input)) {
        return 0;
    }
    braid::fuzz::compareCuts(input,
                             [&](std::string_view stream, const std::vector<std::size_t>& cuts) {
                                 return run(input, stream, cuts);
                             });
    return 0;
}
