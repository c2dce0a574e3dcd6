// Endpoints: serverFromString / clientFromString on good and bad descriptions (each error
// message checked), the endpoints against MemoryReactor, and the client endpoint's Deferred
// firing with the protocol, failing, and being cancelled.
#include <braid/endpoints.hpp>
#include <braid/error.hpp>
#include <braid/protocols/echo.hpp>
#include <braid/reactor.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/memory_reactor.hpp>
#include <braid/testing/run_until.hpp>
#include <braid/testing/string_transport.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

using braid::Address;
using braid::CannotListenError;
using braid::ClientFactory;
using braid::clientFromString;
using braid::ConnectError;
using braid::ConnectingCancelledError;
using braid::ConnectionDone;
using braid::ConnectionRefusedError;
using braid::Deferred;
using braid::EndpointDescriptionError;
using braid::Factory;
using braid::Failure;
using braid::IListeningPort;
using braid::IStreamClientEndpoint;
using braid::IStreamServerEndpoint;
using braid::Protocol;
using braid::Reactor;
using braid::serverFromString;
using braid::TCP4ClientEndpoint;
using braid::TCP4ServerEndpoint;
using braid::TCP6ClientEndpoint;
using braid::TCP6ServerEndpoint;
using braid::UNIXClientEndpoint;
using braid::UNIXServerEndpoint;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::MemoryReactor;
using braid::testing::runUntil;
using braid::testing::StringTransport;
using braid::testing::successResultOf;

