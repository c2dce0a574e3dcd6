// Pieces of memcached's text protocol that several commands share: the tokenizer and the
// number parsers, written to accept exactly what memcached 1.6 accepts (its tokenizer
// splits on spaces only, its numbers go through strtoul/strtol), so that braid answers a
// malformed request the way memcached does.
#pragma once

#include <braid/memcache/store.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace braid::memcache::detail {

// memcached's MAX_TOKENS, the terminal token included: a line is split into at most 23
// tokens; what follows is left in `rest` (multi-key gets go on from there).
inline constexpr std::size_t maxTokens = 24;

// Keys longer than this are refused (memcached's KEY_MAX_LENGTH).
inline constexpr std::size_t maxKeyLength = 250;

struct Tokens {
    std::array<std::string_view, maxTokens> token{};
    // Tokens found, plus one for the terminal token, as memcached counts them (its
    // WANT_TOKENS rules are written against this number).
    std::size_t ntokens = 0;
    // The unsplit remainder of the line when it had more tokens than fit; `hasRest` tells
    // an empty remainder from none.
    std::string_view rest;
    bool hasRest = false;

    [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept {
        return i + 1 < ntokens ? token[i] : std::string_view{};
    }
};

Tokens tokenize(std::string_view line) noexcept;

// The storage command (set, add, replace, append, prepend, cas) a name stands for, if any.
std::optional<StoreMode> storageMode(std::string_view command) noexcept;
// Whether a command is one of the text protocol's retrievals (get, gets, gat, gats, bget).
bool isGet(std::string_view command) noexcept;

// strtoull/strtoul/strtol as memcached's safe_strto* use them: leading white space and a
// sign are allowed, the number must be followed by the end or white space, overflow of
// the 64-bit type fails. Unsigned parses refuse a negative value that looks negative;
// the 32-bit ones keep the low 32 bits of the 64-bit result, as memcached does.
bool parseU64(std::string_view token, std::uint64_t& out) noexcept;
bool parseU32(std::string_view token, std::uint32_t& out) noexcept;
bool parseI32(std::string_view token, std::int32_t& out) noexcept;

// The decimal digits of `value`, appended.
void appendNumber(std::string& out, std::uint64_t value);
void appendSigned(std::string& out, std::int64_t value);

// Standard base64 (meta commands' 'b' flag). decode() returns false on malformed input.
bool base64Decode(std::string_view in, std::string& out);
void base64Encode(std::string_view in, std::string& out);

} // namespace braid::memcache::detail
