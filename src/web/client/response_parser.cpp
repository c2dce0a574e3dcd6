#include <braid/web/client/response_parser.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace braid::web::client {

namespace {

bool isTokenChar(char c) {
    static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           extra.find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view text) {
    std::size_t begin = std::min(text.find_first_not_of(" \t"), text.size());
    text.remove_prefix(begin);
    return text.substr(0, text.find_last_not_of(" \t") + 1);
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// A Content-Length value: digits only; several equal values (repeated fields or a
// comma list) count as one, different ones are an error (RFC 9112 6.3).
std::uint64_t parseContentLength(const Headers& headers) {
    std::optional<std::uint64_t> length;
    for (const std::string& value : headers.getRawHeaders("Content-Length")) {
        std::string_view rest = value;
        while (true) {
            std::size_t comma = std::min(rest.find(','), rest.size());
            std::string_view item = trim(rest.substr(0, comma));
            std::uint64_t n = 0;
            auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), n);
            if (item.empty() || !std::ranges::all_of(item, isDigit) || error != std::errc{} ||
                end != item.data() + item.size() || (length && *length != n)) {
                throw ParseError("bad Content-Length: " + value);
            }
            length = n;
            if (comma == rest.size()) {
                break;
            }
            rest.remove_prefix(comma + 1);
        }
    }
    return length.value_or(0);
}

// The last coding of Transfer-Encoding (the one that frames the message).
std::string_view lastCoding(const std::vector<std::string>& values) {
    std::string_view last = values.back();
    return trim(last.substr(std::min(last.rfind(',') + 1, last.size())));
}

} // namespace

ResponseParser::ResponseParser(Handler& handler, bool headRequest, ParserLimits limits)
    : handler_(handler), headRequest_(headRequest), limits_(limits) {}

bool ResponseParser::readingLine() const noexcept {
    return state_ == State::statusLine || state_ == State::headerLine ||
           state_ == State::chunkSize || state_ == State::chunkEnd || state_ == State::trailer;
}

std::size_t ResponseParser::feed(std::string_view data) {
    std::size_t used = 0;
    while (used < data.size() && state_ != State::done) {
        std::string_view rest = data.substr(used);
        if (readingLine()) {
            used += feedLine(rest);
        } else if (state_ == State::untilClose) {
            handler_.bodyDataReceived(rest);
            used = data.size();
        } else {
            used += deliver(rest, remaining_);
        }
    }
    return used;
}

// Adds to the line being read; hands a whole line (without CRLF or a bare LF) on.
std::size_t ResponseParser::feedLine(std::string_view data) {
    std::size_t newline = data.find('\n');
    std::size_t take = newline == std::string_view::npos ? data.size() : newline;
    if (line_.size() + take > limits_.maxLineLength) {
        throw ParseError("line too long");
    }
    line_.append(data.substr(0, take));
    if (newline == std::string_view::npos) {
        return data.size();
    }
    if (!line_.empty() && line_.back() == '\r') {
        line_.pop_back();
    }
    std::string line = std::move(line_);
    line_.clear();
    lineReceived(line);
    return newline + 1;
}

void ResponseParser::lineReceived(std::string_view line) {
    if (line.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
        throw ParseError("stray CR or NUL in a line");
    }
    switch (state_) {
    case State::statusLine: statusLineReceived(line); break;
    case State::headerLine: headerLineReceived(line); break;
    case State::chunkSize: chunkSizeReceived(line); break;
    case State::chunkEnd:
        if (!line.empty()) {
            throw ParseError("chunk data longer than its size");
        }
        state_ = State::chunkSize;
        break;
    case State::trailer: trailerReceived(line); break;
    default: break;
    }
}

// HTTP/x.y SP 3DIGIT [SP reason]
void ResponseParser::statusLineReceived(std::string_view line) {
    if (line.empty()) {
        return; // RFC 9112 2.2: empty lines before the status line are ignored
    }
    if (line.size() < 12 || !line.starts_with("HTTP/") || !isDigit(line[5]) || line[6] != '.' ||
        !isDigit(line[7]) || line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) ||
        !isDigit(line[11]) || (line.size() > 12 && line[12] != ' ')) {
        throw ParseError("bad status line: " + std::string(line.substr(0, 80)));
    }
    head_ = ResponseHead{};
    head_.version = std::string(line.substr(0, 8));
    head_.code = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    head_.phrase = std::string(line.substr(std::min<std::size_t>(13, line.size())));
    headerBytes_ = 0;
    headerCount_ = 0;
    state_ = State::headerLine;
}

