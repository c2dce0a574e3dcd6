#include <braid/web/client/errors.hpp>
#include <braid/web/client/uri.hpp>

#include <algorithm>
#include <charconv>

namespace braid::web {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    });
    return out;
}

std::uint16_t defaultPort(std::string_view scheme) {
    return scheme == "https" ? 443 : 80;
}

[[noreturn]] void invalid(std::string_view uri, std::string_view why) {
    throw InvalidURI("invalid URL '" + std::string(uri.substr(0, 200)) + "': " + std::string(why));
}

} // namespace

URI URI::fromBytes(std::string_view uri) {
    URI result;
    std::size_t colon = uri.find("://");
    if (colon == std::string_view::npos || colon == 0) {
        invalid(uri, "no scheme");
    }
    result.scheme = lower(uri.substr(0, colon));
    std::string_view rest = uri.substr(colon + 3);
    rest = rest.substr(0, rest.find('#'));
    std::size_t pathStart = std::min(rest.find_first_of("/?"), rest.size());
    std::string_view authority = rest.substr(0, pathStart);
    std::string_view path = rest.substr(pathStart);
    if (authority.find('@') != std::string_view::npos) {
        invalid(uri, "user information is not supported");
    }
    std::string_view portText;
    if (authority.starts_with('[')) {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            invalid(uri, "unterminated IPv6 literal");
        }
        result.host = std::string(authority.substr(1, close - 1));
        std::string_view after = authority.substr(close + 1);
        if (!after.empty() && !after.starts_with(':')) {
            invalid(uri, "junk after IPv6 literal");
        }
        portText = after.empty() ? after : after.substr(1);
    } else {
        std::size_t portColon = std::min(authority.find(':'), authority.size());
        result.host = lower(authority.substr(0, portColon));
        portText = authority.substr(std::min(portColon + 1, authority.size()));
    }
    if (result.host.empty() || result.host.find_first_of(" \t\r\n/\\") != std::string::npos) {
        invalid(uri, "bad host");
    }
    result.port = defaultPort(result.scheme);
    if (!portText.empty()) {
        unsigned port = 0;
        auto [end, error] =
            std::from_chars(portText.data(), portText.data() + portText.size(), port);
        if (error != std::errc{} || end != portText.data() + portText.size() || port == 0 ||
            port > 65535) {
            invalid(uri, "bad port");
        }
        result.port = static_cast<std::uint16_t>(port);
    }
    if (path.find_first_of(" \t\r\n") != std::string_view::npos) {
        invalid(uri, "whitespace in the path");
    }
    result.path = path.starts_with('/') ? std::string(path) : "/" + std::string(path);
    return result;
}

std::string URI::hostHeader() const {
    std::string host =
        this->host.find(':') != std::string::npos ? "[" + this->host + "]" : this->host;
    if (port != defaultPort(scheme)) {
        host += ":" + std::to_string(port);
    }
    return host;
}

std::string URI::toString() const {
    return scheme + "://" + hostHeader() + path;
}

URI URI::resolve(std::string_view reference) const {
    if (reference.find("://") != std::string_view::npos &&
        reference.find("://") < reference.find_first_of("/?#")) {
        return fromBytes(reference);
    }
    if (reference.starts_with("//")) {
        return fromBytes(scheme + ":" + std::string(reference));
    }
    URI result = *this;
    reference = reference.substr(0, reference.find('#'));
    if (reference.starts_with('/')) {
        result.path = std::string(reference);
    } else if (reference.starts_with('?')) {
        result.path = path.substr(0, path.find('?')) + std::string(reference);
    } else if (!reference.empty()) {
        std::string base = path.substr(0, path.find('?'));
        result.path = base.substr(0, base.rfind('/') + 1) + std::string(reference);
    }
    if (result.path.find_first_of(" \t\r\n") != std::string::npos) {
        invalid(reference, "whitespace in the path");
    }
    return result;
}

bool URI::sameOrigin(const URI& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
}

} // namespace braid::web
