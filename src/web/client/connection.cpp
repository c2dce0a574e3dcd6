#include "connection.hpp"

#include <braid/web/client/errors.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace braid::web::client {

// ---- PoolState ------------------------------------------------------------------------

void PoolState::put(HTTP11ClientProtocol& connection) {
    std::vector<HTTP11ClientProtocol*>& list = idle[connection.key()];
    if (!persistent || list.size() >= maxPersistentPerHost) {
        connection.transport->loseConnection();
        return;
    }
    list.push_back(&connection);
    connection.inPool = true;
    connection.idleTimer = connection.callLater(
        cachedConnectionTimeout, [&connection] { connection.transport->loseConnection(); });
}

void PoolState::forget(HTTP11ClientProtocol& connection) {
    auto found = idle.find(connection.key());
    if (found != idle.end()) {
        std::erase(found->second, &connection);
    }
    connection.inPool = false;
}

// ---- BodyStream -----------------------------------------------------------------------

// What the body protocol sees as its transport: it can pause, resume or stop the
// download, and nothing else (a response body is read-only).
class BodyStream::Transport final : public ITransport {
public:
    Transport(BodyStream& stream, ITransport& connection)
        : stream_(stream),
          clock_(connection.clock()),
          host_(connection.getHost()),
          peer_(connection.getPeer()) {}

    void write(std::string_view /*data*/) override { readOnly(); }
    void writeSequence(std::span<const std::string_view> /*data*/) override { readOnly(); }
    void loseConnection() override { stopProducing(); }
    void abortConnection() override { stopProducing(); }
    void loseWriteConnection() override {}
    [[nodiscard]] bool closing() const noexcept override { return stream_.connection_ == nullptr; }
    [[nodiscard]] Address getPeer() const override { return peer_; }
    [[nodiscard]] Address getHost() const override { return host_; }
    void setTcpNoDelay(bool /*enabled*/) override {}
    void setTcpKeepAlive(bool /*enabled*/) override {}
    void setWriteBufferLimits(WriteBufferLimits /*limits*/) override {}
    [[nodiscard]] std::size_t bufferedBytes() const override { return 0; }
    [[nodiscard]] IReactorTime& clock() override { return clock_; }
    void registerProducer(IPushProducer& /*producer*/) override { readOnly(); }
    void registerProducer(IPullProducer& /*producer*/) override { readOnly(); }
    void unregisterProducer() override { readOnly(); }

    void pauseProducing() override {
        if (stream_.connection_ != nullptr && !stream_.paused_) {
            stream_.paused_ = true;
            stream_.connection_->pauseProducing();
        }
    }
    void resumeProducing() override {
        if (stream_.connection_ != nullptr && stream_.paused_) {
            stream_.paused_ = false;
            stream_.connection_->resumeProducing();
        }
    }
    // Abandons the download: the connection is aborted and the protocol hears
    // ResponseFailed.
    void stopProducing() override {
        if (stream_.connection_ != nullptr) {
            stream_.connection_->abortConnection();
        }
    }

private:
    [[noreturn]] static void readOnly() {
        throw std::logic_error("a response body's transport cannot be written to");
    }

    BodyStream& stream_;
    IReactorTime& clock_;
    Address host_;
    Address peer_;
};

BodyStream::BodyStream(ITransport& connection)
    : connection_(&connection), transport_(std::make_unique<Transport>(*this, connection)) {}

BodyStream::~BodyStream() = default;

void BodyStream::dataReceived(std::string_view data) {
    if (protocol_ != nullptr) {
        protocol_->dataReceived(data);
        return;
    }
    // Nobody reads yet: keep it, and stop reading until someone does.
    buffered_.append(data);
    transport_->pauseProducing();
}

void BodyStream::finish(Failure reason) {
    transport_->resumeProducing();
    connection_ = nullptr;
    reason_ = std::move(reason);
    if (protocol_ != nullptr) {
        deliverEnd();
    }
}

void BodyStream::deliverBody(std::unique_ptr<Protocol> protocol) {
    if (protocol_ != nullptr) {
        throw std::logic_error("Response::deliverBody called twice");
    }
    protocol_ = std::move(protocol);
    protocol_->makeConnection(*transport_);
    if (!buffered_.empty()) {
        std::string data = std::move(buffered_);
        buffered_.clear();
        protocol_->dataReceived(data);
    }
    transport_->resumeProducing();
    if (reason_) {
        deliverEnd();
    }
}

