// Protocol: the per-connection object that reacts to a connection's events
// (twisted.internet.protocol.Protocol). Its transport owns it and destroys it after
// connectionLost(). Timers it schedules with its own callLater() are cancelled when the
// connection goes, so a callback capturing `this` never runs on a dead protocol.
#pragma once

#include <braid/failure.hpp>
#include <braid/reactor_time.hpp>
#include <braid/transport.hpp>

#include <string_view>
#include <utility>
#include <vector>

namespace braid {

class Protocol;

namespace detail {
// How transports deliver the end of a connection: cancels the protocol's own timers,
// then calls its connectionLost().
void deliverConnectionLost(Protocol& protocol, const Failure& reason);
} // namespace detail

class Protocol {
public:
    Protocol() = default;
    Protocol(const Protocol&) = delete;
    Protocol& operator=(const Protocol&) = delete;
    virtual ~Protocol();

    // Called by the transport once the connection is up: sets transport, then calls
    // connectionMade().
    virtual void makeConnection(ITransport& transport);

    virtual void connectionMade() {}

    // Bytes from the peer, in whatever pieces they arrived (one byte at a time as well as
    // everything at once). `data` is valid only during the call.
    virtual void dataReceived(std::string_view data) { (void)data; }

    // The connection is gone: ConnectionDone for a clean close, ConnectionLost or another
    // error otherwise. The protocol is destroyed right after.
    virtual void connectionLost(const Failure& reason) { (void)reason; }

    // The peer shut down its side (half-close). The default closes the connection once
    // everything already written has been sent; override to keep writing.
    virtual void readConnectionLost();

    // loseWriteConnection() has taken effect.
    virtual void writeConnectionLost() {}

    // callLater on the transport's clock, cancelled if the connection is lost first.
    template <class F, class... Args>
    DelayedCall callLater(double delay, F&& f, Args&&... args) {
        forgetFinishedCalls();
        DelayedCall call =
            transport->clock().callLater(delay, std::forward<F>(f), std::forward<Args>(args)...);
        calls_.push_back(call);
        return call;
    }

    ITransport* transport = nullptr; // set by makeConnection()
    bool connected = false;

private:
    friend void detail::deliverConnectionLost(Protocol& protocol, const Failure& reason);

    void forgetFinishedCalls();
    void cancelCalls();

    std::vector<DelayedCall> calls_;
};

} // namespace braid
