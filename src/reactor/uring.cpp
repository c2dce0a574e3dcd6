// The io_uring backend. Where epoll costs a system call per wait, per read and per send,
// this one makes one io_uring_enter per loop iteration: it submits the iteration's sends
// and waits for what completed. Stream connections read through a multishot recv into a
// ring of buffers the kernel picks from (so an arriving request costs no system call of
// ours), and their output is sent by IORING_OP_SEND, gathered over the iteration. Other
// descriptors (listening sockets, pipes, eventfds, a connection waiting on sendfile) are
// watched by one-shot IORING_OP_POLL_ADD, re-armed after each event: level-triggered,
// like the poll backend. On this VM a system call costs about a microsecond, which is why
// batching them pays (see docs/benchmarks.md).
#include "poller.hpp"
#include <braid/error.hpp>

#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <vector>

namespace braid::detail {

// A stream connection's state here; freed once its handler is gone and nothing of it is
// in flight.
class StreamSlot {
public:
    StreamSlot(int fd, StreamIOHandler& handler) : fd(fd), handler(&handler) {}

    int fd;
    StreamIOHandler* handler; // nullptr once closed
    bool wantReceive = false; // the handler wants bytes
    bool recvArmed = false;   // a multishot recv is in the kernel
    bool recvCancelled = false;
    bool flushQueued = false;  // in the list asked for output before the next submission
    bool sendInFlight = false; // `out` is being sent
    bool wantsFlush = false;   // the handler has more output than `out`
    std::string out;           // what is being sent, from out[sent]
    std::size_t sent = 0;
    std::size_t index = 0; // in UringPoller::slots_
};

namespace {

// Completions carry a pointer whose two low bits say what completed.
constexpr std::uintptr_t pollTag = 0;
constexpr std::uintptr_t recvTag = 1;
constexpr std::uintptr_t sendTag = 2;
constexpr std::uintptr_t ignoredTag = 3;
constexpr std::uintptr_t tagMask = 3;

std::uint64_t tagged(const void* target, std::uintptr_t tag) {
    return reinterpret_cast<std::uintptr_t>(target) | tag;
}

[[noreturn]] void throwError(int error, const char* what) {
    throw std::system_error(error, std::generic_category(), what);
}

std::uint32_t toPoll(std::uint32_t interest) {
    return ((interest & Poller::readable) != 0 ? POLLIN | POLLRDHUP : 0U) |
           ((interest & Poller::writable) != 0 ? POLLOUT : 0U);
}

std::uint32_t fromPoll(int result) {
    if (result < 0) {
        return Poller::error;
    }
    auto events = static_cast<std::uint32_t>(result);
    return ((events & (POLLIN | POLLPRI | POLLRDHUP)) != 0 ? Poller::readable : 0U) |
           ((events & POLLRDHUP) != 0 ? Poller::peerClosed : 0U) |
           ((events & POLLOUT) != 0 ? Poller::writable : 0U) |
           ((events & POLLHUP) != 0 ? Poller::hangup : 0U) |
           ((events & POLLERR) != 0 ? Poller::error : 0U);
}

// One descriptor watched for readiness.
struct PollOp {
    IOHandler* handler = nullptr; // nullptr once removed
    int fd = -1;
    std::uint32_t interest = 0;
    bool armed = false;
    bool dispatching = false;
};

// The buffers multishot recvs fill: the kernel takes one per completion and the loop gives
// it back once the handler has seen its bytes.
class BufferRing {
public:
    static constexpr unsigned count = 256;
    static constexpr std::size_t size = std::size_t{16} * 1024;
    static constexpr int group = 0;

