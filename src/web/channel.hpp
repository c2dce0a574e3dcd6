// HTTPChannel (twisted.web.http.HTTPChannel): the protocol of one HTTP/1.1 server
// connection. llhttp parses requests in whatever pieces they arrive; each complete request
// is rendered at once, and responses go out in request order: only the oldest unfinished
// request writes to the transport, later ones buffer until it finishes.
#pragma once

#include <braid/protocol.hpp>
#include <braid/web/request.hpp>
#include <braid/web/site.hpp>

#include <llhttp.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace braid::web::detail {

class HTTPChannel : public Protocol {
public:
    explicit HTTPChannel(std::shared_ptr<Site> site);
    ~HTTPChannel() override;

    void connectionMade() override;
    void dataReceived(std::string_view data) override;
    void connectionLost(const Failure& reason) override;

    // For Request: sends (or, behind an unfinished earlier response, buffers) its bytes.
    void writeFor(Request& request, std::span<const std::string_view> pieces);
    // `request` finished its response.
    void requestDone(Request& request);
    [[nodiscard]] bool isHead(const Request& request) const noexcept;
    // The Date header's value: Site::wallClock(), formatted once a second.
    const std::string& date();

private:
    friend struct ParserCallbacks;

    void parse(std::string_view data);
    void processRequest(const std::shared_ptr<Request>& request);
    // Answers with `status` (after the requests before) and closes.
    void fail(int status);
    void advanceQueue();
    void resumeReading();
    void startIdleTimer();
    void cancelTimer();
    void resetMessage();
    // Returns -1 (a parser error) after noting the status to answer with.
    int reject(int status);
    void flushPendingSpan();
    int countHeaderBytes(std::size_t length);
    int headersComplete();
    void messageComplete();

    std::shared_ptr<Site> site_;
    llhttp_t parser_{};
    std::deque<std::shared_ptr<Request>> queue_;
    std::string pending_; // bytes received while reading is paused
    bool readPaused_ = false;
    bool parsing_ = false;
    bool stopParsing_ = false; // no more requests on this connection
    DelayedCall timer_;        // the header timeout or the idle timeout
    std::int64_t dateSecond_ = 0;
    std::string dateText_;

    // The message being parsed.
    bool inMessage_ = false;
    bool inField_ = false;
    std::string url_;
    Headers headers_;
    std::size_t headerBytes_ = 0;
    std::string body_;
    int errorStatus_ = 0;
    std::shared_ptr<Request> completed_;
};

} // namespace braid::web::detail
