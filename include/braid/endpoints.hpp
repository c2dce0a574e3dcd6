// Endpoints (twisted.internet.endpoints): where to listen or connect, as an object. A server
// endpoint listen()s with a factory, a client endpoint connect()s with one; both answer with
// a Deferred. serverFromString() / clientFromString() build them from Twisted's endpoint
// descriptions, so a program's addresses can come from its command line:
//
//     auto endpoint = serverFromString(reactor(), "tcp:8080:interface=127.0.0.1");
//     endpoint->listen(Factory::forProtocol<protocols::Echo>());
//
//     connectProtocol(*clientFromString(reactor(), "tcp:example.com:80"),
//                     std::make_unique<MyClient>())
//         .addCallback([](MyClient* client) { client->sendRequest(); });
#pragma once

#include <braid/address.hpp>
#include <braid/deferred.hpp>
#include <braid/factory.hpp>
#include <braid/interfaces.hpp>
#include <braid/protocol.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace braid {

class IStreamServerEndpoint {
public:
    virtual ~IStreamServerEndpoint() = default;
    // Starts listening with `factory`: fires with the listening port, or fails with why it
    // could not (CannotListenError...).
    virtual Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) = 0;
};

class IStreamClientEndpoint {
public:
    virtual ~IStreamClientEndpoint() = default;
    // Connects, building the protocol with `factory` (its ClientFactory callbacks, if it is
    // one, are not called: the Deferred reports how connecting went). Fires with that
    // protocol once its connectionMade() has run, or fails with the connect error
    // (ConnectionRefusedError, DNSLookupError, TimeoutError...). The pointer does not own:
    // the transport does, and the protocol is valid until its connectionLost() returns.
    // cancel() on the Deferred stops the attempt (ConnectingCancelledError).
    virtual Deferred<Protocol*> connect(std::shared_ptr<Factory> factory) = 0;
};

// --- TCP ----------------------------------------------------------------------------------

// Twisted's _TCPServerEndpoint: TCP4ServerEndpoint and TCP6ServerEndpoint differ only in
// their default interface.
class TCPServerEndpoint : public IStreamServerEndpoint {
public:
    Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) override;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] int backlog() const noexcept { return backlog_; }
    [[nodiscard]] const std::string& interface() const noexcept { return interface_; }

protected:
    TCPServerEndpoint(IReactorTCP& reactor, std::uint16_t port, int backlog, std::string interface)
        : reactor_(reactor), port_(port), backlog_(backlog), interface_(std::move(interface)) {}

private:
    IReactorTCP& reactor_;
    std::uint16_t port_;
    int backlog_;
    std::string interface_;
};

// interface "": every IPv4 address.
class TCP4ServerEndpoint final : public TCPServerEndpoint {
public:
    explicit TCP4ServerEndpoint(IReactorTCP& reactor, std::uint16_t port, int backlog = 50,
                                std::string interface = "")
        : TCPServerEndpoint(reactor, port, backlog, std::move(interface)) {}
};

// interface "::": every IPv6 address.
class TCP6ServerEndpoint final : public TCPServerEndpoint {
public:
    explicit TCP6ServerEndpoint(IReactorTCP& reactor, std::uint16_t port, int backlog = 50,
                                std::string interface = "::")
        : TCPServerEndpoint(reactor, port, backlog, std::move(interface)) {}
};

// Connects with IReactorTCP::connectTCP: `host` is a name or a numeric address, resolved as
// connectTCP resolves it; `timeout` in seconds; `bindAddress` the local address to bind.
class TCPClientEndpoint : public IStreamClientEndpoint {
public:
    Deferred<Protocol*> connect(std::shared_ptr<Factory> factory) override;

    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] double timeout() const noexcept { return timeout_; }
    [[nodiscard]] const std::optional<Address>& bindAddress() const noexcept {
        return bindAddress_;
    }

protected:
    // connect(), to `address` instead of host().
    Deferred<Protocol*> connectTo(const std::string& address, std::shared_ptr<Factory> factory);
    [[nodiscard]] IReactorTCP& reactor() const noexcept { return reactor_; }

    TCPClientEndpoint(IReactorTCP& reactor, std::string host, std::uint16_t port, double timeout,
                      std::optional<Address> bindAddress)
        : reactor_(reactor),
          host_(std::move(host)),
          port_(port),
          timeout_(timeout),
          bindAddress_(std::move(bindAddress)) {}

private:
    IReactorTCP& reactor_;
    std::string host_;
    std::uint16_t port_;
    double timeout_;
    std::optional<Address> bindAddress_;
};

class TCP4ClientEndpoint final : public TCPClientEndpoint {
public:
    TCP4ClientEndpoint(IReactorTCP& reactor, std::string host, std::uint16_t port,
                       double timeout = 30, std::optional<Address> bindAddress = std::nullopt)
        : TCPClientEndpoint(reactor, std::move(host), port, timeout, std::move(bindAddress)) {}
};

