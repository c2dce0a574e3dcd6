// The exception types braid raises, named as in twisted.internet.error and
// twisted.internet.defer. Every one derives from braid::Error (a std::runtime_error)
// so callers can catch braid's errors as a group.
#pragma once

#include <stdexcept>
#include <string>

namespace braid {

// Base of every braid exception.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Deferred::callback()/errback() on a Deferred that already has a result.
class AlreadyCalledError : public Error {
public:
    AlreadyCalledError() : Error("Deferred has already been called") {}
    using Error::Error;
};

// A Deferred was cancelled (Deferred::cancel()).
class CancelledError : public Error {
public:
    CancelledError() : Error("Deferred was cancelled") {}
    using Error::Error;
};

// An operation took longer than its deadline (Deferred::addTimeout, connect timeouts).
class TimeoutError : public Error {
public:
    TimeoutError() : Error("User timeout caused connection failure.") {}
    using Error::Error;
};

// DelayedCall::cancel()/reset()/delay() on a call that already ran.
class AlreadyCalled : public Error {
public:
    AlreadyCalled() : Error("Tried to cancel an already-called event.") {}
    using Error::Error;
};

// DelayedCall::cancel()/reset()/delay() on a call that was already cancelled.
class AlreadyCancelled : public Error {
public:
    AlreadyCancelled() : Error("Tried to cancel an already-cancelled event.") {}
    using Error::Error;
};

// --- connections (twisted.internet.error) -------------------------------------------------

// A connection ended (the reason connectionLost() receives).
class ConnectionClosed : public Error {
public:
    using Error::Error;
};

// The connection was closed cleanly.
class ConnectionDone : public ConnectionClosed {
public:
    ConnectionDone() : ConnectionClosed("Connection was closed cleanly.") {}
    using ConnectionClosed::ConnectionClosed;
};

// The connection was lost in a non-clean fashion (reset by the peer, an I/O error...).
class ConnectionLost : public ConnectionClosed {
public:
    ConnectionLost()
        : ConnectionClosed("Connection to the other side was lost in a non-clean fashion.") {}
    using ConnectionClosed::ConnectionClosed;
};

// abortConnection() closed it.
class ConnectionAborted : public ConnectionLost {
public:
    ConnectionAborted() : ConnectionLost("Connection was aborted locally.") {}
    using ConnectionLost::ConnectionLost;
};

// An outgoing connection could not be made.
class ConnectError : public Error {
public:
    using Error::Error;
};

class ConnectionRefusedError : public ConnectError {
public:
    ConnectionRefusedError() : ConnectError("Connection was refused by other side.") {}
    using ConnectError::ConnectError;
};

// A host name did not resolve.
class DNSLookupError : public ConnectError {
public:
    using ConnectError::ConnectError;
};

// The user stopped the attempt (IConnector::stopConnecting).
class UserError : public ConnectError {
public:
    UserError() : ConnectError("User aborted connection.") {}
    using ConnectError::ConnectError;
};

// listen failed (address in use, permission denied...).
class CannotListenError : public Error {
public:
    using Error::Error;
};

// A client endpoint's connect() Deferred was cancelled while connecting (Twisted's
// ConnectingCancelledError); a CancelledError, so generic cancellation handling applies.
class ConnectingCancelledError : public CancelledError {
public:
    using CancelledError::CancelledError;
};

// serverFromString / clientFromString got a malformed endpoint description; the message
// names what is wrong ("tcp: port 'abc' is not a number").
class EndpointDescriptionError : public Error {
public:
    using Error::Error;
};

// --- the reactor -----------------------------------------------------------------------

// run() on a reactor that has already run and stopped.
class ReactorNotRestartable : public Error {
public:
    ReactorNotRestartable()
        : Error("reactor.run() after reactor.stop(): a reactor cannot be restarted") {}
    using Error::Error;
};

// stop() on a reactor that is not running.
class ReactorNotRunning : public Error {
public:
    ReactorNotRunning() : Error("Can't stop reactor that isn't running.") {}
    using Error::Error;
};

} // namespace braid
