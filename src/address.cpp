#include <braid/address.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace braid {

namespace {

constexpr std::size_t pathOffset = offsetof(sockaddr_un, sun_path);

std::string ntop(int family, const void* address) {
    char text[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(family, address, text, sizeof(text));
    return text;
}

void pton(int family, const std::string& host, void* address) {
    if (::inet_pton(family, host.c_str(), address) != 1) {
        throw std::invalid_argument("not a numeric " +
                                    std::string(family == AF_INET ? "IPv4" : "IPv6") +
                                    " address: \"" + host + "\"");
    }
}

// A link-local IPv6 address carries its interface: "fe80::1%eth0" (or "%2" when the
// interface has no name any more), as getaddrinfo and Python's socket module write it.
std::string withScope(std::string host, std::uint32_t scope) {
    if (scope == 0) {
        return host;
    }
    char name[IF_NAMESIZE] = {};
    return host + "%" + (::if_indextoname(scope, name) != nullptr ? name : std::to_string(scope));
}

std::uint32_t parseScope(const std::string& scope, const std::string& host) {
    if (std::uint32_t index = ::if_nametoindex(scope.c_str()); index != 0) {
        return index;
    }
    std::uint32_t number = 0;
    const char* end = scope.data() + scope.size();
    if (auto [last, error] = std::from_chars(scope.data(), end, number);
        error == std::errc() && last == end) {
        return number;
    }
    throw std::invalid_argument("unknown interface in IPv6 address: \"" + host + "\"");
}

Address fromUnix(const sockaddr_un& address, std::size_t length) {
    if (length <= pathOffset) {
        return Address::unix(""); // an unnamed socket (socketpair, or a client not bound)
    }
    std::size_t size = length - pathOffset;
    if (address.sun_path[0] == '\0') {
        // Abstract namespace: every byte counts, the leading NUL included.
        return Address::unix(std::string(address.sun_path, size));
    }
    return Address::unix(std::string(address.sun_path, ::strnlen(address.sun_path, size)));
}

std::size_t toUnix(const std::string& path, sockaddr_un& address) {
    bool abstract = !path.empty() && path[0] == '\0';
    // A filesystem path needs room for its terminating NUL; an abstract name does not.
    std::size_t room = sizeof(address.sun_path) - (abstract ? 0 : 1);
    if (path.size() > room) {
        throw std::invalid_argument("UNIX socket path longer than " + std::to_string(room) +
                                    " bytes: \"" + path + "\"");
    }
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    if (path.empty() || abstract) {
        return pathOffset + path.size(); // empty: bind() picks an abstract name (autobind)
    }
    return pathOffset + path.size() + 1;
}

} // namespace

Address Address::ipv4(std::string host, std::uint16_t port) {
    return {Family::ipv4, std::move(host), port};
}

Address Address::ipv6(std::string host, std::uint16_t port) {
    return {Family::ipv6, std::move(host), port};
}

Address Address::unix(std::string path) {
    return {Family::unix, std::move(path), 0};
}

Address Address::fromSockaddr(const sockaddr* address, std::size_t length) {
    switch (address->sa_family) {
    case AF_INET: {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        return ipv4(ntop(AF_INET, &in->sin_addr), ntohs(in->sin_port));
    }
    case AF_INET6: {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        return ipv6(withScope(ntop(AF_INET6, &in6->sin6_addr), in6->sin6_scope_id),
                    ntohs(in6->sin6_port));
    }
    case AF_UNIX: return fromUnix(*reinterpret_cast<const sockaddr_un*>(address), length);
    default: return {};
    }
}

std::size_t Address::toSockaddr(sockaddr_storage& storage) const {
    std::memset(&storage, 0, sizeof(storage));
    switch (family_) {
    case Family::ipv4: {
        auto* in = reinterpret_cast<sockaddr_in*>(&storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(port_);
        pton(AF_INET, host_, &in->sin_addr);
        return sizeof(sockaddr_in);
    }
    case Family::ipv6: {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port_);
        std::size_t percent = host_.find('%');
        pton(AF_INET6, host_.substr(0, percent), &in6->sin6_addr);
        if (percent != std::string::npos) {
            in6->sin6_scope_id = parseScope(host_.substr(percent + 1), host_);
        }
        return sizeof(sockaddr_in6);
    }
    case Family::unix: return toUnix(host_, *reinterpret_cast<sockaddr_un*>(&storage));
    case Family::none: break;
    }
    throw std::invalid_argument("Address::toSockaddr: the address is empty");
}

std::string Address::toString() const {
    switch (family_) {
    case Family::ipv4: return host_ + ":" + std::to_string(port_);
    case Family::ipv6: return "[" + host_ + "]:" + std::to_string(port_);
    case Family::unix:
        // Abstract names are written with '@' for their leading NUL, as ss(8) does.
        return "unix:" + (!host_.empty() && host_[0] == '\0' ? "@" + host_.substr(1) : host_);
    case Family::none: break;
    }
    return "none";
}

} // namespace braid