namespace {

template <class Endpoint, class Base>
const Endpoint& as(const std::unique_ptr<Base>& endpoint) {
    const auto* typed = dynamic_cast<const Endpoint*>(endpoint.get());
    if (typed == nullptr) {
        throw std::logic_error("the endpoint is not of the expected type");
    }
    return *typed;
}

// The message of the EndpointDescriptionError that parsing `description` throws.
template <class Parse>
std::string errorOf(Parse parse, const std::string& description) {
    MemoryReactor reactor;
    try {
        parse(reactor, description);
    } catch (const EndpointDescriptionError& error) {
        return error.what();
    }
    return "(no error)";
}

std::string serverError(const std::string& description) {
    return errorOf([](MemoryReactor& r, const std::string& d) { serverFromString(r, d); },
                   description);
}

std::string clientError(const std::string& description) {
    return errorOf([](MemoryReactor& r, const std::string& d) { clientFromString(r, d); },
                   description);
}

constexpr const char* ipv6Hint =
    " (if that is an IPv6 address, escape its colons with backslashes: \\:\\:1)";

// --- serverFromString ----------------------------------------------------------------------

class ServerFromString : public ::testing::Test {
protected:
    MemoryReactor reactor;
};

TEST_F(ServerFromString, TcpPortOnly) {
    auto endpoint = serverFromString(reactor, "tcp:8080");
    const auto& tcp = as<TCP4ServerEndpoint>(endpoint);
    EXPECT_EQ(tcp.port(), 8080);
    EXPECT_EQ(tcp.backlog(), 50);
    EXPECT_EQ(tcp.interface(), "");
}

TEST_F(ServerFromString, TcpKeywords) {
    auto endpoint = serverFromString(reactor, "tcp:8080:interface=127.0.0.1:backlog=10");
    const auto& tcp = as<TCP4ServerEndpoint>(endpoint);
    EXPECT_EQ(tcp.port(), 8080);
    EXPECT_EQ(tcp.backlog(), 10);
    EXPECT_EQ(tcp.interface(), "127.0.0.1");
}

TEST_F(ServerFromString, TcpEverythingByName) {
    auto endpoint = serverFromString(reactor, "tcp:backlog=7:port=80:interface=10.0.0.1");
    const auto& tcp = as<TCP4ServerEndpoint>(endpoint);
    EXPECT_EQ(tcp.port(), 80);
    EXPECT_EQ(tcp.backlog(), 7);
    EXPECT_EQ(tcp.interface(), "10.0.0.1");
}

TEST_F(ServerFromString, TcpEverythingPositional) {
    // Twisted's _parseTCP(factory, port, interface, backlog).
    auto endpoint = serverFromString(reactor, "tcp:80:127.0.0.1:10");
    const auto& tcp = as<TCP4ServerEndpoint>(endpoint);
    EXPECT_EQ(tcp.port(), 80);
    EXPECT_EQ(tcp.interface(), "127.0.0.1");
    EXPECT_EQ(tcp.backlog(), 10);
}

TEST_F(ServerFromString, TcpPortZeroAndMaximum) {
    EXPECT_EQ(as<TCP4ServerEndpoint>(serverFromString(reactor, "tcp:0")).port(), 0);
    EXPECT_EQ(as<TCP4ServerEndpoint>(serverFromString(reactor, "tcp:65535")).port(), 65535);
}

TEST_F(ServerFromString, TypeIsCaseInsensitive) {
    EXPECT_EQ(as<TCP4ServerEndpoint>(serverFromString(reactor, "TCP:80")).port(), 80);
}

TEST_F(ServerFromString, TcpInterfaceMayBeIPv6) {
    auto endpoint = serverFromString(reactor, R"(tcp:80:interface=\:\:1)");
    EXPECT_EQ(as<TCP4ServerEndpoint>(endpoint).interface(), "::1");
}

TEST_F(ServerFromString, Tcp6DefaultsToEveryIPv6Address) {
    auto endpoint = serverFromString(reactor, "tcp6:8080");
    const auto& tcp = as<TCP6ServerEndpoint>(endpoint);
    EXPECT_EQ(tcp.port(), 8080);
    EXPECT_EQ(tcp.interface(), "::");
    EXPECT_EQ(tcp.backlog(), 50);
}

TEST_F(ServerFromString, Tcp6EscapedInterface) {
    auto endpoint = serverFromString(reactor, R"(tcp6:8080:interface=\:\:1)");
    EXPECT_EQ(as<TCP6ServerEndpoint>(endpoint).interface(), "::1");
}

TEST_F(ServerFromString, Tcp6TakesBacklogBeforeInterface) {
    // Twisted's tcp6 parser: (port, backlog, interface).
    auto endpoint = serverFromString(reactor, R"(tcp6:8080:5:fe80\:\:1)");
    const auto& tcp = as<TCP6ServerEndpoint>(endpoint);
    EXPECT_EQ(tcp.backlog(), 5);
    EXPECT_EQ(tcp.interface(), "fe80::1");
}

TEST_F(ServerFromString, UnixWithOctalModeAndBacklog) {
    auto endpoint = serverFromString(reactor, "unix:/path/to.sock:mode=660:backlog=5");
    const auto& unix = as<UNIXServerEndpoint>(endpoint);
    EXPECT_EQ(unix.path(), "/path/to.sock");
    EXPECT_EQ(unix.mode(), 0660);
    EXPECT_EQ(unix.backlog(), 5);
}

TEST_F(ServerFromString, UnixDefaults) {
    auto endpoint = serverFromString(reactor, "unix:/var/run/finger");
    const auto& unix = as<UNIXServerEndpoint>(endpoint);
    EXPECT_EQ(unix.mode(), 0666);
    EXPECT_EQ(unix.backlog(), 50);
}

TEST_F(ServerFromString, UnixAddressByNameAndLockfileZero) {
    auto endpoint = serverFromString(reactor, "unix:address=/x.sock:lockfile=0");
    EXPECT_EQ(as<UNIXServerEndpoint>(endpoint).path(), "/x.sock");
}

TEST_F(ServerFromString, BackslashEscapesColonsEqualsAndBackslashes) {
    auto endpoint = serverFromString(reactor, R"(unix:/tmp/a\:b\=c\\d)");
    EXPECT_EQ(as<UNIXServerEndpoint>(endpoint).path(), R"(/tmp/a:b=c\d)");
}

TEST_F(ServerFromString, QuoteStringArgumentRoundTrips) {
    std::string path = R"(/tmp/we:ird\name=.sock)";
    auto endpoint = serverFromString(reactor, "unix:" + braid::quoteStringArgument(path));
    EXPECT_EQ(as<UNIXServerEndpoint>(endpoint).path(), path);
    EXPECT_EQ(braid::quoteStringArgument(R"(a:b\c=d)"), R"(a\:b\\c\=d)");
}

TEST(ServerFromStringErrors, EmptyOrTypeless) {
    EXPECT_EQ(serverError(""), "empty endpoint description");
    EXPECT_EQ(serverError("port=80"), "endpoint description 'port=80' does not start with a type");
    EXPECT_EQ(serverError(R"(tcp:80\)"),
              R"(endpoint description 'tcp:80\' ends with a lone backslash)");
}

TEST(ServerFromStringErrors, UnknownType) {
    EXPECT_EQ(serverError("tcpp:80"), "unknown endpoint type 'tcpp' (expected tcp, tcp6 or unix)");
    EXPECT_EQ(serverError("udp:53"), "unknown endpoint type 'udp' (expected tcp, tcp6 or unix)");
}

TEST(ServerFromStringErrors, TlsIsNotSupportedYet) {
    EXPECT_EQ(serverError("ssl:443:privateKey=key.pem"), "ssl: TLS is not supported yet");
}

TEST(ServerFromStringErrors, BadPorts) {
    EXPECT_EQ(serverError("tcp:abc"), "tcp: port 'abc' is not a number");
    EXPECT_EQ(serverError("tcp:"), "tcp: port '' is not a number");
    EXPECT_EQ(serverError("tcp:-1"), "tcp: port '-1' is not a number");
    EXPECT_EQ(serverError("tcp:8o"), "tcp: port '8o' is not a number");
    EXPECT_EQ(serverError("tcp: 80"), "tcp: port ' 80' is not a number");
    EXPECT_EQ(serverError("tcp:70000"), "tcp: port '70000' is out of range (0-65535)");
    EXPECT_EQ(serverError("tcp:99999999999999999999999"),
              "tcp: port '99999999999999999999999' is out of range (0-65535)");
    EXPECT_EQ(serverError("tcp"), "tcp: missing port");
    EXPECT_EQ(serverError("tcp:interface=127.0.0.1"), "tcp: missing port");
}

TEST(ServerFromStringErrors, UnknownArgument) {
    EXPECT_EQ(serverError("tcp:80:interfce=127.0.0.1"),
              "tcp: unknown argument 'interfce' (expected port, interface, backlog)");
    EXPECT_EQ(serverError("unix:/x:host=y"),
              "unix: unknown argument 'host' (expected address, mode, backlog, lockfile)");
}

TEST(ServerFromStringErrors, ArgumentsGivenTwice) {
    EXPECT_EQ(serverError("tcp:80:port=81"), "tcp: argument 'port' given twice");
    EXPECT_EQ(serverError("tcp:80:backlog=1:backlog=2"), "tcp: argument 'backlog' given twice");
}

TEST(ServerFromStringErrors, TooManyPositionalArguments) {
    EXPECT_EQ(serverError("tcp:80:127.0.0.1:10:extra"),
              "tcp: unexpected positional argument 'extra' (at most 3: port, interface, backlog)");
}

TEST(ServerFromStringErrors, BadBacklog) {
    EXPECT_EQ(serverError("tcp:80:backlog=ten"), "tcp: backlog 'ten' is not a number");
    EXPECT_EQ(serverError("tcp:80:backlog=0"), "tcp: backlog '0' is out of range (1-2147483647)");
}

TEST(ServerFromStringErrors, BadInterfaces) {
    EXPECT_EQ(serverError("tcp:80:interface=localhost"),
              "tcp: interface 'localhost' is not a numeric IP address");
    EXPECT_EQ(serverError("tcp6:80:interface=127.0.0.1"),
              "tcp6: interface '127.0.0.1' is not a numeric IPv6 address");
    EXPECT_EQ(serverError("tcp6:80:interface="),
              "tcp6: interface '' is not a numeric IPv6 address");
}

TEST(ServerFromStringErrors, UnescapedIPv6AddressGetsAHint) {
    EXPECT_EQ(serverError("tcp6:8080:interface=::1"),
              std::string("tcp6: argument 'interface' given twice") + ipv6Hint);
}

TEST(ServerFromStringErrors, BadUnixArguments) {
    EXPECT_EQ(serverError("unix:/x:mode=999"), "unix: mode '999' is not an octal number");
    EXPECT_EQ(serverError("unix:/x:mode=0o660"), "unix: mode '0o660' is not an octal number");
    EXPECT_EQ(serverError("unix:/x:mode=1777"), "unix: mode '1777' is out of range (0-777)");
    EXPECT_EQ(serverError("unix:/x:mode=6=6"), "unix: mode '6=6' is not an octal number");
    EXPECT_EQ(serverError("unix:/x:lockfile=1"),
              "unix: lockfile=1 is not supported (braid creates no lock files)");
    EXPECT_EQ(serverError("unix:/x:lockfile=yes"), "unix: lockfile 'yes' is not a number");
    EXPECT_EQ(serverError("unix"), "unix: missing address");
    EXPECT_EQ(serverError("unix:"), "unix: address is empty");
    std::string longPath = "/" + std::string(107, 'x');
    EXPECT_EQ(serverError("unix:" + longPath),
              "unix: address '" + longPath + "' is too long (at most 107 bytes)");
}

// --- clientFromString ----------------------------------------------------------------------

class ClientFromString : public ::testing::Test {
protected:
    MemoryReactor reactor;
};

TEST_F(ClientFromString, TcpByName) {
    auto endpoint = clientFromString(reactor, "tcp:host=example.com:port=80:timeout=10");
    const auto& tcp = as<TCP4ClientEndpoint>(endpoint);
    EXPECT_EQ(tcp.host(), "example.com");
    EXPECT_EQ(tcp.port(), 80);
    EXPECT_EQ(tcp.timeout(), 10);
    EXPECT_FALSE(tcp.bindAddress());
}

TEST_F(ClientFromString, TcpPositional) {
    auto endpoint = clientFromString(reactor, "tcp:example.com:80");
    const auto& tcp = as<TCP4ClientEndpoint>(endpoint);
    EXPECT_EQ(tcp.host(), "example.com");
    EXPECT_EQ(tcp.port(), 80);
    EXPECT_EQ(tcp.timeout(), 30);
}

TEST_F(ClientFromString, OnePositionalIsThePortWhenHostIsNamed) {
    auto endpoint = clientFromString(reactor, "tcp:host=example.com:80");
    EXPECT_EQ(as<TCP4ClientEndpoint>(endpoint).port(), 80);
    auto other = clientFromString(reactor, "tcp:example.com:port=81");
    EXPECT_EQ(as<TCP4ClientEndpoint>(other).host(), "example.com");
    EXPECT_EQ(as<TCP4ClientEndpoint>(other).port(), 81);
}

TEST_F(ClientFromString, TcpBindAddressAndFractionalTimeout) {
    auto endpoint =
        clientFromString(reactor, "tcp:example.com:80:bindAddress=192.0.2.100:timeout=2.5");
    const auto& tcp = as<TCP4ClientEndpoint>(endpoint);
    EXPECT_EQ(tcp.bindAddress(), Address::ipv4("192.0.2.100", 0));
    EXPECT_EQ(tcp.timeout(), 2.5);
}

TEST_F(ClientFromString, Tcp6EscapedHost) {
    auto endpoint = clientFromString(reactor, R"(tcp6:host=\:\:1:port=80)");
    const auto& tcp = as<TCP6ClientEndpoint>(endpoint);
    EXPECT_EQ(tcp.host(), "::1");
    EXPECT_EQ(tcp.port(), 80);
}

TEST_F(ClientFromString, Tcp6BindAddress) {
    auto endpoint = clientFromString(reactor, R"(tcp6:example.com:443:bindAddress=\:\:1)");
    EXPECT_EQ(as<TCP6ClientEndpoint>(endpoint).bindAddress(), Address::ipv6("::1", 0));
}

TEST_F(ClientFromString, Unix) {
    auto endpoint = clientFromString(reactor, "unix:path=/x.sock:timeout=5");
    const auto& unix = as<UNIXClientEndpoint>(endpoint);
    EXPECT_EQ(unix.path(), "/x.sock");
    EXPECT_EQ(unix.timeout(), 5);
    EXPECT_EQ(
        as<UNIXClientEndpoint>(clientFromString(reactor, "unix:/var/foo/bar:lockfile=0")).path(),
        "/var/foo/bar");
}

TEST(ClientFromStringErrors, MissingHostOrPort) {
    EXPECT_EQ(clientError("tcp:example.com"), "tcp: missing port");
    EXPECT_EQ(clientError("tcp:port=80"), "tcp: missing host");
    EXPECT_EQ(clientError("tcp::80"), std::string("tcp: host is empty") + ipv6Hint);
}

TEST(ClientFromStringErrors, BadPortOrTimeout) {
    EXPECT_EQ(clientError("tcp:example.com:0"), "tcp: port '0' is out of range (1-65535)");
    EXPECT_EQ(clientError("tcp:example.com:http"), "tcp: port 'http' is not a number");
    EXPECT_EQ(clientError("tcp:example.com:80:timeout=soon"),
              "tcp: timeout 'soon' is not a number");
    EXPECT_EQ(clientError("tcp:example.com:80:timeout=inf"), "tcp: timeout 'inf' is not a number");
    EXPECT_EQ(clientError("tcp:example.com:80:timeout=0"),
              "tcp: timeout '0' must be more than 0 seconds");
    EXPECT_EQ(clientError("tcp:example.com:80:timeout=-1"),
              "tcp: timeout '-1' must be more than 0 seconds");
}

TEST(ClientFromStringErrors, UnknownOrExtraArguments) {
    EXPECT_EQ(clientError("tcp:example.com:80:interface=x"),
              "tcp: unknown argument 'interface' (expected host, port, timeout, bindAddress)");
    EXPECT_EQ(clientError("tcp:example.com:80:extra"),
              "tcp: unexpected positional argument 'extra' (at most 2: host, port)");
    EXPECT_EQ(clientError("tcp:host=a:b:c"),
              "tcp: unexpected positional argument 'c' (at most 2: host, port)");
    EXPECT_EQ(clientError("unix:/a:/b"),
              "unix: unexpected positional argument '/b' (at most 1: path)");
    EXPECT_EQ(clientError("tcp:a:80:host=b"),
              "tcp: unexpected positional argument '80' (at most 2: host, port)");
}

TEST(ClientFromStringErrors, BadBindAddress) {
    EXPECT_EQ(clientError("tcp:example.com:80:bindAddress=localhost"),
              "tcp: bindAddress 'localhost' is not a numeric IP address");
    EXPECT_EQ(clientError("tcp6:example.com:80:bindAddress=127.0.0.1"),
              "tcp6: bindAddress '127.0.0.1' is not a numeric IPv6 address");
}

TEST(ClientFromStringErrors, UnescapedIPv6HostGetsAHint) {
    EXPECT_EQ(clientError("tcp6:host=::1:port=80"),
              std::string("tcp6: unexpected positional argument '' (at most 2: host, port)") +
                  ipv6Hint);
}

TEST(ClientFromStringErrors, TypesAndTls) {
    EXPECT_EQ(clientError("ssl:example.com:443"), "ssl: TLS is not supported yet");
    EXPECT_EQ(clientError("tls:example.com:443"), "tls: TLS is not supported yet");
    EXPECT_EQ(clientError("http:example.com"),
              "unknown endpoint type 'http' (expected tcp, tcp6 or unix)");
}

TEST(ClientFromStringErrors, Unix) {
    EXPECT_EQ(clientError("unix:timeout=5"), "unix: missing path");
    EXPECT_EQ(clientError("unix:/x:lockfile=1"),
              "unix: lockfile=1 is not supported (braid creates no lock files)");
}

TEST(ServerFromStringErrors, AreBraidErrors) {
    MemoryReactor reactor;
    EXPECT_THROW(serverFromString(reactor, "nope:1"), braid::Error);
}

// --- server endpoints ------------------------------------------------------------------------

TEST(ServerEndpoint, TcpListensThroughTheReactor) {
    MemoryReactor reactor;
    auto factory = Factory::forProtocol<braid::protocols::Echo>();
    TCP4ServerEndpoint endpoint(reactor, 8080, 10, "127.0.0.1");
    Deferred<std::shared_ptr<IListeningPort>> d = endpoint.listen(factory);
    std::shared_ptr<IListeningPort> port = successResultOf(d);
    ASSERT_EQ(reactor.tcpServers.size(), 1U);
    const MemoryReactor::TCPServer& server = reactor.tcpServers[0];
    EXPECT_EQ(server.port, 8080);
    EXPECT_EQ(server.backlog, 10);
    EXPECT_EQ(server.interface, "127.0.0.1");
    EXPECT_EQ(server.factory, factory);
    EXPECT_EQ(port, server.listener);
}

TEST(ServerEndpoint, FromStringListens) {
    MemoryReactor reactor;
    auto d = serverFromString(reactor, R"(tcp6:0:interface=\:\:1)")
                 ->listen(Factory::forProtocol<braid::protocols::Echo>());
    successResultOf(d);
    ASSERT_EQ(reactor.tcpServers.size(), 1U);
    EXPECT_EQ(reactor.tcpServers[0].port, 0);
    EXPECT_EQ(reactor.tcpServers[0].interface, "::1");
}

TEST(ServerEndpoint, UnixListensThroughTheReactor) {
    MemoryReactor reactor;
    auto d = serverFromString(reactor, "unix:/run/app.sock:mode=600:backlog=3")
                 ->listen(Factory::forProtocol<braid::protocols::Echo>());
    successResultOf(d);
    ASSERT_EQ(reactor.unixServers.size(), 1U);
    EXPECT_EQ(reactor.unixServers[0].path, "/run/app.sock");
    EXPECT_EQ(reactor.unixServers[0].mode, 0600);
    EXPECT_EQ(reactor.unixServers[0].backlog, 3);
}

// A reactor whose every listen and connect throws, as a real one does when the address is
// taken or the path is bad.
class ThrowingReactor final : public braid::IReactorTCP, public braid::IReactorUNIX {
public:
    std::shared_ptr<IListeningPort> listenTCP(std::uint16_t, std::shared_ptr<Factory>, int,
                                              std::string_view) override {
        throw CannotListenError("Couldn't listen on any:80: [Errno 98] Address already in use.");
    }
    std::shared_ptr<braid::IConnector> connectTCP(std::string_view, std::uint16_t,
                                                  std::shared_ptr<ClientFactory>, double,
                                                  std::optional<Address>) override {
        throw std::invalid_argument("bad bind address");
    }
    std::shared_ptr<IListeningPort> listenUNIX(std::string_view, std::shared_ptr<Factory>, int,
                                               int) override {
        throw CannotListenError("Couldn't listen on /nonexistent/x.sock");
    }
    std::shared_ptr<braid::IConnector> connectUNIX(std::string_view, std::shared_ptr<ClientFactory>,
                                                   double) override {
        throw std::invalid_argument("bad path");
    }
};

TEST(ServerEndpoint, ListenErrorsBecomeFailedDeferreds) {
    ThrowingReactor reactor;
    auto factory = Factory::forProtocol<braid::protocols::Echo>();
    auto tcp = TCP4ServerEndpoint(reactor, 80).listen(factory);
    Failure failure = failureResultOf(tcp);
    EXPECT_TRUE(failure.check<CannotListenError>());
    EXPECT_EQ(failure.getErrorMessage(),
              "Couldn't listen on any:80: [Errno 98] Address already in use.");
    auto unix = UNIXServerEndpoint(reactor, "/nonexistent/x.sock").listen(factory);
    EXPECT_TRUE(failureResultOf(unix).check<CannotListenError>());
}

// --- client endpoints ------------------------------------------------------------------------

// Records what happens to it.
class Recorder : public Protocol {
public:
    void connectionMade() override { made = true; }
    void dataReceived(std::string_view data) override { received += data; }
    void connectionLost(const Failure& reason) override { lost = reason; }

