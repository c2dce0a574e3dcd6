#include <braid/endpoints.hpp>
#include <braid/error.hpp>
#include <braid/interfaces.hpp>
#include <braid/threads.hpp>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

namespace braid {

// --- client endpoints: firing the Deferred once connected ----------------------------------

namespace {

// Owns the protocol the user's factory built and forwards every event to it; fires the
// endpoint's Deferred once that protocol's connectionMade() has run (Twisted's
// _WrappingProtocol).
class WrappingProtocol final : public Protocol {
public:
    WrappingProtocol(Deferred<Protocol*> connected, std::unique_ptr<Protocol> wrapped)
        : connected_(std::move(connected)), wrapped_(std::move(wrapped)) {}

    void connectionMade() override {
        Deferred<Protocol*> connected = std::move(connected_); // fired once, not kept
        // called(): the Deferred may have been cancelled meanwhile.
        try {
            wrapped_->makeConnection(*transport);
        } catch (...) {
            if (!connected.called()) { // the transport aborts the connection; say why
                connected.errback(Failure::current());
            }
            throw;
        }
        if (!connected.called()) {
            connected.callback(wrapped_.get());
        }
    }

    void dataReceived(std::string_view data) override { wrapped_->dataReceived(data); }
    void connectionLost(const Failure& reason) override {
        detail::deliverConnectionLost(*wrapped_, reason);
    }
    void readConnectionLost() override { wrapped_->readConnectionLost(); }
    void writeConnectionLost() override { wrapped_->writeConnectionLost(); }

private:
    Deferred<Protocol*> connected_;
    std::unique_ptr<Protocol> wrapped_;
};

// The factory handed to the reactor: wraps the protocol the user's factory builds, and fails
// the Deferred when connecting fails (Twisted's _WrappingFactory).
class WrappingFactory final : public ClientFactory {
public:
    WrappingFactory(std::shared_ptr<Factory> wrapped, Deferred<Protocol*> connected)
        : wrapped_(std::move(wrapped)), connected_(std::move(connected)) {}

    std::unique_ptr<Protocol> buildProtocol(const Address& address) override {
        std::unique_ptr<Protocol> protocol;
        try {
            protocol = wrapped_->buildProtocol(address);
        } catch (...) {
            fail(Failure::current());
            return nullptr;
        }
        if (!protocol) {
            fail(ConnectError("the factory built no protocol for the connection"));
            return nullptr;
        }
        // One connection per attempt: the protocol fires the Deferred from now on.
        return std::make_unique<WrappingProtocol>(std::move(connected_), std::move(protocol));
    }

    void clientConnectionFailed(IConnector& /*connector*/, const Failure& reason) override {
        fail(reason);
    }

    void startFactory() override { wrapped_->doStart(); }
    void stopFactory() override { wrapped_->doStop(); }

private:
    void fail(const Failure& reason) {
        if (!connected_.empty() && !connected_.called()) {
            connected_.errback(reason);
        }
    }

    std::shared_ptr<Factory> wrapped_;
    Deferred<Protocol*> connected_;
};

// Starts an attempt with connect(wrappingFactory) -> IConnector and returns the Deferred
// the wrapping factory fires. Cancelling it stops the attempt.
template <class Connect>
Deferred<Protocol*> connectVia(std::shared_ptr<Factory> factory, Connect connect) {
    // Filled in once the reactor returns the connector; the connector keeps itself alive
    // while it connects, so the canceller only needs to find it.
    auto connector = std::make_shared<std::weak_ptr<IConnector>>();
    Deferred<Protocol*> connected([connector](Deferred<Protocol*>& self) {
        if (std::shared_ptr<IConnector> attempt = connector->lock()) {
            self.errback(ConnectingCancelledError(fmt::format(
                "connecting to {} was cancelled", attempt->getDestination().toString())));
            attempt->stopConnecting();
        }
    });
    try {
        *connector = connect(std::make_shared<WrappingFactory>(std::move(factory), connected));
    } catch (...) {
        return fail<Protocol*>(Failure::current());
    }
    return connected;
}

// One protocol, handed out once (connectProtocol's factory).
class OneShotFactory final : public Factory {
public:
    explicit OneShotFactory(std::unique_ptr<Protocol> protocol) : protocol_(std::move(protocol)) {}

    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        return std::move(protocol_);
    }

private:
    std::unique_ptr<Protocol> protocol_;
};

} // namespace