    explicit BufferRing(io_uring& ring) : ring_(ring) {
        std::size_t bytes = count * sizeof(io_uring_buf);
        void* entries =
            ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        if (entries == MAP_FAILED) {
            throwError(errno, "mmap (io_uring buffer ring)");
        }
        entries_ = static_cast<io_uring_buf_ring*>(entries);
        io_uring_buf_ring_init(entries_);
        io_uring_buf_reg registration{};
        registration.ring_addr = reinterpret_cast<std::uintptr_t>(entries_);
        registration.ring_entries = count;
        registration.bgid = group;
        if (int error = io_uring_register_buf_ring(&ring_, &registration, 0); error < 0) {
            ::munmap(entries_, bytes);
            throwError(-error, "io_uring_register_buf_ring");
        }
        // Anonymous memory: pages the kernel never fills are never resident.
        memory_.reset(static_cast<char*>(::operator new(count * size)));
        for (unsigned id = 0; id < count; ++id) {
            giveBack(id);
        }
    }
    BufferRing(const BufferRing&) = delete;
    BufferRing& operator=(const BufferRing&) = delete;
    ~BufferRing() {
        io_uring_unregister_buf_ring(&ring_, group);
        ::munmap(entries_, count * sizeof(io_uring_buf));
    }

    char* data(unsigned id) { return memory_.get() + (static_cast<std::size_t>(id) * size); }

    // Hands buffer `id` to the kernel, to be filled by a later completion.
    void giveBack(unsigned id) {
        io_uring_buf_ring_add(entries_, data(id), size, static_cast<unsigned short>(id),
                              io_uring_buf_ring_mask(count), 0);
        io_uring_buf_ring_advance(entries_, 1);
    }

private:
    struct Free {
        void operator()(char* p) const noexcept { ::operator delete(p); }
    };
    io_uring& ring_;
    io_uring_buf_ring* entries_ = nullptr;
    std::unique_ptr<char, Free> memory_;
};

class UringPoller final : public Poller, public StreamCompletions {
public:
    explicit UringPoller(io_uring ring) : ring_(ring) {}
    UringPoller(const UringPoller&) = delete;
    UringPoller& operator=(const UringPoller&) = delete;
    ~UringPoller() override {
        buffers_.reset();
        io_uring_queue_exit(&ring_); // cancels what is in flight
        for (PollOp* op : byFd_) {
            delete op;
        }
        for (PollOp* op : retired_) {
            delete op;
        }
        for (StreamSlot* slot : slots_) {
            delete slot;
        }
    }

    // --- Poller ---------------------------------------------------------------------------

    void add(int fd, std::uint32_t interest, IOHandler& handler) override {
        auto index = static_cast<std::size_t>(fd);
        if (byFd_.size() <= index) {
            byFd_.resize(index + 1, nullptr);
        }
        if (byFd_[index] != nullptr) {
            throwError(EEXIST, "io_uring poll add");
        }
        auto* op = new PollOp{.handler = &handler, .fd = fd, .interest = interest};
        byFd_[index] = op;
        arm(*op);
    }

    void modify(int fd, std::uint32_t interest, IOHandler& handler) override {
        PollOp* op = find(fd);
        if (op == nullptr) {
            return;
        }
        if (toPoll(op->interest) == toPoll(interest)) {
            op->interest = interest; // the same poll mask: the armed poll stays
            return;
        }
        remove(fd, handler);
        add(fd, interest, handler);
    }

    void remove(int fd, IOHandler& /*handler*/) override {
        PollOp* op = find(fd);
        if (op == nullptr) {
            return;
        }
        byFd_[static_cast<std::size_t>(fd)] = nullptr;
        op->handler = nullptr;
        if (op->armed) {
            io_uring_sqe* sqe = nextSqe();
            io_uring_prep_poll_remove(sqe, tagged(op, pollTag));
            io_uring_sqe_set_data64(sqe, ignoredTag);
            retired_.push_back(op); // freed when its completion comes
        } else if (!op->dispatching) {
            delete op;
        }
    }

    void poll(int timeoutMs) override {
        takeOutputs();
        int result = 0;
        if (timeoutMs == 0) {
            result = io_uring_submit_and_get_events(&ring_);
        } else {
            io_uring_cqe* first = nullptr;
            __kernel_timespec timeout{.tv_sec = timeoutMs / 1000,
                                      .tv_nsec = (timeoutMs % 1000) * 1'000'000LL};
            result = io_uring_submit_and_wait_timeout(&ring_, &first, 1,
                                                      timeoutMs < 0 ? nullptr : &timeout, nullptr);
        }
        if (result < 0 && result != -ETIME && result != -EINTR && result != -EBUSY) {
            throwError(-result, "io_uring_enter");
        }
        reap();
    }

