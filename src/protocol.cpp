#include <braid/protocol.hpp>

#include <utility>
#include <vector>

namespace braid {

// A protocol destroyed without connectionLost() (never connected, or its owner went
// away) still must not leave timers that call into it.
Protocol::~Protocol() {
    cancelCalls();
}

void Protocol::makeConnection(ITransport& transport) {
    this->transport = &transport;
    connected = true;
    connectionMade();
}

void Protocol::readConnectionLost() {
    transport->loseConnection();
}

void Protocol::forgetFinishedCalls() {
    std::erase_if(calls_, [](const DelayedCall& call) { return !call.active(); });
}

void Protocol::cancelCalls() {
    // Moved out first: cancelling destroys the call's function, whose captures' destructors
    // may reach back into this protocol.
    std::vector<DelayedCall> calls = std::move(calls_);
    calls_.clear();
    for (DelayedCall& call : calls) {
        if (call.active()) {
            call.cancel();
        }
    }
}

namespace detail {

void deliverConnectionLost(Protocol& protocol, const Failure& reason) {
    protocol.connected = false;
    protocol.cancelCalls();
    protocol.connectionLost(reason);
}

} // namespace detail

} // namespace braid
