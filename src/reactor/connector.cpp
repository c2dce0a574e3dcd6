#include "connector.hpp"

#include "core.hpp"
#include "stream.hpp"
#include <braid/error.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace braid::detail {

namespace {

Failure connectFailure(int error) {
    switch (error) {
    case ECONNREFUSED:
    case ENOENT: // a UNIX socket path with nobody behind it
        return Failure(ConnectionRefusedError());
    case ETIMEDOUT: return Failure(TimeoutError());
    default: return Failure(ConnectError(std::string("connect failed: ") + std::strerror(error)));
    }
}

int familyOf(const Address& address) {
    switch (address.family()) {
    case Address::Family::ipv6: return AF_INET6;
    case Address::Family::unix: return AF_UNIX;
    default: return AF_INET;
    }
}

} // namespace

Connector::Connector(ReactorCore& core, Address destination, std::shared_ptr<ClientFactory> factory,
                     double timeout, std::optional<Address> bindAddress,
                     std::optional<std::string> hostName)
    : core_(core),
      destination_(std::move(destination)),
      factory_(std::move(factory)),
      timeout_(timeout),
      bindAddress_(std::move(bindAddress)),
      hostName_(std::move(hostName)) {}

Connector::~Connector() {
    closeSocket();
}

void Connector::connect() {
    if (state_ != State::disconnected) {
        throw std::logic_error("IConnector::connect(): already connecting or connected");
    }
    state_ = State::connecting;
    self_ = self(); // the poller and the timer only hold raw pointers
    if (!factoryStarted_) {
        factory_->doStart();
        factoryStarted_ = true;
    }
    if (timeout_ > 0) {
        timeoutCall_ = core_.owner.callLater(timeout_, [this] { failed(Failure(TimeoutError())); });
    }
    core_.guarded("startedConnecting", [&] { factory_->startedConnecting(*this); });
    if (state_ == State::connecting) {
        if (hostName_) {
            resolve();
        } else {
            attempt();
        }
    }
}

void Connector::resolve() {
    lookup_ =
        core_.resolver().resolve(*hostName_, destination_.port(), [this](Outcome<Address> answer) {
            lookup_.reset();
            if (answer.failed()) {
                failed(answer.failure());
                return;
            }
            destination_ = std::move(answer).value();
            attempt();
        });
}

void Connector::attempt() {
    fd_ = ::socket(familyOf(destination_), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        failSoon(errno);
        return;
    }
    sockaddr_storage storage{};
    if (bindAddress_) {
        std::size_t length = bindAddress_->toSockaddr(storage);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&storage), static_cast<socklen_t>(length)) !=
            0) {
            failSoon(errno);
            return;
        }
    }
    std::size_t length = destination_.toSockaddr(storage);
    int result =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&storage), static_cast<socklen_t>(length));
    if (result != 0 && errno != EINPROGRESS && errno != EAGAIN) {
        failSoon(errno);
        return;
    }
    // Even a connect() that succeeded at once is reported from the loop, never from
    // inside connectTCP().
    core_.poller->add(fd_, Poller::writable, *this);
}

// Errors found inside connect() are reported from the loop too.
void Connector::failSoon(int error) {
    closeSocket();
    pendingFailure_ = core_.owner.callLater(0, [this, error] { failed(connectFailure(error)); });
}

void Connector::onReady(std::uint32_t /*events*/) {
    if (state_ != State::connecting || fd_ < 0) {
        return;
    }
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
    }
    if (error != 0) {
        failed(connectFailure(error));
    } else {
        connected();
    }
}

void Connector::connected() {
    if (timeoutCall_.active()) {
        timeoutCall_.cancel();
    }
    core_.poller->remove(fd_, *this);
    int fd = std::exchange(fd_, -1);
    std::unique_ptr<Protocol> protocol;
    core_.guarded("buildProtocol", [&] { protocol = factory_->buildProtocol(destination_); });
    if (!protocol) {
        ::close(fd);
        failed(Failure(ConnectError("the factory built no protocol")));
        return;
    }
    state_ = State::connected;
    auto connection = std::make_unique<StreamConnection>(
        core_, fd, destination_, destination_.family() != Address::Family::unix, self_);
    connection_ = connection.get();
    std::shared_ptr<Connector> keep = std::move(self_); // the connection holds us now
    core_.adopt(std::move(connection), std::move(protocol));
}

void Connector::failed(Failure reason) {
    if (state_ != State::connecting) {
        return;
    }
    if (timeoutCall_.active()) {
        timeoutCall_.cancel();
    }
    if (pendingFailure_.active()) {
        pendingFailure_.cancel();
    }
    if (lookup_) {
        lookup_->cancel();
        lookup_.reset();
    }
    closeSocket();
    state_ = State::disconnected;
    std::shared_ptr<Connector> keep = std::move(self_);
    core_.keepUntilIterationEnd(keep);
    core_.guarded("clientConnectionFailed",
                  [&] { factory_->clientConnectionFailed(*this, reason); });
    stopFactoryIfIdle();
}

void Connector::connectionLost(const Failure& reason) {
    connection_ = nullptr;
    state_ = State::disconnected;
    core_.keepUntilIterationEnd(self());
    core_.guarded("clientConnectionLost", [&] { factory_->clientConnectionLost(*this, reason); });
    stopFactoryIfIdle();
}

// The factory may have called connect() again from its callback (reconnecting).
void Connector::stopFactoryIfIdle() {
    if (state_ == State::disconnected && factoryStarted_) {
        factoryStarted_ = false;
        factory_->doStop();
    }
}

void Connector::stopConnecting() {
    if (state_ != State::connecting) {
        throw std::logic_error("IConnector::stopConnecting(): not connecting");
    }
    failed(Failure(UserError()));
}

void Connector::disconnect() {
    if (state_ == State::connecting) {
        stopConnecting();
    } else if (state_ == State::connected && connection_ != nullptr) {
        connection_->loseConnection();
    }
}

void Connector::abandon() {
    if (lookup_) {
        lookup_->cancel();
    }
    timeoutCall_ = DelayedCall();
    pendingFailure_ = DelayedCall();
    closeSocket();
    state_ = State::disconnected;
    self_.reset();
}

void Connector::closeSocket() {
    if (fd_ >= 0) {
        core_.poller->remove(fd_, *this);
        ::close(fd_);
        fd_ = -1;
    }
}

} // namespace braid::detail
