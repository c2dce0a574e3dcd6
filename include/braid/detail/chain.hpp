// The untyped machinery behind Deferred<T>: a reference-counted Chain holding the
// current result (a value of whatever type the chain has reached, or a Failure) and
// the callback links still to run. Deferred<T> is a typed handle onto a Chain; when a
// callback changes the type, a new handle of the new type continues the same chain.
//
// runCallbacks() follows twisted.internet.defer.Deferred._runCallbacks: a callback
// that returns an unfired Deferred pauses this chain and appends a continuation link
// to the inner one; when the inner one finishes, the loop hands its result over and
// goes on with the outer chain in the same loop, so arbitrarily deep nesting never
// grows the C++ stack.
#pragma once

#include <braid/detail/function.hpp>
#include <braid/detail/small_box.hpp>
#include <braid/failure.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <source_location>
#include <utility>
#include <vector>

namespace braid::detail {

// A unique address per type, used to check at run time that a Deferred<T> handle
// still matches its chain (the chain moves on to U when a callback returns U).
template <class T>
struct TypeTag {
    static constexpr char id = 0;
};
template <class T>
constexpr const void* typeId() noexcept {
    return &TypeTag<T>::id;
}

class Chain;

// A coroutine whose Deferred this chain is: cancelling the chain cancels the Deferred
// the coroutine is suspended on (set while it is), and nothing else.
struct AwaitTracker {
    Chain* awaiting_ = nullptr;
};

// An owning pointer to a Chain (intrusive, non-atomic: a chain lives on one thread).
class ChainRef {
public:
    ChainRef() noexcept = default;
    explicit ChainRef(Chain* chain) noexcept; // takes a new reference
    static ChainRef adopt(Chain* chain) noexcept {
        ChainRef ref;
        ref.chain_ = chain;
        return ref;
    }
    ChainRef(const ChainRef& other) noexcept : ChainRef(other.chain_) {}
    ChainRef(ChainRef&& other) noexcept : chain_(std::exchange(other.chain_, nullptr)) {}
    ChainRef& operator=(ChainRef other) noexcept {
        std::swap(chain_, other.chain_);
        return *this;
    }
    ~ChainRef();

    Chain* get() const noexcept { return chain_; }
    Chain* operator->() const noexcept { return chain_; }
    Chain& operator*() const noexcept { return *chain_; }
    explicit operator bool() const noexcept { return chain_ != nullptr; }
    Chain* release() noexcept { return std::exchange(chain_, nullptr); }

private:
    Chain* chain_ = nullptr;
};

// One entry of a chain's callback list: a type-erased callback/errback pair, or a
// continuation that hands this chain's result to another (paused) chain.
class Link {
public:
    static constexpr std::size_t inlineCapacity = 40;
    using Box = SmallBox<inlineCapacity>;
    using Run = void (*)(Box& fns, Chain& chain) noexcept;

    // `fns` is a callable taking Chain& that never throws: it turns the chain's current
    // result into the next one (catching what user callbacks throw).
    template <class Fns>
    Link(std::in_place_type_t<Fns> /*type*/, Fns&& fns) : run_(&runFns<std::decay_t<Fns>>) {
        fns_.template emplace<std::decay_t<Fns>>(std::forward<Fns>(fns));
    }
    // A continuation: hands this chain's result over to `chainee`.
    explicit Link(ChainRef chainee) noexcept : chainee_(std::move(chainee)) {}

    Link(Link&&) noexcept = default;
    Link& operator=(Link&&) noexcept = default;
    ~Link() {
        if (chainee_) {
            orphanChainee();
        }
    }

    [[nodiscard]] bool isContinuation() const noexcept { return run_ == nullptr; }
    void run(Chain& chain) noexcept { run_(fns_, chain); }
    // Releases the callbacks (and what they capture) once they have run.
    void reset() noexcept { fns_.reset(); }
    ChainRef takeChainee() noexcept { return std::move(chainee_); }

private:
    // A continuation dropped before it ran: tells the chain waiting on it.
    void orphanChainee() noexcept;

    template <class Fns>
    static void runFns(Box& fns, Chain& chain) noexcept {
        fns.template get<Fns>()(chain);
    }

    Box fns_;
    Run run_ = nullptr;
    ChainRef chainee_;
};

class Chain {
public:
    static constexpr std::size_t valueCapacity = 48;
    using ValueBox = SmallBox<valueCapacity>;

    Chain(std::source_location where, const void* type) noexcept
        : headType(type), tailType(type), where(where) {}
    Chain(const Chain&) = delete;
    Chain& operator=(const Chain&) = delete;
    ~Chain();