// The protocol is kept until the stream goes: it may be the one whose call got us here.
void BodyStream::deliverEnd() {
    if (!ended_) {
        ended_ = true;
        braid::detail::deliverConnectionLost(*protocol_, *reason_);
    }
}

// ---- HTTP11ClientProtocol -------------------------------------------------------------

// Writes the request body, framed in chunks when its length is unknown.
class HTTP11ClientProtocol::BodyWriter final : public IConsumer {
public:
    BodyWriter(ITransport& transport, bool chunked) : transport_(transport), chunked(chunked) {}
    void registerProducer(IPushProducer& producer) override {
        transport_.registerProducer(producer);
    }
    void registerProducer(IPullProducer& producer) override {
        transport_.registerProducer(producer);
    }
    void unregisterProducer() override { transport_.unregisterProducer(); }
    void write(std::string_view data) override {
        if (!chunked) {
            transport_.write(data);
        } else if (!data.empty()) {
            std::array<char, 20> size{};
            char* end = std::to_chars(size.data(), size.data() + size.size(), data.size(), 16).ptr;
            std::string_view pieces[] = {
                std::string_view(size.data(), static_cast<std::size_t>(end - size.data())), "\r\n",
                data, "\r\n"};
            transport_.writeSequence(pieces);
        }
    }

private:
    ITransport& transport_;

public:
    const bool chunked;
};