    [[nodiscard]] const char* name() const noexcept override { return "io_uring"; }
    StreamCompletions* completions() noexcept override { return this; }

    // --- StreamCompletions ----------------------------------------------------------------

    StreamSlot* open(int fd, StreamIOHandler& handler) override {
        if (!buffers_) {
            buffers_ = std::make_unique<BufferRing>(ring_);
        }
        auto* slot = new StreamSlot(fd, handler);
        slot->index = slots_.size();
        slots_.push_back(slot);
        return slot;
    }

    void receive(StreamSlot& slot, bool on) override {
        slot.wantReceive = on;
        if (on && !slot.recvArmed) {
            armRecv(slot);
        } else if (!on && slot.recvArmed && !slot.recvCancelled) {
            cancel(tagged(&slot, recvTag));
            slot.recvCancelled = true;
        }
    }

    void flush(StreamSlot& slot) override {
        slot.wantsFlush = true;
        if (!slot.sendInFlight && !slot.flushQueued) {
            slot.flushQueued = true;
            flushes_.push_back(&slot);
        }
    }

    void close(StreamSlot& slot) override {
        slot.handler = nullptr;
        receive(slot, false);
        if (slot.sendInFlight) {
            cancel(tagged(&slot, sendTag));
        }
        if (slot.flushQueued) {
            std::erase(flushes_, &slot);
            slot.flushQueued = false;
        }
        freeIfDone(slot);
    }

private:
    [[nodiscard]] PollOp* find(int fd) const {
        auto index = static_cast<std::size_t>(fd);
        return index < byFd_.size() ? byFd_[index] : nullptr;
    }

    io_uring_sqe* nextSqe() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) { // the submission queue is full: hand it to the kernel now
            io_uring_submit(&ring_);
            sqe = io_uring_get_sqe(&ring_);
            if (sqe == nullptr) {
                throwError(EBUSY, "io_uring_get_sqe");
            }
        }
        return sqe;
    }

    void arm(PollOp& op) {
        io_uring_sqe* sqe = nextSqe();
        io_uring_prep_poll_add(sqe, op.fd, toPoll(op.interest));
        io_uring_sqe_set_data64(sqe, tagged(&op, pollTag));
        op.armed = true;
    }