    bool made = false;
    std::string received;
    Failure lost;
};

class ClientEndpoint : public ::testing::Test {
protected:
    // What the reactor does once the connection is up: builds the protocol through the
    // endpoint's factory and connects it to `transport`.
    std::unique_ptr<Protocol> connectionMade() {
        std::unique_ptr<Protocol> protocol =
            reactor.tcpClients.at(0).factory->buildProtocol(Address::ipv4("127.0.0.1", 80));
        if (protocol) {
            protocol->makeConnection(transport);
        }
        return protocol;
    }

    void connectionFailed(const Failure& reason) {
        MemoryReactor::TCPClient& client = reactor.tcpClients.at(0);
        client.factory->clientConnectionFailed(*client.connector, reason);
    }

    MemoryReactor reactor;
    StringTransport transport;
    std::shared_ptr<ClientFactory> factory = ClientFactory::forProtocol<Recorder>();
    TCP4ClientEndpoint endpoint{reactor, "example.com", 80, 7, Address::ipv4("127.0.0.1", 0)};
};

TEST_F(ClientEndpoint, ConnectsThroughTheReactor) {
    Deferred<Protocol*> d = endpoint.connect(factory);
    EXPECT_TRUE(hasNoResult(d));
    ASSERT_EQ(reactor.tcpClients.size(), 1U);
    const MemoryReactor::TCPClient& client = reactor.tcpClients[0];
    EXPECT_EQ(client.host, "example.com");
    EXPECT_EQ(client.port, 80);
    EXPECT_EQ(client.timeout, 7);
    EXPECT_EQ(client.bindAddress, Address::ipv4("127.0.0.1", 0));
    EXPECT_NE(client.factory, factory); // wrapped
}

TEST_F(ClientEndpoint, FiresWithTheProtocolAfterConnectionMade) {
    Deferred<Protocol*> d = endpoint.connect(factory);
    std::unique_ptr<Protocol> wrapper = connectionMade();
    auto* protocol = dynamic_cast<Recorder*>(successResultOf(d));
    ASSERT_NE(protocol, nullptr);
    EXPECT_TRUE(protocol->made);
    EXPECT_EQ(protocol->transport, &transport);

    // Events reach it through the wrapper the transport owns.
    wrapper->dataReceived("hello");
    EXPECT_EQ(protocol->received, "hello");
    braid::detail::deliverConnectionLost(*wrapper, ConnectionDone());
    EXPECT_TRUE(protocol->lost.check<ConnectionDone>());
    EXPECT_FALSE(protocol->connected);
}

TEST_F(ClientEndpoint, HalfCloseReachesTheProtocol) {
    Deferred<Protocol*> d = endpoint.connect(factory);
    std::unique_ptr<Protocol> wrapper = connectionMade();
    successResultOf(d);
    wrapper->readConnectionLost(); // Protocol's default: close once everything is written
    EXPECT_TRUE(transport.disconnecting);
}

TEST_F(ClientEndpoint, FailsWithTheConnectError) {
    Deferred<Protocol*> d = endpoint.connect(factory);
    connectionFailed(ConnectionRefusedError());
    EXPECT_TRUE(failureResultOf(d).check<ConnectionRefusedError>());
}

TEST_F(ClientEndpoint, CancelStopsTheAttempt) {
    Deferred<Protocol*> d = endpoint.connect(factory);
    d.cancel();
    Failure failure = failureResultOf(d);
    EXPECT_TRUE(failure.check<ConnectingCancelledError>());
    EXPECT_TRUE(failure.check<braid::CancelledError>());
    EXPECT_EQ(failure.getErrorMessage(), "connecting to example.com:80 was cancelled");
    EXPECT_TRUE(reactor.tcpClients.at(0).connector->stoppedConnecting);
    // What a real connector reports after stopConnecting() is ignored.
    EXPECT_NO_THROW(connectionFailed(braid::UserError()));
}

TEST_F(ClientEndpoint, CancelAfterConnectingChangesNothing) {
    Deferred<Protocol*> d = endpoint.connect(factory);
    std::unique_ptr<Protocol> wrapper = connectionMade();
    d.cancel();
    EXPECT_NE(successResultOf(d), nullptr);
    EXPECT_FALSE(reactor.tcpClients.at(0).connector->stoppedConnecting);
}

TEST_F(ClientEndpoint, FactoryBuildingNoProtocolFails) {
    class Refusing final : public Factory {
    public:
        std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
            return nullptr;
        }
    };
    Deferred<Protocol*> d = endpoint.connect(std::make_shared<Refusing>());
    EXPECT_EQ(connectionMade(), nullptr);
    Failure failure = failureResultOf(d);
    EXPECT_TRUE(failure.check<ConnectError>());
    EXPECT_EQ(failure.getErrorMessage(), "the factory built no protocol for the connection");
}

