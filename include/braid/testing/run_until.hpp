// runUntil: drives a real Reactor one iteration at a time until a condition holds or a
// deadline passes, for tests that use real sockets without sleeping.
#pragma once

#include <braid/reactor.hpp>

#include <chrono>

namespace braid::testing {

// Iterates `reactor` until done() is true; returns false if `seconds` pass first.
template <class Predicate>
bool runUntil(Reactor& reactor, Predicate done, double seconds = 5) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        reactor.iterate(0.01);
    }
    return true;
}

} // namespace braid::testing
