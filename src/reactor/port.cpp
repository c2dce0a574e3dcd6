#include "port.hpp"

#include "core.hpp"
#include "stream.hpp"
#include <braid/error.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace braid::detail {

namespace {

// Connections accepted per readiness event before other work gets a turn.
constexpr int acceptsPerEvent = 64;
// How long accepting pauses when the process is out of file descriptors.
constexpr double descriptorRetryDelay = 0.1;

[[noreturn]] void cannotListen(const Address& address, const char* step, int error) {
    throw CannotListenError(fmt::format("Couldn't listen on {}: {}: {}", address.toString(), step,
                                        std::strerror(error)));
}

// A UNIX socket file left by a process that is gone (nobody accepts on it) is removed
// so that the path can be reused, as Twisted's wantPID-less unix.Port does with bind.
void removeStaleUnixSocket(const std::string& path) {
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) {
        return;
    }
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage storage{};
    std::size_t length = Address::unix(path).toSockaddr(storage);
    bool alive = ::connect(probe, reinterpret_cast<sockaddr*>(&storage),
                           static_cast<socklen_t>(length)) == 0;
    ::close(probe);
    if (!alive) {
        ::unlink(path.c_str());
    }
}

} // namespace

ListeningPort::ListeningPort(ReactorCore& core, const Address& address,
                             std::shared_ptr<Factory> factory, int backlog, int unixMode,
                             bool reusePort)
    : core_(core), factory_(std::move(factory)), tcp_(address.family() != Address::Family::unix) {
    int family = address.family() == Address::Family::ipv6   ? AF_INET6
                 : address.family() == Address::Family::unix ? AF_UNIX
                                                             : AF_INET;
    fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        cannotListen(address, "socket", errno);
    }
    if (tcp_) {
        int one = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reusePort && ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
            int error = errno;
            ::close(fd_);
            fd_ = -1;
            cannotListen(address, "SO_REUSEPORT", error);
        }
    } else {
        removeStaleUnixSocket(address.path());
    }
    sockaddr_storage storage{};
    std::size_t length = address.toSockaddr(storage);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&storage), static_cast<socklen_t>(length)) != 0 ||
        ::listen(fd_, backlog) != 0) {
        int error = errno;
        ::close(fd_);
        fd_ = -1;
        cannotListen(address, "bind/listen", error);
    }
    if (!tcp_) {
        ::chmod(address.path().c_str(), static_cast<mode_t>(unixMode));
        host_ = address;
    } else {
        socklen_t actual = sizeof(storage);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &actual);
        host_ = Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&storage), actual);
    }
}

ListeningPort::~ListeningPort() {
    if (fd_ >= 0) {
        core_.poller->remove(fd_, *this);
        ::close(fd_);
    }
}

void ListeningPort::startListening() {
    factory_->doStart();
    core_.poller->add(fd_, Poller::readable, *this);
    listening_ = true;
}

Deferred<void> ListeningPort::stopListening() {
    if (!listening_) {
        return succeed();
    }
    listening_ = false;
    if (resumeAccepting_.active()) {
        resumeAccepting_.cancel();
    }
    core_.poller->remove(fd_, *this);
    ::close(fd_);
    fd_ = -1;
    if (!tcp_) {
        ::unlink(host_.path().c_str());
    }
    // The factory stops and the Deferred fires from the loop, as in Twisted.
    Deferred<void> done;
    core_.owner.callLater(0, [done, factory = factory_]() mutable {
        factory->doStop();
        done.callback();
    });
    core_.removePort(*this);
    return done;
}

void ListeningPort::onReady(std::uint32_t /*events*/) {
    for (int i = 0; i < acceptsPerEvent && listening_; ++i) {
        sockaddr_storage peer{};
        socklen_t length = sizeof(peer);
        int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            acceptOne(fd, peer, length);
            continue;
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED:
        case EPROTO: continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM: pauseAccepting(); return;
        default: // EAGAIN: nothing more to accept
            return;
        }
    }
}

void ListeningPort::acceptOne(int fd, const sockaddr_storage& peer, unsigned length) {
    Address address = Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&peer), length);
    std::unique_ptr<Protocol> protocol;
    core_.guarded("buildProtocol", [&] { protocol = factory_->buildProtocol(address); });
    if (!protocol) {
        ::close(fd); // the factory refused the connection
        return;
    }
    core_.adopt(std::make_unique<StreamConnection>(core_, fd, std::move(address), tcp_, nullptr),
                std::move(protocol));
}

// Out of descriptors: the pending connection stays in the backlog and the socket stays
// readable, so waiting for readability again would spin. Stop watching it for a while.
void ListeningPort::pauseAccepting() {
    core_.log.error("accept on {}: {}; pausing accepting for {}s", host_.toString(),
                    std::strerror(errno), descriptorRetryDelay);
    core_.poller->modify(fd_, 0, *this);
    resumeAccepting_ = core_.owner.callLater(descriptorRetryDelay, [this] {
        if (listening_) {
            core_.poller->modify(fd_, Poller::readable, *this);
        }
    });
}

} // namespace braid::detail