    void armRecv(StreamSlot& slot) {
        io_uring_sqe* sqe = nextSqe();
        io_uring_prep_recv_multishot(sqe, slot.fd, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BufferRing::group;
        io_uring_sqe_set_data64(sqe, tagged(&slot, recvTag));
        slot.recvArmed = true;
        slot.recvCancelled = false;
    }

    void armSend(StreamSlot& slot) {
        io_uring_sqe* sqe = nextSqe();
        io_uring_prep_send(sqe, slot.fd, slot.out.data() + slot.sent, slot.out.size() - slot.sent,
                           MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, tagged(&slot, sendTag));
        slot.sendInFlight = true;
    }

    void cancel(std::uintptr_t userData) {
        io_uring_sqe* sqe = nextSqe();
        io_uring_prep_cancel64(sqe, userData, 0);
        io_uring_sqe_set_data64(sqe, ignoredTag);
    }

    // Before each submission: the output of every connection that asked, one send each.
    void takeOutputs() {
        for (StreamSlot* slot : flushes_) {
            slot->flushQueued = false;
            if (slot->handler == nullptr || slot->sendInFlight || !slot->wantsFlush) {
                continue;
            }
            slot->wantsFlush = false;
            slot->out.clear();
            slot->sent = 0;
            slot->handler->takeOutput(slot->out);
            if (!slot->out.empty()) {
                armSend(*slot);
            }
        }
        flushes_.clear();
    }

    void reap() {
        completed_.clear();
        unsigned head = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            completed_.push_back(*cqe);
        }
        io_uring_cq_advance(&ring_, static_cast<unsigned>(completed_.size()));
        for (const io_uring_cqe& done : completed_) {
            dispatch(done);
        }
        for (auto it = retired_.begin(); it != retired_.end();) {
            if (!(*it)->armed) {
                delete *it;
                it = retired_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void dispatch(const io_uring_cqe& done) {
        std::uintptr_t tag = done.user_data & tagMask;
        if (tag == ignoredTag) {
            return;
        }
        void* target = reinterpret_cast<void*>(done.user_data & ~tagMask); // NOLINT
        switch (tag) {
        case pollTag: onPoll(*static_cast<PollOp*>(target), done.res); break;
        case recvTag: onRecv(*static_cast<StreamSlot*>(target), done); break;
        default: onSend(*static_cast<StreamSlot*>(target), done.res); break;
        }
    }

    void onPoll(PollOp& op, int result) {
        op.armed = false;
        if (op.handler == nullptr) {
            return; // retired: freed after this batch
        }
        op.dispatching = true;
        op.handler->onReady(fromPoll(result));
        op.dispatching = false;
        if (op.handler == nullptr) {
            delete &op; // removed while it ran, after its completion came
        } else {
            arm(op); // one-shot: watch again (level-triggered)
        }
    }

    void onRecv(StreamSlot& slot, const io_uring_cqe& done) {
        bool more = (done.flags & IORING_CQE_F_MORE) != 0;
        if ((done.flags & IORING_CQE_F_BUFFER) != 0) {
            unsigned id = done.flags >> IORING_CQE_BUFFER_SHIFT;
            if (done.res > 0 && slot.handler != nullptr) {
                slot.handler->onReceived(
                    std::string_view(buffers_->data(id), static_cast<std::size_t>(done.res)));
            }
            buffers_->giveBack(id);
        }
        if (more) {
            return;
        }
        slot.recvArmed = false;
        slot.recvCancelled = false;
        if (slot.handler == nullptr) {
            freeIfDone(slot);
        } else if (done.res == 0) {
            slot.handler->onReceiveEnded(0);
        } else if (done.res < 0 && done.res != -ENOBUFS && done.res != -ECANCELED) {
            slot.handler->onReceiveEnded(-done.res);
        } else if (slot.wantReceive) {
            armRecv(slot); // the multishot recv ended early (out of buffers, or cancelled)
        }
    }

    void onSend(StreamSlot& slot, int result) {
        slot.sendInFlight = false;
        if (slot.handler == nullptr) {
            freeIfDone(slot);
            return;
        }
        if (result == -EINTR || result == -EAGAIN) {
            armSend(slot);
            return;
        }
        if (result < 0) {
            slot.handler->onSent(-result);
            return;
        }
        slot.sent += static_cast<std::size_t>(result);
        if (slot.sent < slot.out.size()) {
            armSend(slot); // a short send: the rest, before anything newer
            return;
        }
        constexpr std::size_t keptCapacity = std::size_t{64} * 1024;
        if (slot.out.capacity() > keptCapacity) {
            std::string().swap(slot.out);
        }
        slot.out.clear();
        slot.sent = 0;
        if (slot.wantsFlush) {
            flush(slot);
        }
        slot.handler->onSent(0);
    }

    void freeIfDone(StreamSlot& slot) {
        if (slot.handler != nullptr || slot.recvArmed || slot.sendInFlight) {
            return;
        }
        // Swap with the last slot so that removal is O(1).
        StreamSlot* last = slots_.back();
        slots_[slot.index] = last;
        last->index = slot.index;
        slots_.pop_back();
        delete &slot;
    }

    io_uring ring_;
    std::unique_ptr<BufferRing> buffers_;
    std::vector<PollOp*> byFd_;
    std::vector<PollOp*> retired_;     // removed while armed: freed once their completion came
    std::vector<StreamSlot*> slots_;   // every slot, for the destructor
    std::vector<StreamSlot*> flushes_; // asked for output before the next submission
    std::vector<io_uring_cqe> completed_;
};

} // namespace

std::unique_ptr<Poller> makeUringPoller() {
    io_uring ring{};
    io_uring_params params{};
    // Completions' task work runs when the loop next enters the kernel, not by interrupting
    // it; the loop enters at least once per iteration anyway.
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
    if (io_uring_queue_init_params(4096, &ring, &params) < 0) {
        return nullptr;
    }
    if ((params.features & IORING_FEAT_EXT_ARG) == 0) { // kernels before 5.11
        io_uring_queue_exit(&ring);
        return nullptr;
    }
    return std::make_unique<UringPoller>(ring);
}

} // namespace braid::detail