void ResponseParser::headerLineReceived(std::string_view line) {
    if (line.empty()) {
        headersComplete();
        return;
    }
    headerBytes_ += line.size();
    if (++headerCount_ > limits_.maxHeaders || headerBytes_ > limits_.maxHeaderBytes) {
        throw ParseError("too many headers");
    }
    std::size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    // No obsolete line folding, no space before the colon (RFC 9112 5.1, 5.2).
    if (colon == std::string_view::npos || name.empty() ||
        !std::ranges::all_of(name, isTokenChar)) {
        throw ParseError("bad header line: " + std::string(line.substr(0, 80)));
    }
    head_.headers.addRawHeader(name, trim(line.substr(colon + 1)));
}

void ResponseParser::headersComplete() {
    if (head_.code < 100 || head_.code == 101) {
        throw ParseError("unexpected status " + std::to_string(head_.code));
    }
    if (head_.code < 200) {
        // An interim response (100 Continue, 103 Early Hints): the real one follows.
        if (++interimResponses_ > limits_.maxInterimResponses) {
            throw ParseError("too many interim responses");
        }
        state_ = State::statusLine;
        return;
    }
    chooseBodyMode();
    handler_.headReceived(std::move(head_));
    if (bodyMode_ == BodyMode::none) {
        finish();
    }
}

// RFC 9112 6.3, in order.
void ResponseParser::chooseBodyMode() {
    const Headers& headers = head_.headers;
    bool http11 = head_.version == "HTTP/1.1";
    persistent_ = http11 ? !hasToken(headers, "Connection", "close")
                         : hasToken(headers, "Connection", "keep-alive");
    std::vector<std::string> codings = headers.getRawHeaders("Transfer-Encoding");
    if (headRequest_ || head_.code == 204 || head_.code == 304) {
        bodyMode_ = BodyMode::none;
    } else if (!codings.empty()) {
        bool chunked = equalsIgnoreCase(lastCoding(codings), "chunked");
        bodyMode_ = chunked ? BodyMode::chunked : BodyMode::untilClose;
        state_ = chunked ? State::chunkSize : State::untilClose;
        // With Content-Length as well, someone is confused: do not reuse the connection.
        persistent_ = persistent_ && chunked && !headers.hasHeader("Content-Length");
    } else if (headers.hasHeader("Content-Length")) {
        remaining_ = contentLength_ = parseContentLength(headers);
        bodyMode_ = remaining_ == 0 ? BodyMode::none : BodyMode::length;
        state_ = State::body;
    } else {
        bodyMode_ = BodyMode::untilClose;
        state_ = State::untilClose;
        persistent_ = false;
    }
}

void ResponseParser::chunkSizeReceived(std::string_view line) {
    std::string_view size = trim(line.substr(0, line.find(';')));
    std::uint64_t n = 0;
    auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), n, 16);
    if (size.empty() || size.size() > 15 || error != std::errc{} ||
        end != size.data() + size.size()) {
        throw ParseError("bad chunk size: " + std::string(line.substr(0, 80)));
    }
    if (n == 0) {
        headerBytes_ = 0;
        headerCount_ = 0;
        state_ = State::trailer;
    } else {
        remaining_ = n;
        state_ = State::chunkData;
    }
}

void ResponseParser::trailerReceived(std::string_view line) {
    if (line.empty()) {
        finish();
        return;
    }
    headerBytes_ += line.size();
    if (++headerCount_ > limits_.maxHeaders || headerBytes_ > limits_.maxHeaderBytes) {
        throw ParseError("too many trailers");
    }
    // Trailers are read and dropped: nothing in the client uses them.
}

// Passes body bytes on, up to `remaining`; moves on when it reaches 0.
std::size_t ResponseParser::deliver(std::string_view data, std::uint64_t& remaining) {
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, data.size()));
    remaining -= take;
    if (take > 0) {
        handler_.bodyDataReceived(data.substr(0, take));
    }
    if (remaining == 0) {
        if (state_ == State::chunkData) {
            state_ = State::chunkEnd;
        } else {
            finish();
        }
    }
    return take;
}

void ResponseParser::finish() {
    state_ = State::done;
    handler_.bodyComplete();
}

void ResponseParser::connectionLost() {
    if (state_ == State::untilClose) {
        finish();
    } else if (state_ != State::done) {
        throw ParseError("connection closed before the response was complete");
    }
}

} // namespace braid::web::client
