// Seed 004's memcached_server.py: the get/set subset of memcached on LineReceiver, shared
// by memcached1.cpp and memcached2.cpp, which differ only in their store (as the seed's
// two versions differ only in which Memcached class they import).
//
// The store is injected through the factory into each protocol (seed 004 explains why);
// `set` switches to raw mode for its data block and back to line mode with whatever
// followed it. Not for production: braid::memcache is the real server.
#pragma once

#include <braid/basic.hpp>
#include <braid/factory.hpp>

#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memcached_tutorial {

// "set <key> <flags> <exptime> <bytes>" split on spaces.
inline std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < line.size()) {
        std::size_t end = std::min(line.find(' ', at), line.size());
        if (end > at) {
            out.push_back(line.substr(at, end - at));
        }
        at = end + 1;
    }
    return out;
}

inline std::optional<long> number(std::string_view text) {
    long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

// Store: get(key) -> const std::string* (nullptr when absent), set(key, value, exptime).
template <class Store>
class MemcachedProtocol : public braid::LineReceiver {
public:
    explicit MemcachedProtocol(Store& store) : store_(store) {}

    void lineReceived(std::string_view line) override {
        std::vector<std::string_view> parts = words(line);
        if (parts.size() >= 2 && parts[0] == "get") {
            for (std::size_t i = 1; i < parts.size(); ++i) {
                if (const std::string* value = store_.get(std::string(parts[i]))) {
                    sendLine("VALUE " + std::string(parts[i]) + " 0 " +
                             std::to_string(value->size()));
                    sendLine(*value);
                }
            }
            sendLine("END");
        } else if (parts.size() == 5 && parts[0] == "set" && number(parts[3]) && number(parts[4]) &&
                   *number(parts[4]) >= 0) {
            key_ = parts[1];
            exptime_ = *number(parts[3]);
            remaining_ = static_cast<std::size_t>(*number(parts[4])) + 2; // data and \r\n
            buffer_.clear();
            setRawMode();
        } else {
            sendLine("ERROR");
        }
    }

    // The data block of a set, in as many pieces as it comes; what follows it is given
    // back to line mode.
    void rawDataReceived(std::string_view data) override {
        std::size_t take = std::min(remaining_, data.size());
        buffer_.append(data.substr(0, take));
        remaining_ -= take;
        if (remaining_ > 0) {
            return;
        }
        if (buffer_.ends_with("\r\n")) {
            buffer_.resize(buffer_.size() - 2);
            store_.set(key_, buffer_, exptime_);
            sendLine("STORED");
        } else {
            sendLine("CLIENT_ERROR bad data chunk");
        }
        setLineMode(data.substr(take));
    }

private:
    Store& store_;
    std::string key_;
    long exptime_ = 0;
    std::size_t remaining_ = 0;
    std::string buffer_;
};

// The seed's MemcachedServerFactory: one store, shared by every connection.
template <class Store>
class MemcachedServerFactory : public braid::ServerFactory {
public:
    explicit MemcachedServerFactory(Store& store) : store_(store) {}

    std::unique_ptr<braid::Protocol> buildProtocol(const braid::Address& /*address*/) override {
        return std::make_unique<MemcachedProtocol<Store>>(store_);
    }

private:
    Store& store_;
};

} // namespace memcached_tutorial