Deferred<std::shared_ptr<IListeningPort>>
TCPServerEndpoint::listen(std::shared_ptr<Factory> factory) {
    return maybeDeferred(
        [&] { return reactor_.listenTCP(port_, std::move(factory), backlog_, interface_); });
}

Deferred<Protocol*> TCPClientEndpoint::connect(std::shared_ptr<Factory> factory) {
    return connectTo(host_, std::move(factory));
}

Deferred<Protocol*> TCPClientEndpoint::connectTo(const std::string& address,
                                                 std::shared_ptr<Factory> factory) {
    return connectVia(std::move(factory), [&](std::shared_ptr<ClientFactory> wrapping) {
        return reactor_.connectTCP(address, port_, std::move(wrapping), timeout_, bindAddress_);
    });
}

namespace {

// Blocking: the first IPv6 address of `host` (run on a worker thread).
std::string lookupIPv6(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (status != 0 || found == nullptr) {
        throw DNSLookupError(
            fmt::format("address '{}' not found: {}", host, ::gai_strerror(status)));
    }
    char text[INET6_ADDRSTRLEN] = {};
    const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(found->ai_addr);
    ::inet_ntop(AF_INET6, &ipv6->sin6_addr, text, sizeof(text));
    ::freeaddrinfo(found);
    return text;
}

} // namespace

Deferred<Protocol*> TCP6ClientEndpoint::connect(std::shared_ptr<Factory> factory) {
    in6_addr literal{};
    auto* threads = dynamic_cast<IReactorThreads*>(&reactor());
    if (threads == nullptr || ::inet_pton(AF_INET6, host().c_str(), &literal) == 1) {
        return TCPClientEndpoint::connect(std::move(factory));
    }
    // The endpoint may be gone when the answer comes: the connection is made through a
    // copy of it, to the address found.
    auto self = std::make_shared<TCP6ClientEndpoint>(*this);
    return deferToThread(*threads, lookupIPv6, host())
        .addCallback([self, factory = std::move(factory)](const std::string& address) mutable {
            return self->connectTo(address, std::move(factory));
        });
}

Deferred<std::shared_ptr<IListeningPort>>
UNIXServerEndpoint::listen(std::shared_ptr<Factory> factory) {
    return maybeDeferred(
        [&] { return reactor_.listenUNIX(path_, std::move(factory), backlog_, mode_); });
}

Deferred<Protocol*> UNIXClientEndpoint::connect(std::shared_ptr<Factory> factory) {
    return connectVia(std::move(factory), [this](std::shared_ptr<ClientFactory> wrapping) {
        return reactor_.connectUNIX(path_, std::move(wrapping), timeout_);
    });
}

Deferred<Protocol*> connectProtocol(IStreamClientEndpoint& endpoint,
                                    std::unique_ptr<Protocol> protocol) {
    return endpoint.connect(std::make_shared<OneShotFactory>(std::move(protocol)));
}

// --- descriptions --------------------------------------------------------------------------

namespace {

[[noreturn]] void invalid(const std::string& message) {
    throw EndpointDescriptionError(message);
}

// One colon-separated piece of a description: `value`, or `key=value`.
struct Segment {
    std::optional<std::string> key;
    std::string value;
};

struct Description {
    std::string_view text; // as written
    std::vector<Segment> segments;
    // Two separators in a row ("::", "=:"): what an IPv6 address whose colons were not
    // escaped looks like, worth a hint when the description turns out to be wrong.
    bool emptyPiece = false;
};

// Twisted's _tokenize and _parse: ':' separates segments, the first '=' of a segment
// separates its key from its value (later ones are part of the value), and a backslash
// makes the next character literal.
Description split(std::string_view text) {
    Description description;
    description.text = text;
    Segment segment;
    std::string current;
    bool afterSeparator = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\\') {
            if (++i == text.size()) {
                invalid(fmt::format("endpoint description '{}' ends with a lone backslash", text));
            }
            current += text[i];
            afterSeparator = false;
        } else if (c == ':' || (c == '=' && !segment.key)) {
            description.emptyPiece |= afterSeparator && c == ':';
            if (c == ':') {
                segment.value = std::move(current);
                description.segments.push_back(std::move(segment));
                segment = {};
            } else {
                segment.key = std::move(current);
            }
            current.clear();
            afterSeparator = true;
        } else {
            current += c;
            afterSeparator = false;
        }
    }
    segment.value = std::move(current);
    description.segments.push_back(std::move(segment));
    return description;
}

