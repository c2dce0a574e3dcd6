// Address: construction, text form, and the round trip through socket addresses (against
// the kernel too: what bind() and getsockname() make of them).
#include <braid/address.hpp>

#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

using braid::Address;

constexpr std::size_t pathOffset = offsetof(sockaddr_un, sun_path);

Address roundTrip(const Address& address) {
    sockaddr_storage storage{};
    std::size_t length = address.toSockaddr(storage);
    return Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
}

// Binds a socket of `family` to `address` and returns what getsockname() says.
Address boundAddress(int family, const Address& address) {
    int fd = ::socket(family, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_storage storage{};
    std::size_t length = address.toSockaddr(storage);
    EXPECT_EQ(
        ::bind(fd, reinterpret_cast<const sockaddr*>(&storage), static_cast<socklen_t>(length)), 0)
        << std::strerror(errno);
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof(bound);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLength), 0);
    ::close(fd);
    return Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound), boundLength);
}

TEST(AddressTest, DefaultIsNone) {
    Address address;
    EXPECT_EQ(address.family(), Address::Family::none);
    EXPECT_EQ(address.toString(), "none");
    sockaddr_storage storage{};
    EXPECT_THROW(address.toSockaddr(storage), std::invalid_argument);
}

TEST(AddressTest, Ipv4) {
    Address address = Address::ipv4("127.0.0.1", 8000);
    EXPECT_EQ(address.family(), Address::Family::ipv4);
    EXPECT_EQ(address.host(), "127.0.0.1");
    EXPECT_EQ(address.port(), 8000);
    EXPECT_EQ(address.toString(), "127.0.0.1:8000");
}

TEST(AddressTest, Ipv6IsBracketed) {
    Address address = Address::ipv6("::1", 443);
    EXPECT_EQ(address.family(), Address::Family::ipv6);
    EXPECT_EQ(address.toString(), "[::1]:443");
}

TEST(AddressTest, Unix) {
    Address address = Address::unix("/run/app.sock");
    EXPECT_EQ(address.family(), Address::Family::unix);
    EXPECT_EQ(address.path(), "/run/app.sock");
    EXPECT_EQ(address.port(), 0);
    EXPECT_EQ(address.toString(), "unix:/run/app.sock");
    EXPECT_EQ(Address::unix(std::string("\0name", 5)).toString(), "unix:@name");
    EXPECT_EQ(Address::unix("").toString(), "unix:");
}

TEST(AddressTest, EqualityComparesEveryField) {
    EXPECT_EQ(Address::ipv4("10.0.0.1", 1), Address::ipv4("10.0.0.1", 1));
    EXPECT_NE(Address::ipv4("10.0.0.1", 1), Address::ipv4("10.0.0.1", 2));
    EXPECT_NE(Address::ipv4("10.0.0.1", 1), Address::ipv4("10.0.0.2", 1));
    EXPECT_NE(Address::ipv6("::1", 1), Address::ipv4("::1", 1));
}

TEST(AddressTest, Ipv4SockaddrRoundTrip) {
    sockaddr_storage storage{};
    ASSERT_EQ(Address::ipv4("192.168.1.20", 54321).toSockaddr(storage), sizeof(sockaddr_in));
    const auto& in = reinterpret_cast<const sockaddr_in&>(storage);
    EXPECT_EQ(in.sin_family, AF_INET);
    EXPECT_EQ(ntohs(in.sin_port), 54321);
    EXPECT_EQ(ntohl(in.sin_addr.s_addr), 0xC0A80114U);
    EXPECT_EQ(roundTrip(Address::ipv4("192.168.1.20", 54321)),
              Address::ipv4("192.168.1.20", 54321));
}

TEST(AddressTest, Ipv6SockaddrRoundTrip) {
    sockaddr_storage storage{};
    ASSERT_EQ(Address::ipv6("2001:db8::7", 80).toSockaddr(storage), sizeof(sockaddr_in6));
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage);
    EXPECT_EQ(in6.sin6_family, AF_INET6);
    EXPECT_EQ(ntohs(in6.sin6_port), 80);
    EXPECT_EQ(in6.sin6_addr.s6_addr[15], 7);
    EXPECT_EQ(roundTrip(Address::ipv6("2001:db8::7", 80)), Address::ipv6("2001:db8::7", 80));
}

TEST(AddressTest, Ipv6ScopeIsTheInterface) {
    unsigned loopback = ::if_nametoindex("lo");
    if (loopback == 0) {
        GTEST_SKIP() << "no interface named lo";
    }
    sockaddr_storage storage{};
    Address::ipv6("fe80::1%lo", 0).toSockaddr(storage);
    EXPECT_EQ(reinterpret_cast<const sockaddr_in6&>(storage).sin6_scope_id, loopback);
    Address::ipv6("fe80::1%" + std::to_string(loopback), 0).toSockaddr(storage);
    EXPECT_EQ(reinterpret_cast<const sockaddr_in6&>(storage).sin6_scope_id, loopback);
    EXPECT_EQ(roundTrip(Address::ipv6("fe80::1%lo", 9)), Address::ipv6("fe80::1%lo", 9));
}

