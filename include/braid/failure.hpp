// Failure: an error travelling down a Deferred's errback chain, Twisted's
// twisted.python.failure.Failure. It wraps a std::exception_ptr (so the original
// exception type survives) and answers the questions errbacks ask of it.
#pragma once

#include <cstddef>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

namespace braid {

class Failure {
public:
    // An empty Failure (holds no exception); only useful as a placeholder.
    Failure() noexcept = default;

    explicit Failure(std::exception_ptr error) noexcept : error_(std::move(error)) {}

    // Failure(SomeError("...")): wraps a copy of the exception object.
    template <class E>
        requires std::is_base_of_v<std::exception, std::decay_t<E>>
    // Implicit, as Twisted's fail(exc) takes an exception.
    Failure(E&& error) : error_(std::make_exception_ptr(std::forward<E>(error))) {}

    // The exception being handled right now (call it inside a catch block).
    static Failure current() noexcept { return Failure(std::current_exception()); }

    [[nodiscard]] bool empty() const noexcept { return error_ == nullptr; }
    [[nodiscard]] const std::exception_ptr& exception() const noexcept { return error_; }

    // True when the exception is an E (or derives from one of E...).
    template <class... E>
    [[nodiscard]] bool check() const noexcept {
        return matchIndex<E...>() != noMatch;
    }

    // Like check(), but rethrows the original exception when none of E... matches,
    // so an errback can handle the errors it knows and pass on the rest.
    // Returns the index in E... of the first type that matched.
    template <class... E>
    std::size_t trap() const {
        std::size_t index = matchIndex<E...>();
        if (index == noMatch) {
            raiseException();
        }
        return index;
    }

    // The exception object if it is an E, else nullptr. Valid while this Failure lives.
    template <class E>
    [[nodiscard]] const E* value() const noexcept {
        if (error_ == nullptr) {
            return nullptr;
        }
        try {
            std::rethrow_exception(error_);
        } catch (const E& error) {
            return &error;
        } catch (...) {
            return nullptr;
        }
    }

    // what() of the exception, or a description when it is not a std::exception.
    [[nodiscard]] std::string getErrorMessage() const;

    // Demangled dynamic type name of the exception, e.g. "braid::CancelledError".
    [[nodiscard]] std::string typeName() const;

    // "<typeName>: <message>", the one-line form used in logs.
    [[nodiscard]] std::string toString() const;

    // Throws the original exception.
    [[noreturn]] void raiseException() const;

private:
    static constexpr std::size_t noMatch = static_cast<std::size_t>(-1);

    template <class... E>
    std::size_t matchIndex() const noexcept {
        if (error_ == nullptr) {
            return noMatch;
        }
        std::size_t index = 0;
        bool found = false;
        // Evaluated left to right; stops at the first type whose value() matches.
        ((found = found || (value<E>() != nullptr), index += found ? 0 : 1), ...);
        return found ? index : noMatch;
    }

    std::exception_ptr error_;
};

} // namespace braid