// How an endpoint type takes its arguments.
struct Signature {
    std::string_view type;
    // Every argument name, the positional ones first, in order.
    std::span<const std::string_view> names;
    std::size_t positional;
    // Clients (Twisted's _parseClientTCP): positional arguments fill the positional names
    // not given by key, so "tcp:host=example.com:80" gives the port.
    bool positionalFillsGaps = false;
};

// The arguments of a description bound to a Signature, as Python binds a call's arguments.
class Arguments {
public:
    Arguments(const Description& description, Signature signature)
        : signature_(signature), values_(signature.names.size()) {
        for (const Segment& segment : description.segments) {
            if (segment.key) {
                set(indexOf(*segment.key), segment.value);
            }
        }
        bool first = true;
        for (const Segment& segment : description.segments) {
            if (!segment.key && !std::exchange(first, false)) { // the first is the type
                set(nextPositional(segment.value), segment.value);
            }
        }
    }

    // The value given for `name`, if any.
    [[nodiscard]] const std::optional<std::string>& get(std::string_view name) const {
        return values_[indexOf(name)];
    }

    [[nodiscard]] const std::string& require(std::string_view name) const {
        const std::optional<std::string>& value = get(name);
        if (!value) {
            fail(fmt::format("missing {}", name));
        }
        return *value;
    }

    [[noreturn]] void fail(std::string_view what) const {
        invalid(fmt::format("{}: {}", signature_.type, what));
    }

private:
    [[nodiscard]] std::size_t indexOf(std::string_view name) const {
        auto it = std::ranges::find(signature_.names, name);
        if (it == signature_.names.end()) {
            fail(fmt::format("unknown argument '{}' (expected {})", name,
                             fmt::join(signature_.names, ", ")));
        }
        return static_cast<std::size_t>(it - signature_.names.begin());
    }

    std::size_t nextPositional(std::string_view value) {
        for (; next_ < signature_.positional; ++next_) {
            if (!signature_.positionalFillsGaps || !values_[next_]) {
                return next_++;
            }
        }
        fail(fmt::format("unexpected positional argument '{}' (at most {}: {})", value,
                         signature_.positional,
                         fmt::join(signature_.names.first(signature_.positional), ", ")));
    }

    void set(std::size_t index, const std::string& value) {
        if (values_[index]) {
            fail(fmt::format("argument '{}' given twice", signature_.names[index]));
        }
        values_[index] = value;
    }

    Signature signature_;
    std::vector<std::optional<std::string>> values_;
    std::size_t next_ = 0;
};

// --- values ---

// A whole number in [min, max] written in `base`.
unsigned long long number(const Arguments& args, std::string_view name, const std::string& value,
                          unsigned long long min, unsigned long long max, int base = 10) {
    unsigned long long result = 0;
    const char* end = value.data() + value.size();
    auto [ptr, error] = std::from_chars(value.data(), end, result, base);
    if (error == std::errc::invalid_argument || ptr != end) { // "" is invalid_argument
        args.fail(fmt::format("{} '{}' is not {}", name, value,
                              base == 8 ? "an octal number" : "a number"));
    }
    if (error == std::errc::result_out_of_range || result < min || result > max) {
        args.fail(base == 8
                      ? fmt::format("{} '{}' is out of range ({:o}-{:o})", name, value, min, max)
                      : fmt::format("{} '{}' is out of range ({}-{})", name, value, min, max));
    }
    return result;
}

std::uint16_t port(const Arguments& args, unsigned long long min) {
    return static_cast<std::uint16_t>(number(args, "port", args.require("port"), min, 65535));
}

int backlog(const Arguments& args) {
    const std::optional<std::string>& value = args.get("backlog");
    return value ? static_cast<int>(
                       number(args, "backlog", *value, 1, std::numeric_limits<int>::max()))
                 : 50;
}