// For an IPv6 literal or a name meant to reach an IPv6 host. As Twisted's, a name is
// looked up for IPv6 addresses (getaddrinfo with AF_INET6, on the reactor's thread pool)
// and the first one is connected to; on a reactor without threads (a MemoryReactor) the
// name goes to connectTCP as it is.
class TCP6ClientEndpoint final : public TCPClientEndpoint {
public:
    TCP6ClientEndpoint(IReactorTCP& reactor, std::string host, std::uint16_t port,
                       double timeout = 30, std::optional<Address> bindAddress = std::nullopt)
        : TCPClientEndpoint(reactor, std::move(host), port, timeout, std::move(bindAddress)) {}

    Deferred<Protocol*> connect(std::shared_ptr<Factory> factory) override;
};

// --- UNIX ---------------------------------------------------------------------------------

// `mode`: the permission bits of the socket file.
class UNIXServerEndpoint final : public IStreamServerEndpoint {
public:
    UNIXServerEndpoint(IReactorUNIX& reactor, std::string path, int backlog = 50, int mode = 0666)
        : reactor_(reactor), path_(std::move(path)), backlog_(backlog), mode_(mode) {}

    Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) override;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] int backlog() const noexcept { return backlog_; }
    [[nodiscard]] int mode() const noexcept { return mode_; }

private:
    IReactorUNIX& reactor_;
    std::string path_;
    int backlog_;
    int mode_;
};

class UNIXClientEndpoint final : public IStreamClientEndpoint {
public:
    UNIXClientEndpoint(IReactorUNIX& reactor, std::string path, double timeout = 30)
        : reactor_(reactor), path_(std::move(path)), timeout_(timeout) {}

    Deferred<Protocol*> connect(std::shared_ptr<Factory> factory) override;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] double timeout() const noexcept { return timeout_; }

private:
    IReactorUNIX& reactor_;
    std::string path_;
    double timeout_;
};

// --- descriptions -------------------------------------------------------------------------

// The reactor endpoints built from descriptions use: converts implicitly from anything that
// implements IReactorTCP and IReactorUNIX (braid::Reactor, braid::testing::MemoryReactor),
// so serverFromString(reactor(), "tcp:8000") reads as it does in Twisted.
struct EndpointReactor {
    template <class R>
        requires std::is_base_of_v<IReactorTCP, R> && std::is_base_of_v<IReactorUNIX, R>
    EndpointReactor(R& reactor) // NOLINT(google-explicit-constructor): see above
        : tcp(reactor), unixSockets(reactor) {}
    EndpointReactor(IReactorTCP& tcpReactor, IReactorUNIX& unixReactor)
        : tcp(tcpReactor), unixSockets(unixReactor) {}

    IReactorTCP& tcp;
    IReactorUNIX& unixSockets;
};

// A server endpoint from a description: a type, then colon-separated arguments, positional
// or key=value; a backslash makes the next character (':' '=' '\') literal.
//
//     tcp:PORT[:interface=ADDRESS][:backlog=N]          tcp:8080:interface=127.0.0.1
//     tcp6:PORT[:backlog=N][:interface=ADDRESS]         tcp6:8080:interface=\:\:1
//     unix:PATH[:mode=OCTAL][:backlog=N][:lockfile=0]   unix:/run/app.sock:mode=660
//
// Arguments may be given positionally in the order shown or by name (tcp:port=8080). Throws
// EndpointDescriptionError naming what is wrong (unknown type or argument, bad value);
// "ssl:" is recognised but not supported yet.
std::unique_ptr<IStreamServerEndpoint> serverFromString(EndpointReactor reactor,
                                                        std::string_view description);

// A client endpoint from a description, in the same syntax:
//
//     tcp:HOST:PORT[:timeout=SECONDS][:bindAddress=ADDRESS]   tcp:example.com:80
//     tcp:host=HOST:port=PORT[...]                            tcp:host=example.com:port=80
//     tcp6:host=HOST:port=PORT[...]                           tcp6:host=\:\:1:port=80
//     unix:PATH[:timeout=SECONDS]                             unix:path=/run/app.sock
//
// As in Twisted, a single positional argument is the port when host= is given, else the host.
std::unique_ptr<IStreamClientEndpoint> clientFromString(EndpointReactor reactor,
                                                        std::string_view description);

// `argument` with its backslashes, colons and equals signs escaped, to put into a
// description. (Twisted's leaves '=' alone, which breaks a positional argument holding one.)
std::string quoteStringArgument(std::string_view argument);

// Connects `endpoint` with a factory that builds `protocol` (Twisted's connectProtocol):
// fires with `protocol` once it is connected, as IStreamClientEndpoint::connect does.
Deferred<Protocol*> connectProtocol(IStreamClientEndpoint& endpoint,
                                    std::unique_ptr<Protocol> protocol);

// The same, typed: connectProtocol(endpoint, std::make_unique<MyClient>()) fires with a
// MyClient*.
template <class P>
    requires std::is_base_of_v<Protocol, P> && (!std::is_same_v<Protocol, P>)
Deferred<P*> connectProtocol(IStreamClientEndpoint& endpoint, std::unique_ptr<P> protocol) {
    return connectProtocol(endpoint, std::unique_ptr<Protocol>(std::move(protocol)))
        .addCallback([](Protocol* connected) { return static_cast<P*>(connected); });
}

} // namespace braid
