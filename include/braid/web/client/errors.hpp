// The web client's errors, named as twisted.web.client / twisted.web.error name them.
// What the body protocol's connectionLost() receives is ResponseDone (all of it),
// PotentialDataLoss (a body that ended with the connection) or ResponseFailed.
#pragma once

#include <braid/error.hpp>
#include <braid/failure.hpp>

#include <string>
#include <utility>
#include <vector>

namespace braid::web {

// getPage got a status outside 2xx (twisted.web.error.Error): the status, the reason
// phrase and the body that came with it.
class Error : public braid::Error {
public:
    Error(int status, std::string message, std::string response = {})
        : braid::Error(std::to_string(status) + " " + message),
          status(status),
          message(std::move(message)),
          response(std::move(response)) {}
    int status;
    std::string message;
    std::string response;
};

// The request failed before its response was complete; `reasons` says why (the
// connection was lost, the response could not be parsed, the request timed out...).
class ResponseFailed : public braid::Error {
public:
    explicit ResponseFailed(std::vector<Failure> reasons)
        : braid::Error("response failed: " + (reasons.empty() ? std::string("unknown reason")
                                                              : reasons.front().getErrorMessage())),
          reasons(std::move(reasons)) {}
    std::vector<Failure> reasons;
};

// The connection closed before any byte of the response came.
class ResponseNeverReceived : public ResponseFailed {
public:
    using ResponseFailed::ResponseFailed;
};

// The whole body was delivered.
class ResponseDone : public ConnectionDone {
public:
    ResponseDone() : ConnectionDone("Response body fully received") {}
};

// The body had no length: it ended when the connection closed, so it may be cut short.
class PotentialDataLoss : public ConnectionDone {
public:
    PotentialDataLoss() : ConnectionDone("Response body ended with the connection") {}
};

// The URL's scheme is not one the agent can fetch (https, for now: TLS is not supported yet).
class SchemeNotSupported : public braid::Error {
public:
    using braid::Error::Error;
};

// The URL could not be parsed.
class InvalidURI : public braid::Error {
public:
    using braid::Error::Error;
};

// RedirectAgent followed more redirects than its limit (twisted.web.error.InfiniteRedirection).
class InfiniteRedirection : public braid::Error {
public:
    using braid::Error::Error;
};

// A redirect status without a Location header (twisted.web.error.RedirectWithNoLocation).
class RedirectWithNoLocation : public braid::Error {
public:
    using braid::Error::Error;
};

} // namespace braid::web