TEST_F(ClientEndpoint, FactoryThrowingFails) {
    class Throwing final : public Factory {
    public:
        std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
            throw std::runtime_error("no protocol today");
        }
    };
    Deferred<Protocol*> d = endpoint.connect(std::make_shared<Throwing>());
    EXPECT_EQ(connectionMade(), nullptr);
    EXPECT_EQ(failureResultOf(d).getErrorMessage(), "no protocol today");
}

TEST_F(ClientEndpoint, ConnectionMadeThrowingFailsAndPropagates) {
    class Bad final : public Protocol {
    public:
        void connectionMade() override { throw std::runtime_error("bad greeting"); }
    };
    Deferred<Protocol*> d = endpoint.connect(ClientFactory::forProtocol<Bad>());
    EXPECT_THROW(connectionMade(), std::runtime_error); // the transport aborts the connection
    EXPECT_EQ(failureResultOf(d).getErrorMessage(), "bad greeting");
}

TEST_F(ClientEndpoint, WrappedFactoryIsStartedAndStopped) {
    class Counting final : public Factory {
    public:
        explicit Counting(int& starts, int& stops) : starts_(starts), stops_(stops) {}
        std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
            return std::make_unique<Recorder>();
        }
        void startFactory() override { ++starts_; }
        void stopFactory() override { ++stops_; }

    private:
        int& starts_;
        int& stops_;
    };
    int starts = 0;
    int stops = 0;
    Deferred<Protocol*> d = endpoint.connect(std::make_shared<Counting>(starts, stops));
    reactor.tcpClients.at(0).factory->doStart(); // as a connector does
    EXPECT_EQ(starts, 1);
    reactor.tcpClients.at(0).factory->doStop();
    EXPECT_EQ(stops, 1);
}

