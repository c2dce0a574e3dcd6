// LingeringClose: what happens to a socket after an orderly close (loseConnection) while
// the peer may still be sending. close() with unread bytes makes the kernel send a reset,
// and a reset can make the peer drop the reply it has not read yet (a browser sending its
// request to seed 000's server would lose "Hello Twisted"). So, as nginx's lingering
// close does: send FIN with shutdown(), read and discard until the peer's EOF, then
// close, giving up after a few seconds.
#pragma once

#include "poller.hpp"
#include <braid/reactor_time.hpp>

namespace braid::detail {

class ReactorCore;

class LingeringClose final : public IOHandler {
public:
    // Takes ownership of fd; the reactor owns this object until it is finished.
    LingeringClose(ReactorCore& core, int fd);
    LingeringClose(const LingeringClose&) = delete;
    LingeringClose& operator=(const LingeringClose&) = delete;
    ~LingeringClose() override;

    void onReady(std::uint32_t events) override;

private:
    void finish();

    ReactorCore& core_;
    int fd_;
    DelayedCall deadline_;
};

} // namespace braid::detail
