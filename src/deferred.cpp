#include <braid/detail/chain.hpp>
#include <braid/detail/sanitizers.hpp>
#include <braid/error.hpp>
#include <braid/log.hpp>

#include <stdexcept>

namespace braid::detail {

namespace {

Logger& deferredLog() {
    static Logger log{"braid.defer"};
    return log;
}

// Recycled Chain memory: a per-thread intrusive free list. The fast path touches only
// trivially-destructible thread_locals (no TLS guard); a thread that allocated a chain
// also gets a Drain object that frees its list when it exits. Off under the sanitizers,
// which must see every allocation to find use-after-free.
constexpr bool poolChains = !sanitized;

struct FreeChain {
    FreeChain* next;
};
constexpr std::size_t maxPooledChains = 4096;
thread_local FreeChain* freeChains = nullptr;
thread_local std::size_t freeChainCount = 0;

struct Drain {
    Drain() = default;
    Drain(const Drain&) = delete;
    Drain& operator=(const Drain&) = delete;
    ~Drain() {
        while (freeChains != nullptr) {
            ::operator delete(std::exchange(freeChains, freeChains->next));
        }
        freeChainCount = 0;
    }
};

void* allocateChain() {
    if (freeChains != nullptr) {
        --freeChainCount;
        return std::exchange(freeChains, freeChains->next);
    }
    thread_local Drain drain; // constructed once per thread, on this slow path only
    return ::operator new(sizeof(Chain));
}

[[maybe_unused]] void recycleChain(void* memory) noexcept { // unused under the sanitizers
    if (freeChainCount == maxPooledChains) {
        ::operator delete(memory);
        return;
    }
    ++freeChainCount;
    freeChains = ::new (memory) FreeChain{freeChains};
}

} // namespace

void* Chain::operator new(std::size_t size) {
    if (!poolChains || size != sizeof(Chain)) {
        return ::operator new(size);
    }
    return allocateChain();
}

void Chain::operator delete(void* memory) noexcept {
    if constexpr (poolChains) {
        recycleChain(memory);
    } else {
        ::operator delete(memory);
    }
}

void throwConsumed() {
    throw std::logic_error("the Deferred's result was already taken (awaited, passed to "
                           "another Deferred, or consumed by a DeferredList)");
}

void checkHandle(const Chain* chain, const void* expected, bool head) {
    if (chain == nullptr) {
        throw std::logic_error("use of an empty Deferred handle (moved from, or left empty by "
                               "an addCallback that changed the type)");
    }
    if (head ? chain->headType != expected : chain->tailType != expected) {
        throw std::logic_error(
            head ? "callback() with a type other than the Deferred's own"
                 : "this Deferred handle's type no longer matches its chain "
                   "(a later addCallback changed it); use the handle it returned");
    }
}

void Link::orphanChainee() noexcept {
    // The chain waiting on us can no longer get its result from here. cancel() on it
    // then fails it, as Twisted's would.
    chainee_->chainedTo = nullptr;
    chainee_->orphaned = true;
}

Chain::~Chain() {
    if (failResult) {
        reportUnhandled();
    }
}

void Chain::reportUnhandled() const noexcept {
    try {
        deferredLog().critical("Unhandled error in Deferred:\n{failure}\n(Deferred created at "
                               "{file}:{line} in {function})",
                               fmt::arg("failure", failure.toString()),
                               fmt::arg("file", where.file_name()), fmt::arg("line", where.line()),
                               fmt::arg("function", where.function_name()));
    } catch (...) { // NOLINT(bugprone-empty-catch): a destructor must not throw, not even to log
    }
}

bool Chain::firingAgain() {
    if (suppressAlreadyCalled) {
        // The result arriving after a cancel() without canceller is dropped once.
        suppressAlreadyCalled = false;
        return false;
    }
    throw AlreadyCalledError();
}

void Chain::fireWithFailure(Failure error) {
    if (beginFiring()) {
        setFailure(std::move(error));
        fired();
    }
}

void Chain::appendContinuation(ChainRef chainee) {
    continuing_ = true;
    (running ? incoming_ : links_).emplace_back(std::move(chainee));
}

void Chain::moveIncoming() {
    for (Link& link : incoming_) {
        links_.push_back(std::move(link));
    }
    incoming_.clear();
}

void Chain::chainTo(ChainRef inner) {
    if (inner.get() == this) {
        setFailure(std::logic_error("a callback returned the Deferred it was added to"));
        return;
    }
    if (inner->continuing_) {
        setFailure(std::logic_error(
            "a callback returned a Deferred whose result another Deferred already waits for"));
        return;
    }
    if (inner->hasResult()) {
        // Already fired: take its result and go on without pausing (no recursion).
        value = std::move(inner->value);
        failure = std::move(inner->failure);
        failed = inner->failed;
        inner->markConsumed();
        return;
    }
    ++paused;
    chainedTo = inner.get();
    inner->appendContinuation(ChainRef(this));
}

void Chain::handOver(Chain& chainee) noexcept {
    chainee.value = std::move(value);
    chainee.failure = std::move(failure);
    chainee.failed = failed;
    markConsumed();
    continuing_ = false;
    chainee.chainedTo = nullptr;
    --chainee.paused;
}

void Chain::runCallbacks() {
    if (running) {
        return; // the loop already running on this chain will pick up new links
    }
    ChainRef self(this);             // a callback may drop the last outside handle
    std::vector<ChainRef> continued; // chains resumed from here; allocates only when used
    for (;;) {
        Chain* current = continued.empty() ? this : continued.back().get();
        if (current->paused > 0) {
            return;
        }
        bool finished = true;
        current->chainedTo = nullptr;
        while (current->next_ < current->links_.size()) {
            Link& link = current->links_[current->next_++]; // runs in place: see append()
            if (link.isContinuation()) {
                ChainRef chainee = link.takeChainee();
                current->handOver(*chainee);
                continued.push_back(std::move(chainee));
                finished = false;
                break;
            }
            current->running = true;
            link.run(*current);
            link.reset();
            current->running = false;
            current->adoptIncoming();
            if (current->paused > 0) {
                break; // a callback returned a Deferred that has no result yet
            }
        }
        if (current->next_ == current->links_.size()) {
            current->links_.clear();
            current->next_ = 0;
        }
        if (!finished) {
            continue;
        }
        current->failResult = current->failed && current->paused == 0;
        if (continued.empty()) {
            return;
        }
        continued.pop_back();
    }
}

void Chain::cancel() {
    ChainRef self(this);
    if (!called) {
        if (coroutine != nullptr) {
            if (coroutine->awaiting_ != nullptr) {
                ChainRef(coroutine->awaiting_)->cancel(); // the coroutine decides how it ends
            }
            return;
        }
        if (canceller) {
            (*canceller)(*this);
        } else {
            suppressAlreadyCalled = true;
        }
        if (!called) {
            fireWithFailure(CancelledError());
        }
    } else if (chainedTo != nullptr) {
        ChainRef inner(chainedTo);
        inner->cancel(); // cancellation reaches the Deferred we are waiting on
    } else if (orphaned) {
        orphaned = false;
        --paused;
        setFailure(CancelledError());
        if (paused == 0) {
            runCallbacks();
        }
    }
}

void Chain::unpause() {
    if (paused == 0) {
        throw std::logic_error("unpause() on a Deferred that is not paused");
    }
    if (--paused == 0 && called) {
        runCallbacks();
    }
}

} // namespace braid::detail
