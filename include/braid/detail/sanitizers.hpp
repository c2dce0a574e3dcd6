// Whether this build runs under AddressSanitizer or ThreadSanitizer. Object pools are
// turned off then, because the sanitizers must see every allocation and free to catch a
// use after free. (GCC defines __SANITIZE_*__; clang answers __has_feature.)
#pragma once

namespace braid::detail {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = false;
#endif
#else
inline constexpr bool sanitized = false;
#endif

} // namespace braid::detail
