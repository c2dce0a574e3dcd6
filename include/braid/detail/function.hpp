// UniqueFunction<R(Args...)>: a move-only std::function that stores callables of up
// to 48 bytes inline. Used wherever braid keeps a callback on a hot path (timers,
// thread hand-offs) so that scheduling one does not allocate.
#pragma once

#include <braid/detail/small_box.hpp>

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

namespace braid::detail {

template <class Signature>
class UniqueFunction;

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
public:
    static constexpr std::size_t inlineCapacity = 48;

    UniqueFunction() noexcept = default;
    UniqueFunction(std::nullptr_t) noexcept {}

    template <class F>
        requires(!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
                 std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
    // Implicit, as std::function's is.
    UniqueFunction(F&& f) {
        box_.template emplace<std::decay_t<F>>(std::forward<F>(f));
        invoke_ = &invokeImpl<std::decay_t<F>>;
    }

    UniqueFunction(UniqueFunction&& other) noexcept
        : box_(std::move(other.box_)), invoke_(std::exchange(other.invoke_, nullptr)) {}

    UniqueFunction& operator=(UniqueFunction&& other) noexcept {
        box_ = std::move(other.box_);
        invoke_ = std::exchange(other.invoke_, nullptr);
        return *this;
    }

    UniqueFunction& operator=(std::nullptr_t) noexcept {
        box_.reset();
        invoke_ = nullptr;
        return *this;
    }

    explicit operator bool() const noexcept { return invoke_ != nullptr; }

    R operator()(Args... args) {
        if (invoke_ == nullptr) {
            throw std::bad_function_call();
        }
        return invoke_(box_, std::forward<Args>(args)...);
    }

private:
    using Box = SmallBox<inlineCapacity>;

    template <class F>
    static R invokeImpl(Box& box, Args... args) {
        if constexpr (std::is_void_v<R>) {
            std::invoke(box.template get<F>(), std::forward<Args>(args)...); // result dropped
        } else {
            return std::invoke(box.template get<F>(), std::forward<Args>(args)...);
        }
    }

    Box box_;
    R (*invoke_)(Box&, Args...) = nullptr;
};

} // namespace braid::detail