namespace {

bool validHeaderText(std::string_view text) {
    return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

} // namespace

HTTP11ClientProtocol::HTTP11ClientProtocol(std::weak_ptr<PoolState> pool, PoolKey key,
                                           Deferred<HTTP11ClientProtocol*> connected)
    : pool_(std::move(pool)), key_(std::move(key)), connected_(std::move(connected)) {}

// Destroyed without connectionLost() (its reactor went first): must not stay in the pool.
HTTP11ClientProtocol::~HTTP11ClientProtocol() {
    if (std::shared_ptr<PoolState> pool = pool_.lock(); pool && inPool) {
        pool->forget(*this);
    }
}

void HTTP11ClientProtocol::connectionMade() {
    Deferred<HTTP11ClientProtocol*> connected = std::move(*connected_);
    connected_.reset();
    if (connected.called()) {
        transport->loseConnection(); // the request was cancelled while we connected
    } else {
        connected.callback(this);
    }
}

Deferred<Response> HTTP11ClientProtocol::request(RequestSpec spec) {
    if (busy_ || !connected || transport->closing()) {
        return fail<Response>(std::logic_error("HTTP11ClientProtocol: connection not ready"));
    }
    bool valid = validHeaderText(spec.method) && validHeaderText(spec.uri.path) &&
                 std::all_of(spec.headers.getAllRawHeaders().begin(),
                             spec.headers.getAllRawHeaders().end(), [](const Headers::Field& f) {
                                 return validHeaderText(f.first) && validHeaderText(f.second);
                             });
    if (!valid) {
        return fail<Response>(InvalidURI("CR, LF or NUL in the request's method, path or headers"));
    }
    busy_ = true;
    received_ = false;
    ++requests_;
    bodyDone_ = false;
    abortReason_.reset();
    persistentRequest_ = spec.persistent;
    parser_.emplace(static_cast<ResponseParser::Handler&>(*this), spec.method == "HEAD");
    Deferred<Response> response([this] { abort(Failure(CancelledError())); });
    response_ = response;
    if (spec.deadline) {
        timeout_ = callLater(*spec.deadline - transport->clock().seconds(),
                             [this] { abort(Failure(TimeoutError())); });
    }
    std::string head = spec.method + " " + spec.uri.path + " HTTP/1.1\r\n";
    if (!spec.headers.hasHeader("Host")) {
        head += "Host: " + spec.uri.hostHeader() + "\r\n";
    }
    for (const auto& [name, value] : spec.headers.getAllRawHeaders()) {
        head += name + ": " + value + "\r\n";
    }
    if (!spec.persistent) {
        head += "Connection: close\r\n";
    }
    if (spec.body) {
        std::optional<std::uint64_t> length = spec.body->length();
        head += length ? "Content-Length: " + std::to_string(*length) + "\r\n"
                       : std::string("Transfer-Encoding: chunked\r\n");
    }
    head += "\r\n";
    transport->write(head);
    if (spec.body) {
        writeBody(spec.body);
    }
    return response;
}

void HTTP11ClientProtocol::writeBody(const std::shared_ptr<IBodyProducer>& producer) {
    bodyWriter_ = std::make_unique<BodyWriter>(*transport, !producer->length());
    std::weak_ptr<int> alive = lifetime_;
    producer->startProducing(*bodyWriter_)
        .addCallbacks(
            [this, alive] {
                if (!alive.expired() && bodyWriter_ != nullptr && bodyWriter_->chunked) {
                    transport->write("0\r\n\r\n");
                }
            },
            [this, alive](const Failure& reason) {
                if (!alive.expired()) {
                    abort(reason);
                }
            });
}

void HTTP11ClientProtocol::dataReceived(std::string_view data) {
    if (!busy_ || !parser_) {
        abort(Failure(ParseError("data from the server while no request was pending")));
        return;
    }
    received_ = true;
    std::size_t used = 0;
    try {
        used = parser_->feed(data);
    } catch (const ParseError&) {
        abort(Failure::current());
        return;
    }
    if (bodyDone_) {
        // Bytes past the response (we never pipeline) mean the connection cannot be trusted.
        responseComplete(used == data.size());
    }
}

void HTTP11ClientProtocol::headReceived(ResponseHead head) {
    Response response;
    response.version = std::move(head.version);
    response.code = head.code;
    response.phrase = std::move(head.phrase);
    response.headers = std::move(head.headers);
    using Mode = ResponseParser::BodyMode;
    if (parser_->bodyMode() == Mode::none) {
        response.length = 0;
    } else if (parser_->bodyMode() == Mode::length) {
        response.length = parser_->contentLength();
    }
    body_ = std::make_shared<BodyStream>(*transport);
    response.body = body_;
    Deferred<Response> done = std::move(*response_);
    response_.reset();
    if (!done.called()) {
        done.callback(std::move(response));
    }
}

void HTTP11ClientProtocol::bodyDataReceived(std::string_view data) {
    body_->dataReceived(data);
}

void HTTP11ClientProtocol::bodyComplete() {
    bodyDone_ = true;
}

void HTTP11ClientProtocol::responseComplete(bool clean) {
    bool reuse = clean && persistentRequest_ && parser_->persistent() && !transport->closing();
    busy_ = false;
    if (timeout_.active()) {
        timeout_.cancel();
    }
    parser_.reset();
    bodyWriter_.reset();
    std::shared_ptr<BodyStream> body = std::move(body_);
    body_.reset();
    std::shared_ptr<PoolState> pool = pool_.lock();
    if (reuse && pool) {
        pool->put(*this);
    } else {
        transport->loseConnection();
    }
    // Last: what the body's reader does next may take this connection from the pool.
    body->finish(Failure(ResponseDone()));
}

void HTTP11ClientProtocol::abort(Failure reason) {
    if (!abortReason_) {
        abortReason_ = std::move(reason);
    }
    transport->abortConnection();
}

void HTTP11ClientProtocol::connectionLost(const Failure& reason) {
    if (inPool) {
        if (std::shared_ptr<PoolState> pool = pool_.lock()) {
            pool->forget(*this);
        }
    }
    if (!busy_) {
        return;
    }
    busy_ = false;
    Failure why = abortReason_.value_or(reason);
    if (response_) {
        Deferred<Response> done = std::move(*response_);
        response_.reset();
        if (!done.called()) {
            if (why.check<TimeoutError>()) {
                done.errback(why);
            } else if (!received_) {
                done.errback(ResponseNeverReceived({why}));
            } else {
                done.errback(ResponseFailed({why}));
            }
        }
    } else if (body_) {
        std::shared_ptr<BodyStream> body = std::move(body_);
        body_.reset();
        if (!abortReason_) {
            try {
                parser_->connectionLost(); // ends a read-until-close body
            } catch (const ParseError&) {
                why = Failure(ResponseFailed({why, Failure::current()}));
            }
        }
        if (bodyDone_) {
            body->finish(Failure(PotentialDataLoss()));
        } else {
            body->finish(why.check<ResponseFailed>() ? why : Failure(ResponseFailed({why})));
        }
    }
}

} // namespace braid::web::client
