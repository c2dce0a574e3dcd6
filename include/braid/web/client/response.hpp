// web::Response (twisted.web.iweb.IResponse as _newclient.Response gives it): the status
// and headers of an answer, and its body, which is handed to a Protocol with
// deliverBody() or gathered into a string with readBody().
//
//     agent.request("GET", url).addCallback([](Response response) { return readBody(response); });
#pragma once

#include <braid/deferred.hpp>
#include <braid/protocol.hpp>
#include <braid/web/client/headers.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace braid::web {

namespace client {
class BodyStream;
} // namespace client

class Response {
public:
    std::string version; // "HTTP/1.1"
    int code = 0;
    std::string phrase;
    client::Headers headers;
    // The body's length when the response says it (Content-Length), else nullopt.
    std::optional<std::uint64_t> length;

    // Gives the body to `protocol`: makeConnection() with a transport that can pause,
    // resume or stop the download, dataReceived() for each piece, then connectionLost()
    // with ResponseDone, PotentialDataLoss (a body framed by the connection's end) or
    // ResponseFailed. Bytes that arrived before the call are kept (and the download
    // paused) until it. Call it once; a second call throws std::logic_error.
    void deliverBody(std::unique_ptr<Protocol> protocol) const;

    // For the client's connection: the stream this response's body comes through.
    std::shared_ptr<client::BodyStream> body;
};

// The whole body (twisted.web.client.readBody). A body that ended with the connection
// (PotentialDataLoss) counts as complete; anything else that ends it fails the Deferred.
Deferred<std::string> readBody(const Response& response);

} // namespace braid::web
