// web::URI: an absolute http URL taken apart (twisted.web.client.URI): scheme, host
// (IPv6 literals without their brackets), port and the path with its query.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace braid::web {

struct URI {
    std::string scheme; // lower case: "http", "https"
    std::string host;   // "example.com", "127.0.0.1", "::1"
    std::uint16_t port = 80;
    std::string path = "/"; // path and query, never empty, no fragment

    // Parses scheme://host[:port][/path][?query][#fragment]; throws InvalidURI.
    static URI fromBytes(std::string_view uri);
    // What the Host header says: the host (bracketed if IPv6), with the port unless it is
    // the scheme's default.
    [[nodiscard]] std::string hostHeader() const;
    [[nodiscard]] std::string toString() const;
    // A Location value (absolute, scheme-relative, absolute-path or relative-path)
    // resolved against this URI.
    [[nodiscard]] URI resolve(std::string_view reference) const;
    // Same scheme, host and port.
    [[nodiscard]] bool sameOrigin(const URI& other) const;
};

} // namespace braid::web