TEST(ClientEndpointErrors, ConnectErrorsBecomeFailedDeferreds) {
    ThrowingReactor reactor;
    auto factory = ClientFactory::forProtocol<Recorder>();
    auto tcp = TCP4ClientEndpoint(reactor, "example.com", 80).connect(factory);
    EXPECT_EQ(failureResultOf(tcp).getErrorMessage(), "bad bind address");
    auto unix = UNIXClientEndpoint(reactor, "/x.sock").connect(factory);
    EXPECT_EQ(failureResultOf(unix).getErrorMessage(), "bad path");
}

TEST(ClientEndpointUnix, ConnectsThroughTheReactorAndFires) {
    MemoryReactor reactor;
    auto endpoint = clientFromString(reactor, "unix:/run/app.sock:timeout=3");
    Deferred<Protocol*> d = endpoint->connect(ClientFactory::forProtocol<Recorder>());
    ASSERT_EQ(reactor.unixClients.size(), 1U);
    EXPECT_EQ(reactor.unixClients[0].path, "/run/app.sock");
    EXPECT_EQ(reactor.unixClients[0].timeout, 3);
    StringTransport transport;
    auto wrapper = reactor.unixClients[0].factory->buildProtocol(Address::unix("/run/app.sock"));
    wrapper->makeConnection(transport);
    EXPECT_TRUE(dynamic_cast<Recorder&>(*successResultOf(d)).made);
}

