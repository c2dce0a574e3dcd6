#include "web/channel.hpp"

#include "web/http.hpp"
#include <braid/web/error_page.hpp>

#include <fmt/format.h>

#include <utility>

namespace braid::web::detail {

// llhttp's callbacks, forwarding to the channel in parser->data.
struct ParserCallbacks {
    static HTTPChannel& channel(llhttp_t* parser) {
        return *static_cast<HTTPChannel*>(parser->data);
    }

    static int onMessageBegin(llhttp_t* parser) {
        HTTPChannel& c = channel(parser);
        c.resetMessage();
        c.inMessage_ = true;
        c.cancelTimer();
        c.timer_ = c.callLater(c.site_->limits().headerTimeout, [&c] { c.fail(408); });
        return 0;
    }

    static int onUrl(llhttp_t* parser, const char* at, std::size_t length) {
        HTTPChannel& c = channel(parser);
        c.url_.append(at, length);
        return c.url_.size() > c.site_->limits().maxUriLength ? c.reject(414) : 0;
    }

    static int onHeaderField(llhttp_t* parser, const char* at, std::size_t length) {
        HTTPChannel& c = channel(parser);
        if (!c.inField_) {
            c.inField_ = true;
            c.headers_.emplace_back();
        }
        c.headers_.back().first.append(at, length);
        return c.countHeaderBytes(length);
    }

    static int onHeaderValue(llhttp_t* parser, const char* at, std::size_t length) {
        HTTPChannel& c = channel(parser);
        c.inField_ = false;
        c.headers_.back().second.append(at, length);
        return c.countHeaderBytes(length);
    }

    static int onHeadersComplete(llhttp_t* parser) { return channel(parser).headersComplete(); }

    static int onBody(llhttp_t* parser, const char* at, std::size_t length) {
        HTTPChannel& c = channel(parser);
        if (c.body_.size() + length > c.site_->limits().maxBodySize) {
            return c.reject(413);
        }
        if (c.timer_.active()) {
            c.timer_.reset(c.site_->limits().idleTimeout); // the body is still coming
        }
        c.body_.append(at, length);
        return 0;
    }

    static int onMessageComplete(llhttp_t* parser) {
        channel(parser).messageComplete();
        return HPE_PAUSED; // handled by parse(), between two llhttp_execute() calls
    }

    static llhttp_settings_t settings() {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_message_begin = onMessageBegin;
        s.on_url = onUrl;
        s.on_header_field = onHeaderField;
        s.on_header_value = onHeaderValue;
        s.on_headers_complete = onHeadersComplete;
        s.on_body = onBody;
        s.on_message_complete = onMessageComplete;
        return s;
    }
};

namespace {

const llhttp_settings_t parserSettings = ParserCallbacks::settings();

std::optional<std::string_view> findHeader(const Headers& headers, std::string_view name) {
    for (const auto& [field, value] : headers) {
        if (equalsIgnoreCase(field, name)) {
            return value;
        }
    }
    return std::nullopt;
}

} // namespace

HTTPChannel::HTTPChannel(std::shared_ptr<Site> site) : site_(std::move(site)) {
    llhttp_init(&parser_, HTTP_REQUEST, &parserSettings);
    parser_.data = this;
}

HTTPChannel::~HTTPChannel() {
    for (const std::shared_ptr<Request>& request : queue_) {
        request->channel_ = nullptr; // normally done by connectionLost()
    }
}

void HTTPChannel::connectionMade() {
    // A response written in pieces (headers, then a file; chunks) must not wait for the
    // client's delayed ACK of the piece before (nginx's tcp_nodelay).
    transport->setTcpNoDelay(true);
    startIdleTimer();
}

void HTTPChannel::dataReceived(std::string_view data) {
    if (stopParsing_) {
        return;
    }
    if (readPaused_) {
        pending_.append(data);
        return;
    }
    parse(data);
}

void HTTPChannel::parse(std::string_view data) {
    parsing_ = true;
    while (!data.empty() && !stopParsing_) {
        if (queue_.size() >= site_->limits().maxPipelinedRequests) {
            // Too many answers owed: read no more until some are sent.
            pending_.append(data);
            readPaused_ = true;
            transport->pauseProducing();
            break;
        }
        llhttp_errno_t error = llhttp_execute(&parser_, data.data(), data.size());
        if (error == HPE_OK) {
            break;
        }
        if (error == HPE_PAUSED) {
            data.remove_prefix(
                static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data()));
            llhttp_resume(&parser_);
            processRequest(std::exchange(completed_, nullptr));
            continue;
        }
        if (error == HPE_PAUSED_UPGRADE) {
            // No protocol upgrades: answer what came before, then close.
            stopParsing_ = true;
            advanceQueue();
            break;
        }
        if (errorStatus_ == 0) {
            flushPendingSpan();
        }
        fail(errorStatus_ != 0 ? errorStatus_ : 400);
    }
    parsing_ = false;
}

// llhttp hands over a URL, header or body piece when it ends or when the read does; a
// parse error drops the piece in progress. Handing it over here lets the limits see it, so
// a request too long and then malformed gets the same answer however its reads were cut.
void HTTPChannel::flushPendingSpan() {
    if (parser_._span_pos0 == nullptr || parser_._span_cb0 == nullptr) {
        return;
    }
    using SpanCallback = int (*)(llhttp_t*, const char*, const char*);
    auto callback = reinterpret_cast<SpanCallback>(parser_._span_cb0); // NOLINT: llhttp's own type
    callback(&parser_, static_cast<const char*>(parser_._span_pos0),
             llhttp_get_error_pos(&parser_));
}

