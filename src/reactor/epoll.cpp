// The epoll backend. Level-triggered by default, so a handler that reads part of what is
// there is called again on the next iteration; handlers that ask for Poller::edge (stream
// connections) are edge-triggered and keep track of what is left themselves. Interest
// changes are one epoll_ctl each; transports change interest only when a write comes back
// short or reading pauses.
#include "poller.hpp"
#include <braid/error.hpp>

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace braid::detail {

namespace {

[[noreturn]] void throwErrno(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}

std::uint32_t toEpoll(std::uint32_t interest) {
    return ((interest & Poller::readable) != 0 ? EPOLLIN | EPOLLRDHUP : 0U) |
           ((interest & Poller::writable) != 0 ? EPOLLOUT : 0U) |
           ((interest & Poller::edge) != 0 ? EPOLLET : 0U);
}

std::uint32_t fromEpoll(std::uint32_t events) {
    return ((events & (EPOLLIN | EPOLLRDHUP)) != 0 ? Poller::readable : 0U) |
           ((events & EPOLLRDHUP) != 0 ? Poller::peerClosed : 0U) |
           ((events & EPOLLOUT) != 0 ? Poller::writable : 0U) |
           ((events & EPOLLHUP) != 0 ? Poller::hangup : 0U) |
           ((events & EPOLLERR) != 0 ? Poller::error : 0U);
}

class EpollPoller final : public Poller {
public:
    EpollPoller() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (epfd_ < 0) {
            throwErrno("epoll_create1");
        }
    }
    EpollPoller(const EpollPoller&) = delete;
    EpollPoller& operator=(const EpollPoller&) = delete;
    ~EpollPoller() override { ::close(epfd_); }

    void add(int fd, std::uint32_t interest, IOHandler& handler) override {
        control(EPOLL_CTL_ADD, fd, interest, handler, "epoll_ctl(ADD)");
    }

    void modify(int fd, std::uint32_t interest, IOHandler& handler) override {
        control(EPOLL_CTL_MOD, fd, interest, handler, "epoll_ctl(MOD)");
    }

    void remove(int fd, IOHandler& handler) override {
        epoll_event unused{};
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &unused); // fails only if already gone
        forgetPending(handler);
    }

    void poll(int timeoutMs) override {
        int count =
            ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeoutMs);
        if (count < 0) {
            if (errno == EINTR) {
                return;
            }
            throwErrno("epoll_wait");
        }
        dispatching_ = count;
        for (int i = 0; i < count; ++i) {
            next_ = i + 1;
            auto* handler = static_cast<IOHandler*>(events_[i].data.ptr);
            if (handler != nullptr) {
                handler->onReady(fromEpoll(events_[i].events));
            }
        }
        dispatching_ = 0;
    }

    [[nodiscard]] const char* name() const noexcept override { return "epoll"; }

private:
    void control(int op, int fd, std::uint32_t interest, IOHandler& handler, const char* what) {
        epoll_event event{};
        event.events = toEpoll(interest);
        event.data.ptr = &handler;
        if (::epoll_ctl(epfd_, op, fd, &event) < 0) {
            throwErrno(what);
        }
    }

    // A handler removed while a batch is dispatched must not be called for the rest of
    // it: it may be destroyed by then.
    void forgetPending(IOHandler& handler) {
        for (int i = next_; i < dispatching_; ++i) {
            if (events_[i].data.ptr == &handler) {
                events_[i].data.ptr = nullptr;
            }
        }
    }

    static constexpr std::size_t maxEvents = 256;

    int epfd_;
    std::array<epoll_event, maxEvents> events_{};
    int dispatching_ = 0; // number of events in the batch being dispatched
    int next_ = 0;        // index of the next event of that batch
};

} // namespace

std::unique_ptr<Poller> makeEpollPoller() {
    return std::make_unique<EpollPoller>();
}

} // namespace braid::detail