// --- connectProtocol -------------------------------------------------------------------------

TEST(ConnectProtocol, FiresWithTheGivenProtocolTyped) {
    MemoryReactor reactor;
    TCP6ClientEndpoint endpoint(reactor, "::1", 8000);
    auto recorder = std::make_unique<Recorder>();
    Recorder* expected = recorder.get();
    Deferred<Recorder*> d = braid::connectProtocol(endpoint, std::move(recorder));
    EXPECT_TRUE(hasNoResult(d));

    StringTransport transport;
    auto wrapper = reactor.tcpClients.at(0).factory->buildProtocol(Address::ipv6("::1", 8000));
    wrapper->makeConnection(transport);
    Recorder* connected = successResultOf(d);
    EXPECT_EQ(connected, expected);
    EXPECT_TRUE(connected->made);
}

TEST(ConnectProtocol, UntypedAndFailing) {
    MemoryReactor reactor;
    TCP4ClientEndpoint endpoint(reactor, "127.0.0.1", 1);
    Deferred<Protocol*> d =
        braid::connectProtocol(endpoint, std::unique_ptr<Protocol>(std::make_unique<Recorder>()));
    MemoryReactor::TCPClient& client = reactor.tcpClients.at(0);
    client.factory->clientConnectionFailed(*client.connector, ConnectionRefusedError());
    EXPECT_TRUE(failureResultOf(d).check<ConnectionRefusedError>());
}

