#include "resolver.hpp"

#include <braid/error.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

namespace braid::detail {

namespace {

constexpr std::size_t maxLookupThreads = 4;

// Blocking: runs on a resolver thread.
Outcome<Address> lookup(const std::string& host, std::uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (status != 0 || found == nullptr) {
        return Failure(DNSLookupError("address '" + host + "' not found: " + gai_strerror(status)));
    }
    char text[INET_ADDRSTRLEN] = {};
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
    ::inet_ntop(AF_INET, &ipv4->sin_addr, text, sizeof(text));
    ::freeaddrinfo(found);
    return Address::ipv4(text, port);
}

} // namespace

Resolver::Resolver(CallQueue& calls) : calls_(calls), pool_(0, maxLookupThreads, "braid-dns") {
    pool_.start();
}

Resolver::~Resolver() {
    pool_.stop();
}

std::shared_ptr<Resolver::Lookup>
Resolver::resolve(std::string host, std::uint16_t port,
                  UniqueFunction<void(Outcome<Address>)> onResult) {
    auto pending = std::make_shared<Lookup>();
    // The worker only sees the name; the callback and the Lookup stay with the call it
    // queues, which runs on the reactor thread.
    auto deliver = std::make_shared<UniqueFunction<void(Outcome<Address>)>>(std::move(onResult));
    pool_.callInThread([this, host = std::move(host), port, pending, deliver]() mutable {
        Outcome<Address> answer = lookup(host, port);
        calls_.push([pending = std::move(pending), deliver = std::move(deliver),
                     answer = std::move(answer)]() mutable {
            if (!pending->cancelled_) {
                (*deliver)(std::move(answer));
            }
        });
    });
    return pending;
}

} // namespace braid::detail
