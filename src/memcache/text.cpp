#include "text.hpp"

#include <charconv>
#include <limits>
#include <utility>

namespace braid::memcache::detail {

Tokens tokenize(std::string_view line) noexcept {
    Tokens tokens;
    std::size_t count = 0;
    std::size_t start = 0;
    std::size_t i = 0;
    for (; i < line.size(); ++i) {
        if (line[i] != ' ') {
            continue;
        }
        if (i != start) {
            tokens.token[count++] = line.substr(start, i - start);
            if (count == maxTokens - 1) {
                start = i + 1;
                i = start;
                break;
            }
        }
        start = i + 1;
    }
    if (count < maxTokens - 1 && start < line.size()) {
        tokens.token[count++] = line.substr(start);
    } else if (count == maxTokens - 1 && start < line.size()) {
        tokens.rest = line.substr(start);
        tokens.hasRest = true;
    }
    tokens.ntokens = count + 1;
    return tokens;
}

std::optional<StoreMode> storageMode(std::string_view command) noexcept {
    static constexpr std::pair<std::string_view, StoreMode> modes[] = {
        {"set", StoreMode::set},         {"add", StoreMode::add},
        {"replace", StoreMode::replace}, {"append", StoreMode::append},
        {"prepend", StoreMode::prepend}, {"cas", StoreMode::cas},
    };
    for (const auto& [name, mode] : modes) {
        if (command == name) {
            return mode;
        }
    }
    return std::nullopt;
}

bool isGet(std::string_view command) noexcept {
    return command == "get" || command == "gets" || command == "gat" || command == "gats" ||
           command == "bget";
}

namespace {

bool isSpace(char c) noexcept {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

// strtoull's grammar: [space*][+|-]digits. Returns false when there are no digits or the
// magnitude overflows 64 bits; `end` is where the digits stop.
bool parseMagnitude(std::string_view token, std::uint64_t& magnitude, bool& negative,
                    std::size_t& end) noexcept {
    std::size_t i = 0;
    while (i < token.size() && isSpace(token[i])) {
        ++i;
    }
    negative = false;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) {
        negative = token[i] == '-';
        ++i;
    }
    const char* first = token.data() + i;
    const char* last = token.data() + token.size();
    auto [ptr, error] = std::from_chars(first, last, magnitude);
    if (ptr == first) {
        return false; // no digits (from_chars also refuses a second sign)
    }
    if (error == std::errc::result_out_of_range) {
        return false;
    }
    end = static_cast<std::size_t>(ptr - token.data());
    return true;
}

// What may follow the number: nothing, or white space (the rest is ignored).
bool endsWell(std::string_view token, std::size_t end) noexcept {
    return end == token.size() || isSpace(token[end]);
}

// A whole number token: the magnitude, its sign, and only white space after it.
bool parseNumber(std::string_view token, std::uint64_t& magnitude, bool& negative) noexcept {
    std::size_t end = 0;
    return parseMagnitude(token, magnitude, negative, end) && endsWell(token, end);
}

} // namespace

bool parseU64(std::string_view token, std::uint64_t& out) noexcept {
    out = 0;
    std::uint64_t magnitude = 0;
    bool negative = false;
    if (!parseNumber(token, magnitude, negative)) {
        return false;
    }
    std::uint64_t value = negative ? 0 - magnitude : magnitude;
    if (negative && static_cast<std::int64_t>(value) < 0) {
        return false;
    }
    out = value;
    return true;
}

bool parseU32(std::string_view token, std::uint32_t& out) noexcept {
    std::uint64_t value = 0;
    bool ok = parseU64(token, value);
    out = static_cast<std::uint32_t>(value);
    return ok;
}

bool parseI32(std::string_view token, std::int32_t& out) noexcept {
    out = 0;
    std::uint64_t magnitude = 0;
    bool negative = false;
    if (!parseNumber(token, magnitude, negative)) {
        return false;
    }
    constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (magnitude > limit + (negative ? 1 : 0)) {
        return false; // strtol's ERANGE
    }
    std::uint64_t bits = negative ? 0 - magnitude : magnitude;
    out = static_cast<std::int32_t>(static_cast<std::uint32_t>(bits));
    return true;
}

void appendNumber(std::string& out, std::uint64_t value) {
    char digits[24];
    auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
    (void)error;
    out.append(digits, end);
}

void appendSigned(std::string& out, std::int64_t value) {
    char digits[24];
    auto [end, error] = std::to_chars(digits, digits + sizeof digits, value);
    (void)error;
    out.append(digits, end);
}

namespace {

constexpr std::string_view base64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64Value(char c) noexcept {
    std::size_t at = base64Alphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

} // namespace

bool base64Decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.empty() || in.size() % 4 != 0) {
        return false;
    }
    for (std::size_t i = 0; i < in.size(); i += 4) {
        std::uint32_t group = 0;
        int padding = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            char c = in[i + j];
            const bool pad = c == '=' && i + 4 == in.size() && j >= 2;
            const int value = pad ? 0 : base64Value(c);
            if ((!pad && padding > 0) || value < 0) {
                return false; // a character after padding, or not base64
            }
            padding += pad ? 1 : 0;
            group = (group << 6) | static_cast<std::uint32_t>(value);
        }
        out.push_back(static_cast<char>(group >> 16));
        if (padding < 2) {
            out.push_back(static_cast<char>((group >> 8) & 0xff));
        }
        if (padding < 1) {
            out.push_back(static_cast<char>(group & 0xff));
        }
    }
    return true;
}

void base64Encode(std::string_view in, std::string& out) {
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::size_t n = std::min<std::size_t>(3, in.size() - i);
        std::uint32_t group = 0;
        for (std::size_t j = 0; j < 3; ++j) {
            group = (group << 8) | (j < n ? static_cast<unsigned char>(in[i + j]) : 0U);
        }
        for (std::size_t j = 0; j < 4; ++j) {
            out.push_back(j <= n ? base64Alphabet[(group >> (18 - 6 * j)) & 0x3f] : '=');
        }
    }
}

} // namespace braid::memcache::detail
