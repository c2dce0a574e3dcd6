#include <braid/detail/call_queue.hpp>
#include <braid/failure.hpp>
#include <braid/log.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <system_error>
#include <utility>

namespace braid::detail {

namespace {

Logger& threadsLog() {
    static Logger log{"braid.threads"};
    return log;
}

} // namespace

struct CallQueue::Node {
    Node* next = nullptr; // written before the node is published, read after: not atomic
    UniqueFunction<void()> call;
};

CallQueue::CallQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "eventfd");
    }
}

CallQueue::~CallQueue() {
    Node* node = head_.exchange(nullptr, std::memory_order_acquire);
    while (node != nullptr) {
        delete std::exchange(node, node->next);
    }
    ::close(fd_);
}

void CallQueue::push(UniqueFunction<void()> call) {
    Node* head = head_.load(std::memory_order_relaxed);
    Node* node = new Node{.next = head, .call = std::move(call)};
    while (!head_.compare_exchange_weak(head, node, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        node->next = head;
    }
    // Not node->next: once published, the node may already be drained and freed.
    if (head == nullptr) {
        wakeUp(); // empty -> non-empty: the consumer may be asleep
    }
}

std::size_t CallQueue::drain() {
    clearWakeUp(); // first: see the header on lost wakeups
    Node* stack = head_.exchange(nullptr, std::memory_order_acquire);
    Node* fifo = nullptr;
    while (stack != nullptr) {
        Node* next = stack->next;
        stack->next = fifo;
        fifo = stack;
        stack = next;
    }
    std::size_t ran = 0;
    while (fifo != nullptr) {
        std::unique_ptr<Node> node(std::exchange(fifo, fifo->next));
        ++ran;
        try {
            node->call();
        } catch (...) {
            threadsLog().error("Unhandled error in a callFromThread call: {error}",
                               fmt::arg("error", Failure::current().toString()));
        }
    }
    return ran;
}

void CallQueue::wakeUp() const noexcept {
    const std::uint64_t one = 1;
    // EAGAIN would mean the counter is about to overflow: it is readable anyway.
    while (::write(fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

void CallQueue::clearWakeUp() const noexcept {
    std::uint64_t count = 0;
    // EAGAIN: nothing to clear (a drain without a wakeup).
    while (::read(fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
}

} // namespace braid::detail
