// SmallBox: a move-only, type-erased holder for one object, stored inline when it
// fits in Capacity bytes (no heap allocation) and on the heap otherwise.
//
// It is the storage behind UniqueFunction, Deferred links and Deferred results:
// the hot paths of braid keep callables and values here so that the common case
// (a lambda capturing a few pointers, a string, an int) never allocates.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace braid::detail {

template <std::size_t Capacity>
class SmallBox {
public:
    // True when a T is stored inline rather than behind a heap pointer.
    template <class T>
    static constexpr bool fitsInline =
        sizeof(T) <= Capacity && alignof(T) <= alignof(std::max_align_t) &&
        std::is_nothrow_move_constructible_v<T>;

    SmallBox() noexcept = default;
    SmallBox(const SmallBox&) = delete;
    SmallBox& operator=(const SmallBox&) = delete;

    SmallBox(SmallBox&& other) noexcept { takeFrom(other); }

    SmallBox& operator=(SmallBox&& other) noexcept {
        if (this != &other) {
            reset();
            takeFrom(other);
        }
        return *this;
    }

    ~SmallBox() { reset(); }

    template <class T, class... Args>
    T& emplace(Args&&... args) {
        reset();
        T* object;
        if constexpr (fitsInline<T>) {
            object = ::new (static_cast<void*>(buffer_)) T(std::forward<Args>(args)...);
        } else {
            object = new T(std::forward<Args>(args)...);
            ::new (static_cast<void*>(buffer_)) T*(object);
        }
        ops_ = &opsFor<T>;
        return *object;
    }

    // Unchecked access: the caller knows the stored type (Deferred checks it itself).
    template <class T>
    T& get() noexcept {
        if constexpr (fitsInline<T>) {
            return *std::launder(reinterpret_cast<T*>(buffer_));
        } else {
            return **std::launder(reinterpret_cast<T**>(buffer_));
        }
    }

    [[nodiscard]] bool empty() const noexcept { return ops_ == nullptr; }

    void reset() noexcept {
        if (ops_ != nullptr) {
            if (ops_->destroy != nullptr) {
                ops_->destroy(buffer_);
            }
            ops_ = nullptr;
        }
    }

private:
    struct Ops {
        void (*destroy)(unsigned char* buffer) noexcept;
        void (*relocate)(unsigned char* from, unsigned char* to) noexcept;
    };

    template <class T>
    static void destroyImpl(unsigned char* buffer) noexcept {
        if constexpr (fitsInline<T>) {
            std::launder(reinterpret_cast<T*>(buffer))->~T();
        } else {
            delete *std::launder(reinterpret_cast<T**>(buffer));
        }
    }

    // Moves the object from one buffer to another and ends it in the first.
    template <class T>
    static void relocateImpl(unsigned char* from, unsigned char* to) noexcept {
        if constexpr (fitsInline<T>) {
            T* source = std::launder(reinterpret_cast<T*>(from));
            ::new (static_cast<void*>(to)) T(std::move(*source));
            source->~T();
        } else {
            ::new (static_cast<void*>(to)) T*(*std::launder(reinterpret_cast<T**>(from)));
        }
    }

    // Objects that are trivially copyable and destructible (lambdas capturing pointers,
    // plain values) and heap-stored ones (a pointer) move with a memcpy and need no
    // destructor call: their ops say so with null entries, saving an indirect call.
    template <class T>
    static constexpr bool trivial =
        !fitsInline<T> || (std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

    template <class T>
    static constexpr Ops opsFor{trivial<T> && fitsInline<T> ? nullptr : &destroyImpl<T>,
                                trivial<T> ? nullptr : &relocateImpl<T>};

    void takeFrom(SmallBox& other) noexcept {
        if (other.ops_ != nullptr) {
            if (other.ops_->relocate == nullptr) {
                std::memcpy(buffer_, other.buffer_, Capacity);
            } else {
                other.ops_->relocate(other.buffer_, buffer_);
            }
            ops_ = other.ops_;
            other.ops_ = nullptr;
        }
    }

    alignas(std::max_align_t) unsigned char buffer_[Capacity];
    const Ops* ops_ = nullptr;
};

} // namespace braid::detail
