#include "web/channel.hpp"
#include "web/http.hpp"
#include <braid/detail/read_file.hpp>
#include <braid/error.hpp>
#include <braid/web/request.hpp>

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace braid::web {

using detail::equalsIgnoreCase;

namespace {

std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name) {
    for (const auto& [field, value] : headers) {
        if (equalsIgnoreCase(field, name)) {
            return value;
        }
    }
    return std::nullopt;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

Request::Request(detail::HTTPChannel* channel, std::string method, std::string uri,
                 std::string clientproto, Headers headers, std::string content)
    : channel_(channel),
      method_(std::move(method)),
      uri_(std::move(uri)),
      clientproto_(std::move(clientproto)),
      requestHeaders_(std::move(headers)),
      content_(std::move(content)) {
    std::string_view target = uri_;
    std::size_t query = target.find('?');
    path_ = target.substr(0, query);
    if (query != std::string_view::npos) {
        parseArgs(target.substr(query + 1));
    }
    std::optional<std::string_view> type = getHeader("Content-Type");
    if (method_ == "POST" && type &&
        equalsIgnoreCase(trim(type->substr(0, type->find(';'))),
                         "application/x-www-form-urlencoded")) {
        parseArgs(content_);
    }
    // "/a/b" -> postpath ["a", "b"]; "/" -> [""].
    std::string_view rest = path_;
    if (!rest.empty() && rest.front() == '/') {
        rest.remove_prefix(1);
        for (;;) {
            std::size_t slash = rest.find('/');
            postpath.push_back(detail::unquote(rest.substr(0, slash), false));
            if (slash == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(slash + 1);
        }
    }
    std::optional<std::string_view> connection = getHeader("Connection");
    persistent_ = clientproto_ == "HTTP/1.1"
                      ? !(connection && detail::hasToken(*connection, "close"))
                      : connection && detail::hasToken(*connection, "keep-alive");
}

Request::~Request() = default;

void Request::parseArgs(std::string_view encoded) {
    while (!encoded.empty()) {
        std::size_t amp = encoded.find('&');
        std::string_view item = encoded.substr(0, amp);
        if (!item.empty()) {
            std::size_t equals = item.find('=');
            std::string name = detail::unquote(item.substr(0, equals), true);
            std::string value = equals == std::string_view::npos
                                    ? std::string()
                                    : detail::unquote(item.substr(equals + 1), true);
            args_[std::move(name)].push_back(std::move(value));
        }
        encoded = amp == std::string_view::npos ? std::string_view{} : encoded.substr(amp + 1);
    }
}

std::optional<std::string_view> Request::getArg(std::string_view name) const {
    auto it = args_.find(std::string(name));
    if (it == args_.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second.front();
}

std::optional<std::string_view> Request::getHeader(std::string_view name) const {
    return findHeader(requestHeaders_, name);
}

std::optional<std::string_view> Request::getCookie(std::string_view name) const {
    for (const auto& [field, value] : requestHeaders_) {
        if (!equalsIgnoreCase(field, "Cookie")) {
            continue;
        }
        std::string_view rest = value;
        while (!rest.empty()) {
            std::size_t semicolon = rest.find(';');
            std::string_view item = trim(rest.substr(0, semicolon));
            std::size_t equals = item.find('=');
            if (equals != std::string_view::npos && item.substr(0, equals) == name) {
                return item.substr(equals + 1);
            }
            rest = semicolon == std::string_view::npos ? std::string_view{}
                                                       : rest.substr(semicolon + 1);
        }
    }
    return std::nullopt;
}

Address Request::getClientAddress() const {
    if (channel_ == nullptr) {
        throw std::logic_error("Request::getClientAddress: the connection is gone");
    }
    return channel_->transport->getPeer();
}

Address Request::getHost() const {
    if (channel_ == nullptr) {
        throw std::logic_error("Request::getHost: the connection is gone");
    }
    return channel_->transport->getHost();
}

void Request::setResponseCode(int code, std::string_view message) {
    code_ = code;
    message_ = message.empty() ? std::string(detail::reasonPhrase(code)) : std::string(message);
}

void Request::setHeader(std::string_view name, std::string_view value) {
    for (auto& [field, current] : responseHeaders_) {
        if (equalsIgnoreCase(field, name)) {
            current = value;
            return;
        }
    }
    responseHeaders_.emplace_back(name, value);
}

std::optional<std::string_view> Request::getResponseHeader(std::string_view name) const {
    return findHeader(responseHeaders_, name);
}

bool Request::bodyAllowed() const noexcept {
    return code_ >= 200 && code_ != 204 && code_ != 304;
}

// Decides the framing, then sends the status line and headers.
void Request::writeHeaders() {
    startedWriting_ = true;
    bool http11 = clientproto_ == "HTTP/1.1";
    bool framed = getResponseHeader("Content-Length").has_value();
    if (bodyAllowed() && !framed && method_ != "HEAD") {
        chunked_ = http11;
        persistent_ = persistent_ && http11; // an HTTP/1.0 body ends with the connection
    }
    std::string head = fmt::format("HTTP/1.1 {} {}\r\n", code_,
                                   message_.empty() ? detail::reasonPhrase(code_) : message_);
    auto addHeader = [&head](std::string_view field, std::string_view value) {
        head.append(field).append(": ").append(value).append("\r\n");
    };
    if (!getResponseHeader("Date")) {
        addHeader("Date", channel_->date());
    }
    if (!getResponseHeader("Server")) {
        addHeader("Server", "braid");
    }
    for (const auto& [field, value] : responseHeaders_) {
        addHeader(field, value);
    }
    if (bodyAllowed() && !defaultContentType.empty() && !getResponseHeader("Content-Type")) {
        addHeader("Content-Type", defaultContentType);
    }
    if (chunked_) {
        head += "Transfer-Encoding: chunked\r\n";
    }
    if (!persistent_) {
        head += "Connection: close\r\n";
    } else if (!http11) {
        head += "Connection: keep-alive\r\n";
    }
    head += "\r\n";
    send(head, {}, {});
}

void Request::send(std::string_view head, std::string_view body, std::string_view tail) {
    std::array<std::string_view, 3> pieces{head, body, tail};
    std::size_t count = 3;
    while (count > 1 && pieces.at(count - 1).empty()) {
        --count;
    }
    channel_->writeFor(*this, std::span(pieces.data(), count));
}

void Request::write(std::string_view data) {
    if (finished_ || channel_ == nullptr) {
        return;
    }
    if (!startedWriting_) {
        writeHeaders();
    }
    if (data.empty() || method_ == "HEAD" || !bodyAllowed()) {
        return;
    }
    sentLength_ += data.size();
    if (chunked_) {
        send(fmt::format("{:x}\r\n", data.size()), data, "\r\n");
    } else {
        send(data, {}, {});
    }
}

std::size_t Request::writeFile(int fd, std::uint64_t offset, std::size_t count) {
    if (finished_ || channel_ == nullptr) {
        return 0;
    }
    if (!startedWriting_) {
        writeHeaders();
    }
    if (method_ == "HEAD" || !bodyAllowed()) {
        return count; // no body is sent: taken, as write() takes it
    }
    if (chunked_ || !channel_->isHead(*this)) { // framing, or held behind earlier responses
        return braid::detail::writeFilePiece(*this, fd, offset, count);
    }
    std::size_t sent = channel_->transport->writeFile(fd, offset, count);
    sentLength_ += sent;
    return sent;
}

void Request::finish() {
    if (finished_) {
        return;
    }
    std::shared_ptr<Request> self = weak_from_this().lock(); // the channel may drop it
    if (channel_ != nullptr) {
        if (!startedWriting_ && bodyAllowed() && !getResponseHeader("Content-Length")) {
            setHeader("Content-Length", "0");
        }
        write({});
        if (chunked_) {
            send("0\r\n\r\n", {}, {});
        }
    }
    finished_ = true;
    if (pushProducer_ != nullptr || pullProducer_ != nullptr) {
        unregisterProducer();
    }
    for (Deferred<void>& notification : std::exchange(finishNotifications_, {})) {
        notification.callback();
    }
    if (channel_ != nullptr) {
        channel_->requestDone(*this);
    }
}

void Request::loseConnection() {
    if (channel_ != nullptr) {
        channel_->transport->loseConnection();
    }
}

Deferred<void> Request::notifyFinish() {
    if (finished_) {
        return succeed();
    }
    if (channel_ == nullptr) {
        return fail(Failure(ConnectionLost()));
    }
    Deferred<void> d;
    finishNotifications_.push_back(d);
    return d;
}

void Request::registerProducer(IPushProducer& producer) {
    if (!acceptProducer(producer)) {
        return;
    }
    pushProducer_ = &producer;
    if (channel_->isHead(*this)) {
        channel_->transport->registerProducer(producer);
    } else {
        producer.pauseProducing(); // until the responses before this one are out
    }
}

void Request::registerProducer(IPullProducer& producer) {
    if (!acceptProducer(producer)) {
        return;
    }
    pullProducer_ = &producer;
    if (channel_->isHead(*this)) {
        channel_->transport->registerProducer(producer);
    }
}

bool Request::acceptProducer(IProducer& producer) {
    if (pushProducer_ != nullptr || pullProducer_ != nullptr) {
        throw std::logic_error("Request::registerProducer: a producer is already registered");
    }
    if (channel_ == nullptr) {
        producer.stopProducing();
        return false;
    }
    return true;
}

void Request::unregisterProducer() {
    bool registered = pushProducer_ != nullptr || pullProducer_ != nullptr;
    if (registered && channel_ != nullptr && channel_->isHead(*this)) {
        channel_->transport->unregisterProducer();
    }
    pushProducer_ = nullptr;
    pullProducer_ = nullptr;
}

void Request::becameHead() {
    if (!buffered_.empty()) {
        channel_->transport->write(std::exchange(buffered_, {}));
    }
    if (pushProducer_ != nullptr) {
        channel_->transport->registerProducer(*pushProducer_);
        pushProducer_->resumeProducing();
    } else if (pullProducer_ != nullptr) {
        channel_->transport->registerProducer(*pullProducer_);
    }
}

void Request::connectionLost(const Failure& reason, bool head) {
    channel_ = nullptr;
    if (!head) { // the transport stops the head's own producer
        if (pushProducer_ != nullptr) {
            pushProducer_->stopProducing();
        } else if (pullProducer_ != nullptr) {
            pullProducer_->stopProducing();
        }
    }
    pushProducer_ = nullptr;
    pullProducer_ = nullptr;
    if (finished_) {
        return;
    }
    for (Deferred<void>& notification : std::exchange(finishNotifications_, {})) {
        notification.errback(reason);
    }
}

} // namespace braid::web
