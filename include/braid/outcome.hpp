// Outcome<T>: what a Deferred ends with, a value or a Failure. It is what addBoth()
// callbacks receive (Twisted passes "result or Failure" to them) and what
// DeferredList reports for each Deferred it watches.
#pragma once

#include <braid/failure.hpp>

#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace braid {

template <class T>
class Outcome {
    // Outcome<void> holds no value, only "succeeded".
    struct Nothing {};
    using Stored = std::conditional_t<std::is_void_v<T>, Nothing, T>;

public:
    // An empty outcome: no result yet (only DeferredList with fireOnOneCallback produces these).
    Outcome() = default;

    Outcome(Failure failure) : state_(std::in_place_index<2>, std::move(failure)) {}

    template <class V>
        requires(!std::is_void_v<T> && std::is_constructible_v<Stored, V &&> &&
                 !std::is_same_v<std::decay_t<V>, Outcome> &&
                 !std::is_same_v<std::decay_t<V>, Failure>)
    Outcome(V&& value) : state_(std::in_place_index<1>, std::forward<V>(value)) {}

    // The successful Outcome<void>.
    static Outcome success()
        requires std::is_void_v<T>
    {
        Outcome outcome;
        outcome.state_.template emplace<1>();
        return outcome;
    }

    [[nodiscard]] bool succeeded() const noexcept { return state_.index() == 1; }
    [[nodiscard]] bool failed() const noexcept { return state_.index() == 2; }
    [[nodiscard]] bool empty() const noexcept { return state_.index() == 0; }

    // The value; throws the failure's exception when it failed.
    decltype(auto) value() & { return access(*this); }
    decltype(auto) value() const& { return access(*this); }
    decltype(auto) value() && {
        if constexpr (std::is_void_v<T>) {
            access(*this);
        } else {
            return std::move(access(*this));
        }
    }

    // The failure; std::logic_error when it did not fail.
    [[nodiscard]] const Failure& failure() const {
        if (!failed()) {
            throw std::logic_error("Outcome::failure() on an outcome that did not fail");
        }
        return std::get<2>(state_);
    }
    Failure& failure() {
        return const_cast<Failure&>(std::as_const(*this).failure()); // NOLINT
    }

private:
    template <class Self>
    static decltype(auto) access(Self& self) {
        if (self.failed()) {
            std::get<2>(self.state_).raiseException();
        }
        if (self.empty()) {
            throw std::logic_error("Outcome::value() on an empty outcome");
        }
        if constexpr (!std::is_void_v<T>) {
            return (std::get<1>(self.state_));
        }
    }

    std::variant<std::monostate, Stored, Failure> state_;
};

} // namespace braid
