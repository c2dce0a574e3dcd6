// Small HTTP helpers shared by the server's sources.
#pragma once

#include <string>
#include <string_view>

namespace braid::web::detail {

// "OK" for 200, "Not Found" for 404...; "Unknown" for a code without a usual phrase.
std::string_view reasonPhrase(int code);
// An RFC 9110 date ("Sun, 06 Nov 1994 08:49:37 GMT") for seconds since the epoch.
std::string httpDate(double seconds);
// Percent-decoding; with `plusIsSpace`, '+' is a space (form encoding). Malformed
// escapes are kept as they are.
std::string unquote(std::string_view text, bool plusIsSpace);
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// tolower for ASCII letters, without the C locale's function call (HTTP's case-insensitive
// names are ASCII).
constexpr char asciiLower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
// Whether the comma-separated header value lists `token` (any case).
bool hasToken(std::string_view value, std::string_view token);

} // namespace braid::web::detail
