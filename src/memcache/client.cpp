#include "text.hpp"
#include <braid/memcache/client.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

namespace braid::memcache {

// A command sent and not answered yet. The answer comes as lines (and, for gets, VALUE
// blocks); line() returns true once the command's answer is complete.
class MemCacheProtocol::Pending {
public:
    Pending() = default;
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    Pending(Pending&&) = delete;
    Pending& operator=(Pending&&) = delete;
    virtual ~Pending() = default;
    virtual bool line(std::string_view line) = 0;
    // A VALUE block: only gets expect one. By value: the gets' override keeps both.
    // NOLINTNEXTLINE(performance-unnecessary-value-param)
    virtual void value(std::string key, Value value) {
        (void)value;
        throw ServerError("a VALUE block in the answer to a command that is not a get: " + key);
    }
    virtual void fail(const Failure& reason) = 0;
};

namespace {

// Commands answered by one status line (STORED, DELETED, a number, VERSION ...).
class StatusLine final : public MemCacheProtocol::Pending {
public:
    explicit StatusLine(Deferred<std::string> done) : done_(std::move(done)) {}
    bool line(std::string_view line) override {
        done_.callback(std::string(line));
        return true;
    }
    void fail(const Failure& reason) override { done_.errback(reason); }

private:
    Deferred<std::string> done_;
};

// get/gets: VALUE blocks until END.
class Values final : public MemCacheProtocol::Pending {
public:
    explicit Values(Deferred<std::map<std::string, Value>> done) : done_(std::move(done)) {}
    bool line(std::string_view line) override {
        if (line != "END") {
            throw ServerError("unexpected line in a get answer: " + std::string(line));
        }
        done_.callback(std::move(values_));
        return true;
    }
    void value(std::string key, Value value) override {
        values_.emplace(std::move(key), std::move(value));
    }
    void fail(const Failure& reason) override { done_.errback(reason); }

private:
    Deferred<std::map<std::string, Value>> done_;
    std::map<std::string, Value> values_;
};

// stats: STAT lines until END.
class StatLines final : public MemCacheProtocol::Pending {
public:
    explicit StatLines(Deferred<std::map<std::string, std::string>> done)
        : done_(std::move(done)) {}
    bool line(std::string_view line) override {
        if (line == "END") {
            done_.callback(std::move(stats_));
            return true;
        }
        if (!line.starts_with("STAT ")) {
            throw ServerError("unexpected line in a stats answer: " + std::string(line));
        }
        line.remove_prefix(5);
        std::size_t space = std::min(line.find(' '), line.size());
        std::string_view rest = space < line.size() ? line.substr(space + 1) : std::string_view{};
        stats_[std::string(line.substr(0, space))] = std::string(rest);
        return false;
    }
    void fail(const Failure& reason) override { done_.errback(reason); }

private:
    Deferred<std::map<std::string, std::string>> done_;
    std::map<std::string, std::string> stats_;
};

// memcached's key rules: at most 250 bytes, no space or control character.
void checkKey(std::string_view key) {
    if (key.size() > MemCacheProtocol::MAX_KEY_LENGTH) {
        throw ClientError("Key too long");
    }
    if (key.empty() || std::ranges::any_of(key, [](char c) {
            auto byte = static_cast<unsigned char>(c);
            return byte <= ' ' || byte == 0x7f;
        })) {
        throw ClientError("Invalid key");
    }
}

std::uint64_t parseNumber(std::string_view text) {
    std::uint64_t value = 0;
    if (!detail::parseU64(text, value)) {
        throw ServerError("not a number: " + std::string(text));
    }
    return value;
}

} // namespace

MemCacheProtocol::MemCacheProtocol(double timeOut) : timeOut_(timeOut) {}

MemCacheProtocol::~MemCacheProtocol() = default;

void MemCacheProtocol::send(std::string_view request, std::unique_ptr<Pending> pending) {
    if (transport == nullptr || !connected) {
        pending->fail(Failure(ConnectionDone("not connected")));
        return;
    }
    pending_.push_back(std::move(pending));
    transport->write(request);
    if (pending_.size() == 1) {
        resetTimeout();
    }
}

Deferred<std::string> MemCacheProtocol::statusCommand(const std::string& request) {
    Deferred<std::string> done;
    send(request, std::make_unique<StatusLine>(done));
    return done;
}

Deferred<std::map<std::string, Value>>
MemCacheProtocol::getMultiple(const std::vector<std::string>& keys, bool withIdentifier) {
    try {
        for (const std::string& key : keys) {
            checkKey(key);
        }
    } catch (const ClientError&) {
        return fail<std::map<std::string, Value>>(Failure::current());
    }
    Deferred<std::map<std::string, Value>> done;
    if (keys.empty()) {
        done.callback({});
        return done;
    }
    std::string request = withIdentifier ? "gets" : "get";
    for (const std::string& key : keys) {
        request += ' ';
        request += key;
    }
    request += "\r\n";
    send(request, std::make_unique<Values>(done));
    return done;
}

Deferred<std::optional<Value>> MemCacheProtocol::get(std::string_view key, bool withIdentifier) {
    return getMultiple({std::string(key)}, withIdentifier)
        .addCallback([key = std::string(key)](std::map<std::string, Value> values) {
            auto found = values.find(key);
            return found == values.end() ? std::optional<Value>{} : std::move(found->second);
        });
}

Deferred<bool> MemCacheProtocol::store(std::string_view command, std::string_view key,
                                       std::string_view value, std::uint32_t flags,
                                       std::int64_t expireTime, std::optional<std::uint64_t> cas) {
    try {
        checkKey(key);
    } catch (const ClientError&) {
        return fail<bool>(Failure::current());
    }
    std::string request(command);
    request += ' ';
    request += key;
    request += ' ' + std::to_string(flags) + ' ' + std::to_string(expireTime) + ' ' +
               std::to_string(value.size());
    if (cas) {
        request += ' ' + std::to_string(*cas);
    }
    request += "\r\n";
    request += value;
    request += "\r\n";
    return statusCommand(request).addCallback(
        [](const std::string& status) { return status == "STORED"; });
}

Deferred<bool> MemCacheProtocol::set(std::string_view key, std::string_view value,
                                     std::uint32_t flags, std::int64_t expireTime) {
    return store("set", key, value, flags, expireTime);
}

Deferred<bool> MemCacheProtocol::add(std::string_view key, std::string_view value,
                                     std::uint32_t flags, std::int64_t expireTime) {
    return store("add", key, value, flags, expireTime);
}

Deferred<bool> MemCacheProtocol::replace(std::string_view key, std::string_view value,
                                         std::uint32_t flags, std::int64_t expireTime) {
    return store("replace", key, value, flags, expireTime);
}

Deferred<bool> MemCacheProtocol::append(std::string_view key, std::string_view value) {
    return store("append", key, value, 0, 0);
}

Deferred<bool> MemCacheProtocol::prepend(std::string_view key, std::string_view value) {
    return store("prepend", key, value, 0, 0);
}

Deferred<bool> MemCacheProtocol::checkAndSet(std::string_view key, std::string_view value,
                                             std::uint64_t cas, std::uint32_t flags,
                                             std::int64_t expireTime) {
    return store("cas", key, value, flags, expireTime, cas);
}

Deferred<bool> MemCacheProtocol::remove(std::string_view key) {
    try {
        checkKey(key);
    } catch (const ClientError&) {
        return fail<bool>(Failure::current());
    }
    return statusCommand("delete " + std::string(key) + "\r\n")
        .addCallback([](const std::string& status) { return status == "DELETED"; });
}

Deferred<std::optional<std::uint64_t>>
MemCacheProtocol::arithmetic(std::string_view command, std::string_view key, std::uint64_t delta) {
    try {
        checkKey(key);
    } catch (const ClientError&) {
        return fail<std::optional<std::uint64_t>>(Failure::current());
    }
    std::string request(command);
    request += ' ';
    request += key;
    request += ' ' + std::to_string(delta) + "\r\n";
    return statusCommand(request).addCallback([](const std::string& status) {
        return status == "NOT_FOUND" ? std::optional<std::uint64_t>{} : parseNumber(status);
    });
}

Deferred<std::optional<std::uint64_t>> MemCacheProtocol::increment(std::string_view key,
                                                                   std::uint64_t delta) {
    return arithmetic("incr", key, delta);
}

Deferred<std::optional<std::uint64_t>> MemCacheProtocol::decrement(std::string_view key,
                                                                   std::uint64_t delta) {
    return arithmetic("decr", key, delta);
}

Deferred<bool> MemCacheProtocol::touch(std::string_view key, std::int64_t expireTime) {
    try {
        checkKey(key);
    } catch (const ClientError&) {
        return fail<bool>(Failure::current());
    }
    return statusCommand("touch " + std::string(key) + ' ' + std::to_string(expireTime) + "\r\n")
        .addCallback([](const std::string& status) { return status == "TOUCHED"; });
}

Deferred<bool> MemCacheProtocol::flushAll() {
    return statusCommand("flush_all\r\n").addCallback([](const std::string& status) {
        return status == "OK";
    });
}

Deferred<std::string> MemCacheProtocol::version() {
    return statusCommand("version\r\n").addCallback([](const std::string& status) -> std::string {
        constexpr std::string_view prefix = "VERSION ";
        // Not starts_with(): GCC 12 -O2 then warns of an uninitialised read (-Werror).
        // NOLINTNEXTLINE(modernize-use-starts-ends-with)
        if (status.compare(0, prefix.size(), prefix) != 0) {
            throw ServerError("unexpected version answer: " + status);
        }
        return status.substr(prefix.size());
    });
}

Deferred<std::map<std::string, std::string>> MemCacheProtocol::stats(std::string_view arg) {
    Deferred<std::map<std::string, std::string>> done;
    std::string request = arg.empty() ? "stats\r\n" : "stats " + std::string(arg) + "\r\n";
    send(request, std::make_unique<StatLines>(done));
    return done;
}

void MemCacheProtocol::lineReceived(std::string_view line) {
    try {
        handleLine(line);
    } catch (const ServerError&) {
        // Not memcached's protocol: nothing more on this connection can be trusted.
        failAll(Failure::current());
        transport->abortConnection();
    }
}

void MemCacheProtocol::handleLine(std::string_view line) {
    resetTimeout();
    if (pending_.empty()) {
        throw ServerError("an answer to no command: " + std::string(line));
    }
    Pending& current = *pending_.front();
    if (line.starts_with("VALUE ")) {
        // VALUE <key> <flags> <bytes> [<cas>]
        detail::Tokens tokens = detail::tokenize(line);
        std::uint64_t bytes = 0;
        if (tokens.ntokens < 5 || !detail::parseU32(tokens[2], value_.flags) ||
            !detail::parseU64(tokens[3], bytes) ||
            (tokens.ntokens > 5 && !detail::parseU64(tokens[4], value_.cas))) {
            throw ServerError("malformed VALUE line: " + std::string(line));
        }
        valueKey_ = tokens[1];
        value_.value.clear();
        valueRemaining_ = static_cast<std::size_t>(bytes) + 2;
        setRawMode();
        return;
    }
    bool done = true;
    if (line == "ERROR") {
        current.fail(Failure(NoSuchCommand()));
    } else if (line.starts_with("CLIENT_ERROR")) {
        current.fail(
            Failure(ClientError(std::string(line.substr(std::min<std::size_t>(13, line.size()))))));
    } else if (line.starts_with("SERVER_ERROR")) {
        current.fail(
            Failure(ServerError(std::string(line.substr(std::min<std::size_t>(13, line.size()))))));
    } else {
        done = current.line(line);
    }
    if (done) {
        pending_.pop_front();
        if (pending_.empty() && timeoutCall_.active()) {
            timeoutCall_.cancel();
        }
    }
}

void MemCacheProtocol::rawDataReceived(std::string_view data) {
    resetTimeout();
    std::size_t take = std::min(valueRemaining_, data.size());
    value_.value.append(data.substr(0, take));
    valueRemaining_ -= take;
    if (valueRemaining_ > 0) {
        return;
    }
    if (!value_.value.ends_with("\r\n")) {
        failAll(Failure(ServerError("a VALUE block without its \\r\\n")));
        transport->abortConnection();
        return;
    }
    try {
        finishValue();
    } catch (const ServerError&) { // a VALUE for a command that is not a get
        failAll(Failure::current());
        transport->abortConnection();
        return;
    }
    setLineMode(data.substr(take));
}

void MemCacheProtocol::finishValue() {
    value_.value.resize(value_.value.size() - 2);
    pending_.front()->value(std::move(valueKey_), std::move(value_));
    value_ = Value{};
}

void MemCacheProtocol::resetTimeout() {
    if (pending_.empty()) {
        return;
    }
    if (timeoutCall_.active()) {
        timeoutCall_.reset(timeOut_);
    } else {
        timeoutCall_ = callLater(timeOut_, [this] { timeoutConnection(); });
    }
}

void MemCacheProtocol::timeoutConnection() {
    failAll(Failure(TimeoutError("memcached: no answer in time")));
    transport->loseConnection();
}

void MemCacheProtocol::failAll(const Failure& reason) {
    std::deque<std::unique_ptr<Pending>> pending = std::move(pending_);
    pending_.clear();
    for (std::unique_ptr<Pending>& command : pending) {
        command->fail(reason);
    }
}

void MemCacheProtocol::connectionLost(const Failure& reason) {
    failAll(reason);
    LineReceiver::connectionLost(reason);
}

} // namespace braid::memcache