    void addRef() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) {
            delete this;
        }
    }

    // --- firing ---------------------------------------------------------------
    // Checks that the chain may be fired now: throws AlreadyCalledError when it has a
    // result, returns false when a cancel() without canceller asked to ignore it once.
    bool beginFiring() { return !called || firingAgain(); }
    void fireWithFailure(Failure failure);
    void fired() {
        called = true;
        if (paused == 0 && next_ == links_.size()) {
            failResult = failed; // nothing to run: the common case of succeed()/fail()
        } else {
            runCallbacks();
        }
    }

    // --- results, used by the typed link code -----------------------------------
    // Invariant: `failure` is empty unless `failed` (so success paths skip touching it).
    template <class V, class... Args>
    void setValue(Args&&... args) {
        value.template emplace<V>(std::forward<Args>(args)...);
        clearFailure();
    }
    void setVoid() noexcept {
        value.reset();
        clearFailure();
    }
    void clearFailure() noexcept {
        if (failed) {
            failure = Failure();
            failed = false;
        }
    }
    void setFailure(Failure error) noexcept {
        value.reset();
        failure = std::move(error);
        failed = true;
    }
    // The result was taken by a consumer (an awaiting coroutine, DeferredList...).
    void markConsumed() noexcept {
        value.reset();
        clearFailure();
        failResult = false;
    }
    // A callback returned `inner`: take its result now, or pause until it has one.
    void chainTo(ChainRef inner);

    // --- links -------------------------------------------------------------------
    // True when a newly added link can run at once without being stored.
    [[nodiscard]] bool idle() const noexcept {
        return called && paused == 0 && !running && next_ == links_.size();
    }
    // True when the result is there for the taking (nothing left to run).
    [[nodiscard]] bool hasResult() const noexcept { return idle() && !continuing_; }
    // Adds a link running fns(chain) when the result gets there.
    template <class Fns>
    void append(Fns&& fns) {
        // While a link runs in place, the vector holding it must not reallocate: links
        // added meanwhile wait in incoming_.
        std::vector<Link>& links = running ? incoming_ : links_;
        if (links.capacity() == 0) {
            links.reserve(initialLinks); // skip the 1, 2, 4 growth steps of short chains
        }
        links.emplace_back(std::in_place_type<std::decay_t<Fns>>, std::forward<Fns>(fns));
    }
    // Adds fns as a link, or runs it at once when the chain is idle (no need to store it).
    template <class Fns>
    void add(Fns&& fns) {
        if (idle()) {
            running = true;
            fns(*this);
            running = false;
            adoptIncoming();
            if (next_ < links_.size()) {
                runCallbacks(); // the callback added more links to its own chain
            } else if (paused == 0) {
                failResult = failed;
            }
        } else {
            append(std::forward<Fns>(fns));
        }
    }
    void runCallbacks();

    // --- control -----------------------------------------------------------------
    void cancel();
    void pause() noexcept { ++paused; }
    void unpause();

    // --- state (read by the typed layer; Chain is an implementation detail) ------
    const void* headType;    // type callback() takes
    const void* tailType;    // type the last added link produces
    ValueBox value;          // current result when !failed (empty for void)
    Failure failure;         // current result when failed
    bool called = false;     // callback()/errback() happened
    bool failed = false;     // the current result is `failure`
    bool running = false;    // a callback of this chain is executing
    bool failResult = false; // finished with an unhandled failure
    bool suppressAlreadyCalled = false;
    bool orphaned = false; // paused on a Deferred that died unfired
    int paused = 0;
    Chain* chainedTo = nullptr; // the Deferred this one waits on (weak: it owns us)
    // What cancel() does before the result is there: a user's canceller (rare, so kept
    // out of line), or the coroutine's tracker.
    std::unique_ptr<UniqueFunction<void(Chain&)>> canceller;
    AwaitTracker* coroutine = nullptr;
    std::source_location where; // where the Deferred was created, for error reports

    // Chains are created and freed at a high rate (one per Deferred): they are
    // recycled through a per-thread free list.
    static void* operator new(std::size_t size);
    static void operator delete(void* memory) noexcept;

private:
    bool firingAgain();
    void appendContinuation(ChainRef chainee);
    void handOver(Chain& chainee) noexcept;
    // After a link ran: moves the links added meanwhile into place.
    void adoptIncoming() {
        if (!incoming_.empty()) {
            moveIncoming();
        }
    }
    void moveIncoming();
    void reportUnhandled() const noexcept;

    static constexpr std::size_t initialLinks = 4;

    std::uint32_t refs_ = 1;
    bool continuing_ = false; // a continuation link for another chain is queued here
    std::size_t next_ = 0;    // index of the next link to run
    std::vector<Link> links_;
    std::vector<Link> incoming_; // links added while one was running
};

inline ChainRef::ChainRef(Chain* chain) noexcept : chain_(chain) {
    if (chain_ != nullptr) {
        chain_->addRef();
    }
}

inline ChainRef::~ChainRef() {
    if (chain_ != nullptr) {
        chain_->release();
    }
}

} // namespace braid::detail
