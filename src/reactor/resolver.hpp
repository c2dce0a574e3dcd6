// Resolver: host names to addresses without blocking the loop. getaddrinfo runs on a
// small thread pool of the resolver's own (as Twisted's default resolver runs it on
// threads), so slow lookups never starve deferToThread work, and the answer comes back
// to the reactor thread through its call queue.
#pragma once

#include <braid/address.hpp>
#include <braid/detail/call_queue.hpp>
#include <braid/detail/function.hpp>
#include <braid/outcome.hpp>
#include <braid/threads.hpp>

#include <memory>
#include <string>

namespace braid::detail {

class Resolver {
public:
    // Answers are delivered through `calls` (drained on the reactor thread).
    explicit Resolver(CallQueue& calls);
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;
    // Waits for lookups in progress (their answers are dropped).
    ~Resolver();

    // A lookup in progress; cancel() drops its answer.
    class Lookup {
    public:
        void cancel() noexcept { cancelled_ = true; }

    private:
        friend class Resolver;
        bool cancelled_ = false; // touched on the reactor thread only
    };

    // Resolves `host` to an IPv4 address (what connectTCP uses, as in Twisted) and calls
    // onResult on the reactor thread with it or with a DNSLookupError.
    std::shared_ptr<Lookup> resolve(std::string host, std::uint16_t port,
                                    UniqueFunction<void(Outcome<Address>)> onResult);

private:
    CallQueue& calls_;
    ThreadPool pool_;
};

} // namespace braid::detail
