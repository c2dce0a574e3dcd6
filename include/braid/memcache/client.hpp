// memcache::MemCacheProtocol: a memcached client on one connection
// (twisted.protocols.memcache.MemCacheProtocol). Every command returns a Deferred fired
// with its answer; commands may be issued without waiting (they are pipelined and
// answered in order). If the server stays silent for `timeOut` seconds while commands are
// pending, they all fail with TimeoutError and the connection is closed.
//
//     auto d = protocol.set("greeting", "hello");
//     protocol.get("greeting").addCallback([](std::optional<memcache::Value> v) { ... });
#pragma once

#include <braid/basic.hpp>
#include <braid/deferred.hpp>
#include <braid/error.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace braid::memcache {

// The server did not know the command ("ERROR").
class NoSuchCommand : public Error {
public:
    NoSuchCommand() : Error("memcached: no such command") {}
};

// The server blamed the request ("CLIENT_ERROR ..."), or the client refused it first (a
// key too long or with spaces or control characters).
class ClientError : public Error {
public:
    using Error::Error;
};

// The server failed ("SERVER_ERROR ...").
class ServerError : public Error {
public:
    using Error::Error;
};

// An item as get returns it. `cas` is set by the gets forms (withIdentifier).
struct Value {
    std::uint32_t flags = 0;
    std::string value;
    std::uint64_t cas = 0;

    bool operator==(const Value&) const = default;
};

class MemCacheProtocol : public LineReceiver {
public:
    static constexpr std::size_t MAX_KEY_LENGTH = 250;

    explicit MemCacheProtocol(double timeOut = 60);
    ~MemCacheProtocol() override;

    // The item, or nullopt when the server has none.
    Deferred<std::optional<Value>> get(std::string_view key, bool withIdentifier = false);
    // The items found, by key.
    Deferred<std::map<std::string, Value>> getMultiple(const std::vector<std::string>& keys,
                                                       bool withIdentifier = false);

    // true when stored (STORED), false when the server declined (NOT_STORED, EXISTS,
    // NOT_FOUND).
    Deferred<bool> set(std::string_view key, std::string_view value, std::uint32_t flags = 0,
                       std::int64_t expireTime = 0);
    Deferred<bool> add(std::string_view key, std::string_view value, std::uint32_t flags = 0,
                       std::int64_t expireTime = 0);
    Deferred<bool> replace(std::string_view key, std::string_view value, std::uint32_t flags = 0,
                           std::int64_t expireTime = 0);
    Deferred<bool> append(std::string_view key, std::string_view value);
    Deferred<bool> prepend(std::string_view key, std::string_view value);
    // cas: stores only if the item's CAS value is still `cas` (from get(key, true)).
    Deferred<bool> checkAndSet(std::string_view key, std::string_view value, std::uint64_t cas,
                               std::uint32_t flags = 0, std::int64_t expireTime = 0);

    // Twisted's delete (a keyword in C++): true when the item was there.
    Deferred<bool> remove(std::string_view key);
    // The new value, or nullopt when there is no such item.
    Deferred<std::optional<std::uint64_t>> increment(std::string_view key, std::uint64_t delta = 1);
    Deferred<std::optional<std::uint64_t>> decrement(std::string_view key, std::uint64_t delta = 1);
    // true when the item was there.
    Deferred<bool> touch(std::string_view key, std::int64_t expireTime);
    Deferred<bool> flushAll();
    // The server's version string.
    Deferred<std::string> version();
    // `stats` or `stats <arg>`: the name → value pairs.
    Deferred<std::map<std::string, std::string>> stats(std::string_view arg = {});

    void lineReceived(std::string_view line) override;
    void rawDataReceived(std::string_view data) override;
    void connectionLost(const Failure& reason) override;

    // The server was silent too long: fails every pending command and disconnects.
    virtual void timeoutConnection();

    class Pending;

private:
    Deferred<std::string> statusCommand(const std::string& request);
    Deferred<bool> store(std::string_view command, std::string_view key, std::string_view value,
                         std::uint32_t flags, std::int64_t expireTime,
                         std::optional<std::uint64_t> cas = std::nullopt);
    Deferred<std::optional<std::uint64_t>> arithmetic(std::string_view command,
                                                      std::string_view key, std::uint64_t delta);
    void send(std::string_view request, std::unique_ptr<Pending> pending);
    void handleLine(std::string_view line);
    void finishValue();
    void failAll(const Failure& reason);
    void resetTimeout();

    double timeOut_;
    std::deque<std::unique_ptr<Pending>> pending_;
    DelayedCall timeoutCall_;
    // The VALUE being read in raw mode.
    std::string valueKey_;
    Value value_;
    std::size_t valueRemaining_ = 0;
};

} // namespace braid::memcache