double timeout(const Arguments& args) {
    const std::optional<std::string>& value = args.get("timeout");
    if (!value) {
        return 30;
    }
    double seconds = 0;
    const char* end = value->data() + value->size();
    auto [ptr, error] = std::from_chars(value->data(), end, seconds);
    if (error != std::errc() || ptr != end || !std::isfinite(seconds)) {
        args.fail(fmt::format("timeout '{}' is not a number", *value));
    }
    if (seconds <= 0) {
        args.fail(fmt::format("timeout '{}' must be more than 0 seconds", *value));
    }
    return seconds;
}

// Twisted's lockfile (a PID lock next to the socket): braid keeps none, so only "0" goes.
void noLockfile(const Arguments& args) {
    if (const std::optional<std::string>& value = args.get("lockfile")) {
        if (number(args, "lockfile", *value, 0, std::numeric_limits<int>::max()) != 0) {
            args.fail(
                fmt::format("lockfile={} is not supported (braid creates no lock files)", *value));
        }
    }
}

bool isIPv4(const std::string& host) {
    in_addr address{};
    return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool isIPv6(const std::string& host) {
    in6_addr address{};
    return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// A numeric address: IPv4 or IPv6, or IPv6 only.
std::string numericHost(const Arguments& args, std::string_view name, const std::string& value,
                        bool ipv6Only) {
    if (ipv6Only ? !isIPv6(value) : !isIPv4(value) && !isIPv6(value)) {
        args.fail(fmt::format("{} '{}' is not a numeric {} address", name, value,
                              ipv6Only ? "IPv6" : "IP"));
    }
    return value;
}

std::optional<Address> bindAddress(const Arguments& args, bool ipv6Only) {
    const std::optional<std::string>& value = args.get("bindAddress");
    if (!value) {
        return std::nullopt;
    }
    std::string host = numericHost(args, "bindAddress", *value, ipv6Only);
    return isIPv6(host) ? Address::ipv6(host, 0) : Address::ipv4(host, 0);
}

std::string nonEmpty(const Arguments& args, std::string_view name) {
    const std::string& value = args.require(name);
    if (value.empty()) {
        args.fail(fmt::format("{} is empty", name));
    }
    return value;
}

std::string socketPath(const Arguments& args, std::string_view name) {
    std::string path = nonEmpty(args, name);
    constexpr std::size_t maxLength = sizeof(sockaddr_un::sun_path) - 1;
    if (path.size() > maxLength) {
        args.fail(fmt::format("{} '{}' is too long (at most {} bytes)", name, path, maxLength));
    }
    return path;
}

// --- endpoint types ---

std::unique_ptr<IStreamServerEndpoint> tcpServer(EndpointReactor reactor, const Description& d) {
    static constexpr std::string_view names[] = {"port", "interface", "backlog"};
    static constexpr Signature signature{
        .type = "tcp", .names = names, .positional = 3, .positionalFillsGaps = false};
    Arguments args(d, signature);
    const std::optional<std::string>& interface = args.get("interface");
    return std::make_unique<TCP4ServerEndpoint>(
        reactor.tcp, port(args, 0), backlog(args),
        interface && !interface->empty() ? numericHost(args, "interface", *interface, false)
                                         : std::string());
}

std::unique_ptr<IStreamServerEndpoint> tcp6Server(EndpointReactor reactor, const Description& d) {
    // Twisted's tcp6 parser takes backlog before interface.
    static constexpr std::string_view names[] = {"port", "backlog", "interface"};
    static constexpr Signature signature{
        .type = "tcp6", .names = names, .positional = 3, .positionalFillsGaps = false};
    Arguments args(d, signature);
    const std::optional<std::string>& interface = args.get("interface");
    return std::make_unique<TCP6ServerEndpoint>(
        reactor.tcp, port(args, 0), backlog(args),
        interface ? numericHost(args, "interface", *interface, true) : std::string("::"));
}

std::unique_ptr<IStreamServerEndpoint> unixServer(EndpointReactor reactor, const Description& d) {
    static constexpr std::string_view names[] = {"address", "mode", "backlog", "lockfile"};
    static constexpr Signature signature{
        .type = "unix", .names = names, .positional = 4, .positionalFillsGaps = false};
    Arguments args(d, signature);
    noLockfile(args);
    const std::optional<std::string>& mode = args.get("mode");
    return std::make_unique<UNIXServerEndpoint>(
        reactor.unixSockets, socketPath(args, "address"), backlog(args),
        mode ? static_cast<int>(number(args, "mode", *mode, 0, 0777, 8)) : 0666);
}

// tcp and tcp6 clients take the same arguments; tcp6 wants IPv6 for bindAddress.
template <class Endpoint>
std::unique_ptr<IStreamClientEndpoint> tcpClient(IReactorTCP& reactor, const Description& d,
                                                 std::string_view type) {
    static constexpr std::string_view names[] = {"host", "port", "timeout", "bindAddress"};
    Arguments args(
        d, Signature{.type = type, .names = names, .positional = 2, .positionalFillsGaps = true});
    bool ipv6Only = std::is_same_v<Endpoint, TCP6ClientEndpoint>;
    return std::make_unique<Endpoint>(reactor, nonEmpty(args, "host"), port(args, 1), timeout(args),
                                      bindAddress(args, ipv6Only));
}

std::unique_ptr<IStreamClientEndpoint> unixClient(EndpointReactor reactor, const Description& d) {
    static constexpr std::string_view names[] = {"path", "timeout", "lockfile"};
    static constexpr Signature signature{
        .type = "unix", .names = names, .positional = 1, .positionalFillsGaps = true};
    Arguments args(d, signature);
    noLockfile(args);
    return std::make_unique<UNIXClientEndpoint>(reactor.unixSockets, socketPath(args, "path"),
                                                timeout(args));
}

// The type a description starts with, lower-cased.
std::string typeOf(const Description& description) {
    if (description.text.empty()) {
        invalid("empty endpoint description");
    }
    const Segment& first = description.segments.front();
    if (first.key) {
        invalid(
            fmt::format("endpoint description '{}' does not start with a type", description.text));
    }
    std::string type = first.value;
    std::ranges::transform(type, type.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (type == "ssl" || type == "tls") {
        invalid(fmt::format("{}: TLS is not supported yet", type));
    }
    return type;
}

[[noreturn]] void unknownType(const Description& description) {
    invalid(fmt::format("unknown endpoint type '{}' (expected tcp, tcp6 or unix)",
                        description.segments.front().value));
}

std::unique_ptr<IStreamServerEndpoint> server(EndpointReactor reactor, const Description& d) {
    std::string type = typeOf(d);
    if (type == "tcp") {
        return tcpServer(reactor, d);
    }
    if (type == "tcp6") {
        return tcp6Server(reactor, d);
    }
    if (type == "unix") {
        return unixServer(reactor, d);
    }
    unknownType(d);
}

std::unique_ptr<IStreamClientEndpoint> client(EndpointReactor reactor, const Description& d) {
    std::string type = typeOf(d);
    if (type == "tcp") {
        return tcpClient<TCP4ClientEndpoint>(reactor.tcp, d, "tcp");
    }
    if (type == "tcp6") {
        return tcpClient<TCP6ClientEndpoint>(reactor.tcp, d, "tcp6");
    }
    if (type == "unix") {
        return unixClient(reactor, d);
    }
    unknownType(d);
}

// Runs build(description), adding a hint about escaping to the error it may throw when the
// description looks like an IPv6 address with unescaped colons.
template <class Build>
auto withHints(std::string_view text, Build build) {
    Description description = split(text);
    try {
        return build(description);
    } catch (const EndpointDescriptionError& error) {
        if (!description.emptyPiece) {
            throw;
        }
        invalid(fmt::format(
            "{} (if that is an IPv6 address, escape its colons with backslashes: \\:\\:1)",
            error.what()));
    }
}

} // namespace

std::unique_ptr<IStreamServerEndpoint> serverFromString(EndpointReactor reactor,
                                                        std::string_view description) {
    return withHints(description, [&](const Description& d) { return server(reactor, d); });
}

std::unique_ptr<IStreamClientEndpoint> clientFromString(EndpointReactor reactor,
                                                        std::string_view description) {
    return withHints(description, [&](const Description& d) { return client(reactor, d); });
}

std::string quoteStringArgument(std::string_view argument) {
    std::string quoted;
    quoted.reserve(argument.size());
    for (char c : argument) {
        if (c == '\\' || c == ':' || c == '=') {
            quoted += '\\';
        }
        quoted += c;
    }
    return quoted;
}

} // namespace braid
