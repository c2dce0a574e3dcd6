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

} // namespace braid
