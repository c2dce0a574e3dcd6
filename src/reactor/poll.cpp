// The poll(2) backend, the portable fallback (BRAID_REACTOR=poll): a pollfd array rebuilt
// only when registrations change, and a map back from fd to handler.
#include "poller.hpp"

#include <poll.h>

#include <cerrno>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace braid::detail {

namespace {

class PollPoller final : public Poller {
public:
    void add(int fd, std::uint32_t interest, IOHandler& handler) override {
        entries_[fd] = Entry{&handler, interest};
        dirty_ = true;
    }

    void modify(int fd, std::uint32_t interest, IOHandler& handler) override {
        add(fd, interest, handler);
    }

    void remove(int fd, IOHandler& handler) override {
        (void)handler;
        entries_.erase(fd);
        dirty_ = true;
    }

    void poll(int timeoutMs) override {
        rebuild();
        int count = ::poll(fds_.data(), fds_.size(), timeoutMs);
        if (count < 0) {
            if (errno == EINTR) {
                return;
            }
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        // Handlers may add or remove registrations while we dispatch: look each ready fd
        // up again, so a removed one is skipped.
        ready_.clear();
        for (const pollfd& p : fds_) {
            if (p.revents != 0) {
                ready_.push_back(p);
            }
        }
        for (const pollfd& p : ready_) {
            auto it = entries_.find(p.fd);
            if (it != entries_.end()) {
                it->second.handler->onReady(fromPoll(p.revents));
            }
        }
    }

    [[nodiscard]] const char* name() const noexcept override { return "poll"; }

private:
    struct Entry {
        IOHandler* handler;
        std::uint32_t interest;
    };

    static std::uint32_t fromPoll(short revents) {
        return ((revents & (POLLIN | POLLRDHUP)) != 0 ? Poller::readable : 0U) |
               ((revents & POLLRDHUP) != 0 ? Poller::peerClosed : 0U) |
               ((revents & POLLOUT) != 0 ? Poller::writable : 0U) |
               ((revents & POLLHUP) != 0 ? Poller::hangup : 0U) |
               ((revents & (POLLERR | POLLNVAL)) != 0 ? Poller::error : 0U);
    }

    void rebuild() {
        if (!dirty_) {
            return;
        }
        fds_.clear();
        for (const auto& [fd, entry] : entries_) {
            short events = 0;
            if ((entry.interest & Poller::readable) != 0) {
                events |= POLLIN | POLLRDHUP;
            }
            if ((entry.interest & Poller::writable) != 0) {
                events |= POLLOUT;
            }
            fds_.push_back(pollfd{fd, events, 0});
        }
        dirty_ = false;
    }

    std::unordered_map<int, Entry> entries_;
    std::vector<pollfd> fds_;
    std::vector<pollfd> ready_;
    bool dirty_ = false;
};

} // namespace

std::unique_ptr<Poller> makePollPoller() {
    return std::make_unique<PollPoller>();
}

} // namespace braid::detail
