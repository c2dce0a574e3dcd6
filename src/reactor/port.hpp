// ListeningPort: a TCP or UNIX socket accepting connections for a Factory (Twisted's
// tcp.Port / unix.Port). Running out of file descriptors pauses accepting for a moment
// instead of spinning on the listening socket.
#pragma once

#include "poller.hpp"
#include <braid/factory.hpp>
#include <braid/interfaces.hpp>

#include <memory>
#include <string>

namespace braid::detail {

class ReactorCore;

class ListeningPort final : public IListeningPort, public IOHandler {
public:
    // Binds and listens at once: throws CannotListenError. reusePort (TCP): SO_REUSEPORT,
    // so that several sockets can listen on one address (see ReactorPool).
    ListeningPort(ReactorCore& core, const Address& address, std::shared_ptr<Factory> factory,
                  int backlog, int unixMode, bool reusePort = false);
    ListeningPort(const ListeningPort&) = delete;
    ListeningPort& operator=(const ListeningPort&) = delete;
    ~ListeningPort() override;

    // Registers with the poller and starts the factory (ReactorCore::addPort does).
    void startListening();

    Deferred<void> stopListening() override;
    [[nodiscard]] Address getHost() const override { return host_; }

    void onReady(std::uint32_t events) override;

private:
    void acceptOne(int fd, const sockaddr_storage& peer, unsigned length);
    void pauseAccepting();

    ReactorCore& core_;
    std::shared_ptr<Factory> factory_;
    int fd_ = -1;
    Address host_;
    bool tcp_;
    bool listening_ = false;
    DelayedCall resumeAccepting_;
};

} // namespace braid::detail
