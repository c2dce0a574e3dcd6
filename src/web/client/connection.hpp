// The web client's connection machinery (twisted.web._newclient.HTTP11ClientProtocol):
// one HTTP/1.1 request at a time on one connection, the response parsed as it comes, its
// body handed to the Response's BodyStream, and the connection given back to its pool
// when the response ends and both sides allow keep-alive.
#pragma once

#include <braid/deferred.hpp>
#include <braid/protocol.hpp>
#include <braid/web/client/body_producer.hpp>
#include <braid/web/client/response.hpp>
#include <braid/web/client/response_parser.hpp>
#include <braid/web/client/uri.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace braid::web::client {

class HTTP11ClientProtocol;

using PoolKey = std::pair<std::string, std::uint16_t>;

// What a pool and its connections share: the connections keep a weak_ptr, so a pool
// may go away before them.
struct PoolState {
    bool persistent = true;
    std::size_t maxPersistentPerHost = 2;
    double cachedConnectionTimeout = 240;
    std::map<PoolKey, std::vector<HTTP11ClientProtocol*>> idle;

    // Keeps `connection` for reuse, or closes it when there is no room.
    void put(HTTP11ClientProtocol& connection);
    // Forgets an idle connection that closed.
    void forget(HTTP11ClientProtocol& connection);
};

// A response body on its way from the connection to the protocol given to deliverBody().
class BodyStream {
public:
    BodyStream(ITransport& connection);
    BodyStream(const BodyStream&) = delete;
    BodyStream& operator=(const BodyStream&) = delete;
    ~BodyStream();

    // From the connection.
    void dataReceived(std::string_view data);
    // The body ended (ResponseDone, PotentialDataLoss or ResponseFailed); the connection
    // is no longer this body's to pause or stop.
    void finish(Failure reason);

    void deliverBody(std::unique_ptr<Protocol> protocol);

private:
    class Transport;
    void deliverEnd();

    ITransport* connection_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<Protocol> protocol_;
    std::string buffered_;
    std::optional<Failure> reason_;
    bool paused_ = false; // we paused the connection (to buffer, or for the protocol)
    bool ended_ = false;
};

// One request as the Agent hands it to a connection.
struct RequestSpec {
    std::string method;
    URI uri;
    Headers headers;
    std::shared_ptr<IBodyProducer> body;
    bool persistent = false;        // ask for keep-alive (else send Connection: close)
    std::optional<double> deadline; // on the transport's clock: fail with TimeoutError after
};

class HTTP11ClientProtocol final : public Protocol, private ResponseParser::Handler {
public:
    HTTP11ClientProtocol(std::weak_ptr<PoolState> pool, PoolKey key,
                         Deferred<HTTP11ClientProtocol*> connected);
    ~HTTP11ClientProtocol() override;

    // Sends the request; fires with the response once its head is in. One at a time.
    Deferred<Response> request(RequestSpec spec);

    void connectionMade() override;
    void dataReceived(std::string_view data) override;
    void connectionLost(const Failure& reason) override;

    [[nodiscard]] const PoolKey& key() const noexcept { return key_; }
    // Requests sent on this connection so far (more than 0: it is being reused).
    [[nodiscard]] std::size_t requestCount() const noexcept { return requests_; }
    // Set while the connection sits idle in its pool.
    DelayedCall idleTimer;
    bool inPool = false;

private:
    class BodyWriter;

    void headReceived(ResponseHead head) override;
    void bodyDataReceived(std::string_view data) override;
    void bodyComplete() override;
    void writeBody(const std::shared_ptr<IBodyProducer>& producer);
    void responseComplete(bool clean);
    void abort(Failure reason);

    std::weak_ptr<PoolState> pool_;
    PoolKey key_;
    std::optional<Deferred<HTTP11ClientProtocol*>> connected_;
    std::optional<ResponseParser> parser_;
    std::optional<Deferred<Response>> response_; // until the head is in
    std::shared_ptr<BodyStream> body_;           // from the head to the end of the body
    std::unique_ptr<BodyWriter> bodyWriter_;
    bool busy_ = false;
    bool received_ = false; // a byte of the current response came
    std::size_t requests_ = 0;
    bool bodyDone_ = false;
    bool persistentRequest_ = false;
    std::optional<Failure> abortReason_; // why we aborted (a timeout, a bad response...)
    std::shared_ptr<int> lifetime_ = std::make_shared<int>(0); // for callbacks that may outlive us
    DelayedCall timeout_;
};

} // namespace braid::web::client