// --- on real sockets -------------------------------------------------------------------------

// What a client saw, kept outside it: the transport destroys the protocol.
struct Seen {
    std::string received;
    bool made = false;
    bool lost = false;
};

class Client final : public Protocol {
public:
    explicit Client(std::shared_ptr<Seen> seen) : seen_(std::move(seen)) {}
    void connectionMade() override { seen_->made = true; }
    void dataReceived(std::string_view data) override { seen_->received += data; }
    void connectionLost(const Failure& /*reason*/) override { seen_->lost = true; }

private:
    std::shared_ptr<Seen> seen_;
};

class EndpointsOverSockets : public ::testing::Test {
protected:
    // Listens with an echo server on `description`; the port, once listening.
    std::shared_ptr<IListeningPort> listenEcho(const std::string& description) {
        auto d = serverFromString(reactor, description)
                     ->listen(Factory::forProtocol<braid::protocols::Echo>());
        return successResultOf(d);
    }

    // Connects a Client to `description`, sends `message` once connected, and waits for it
    // to come back.
    void echoes(const std::string& description, const std::string& message) {
        auto seen = std::make_shared<Seen>();
        auto client = clientFromString(reactor, description);
        bool connected = false;
        Deferred<Client*> d = braid::connectProtocol(*client, std::make_unique<Client>(seen));
        d.addCallback([&](Client* protocol) {
            connected = true;
            protocol->transport->write(message);
            return protocol;
        });
        ASSERT_TRUE(runUntil(reactor, [&] { return seen->received.size() >= message.size(); }));
        EXPECT_TRUE(connected);
        EXPECT_EQ(seen->received, message);
        successResultOf(d)->transport->loseConnection();
        ASSERT_TRUE(runUntil(reactor, [&] { return seen->lost; }));
    }

