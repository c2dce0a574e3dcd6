#include "lookahead.hpp"

#include "text.hpp"

#include <climits>
#include <cstdint>
#include <cstring>

namespace braid::memcache::detail {

namespace {

// Takes the next space-separated word off `line`.
std::string_view nextWord(std::string_view& line) noexcept {
    std::size_t start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        line = {};
        return {};
    }
    line.remove_prefix(start);
    std::size_t end = line.find(' ');
    std::string_view word = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    return word;
}

// A data block's length as the storage commands read it, with its closing \r\n.
bool blockLength(std::string_view word, std::size_t& out) noexcept {
    std::int32_t length = 0;
    if (!parseI32(word, length) || length < 0 || length > INT_MAX - 2) {
        return false;
    }
    out = static_cast<std::size_t>(length) + 2;
    return true;
}

bool takesOneKey(std::string_view command) noexcept {
    return command == "mg" || command == "md" || command == "ma" || command == "delete" ||
           command == "incr" || command == "decr" || command == "touch";
}

void add(KeysAhead& out, std::string_view key) noexcept {
    if (!key.empty() && key.size() <= maxKeyLength && out.count < KeysAhead::capacity) {
        out.keys[out.count++] = key;
    }
}

// Adds the keys of one request line; returns the bytes of data block that follow it, or
// false if the line is not one the scan knows.
bool scanLine(std::string_view line, KeysAhead& out, std::size_t& block) noexcept {
    block = 0;
    std::string_view command = nextWord(line);
    if (isGet(command)) {
        if (command.starts_with("gat")) {
            nextWord(line); // the exptime
        }
        while (out.count < KeysAhead::capacity) {
            std::string_view key = nextWord(line);
            if (key.empty()) {
                break;
            }
            add(out, key);
        }
        return true;
    }
    std::string_view key = nextWord(line);
    if (takesOneKey(command)) {
        add(out, key);
        return true;
    }
    std::string_view length;
    if (command == "ms") {
        length = nextWord(line);
    } else if (storageMode(command)) {
        nextWord(line); // flags
        nextWord(line); // exptime
        length = nextWord(line);
    } else {
        return false;
    }
    add(out, key);
    return blockLength(length, block);
}

} // namespace

void findKeysAhead(std::string_view input, KeysAhead& out) noexcept {
    out.count = 0;
    std::size_t at = 0;
    while (at < input.size() && out.count < KeysAhead::capacity) {
        const char* start = input.data() + at;
        const void* newline = std::memchr(start, '\n', input.size() - at);
        if (newline == nullptr) {
            return;
        }
        std::string_view line(start, static_cast<const char*>(newline) - start);
        at += line.size() + 1;
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        std::size_t block = 0;
        if (!scanLine(line, out, block)) {
            return;
        }
        at += block;
    }
}

} // namespace braid::memcache::detail