TEST(AddressTest, ToSockaddrRejectsWhatIsNotANumericAddressOfItsFamily) {
    sockaddr_storage storage{};
    EXPECT_THROW(Address::ipv4("localhost", 80).toSockaddr(storage), std::invalid_argument);
    EXPECT_THROW(Address::ipv4("::1", 80).toSockaddr(storage), std::invalid_argument);
    EXPECT_THROW(Address::ipv4("", 80).toSockaddr(storage), std::invalid_argument);
    EXPECT_THROW(Address::ipv4("256.0.0.1", 80).toSockaddr(storage), std::invalid_argument);
    EXPECT_THROW(Address::ipv6("127.0.0.1", 80).toSockaddr(storage), std::invalid_argument);
    EXPECT_THROW(Address::ipv6("fe80::1%nosuchif9", 80).toSockaddr(storage), std::invalid_argument);
    EXPECT_THROW(Address::ipv6("fe80::1%99999999999", 80).toSockaddr(storage),
                 std::invalid_argument);
}

TEST(AddressTest, UnixPathSockaddr) {
    sockaddr_storage storage{};
    std::size_t length = Address::unix("/tmp/x.sock").toSockaddr(storage);
    const auto& un = reinterpret_cast<const sockaddr_un&>(storage);
    EXPECT_EQ(un.sun_family, AF_UNIX);
    EXPECT_STREQ(un.sun_path, "/tmp/x.sock");
    EXPECT_EQ(length, pathOffset + 12); // the path and its NUL
    EXPECT_EQ(roundTrip(Address::unix("/tmp/x.sock")), Address::unix("/tmp/x.sock"));
}

TEST(AddressTest, UnixPathTooLongIsRejected) {
    sockaddr_storage storage{};
    std::size_t room = sizeof(sockaddr_un::sun_path) - 1;
    EXPECT_NO_THROW(Address::unix(std::string(room, 'a')).toSockaddr(storage));
    EXPECT_THROW(Address::unix(std::string(room + 1, 'a')).toSockaddr(storage),
                 std::invalid_argument);
}

TEST(AddressTest, AbstractUnixNameKeepsEveryByte) {
    std::string name("\0braid\0x", 8);
    sockaddr_storage storage{};
    EXPECT_EQ(Address::unix(name).toSockaddr(storage), pathOffset + name.size());
    EXPECT_EQ(roundTrip(Address::unix(name)).path(), name);
    // No NUL to make room for: the whole sun_path is usable.
    std::string longest = '\0' + std::string(sizeof(sockaddr_un::sun_path) - 1, 'a');
    EXPECT_NO_THROW(Address::unix(longest).toSockaddr(storage));
    EXPECT_THROW(Address::unix(longest + "a").toSockaddr(storage), std::invalid_argument);
}

TEST(AddressTest, FromSockaddrOfAnUnnamedUnixSocket) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    EXPECT_EQ(Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof(sa_family_t)),
              Address::unix(""));
}

TEST(AddressTest, FromSockaddrOfAFullPathWithoutItsNul) {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memset(un.sun_path, 'p', sizeof(un.sun_path));
    Address address = Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof(un));
    EXPECT_EQ(address.path(), std::string(sizeof(un.sun_path), 'p'));
}

TEST(AddressTest, FromSockaddrOfAnUnknownFamilyIsNone) {
    sockaddr_storage storage{};
    storage.ss_family = AF_PACKET;
    EXPECT_EQ(Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&storage), sizeof(storage))
                  .family(),
              Address::Family::none);
}

TEST(AddressTest, KernelBindsWhatToSockaddrSays) {
    Address ipv4 = boundAddress(AF_INET, Address::ipv4("127.0.0.1", 0));
    EXPECT_EQ(ipv4.host(), "127.0.0.1");
    EXPECT_NE(ipv4.port(), 0);

    std::string path = ::testing::TempDir() + "braid-address-" + std::to_string(::getpid());
    EXPECT_EQ(boundAddress(AF_UNIX, Address::unix(path)), Address::unix(path));
    ::unlink(path.c_str());

    // An empty path autobinds to an abstract name.
    Address autobound = boundAddress(AF_UNIX, Address::unix(""));
    ASSERT_FALSE(autobound.path().empty());
    EXPECT_EQ(autobound.path()[0], '\0');
    EXPECT_EQ(autobound.toString()[5], '@');
}

} // namespace