    void stopListening(IListeningPort& port) {
        Deferred<void> stopped = port.stopListening();
        ASSERT_TRUE(runUntil(reactor, [&] { return !hasNoResult(stopped); }));
        successResultOf(stopped);
    }

    Reactor reactor{Reactor::Options{.backend = std::nullopt, .installSignalHandlers = false}};
};

TEST_F(EndpointsOverSockets, TcpEcho) {
    auto port = listenEcho("tcp:0:interface=127.0.0.1");
    ASSERT_NE(port->getHost().port(), 0);
    echoes(fmt::format("tcp:127.0.0.1:{}", port->getHost().port()), "hello over tcp");
    stopListening(*port);
}

TEST_F(EndpointsOverSockets, Tcp6Echo) {
    auto port = listenEcho(R"(tcp6:0:interface=\:\:1)");
    EXPECT_EQ(port->getHost().family(), Address::Family::ipv6);
    echoes(fmt::format(R"(tcp6:host=\:\:1:port={})", port->getHost().port()), "hello over tcp6");
    stopListening(*port);
}

TEST_F(EndpointsOverSockets, UnixEcho) {
    std::string path = fmt::format("/tmp/braid-endpoints-test-{}.sock", ::getpid());
    ::unlink(path.c_str());
    auto port = listenEcho("unix:" + path + ":mode=600");
    echoes("unix:path=" + path + ":timeout=5", "hello over unix");
    stopListening(*port);
    ::unlink(path.c_str());
}

TEST_F(EndpointsOverSockets, ListeningOnAPortInUseFails) {
    auto port = listenEcho("tcp:0:interface=127.0.0.1");
    auto again =
        serverFromString(reactor, fmt::format("tcp:{}:interface=127.0.0.1", port->getHost().port()))
            ->listen(Factory::forProtocol<braid::protocols::Echo>());
    EXPECT_TRUE(failureResultOf(again).check<CannotListenError>());
    stopListening(*port);
}

TEST_F(EndpointsOverSockets, RefusedConnectionFails) {
    auto port = listenEcho("tcp:0:interface=127.0.0.1");
    std::uint16_t number = port->getHost().port();
    stopListening(*port);
    auto client = clientFromString(reactor, fmt::format("tcp:127.0.0.1:{}", number));
    Deferred<Protocol*> d = client->connect(ClientFactory::forProtocol<Recorder>());
    ASSERT_TRUE(runUntil(reactor, [&] { return !hasNoResult(d); }));
    EXPECT_TRUE(failureResultOf(d).check<ConnectionRefusedError>());
}

TEST_F(EndpointsOverSockets, Tcp6LooksNamesUpForIPv6Addresses) {
    // An IPv4 server: a tcp6 client must not reach it through the name's IPv4 address.
    auto port = listenEcho("tcp:0:interface=127.0.0.1");
    auto name = clientFromString(reactor, "tcp6:host=no-such-host.invalid:port=1");
    auto v4only =
        clientFromString(reactor, fmt::format("tcp6:localhost:{}", port->getHost().port()));
    Deferred<Protocol*> missing = name->connect(ClientFactory::forProtocol<Recorder>());
    Deferred<Protocol*> v4 = v4only->connect(ClientFactory::forProtocol<Recorder>());
    name.reset(); // the lookup outlives the endpoint
    ASSERT_TRUE(runUntil(reactor, [&] { return !hasNoResult(missing) && !hasNoResult(v4); }));
    EXPECT_TRUE(failureResultOf(missing).check<braid::DNSLookupError>());
    // localhost has no IPv6 address here, or one where nothing listens: never the server.
    const bool neverTheServer =
        failureResultOf(v4).check<braid::DNSLookupError, braid::ConnectionRefusedError>();
    EXPECT_TRUE(neverTheServer);
    stopListening(*port);
}

TEST_F(EndpointsOverSockets, CancellingStopsTheAttempt) {
    auto port = listenEcho("tcp:0:interface=127.0.0.1");
    auto seen = std::make_shared<Seen>();
    TCP4ClientEndpoint client(reactor, "127.0.0.1", port->getHost().port());
    Deferred<Client*> d = braid::connectProtocol(client, std::make_unique<Client>(seen));
    d.cancel();
    EXPECT_TRUE(failureResultOf(d).check<ConnectingCancelledError>());
    reactor.iterate(0.05);
    EXPECT_FALSE(seen->made); // the protocol never got a connection
    stopListening(*port);
}

} // namespace
