#include "linger.hpp"

#include "core.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace braid::detail {

namespace {
constexpr double lingerSeconds = 2.0;
} // namespace

LingeringClose::LingeringClose(ReactorCore& core, int fd) : core_(core), fd_(fd) {
    ::shutdown(fd_, SHUT_WR);
    core_.poller->add(fd_, Poller::readable, *this);
    deadline_ = core_.owner.callLater(lingerSeconds, [this] { finish(); });
}

LingeringClose::~LingeringClose() {
    if (deadline_.active()) {
        deadline_.cancel();
    }
    if (fd_ >= 0) {
        core_.poller->remove(fd_, *this);
        ::close(fd_);
    }
}

void LingeringClose::onReady(std::uint32_t /*events*/) {
    char discard[4096];
    for (;;) {
        ssize_t n = ::recv(fd_, discard, sizeof(discard), 0);
        if (n > 0) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; // more may come: wait for EOF
        }
        finish(); // EOF or an error: the peer is done
        return;
    }
}

void LingeringClose::finish() {
    core_.endLinger(*this);
}

} // namespace braid::detail
