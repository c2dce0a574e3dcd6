// client::ResponseParser: a small, strict, incremental HTTP/1.1 *response* parser for the
// web client (the part of twisted.web._newclient that reads responses): status line,
// headers with limits, and Content-Length, chunked or read-until-close bodies. It gives
// the same events whatever way the bytes are cut.
//
// Written here rather than on llhttp because the server's llhttp build lands separately;
// the client needs only the response side, and this one can be switched over later.
#pragma once

#include <braid/error.hpp>
#include <braid/web/client/headers.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace braid::web::client {

// The response broke HTTP's grammar or a limit.
class ParseError : public Error {
public:
    using Error::Error;
};

// A response's status line and headers.
struct ResponseHead {
    std::string version; // "HTTP/1.1"
    int code = 0;
    std::string phrase;
    Headers headers;
};

struct ParserLimits {
    std::size_t maxLineLength =
        std::size_t{8} * 1024; // the status line, one header, a chunk-size line
    std::size_t maxHeaderBytes = std::size_t{64} * 1024; // all the headers (or trailers) together
    std::size_t maxHeaders = 100;                        // number of header (or trailer) fields
    std::size_t maxInterimResponses = 10; // 1xx responses skipped before the real one
};

class ResponseParser {
public:
    enum class BodyMode : std::uint8_t { none, length, chunked, untilClose };

    // What the parser reports, in this order: one head, body pieces, the end.
    class Handler {
    public:
        virtual ~Handler() = default;
        virtual void headReceived(ResponseHead head) = 0;
        // `data` is valid only during the call.
        virtual void bodyDataReceived(std::string_view data) = 0;
        virtual void bodyComplete() = 0;
    };

    // `headRequest`: the response answers a HEAD request, so it has no body whatever its
    // headers say.
    explicit ResponseParser(Handler& handler, bool headRequest = false, ParserLimits limits = {});

    // Parses `data`; returns how many bytes were used, which is less than data.size()
    // only when the response ended before them. Throws ParseError.
    std::size_t feed(std::string_view data);
    // The connection closed: ends a read-until-close body; throws ParseError when the
    // response was cut short.
    void connectionLost();

    [[nodiscard]] bool complete() const noexcept { return state_ == State::done; }
    // Known once the head is in: whether the connection may carry another request.
    [[nodiscard]] bool persistent() const noexcept { return persistent_; }
    [[nodiscard]] BodyMode bodyMode() const noexcept { return bodyMode_; }
    // The Content-Length of a BodyMode::length body.
    [[nodiscard]] std::uint64_t contentLength() const noexcept { return contentLength_; }

private:
    enum class State : std::uint8_t {
        statusLine,
        headerLine,
        body,
        chunkSize,
        chunkData,
        chunkEnd,
        trailer,
        untilClose,
        done
    };

    [[nodiscard]] bool readingLine() const noexcept;
    std::size_t feedLine(std::string_view data);
    void lineReceived(std::string_view line);
    void statusLineReceived(std::string_view line);
    void headerLineReceived(std::string_view line);
    void chunkSizeReceived(std::string_view line);
    void trailerReceived(std::string_view line);
    void headersComplete();
    void chooseBodyMode();
    std::size_t deliver(std::string_view data, std::uint64_t& remaining);
    void finish();

    Handler& handler_;
    bool headRequest_;
    ParserLimits limits_;
    State state_ = State::statusLine;
    BodyMode bodyMode_ = BodyMode::none;
    bool persistent_ = false;
    std::string line_;
    ResponseHead head_;
    std::size_t headerBytes_ = 0;
    std::size_t headerCount_ = 0;
    std::size_t interimResponses_ = 0;
    std::uint64_t contentLength_ = 0;
    std::uint64_t remaining_ = 0; // of the Content-Length body or of the current chunk
};

} // namespace braid::web::client
