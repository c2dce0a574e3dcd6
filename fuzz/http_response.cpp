// client::ResponseParser (the web client's HTTP/1.1 response parser) under libFuzzer: the
// same head, the same body bytes, the same end and the same error whether the response
// comes in one read or cut into pieces (fuzz/cut_oracle.hpp); a Content-Length body is
// exactly that long.
//
// Input: one config byte (bit 0: the response answers HEAD; bits 1-7: the line limit,
// times 8), then the read sizes and the stream.
#include "cut_oracle.hpp"
#include <braid/web/client/response_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::fuzz::Events;
using braid::web::client::ParseError;
using braid::web::client::ResponseHead;
using braid::web::client::ResponseParser;

// Records events; body pieces are joined, since how they are cut depends on the reads.
struct Recorder : ResponseParser::Handler {
    void headReceived(ResponseHead head) override {
        std::string event =
            "head:" + head.version + " " + std::to_string(head.code) + " " + head.phrase;
        for (const auto& [name, value] : head.headers.getAllRawHeaders()) {
            event += "|" + name + ":" + value;
        }
        events.push_back(std::move(event));
        length = head.headers.getFirst("Content-Length");
    }
    void bodyDataReceived(std::string_view data) override { body.append(data); }
    void bodyComplete() override { flush("complete"); }
    void flush(const std::string& event) {
        events.push_back("body:" + body);
        events.push_back(event);
        body.clear();
    }
    Events events;
    std::string body;
    std::optional<std::string> length;
};

Events run(bool head, std::size_t maxLine, std::string_view stream,
           const std::vector<std::size_t>& cuts) {
    Recorder recorder;
    ResponseParser parser(recorder, head, {.maxLineLength = maxLine});
    std::size_t unused = 0;
    try {
        std::size_t next = 0;
        while (!stream.empty()) {
            std::size_t size = cuts.empty() ? stream.size() : cuts[next++ % cuts.size()];
            std::string_view piece = stream.substr(0, size);
            unused += parser.complete() ? piece.size() : piece.size() - parser.feed(piece);
            stream.remove_prefix(piece.size());
        }
        parser.connectionLost();
        recorder.events.push_back("closed");
    } catch (const ParseError& error) {
        recorder.flush(std::string("error:") + error.what());
    }
    recorder.events.push_back("unused:" + std::to_string(unused));
    if (parser.complete() && parser.bodyMode() == ResponseParser::BodyMode::length) {
        // The joined body is in the "body:" event before "complete".
        for (std::size_t i = 0; i + 1 < recorder.events.size(); ++i) {
            if (recorder.events[i + 1] == "complete" &&
                recorder.events[i].size() - 5 != std::stoull(*recorder.length)) {
                std::abort();
            }
        }
    }
    return recorder.events;
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    braid::fuzz::Input input;
    if (!braid::fuzz::split(data, size, 1, input)) {
        return 0;
    }
    const bool head = (input.config[0] & 1) != 0;
    const std::size_t maxLine = 16 + static_cast<std::size_t>(input.config[0] >> 1) * 8;
    braid::fuzz::compareCuts(input,
                             [&](std::string_view stream, const std::vector<std::size_t>& cuts) {
                                 return run(head, maxLine, stream, cuts);
                             });
    return 0;
}