int HTTPChannel::reject(int status) {
    errorStatus_ = status;
    return -1;
}

int HTTPChannel::countHeaderBytes(std::size_t length) {
    headerBytes_ += length;
    const SiteLimits& limits = site_->limits();
    return headerBytes_ > limits.maxHeaderBytes || headers_.size() > limits.maxHeaders ? reject(431)
                                                                                       : 0;
}

int HTTPChannel::headersComplete() {
    cancelTimer();
    if (parser_.http_major != 1) {
        return reject(505);
    }
    bool http11 = parser_.http_minor >= 1;
    if (http11 && !findHeader(headers_, "Host")) {
        return reject(400);
    }
    // A message with both is how requests are smuggled past proxies.
    bool hasLength = findHeader(headers_, "Content-Length").has_value();
    if (hasLength && findHeader(headers_, "Transfer-Encoding")) {
        return reject(400);
    }
    if (hasLength && parser_.content_length > site_->limits().maxBodySize) {
        return reject(413);
    }
    std::optional<std::string_view> expect = findHeader(headers_, "Expect");
    if (http11 && expect && hasToken(*expect, "100-continue") && queue_.empty()) {
        transport->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    // A body may take its time, but not stall for longer than an idle connection may.
    timer_ = callLater(site_->limits().idleTimeout, [this] { fail(408); });
    return 0;
}

void HTTPChannel::messageComplete() {
    inMessage_ = false;
    cancelTimer();
    std::string clientproto = "HTTP/1.1"; // llhttp takes one digit for each number
    clientproto[5] = static_cast<char>('0' + parser_.http_major);
    clientproto[7] = static_cast<char>('0' + parser_.http_minor);
    completed_ = std::make_shared<Request>(
        this, llhttp_method_name(static_cast<llhttp_method_t>(parser_.method)), std::move(url_),
        std::move(clientproto), std::move(headers_), std::move(body_));
    resetMessage();
}

void HTTPChannel::resetMessage() {
    inField_ = false;
    url_.clear();
    headers_.clear();
    headerBytes_ = 0;
    body_.clear();
    errorStatus_ = 0;
}

void HTTPChannel::processRequest(const std::shared_ptr<Request>& request) {
    queue_.push_back(request);
    if (!request->persistent_) {
        stopParsing_ = true; // whatever follows is not read
    }
    site_->render(request);
}

void HTTPChannel::fail(int status) {
    cancelTimer();
    stopParsing_ = true;
    inMessage_ = false;
    pending_.clear();
    auto request = std::make_shared<Request>(this, "GET", "/", "HTTP/1.1", Headers{}, "");
    request->persistent_ = false;
    queue_.push_back(request);
    std::string_view phrase = reasonPhrase(status);
    request->setResponseCode(status);
    request->setHeader("Content-Type", "text/html; charset=utf-8");
    std::string body = fmt::format("<html><head><title>{0} - {1}</title></head><body><h1>{1}</h1>"
                                   "</body></html>\n",
                                   status, phrase);
    request->setHeader("Content-Length", std::to_string(body.size()));
    request->write(body);
    request->finish();
}

void HTTPChannel::writeFor(Request& request, std::span<const std::string_view> pieces) {
    if (isHead(request)) {
        transport->writeSequence(pieces);
        return;
    }
    for (std::string_view piece : pieces) {
        request.buffered_.append(piece);
    }
}

bool HTTPChannel::isHead(const Request& request) const noexcept {
    return !queue_.empty() && queue_.front().get() == &request;
}

const std::string& HTTPChannel::date() {
    double now = site_->wallClock();
    if (dateText_.empty() || static_cast<std::int64_t>(now) != dateSecond_) {
        dateSecond_ = static_cast<std::int64_t>(now);
        dateText_ = httpDate(now);
    }
    return dateText_;
}

void HTTPChannel::requestDone(Request& request) {
    site_->log(request);
    if (isHead(request)) {
        advanceQueue();
    }
}

void HTTPChannel::advanceQueue() {
    while (!queue_.empty() && queue_.front()->finished_) {
        if (!queue_.front()->persistent_) {
            stopParsing_ = true; // it said Connection: close, or its body ended with the connection
        }
        queue_.pop_front();
        if (!queue_.empty()) {
            queue_.front()->becameHead();
        }
    }
    if (!queue_.empty()) {
        return;
    }
    if (stopParsing_) {
        cancelTimer();
        transport->loseConnection();
        return;
    }
    startIdleTimer();
    if (readPaused_ && !parsing_) {
        resumeReading();
    }
}

void HTTPChannel::resumeReading() {
    readPaused_ = false;
    transport->resumeProducing();
    std::string data = std::exchange(pending_, {});
    parse(data);
}

void HTTPChannel::startIdleTimer() {
    if (inMessage_ || stopParsing_) {
        return;
    }
    cancelTimer();
    timer_ = callLater(site_->limits().idleTimeout, [this] {
        stopParsing_ = true;
        transport->loseConnection();
    });
}

void HTTPChannel::cancelTimer() {
    if (timer_.active()) {
        timer_.cancel();
    }
}

void HTTPChannel::connectionLost(const Failure& reason) {
    stopParsing_ = true;
    auto requests = std::exchange(queue_, {});
    bool head = true;
    for (const std::shared_ptr<Request>& request : requests) {
        request->connectionLost(reason, head);
        head = false;
    }
}

} // namespace braid::web::detail
