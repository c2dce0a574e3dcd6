// Address: where a connection or a listening port is, Twisted's IPv4Address,
// IPv6Address and UNIXAddress in one type. Factories receive the peer's Address in
// buildProtocol(); transports answer getPeer() and getHost() with one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sockaddr;
struct sockaddr_storage;

namespace braid {

class Address {
public:
    enum class Family : std::uint8_t { none, ipv4, ipv6, unix };

    Address() = default;

    // host is numeric ("127.0.0.1", "::1", "fe80::1%eth0"). A UNIX path starting with
    // '\0' names a Linux abstract socket; "" an unnamed one.
    static Address ipv4(std::string host, std::uint16_t port);
    static Address ipv6(std::string host, std::uint16_t port);
    static Address unix(std::string path);

    // From a socket address the kernel filled in (accept, getpeername, getsockname).
    static Address fromSockaddr(const sockaddr* address, std::size_t length);
    // Into a socket address for bind/connect; returns its length. Throws
    // std::invalid_argument for a host that is not a numeric address of its family.
    std::size_t toSockaddr(sockaddr_storage& storage) const;

    [[nodiscard]] Family family() const noexcept { return family_; }
    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] const std::string& path() const noexcept { return host_; }

    // "127.0.0.1:8000", "[::1]:8000", "unix:/run/app.sock".
    [[nodiscard]] std::string toString() const;

    friend bool operator==(const Address&, const Address&) = default;

private:
    Address(Family family, std::string hostOrPath, std::uint16_t port)
        : family_(family), host_(std::move(hostOrPath)), port_(port) {}

    Family family_ = Family::none;
    std::string host_; // numeric host, or the path of a UNIX socket
    std::uint16_t port_ = 0;
};

} // namespace braid
