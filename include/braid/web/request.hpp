// Request: one HTTP request and the response being written to it
// (twisted.web.server.Request / twisted.web.http.Request). Owned through a shared_ptr:
// a resource that answers later keeps request.shared_from_this(); once the connection is
// gone, write() and finish() do nothing and notifyFinish()'s Deferreds have failed.
#pragma once

#include <braid/address.hpp>
#include <braid/deferred.hpp>
#include <braid/failure.hpp>
#include <braid/producer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::web {

namespace detail {
class HTTPChannel;
} // namespace detail

// Header lines in the order they came, looked up case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;

class Request : public IConsumer, public std::enable_shared_from_this<Request> {
public:
    // What the channel parsed; `channel` may be null (a request that is not on a connection).
    Request(detail::HTTPChannel* channel, std::string method, std::string uri,
            std::string clientproto, Headers headers, std::string content);
    ~Request() override;
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;
    Request(Request&&) = delete;
    Request& operator=(Request&&) = delete;

    // --- what was asked -----------------------------------------------------------
    [[nodiscard]] const std::string& method() const noexcept { return method_; }
    // The request target as sent ("/a/b?x=1"), and its path without the query ("/a/b").
    [[nodiscard]] const std::string& uri() const noexcept { return uri_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    // "HTTP/1.1" or "HTTP/1.0".
    [[nodiscard]] const std::string& clientproto() const noexcept { return clientproto_; }
    // Arguments from the query string and from an application/x-www-form-urlencoded body,
    // decoded; a name given several times has several values.
    [[nodiscard]] const std::map<std::string, std::vector<std::string>>& args() const noexcept {
        return args_;
    }
    // The first value of argument `name`.
    [[nodiscard]] std::optional<std::string_view> getArg(std::string_view name) const;
    [[nodiscard]] const Headers& requestHeaders() const noexcept { return requestHeaders_; }
    // The first header called `name` (any case).
    [[nodiscard]] std::optional<std::string_view> getHeader(std::string_view name) const;
    [[nodiscard]] std::optional<std::string_view> getCookie(std::string_view name) const;
    // The request body.
    [[nodiscard]] const std::string& content() const noexcept { return content_; }
    [[nodiscard]] Address getClientAddress() const;
    [[nodiscard]] Address getHost() const;
    // No TLS yet.
    [[nodiscard]] bool isSecure() const noexcept { // NOLINT(*-to-static): true with TLS, later
        return false;
    }

    // Resource traversal (twisted's prepath/postpath): path segments already walked and
    // still to walk, percent-decoded.
    std::vector<std::string> prepath;
    std::vector<std::string> postpath;

    // --- the response -------------------------------------------------------------
    // Before the first write(); `message` defaults to the code's usual reason phrase.
    void setResponseCode(int code, std::string_view message = {});
    [[nodiscard]] int code() const noexcept { return code_; }
    // Replaces any header of that name (before the first write()).
    void setHeader(std::string_view name, std::string_view value);
    [[nodiscard]] std::optional<std::string_view> getResponseHeader(std::string_view name) const;
    // The Content-Type of a response that sets none ("" for none at all), as in Twisted.
    std::string defaultContentType = "text/html";
    // Writes part of the body (sending the status line and headers first). Without a
    // Content-Length header set before, the body is sent chunked (HTTP/1.1) or ends with
    // the connection (HTTP/1.0). Nothing of the body is sent for HEAD.
    void write(std::string_view data) override;
    // Writes up to `count` bytes of the open file `fd` from `offset` as body; returns how
    // many were taken (0: none now; a registered pull producer is asked again). With a
    // Content-Length and nothing queued before it, the bytes go by sendfile(2), else they
    // are read and write()n. Throws std::system_error when the file cannot be read.
    std::size_t writeFile(int fd, std::uint64_t offset, std::size_t count);
    // The response is complete.
    void finish();
    // Closes the connection once what was written has been sent (twisted's
    // Request.loseConnection), for a response that cannot be completed.
    void loseConnection();
    [[nodiscard]] bool finished() const noexcept { return finished_; }
    [[nodiscard]] bool startedWriting() const noexcept { return startedWriting_; }
    // Bytes of body written so far (not counting headers or chunk framing).
    [[nodiscard]] std::uint64_t sentLength() const noexcept { return sentLength_; }
    // Fires when the response is finished, fails (ConnectionLost...) if the connection
    // goes first.
    Deferred<void> notifyFinish();

    // IConsumer: the producer is paced by the connection (paused while an earlier
    // pipelined response is still being sent). Unregistered by finish().
    void registerProducer(IPushProducer& producer) override;
    void registerProducer(IPullProducer& producer) override;
    void unregisterProducer() override;

private:
    friend class detail::HTTPChannel;

    void writeHeaders();
    void send(std::string_view head, std::string_view body, std::string_view tail);
    void parseArgs(std::string_view encoded);
    // Called by the channel.
    void becameHead();
    // Whether a producer may be registered now (stops it if the connection is gone).
    bool acceptProducer(IProducer& producer);
    void connectionLost(const Failure& reason, bool head);
    [[nodiscard]] bool bodyAllowed() const noexcept;

    detail::HTTPChannel* channel_;
    std::string method_;
    std::string uri_;
    std::string path_;
    std::string clientproto_;
    Headers requestHeaders_;
    std::string content_;
    std::map<std::string, std::vector<std::string>> args_;

    int code_ = 200;
    std::string message_;
    Headers responseHeaders_;
    bool startedWriting_ = false;
    std::uint64_t sentLength_ = 0;
    bool chunked_ = false;
    bool finished_ = false;
    bool persistent_ = true;
    // Response bytes held while an earlier pipelined response is being sent.
    std::string buffered_;
    // At most one of them.
    IPushProducer* pushProducer_ = nullptr;
    IPullProducer* pullProducer_ = nullptr;
    std::vector<Deferred<void>> finishNotifications_;
};

} // namespace braid::web
