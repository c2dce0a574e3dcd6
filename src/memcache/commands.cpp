// memcached's classic text commands: get and its kin, the storage commands, incr/decr,
// delete, touch, verbosity, flush_all and stats. Each answers as memcached 1.6 does,
// malformed requests included.
#include "connection.hpp"

#include <climits>
#include <utility>

namespace braid::memcache::detail {

namespace {

constexpr std::string_view badFormat = "CLIENT_ERROR bad command line format";

} // namespace

// memcached's set_noreply_maybe: "noreply" as the last token.
bool Connection::setNoreply(const Tokens& tokens) {
    if (tokens.ntokens >= 2 && tokens[tokens.ntokens - 2] == "noreply") {
        noreply_ = true;
    }
    return noreply_;
}

void Connection::appendValue(const ItemView& item, bool withCas) {
    output_.append("VALUE ");
    output_.append(item.key);
    output_.push_back(' ');
    appendNumber(output_, item.flags);
    output_.push_back(' ');
    appendNumber(output_, item.value.size());
    if (withCas) {
        output_.push_back(' ');
        appendNumber(output_, item.cas);
    }
    output_.append("\r\n");
    output_.append(item.value);
    output_.append("\r\n");
}

void Connection::get(const Tokens& tokens, bool withCas, bool touch) {
    GetOptions options;
    std::size_t first = 1;
    if (touch) {
        std::int32_t exptime = 0;
        if (!parseI32(tokens[1], exptime)) {
            reply("CLIENT_ERROR invalid exptime argument");
            return;
        }
        options.touch = absoluteExpiry(exptime, now_);
        first = 2;
    }
    const std::size_t mark = output_.size();
    Tokens batch = tokens;
    for (;;) {
        for (std::size_t i = first; i + 1 < batch.ntokens; ++i) {
            std::string_view key = batch.token[i];
            if (key.size() > maxKeyLength) {
                output_.resize(mark); // memcached drops the values already gathered
                reply(badFormat);
                return;
            }
            ThreadCounters::add(counters_.getKeys);
            store_.get(key, now_, options,
                       [&](const ItemView& item) { appendValue(item, withCas); });
        }
        if (!batch.hasRest) {
            break;
        }
        batch = tokenize(batch.rest); // more keys than one tokenizer pass takes
        first = 0;
    }
    output_.append("END\r\n");
}

void Connection::update(const Tokens& tokens, StoreMode mode) {
    setNoreply(tokens);
    std::string_view key = tokens[1];
    if (key.size() > maxKeyLength) {
        reply(badFormat);
        return;
    }
    std::uint32_t flags = 0;
    std::int32_t exptime = 0;
    std::int32_t length = 0;
    if (!parseU32(tokens[2], flags) || !parseI32(tokens[3], exptime) ||
        !parseI32(tokens[4], length)) {
        reply(badFormat);
        return;
    }
    std::uint64_t cas = 0;
    if (mode == StoreMode::cas && !parseU64(tokens[5], cas)) {
        reply(badFormat);
        return;
    }
    if (length < 0 || length > INT_MAX - 2) {
        reply(badFormat);
        return;
    }
    PendingStore pending;
    pending.key.assign(key);
    pending.request.mode = mode;
    pending.noreply = noreply_;
    pending.request.flags = flags;
    pending.request.exptime = absoluteExpiry(exptime, now_);
    if (mode == StoreMode::cas) {
        pending.request.compareCas = cas;
    }
    expectData(std::move(pending), static_cast<std::size_t>(length));
}

// Waits for the data block of a storage command, or refuses one that cannot fit and
// drops its data as it comes (memcached's swallow).
void Connection::expectData(PendingStore pending, std::size_t valueLength) {
    if (!store_.fitsItemSize(pending.key.size(), valueLength, pending.request.flags)) {
        ThreadCounters::add(counters_.storeTooLarge);
        constexpr std::string_view tooLarge = "SERVER_ERROR object too large for cache";
        if (pending.meta) {
            replyError(tooLarge);
        } else {
            reply(tooLarge);
        }
        swallow_ = valueLength + 2;
        // A failed set must not leave the old value readable (memcached unlinks it too).
        if (pending.meta || pending.request.mode == StoreMode::set) {
            store_.remove(DeleteRequest{.key = pending.key,
                                        .compareCas = std::nullopt,
                                        .newCas = std::nullopt,
                                        .invalidate = false,
                                        .exptime = std::nullopt},
                          now_);
        }
        return;
    }
    pending.size = valueLength + 2;
    pending_ = std::move(pending);
}

void Connection::arithmetic(const Tokens& tokens, bool incr) {
    setNoreply(tokens);
    std::string_view key = tokens[1];
    if (key.size() > maxKeyLength) {
        reply(badFormat);
        return;
    }
    std::uint64_t delta = 0;
    if (!parseU64(tokens[2], delta)) {
        reply("CLIENT_ERROR invalid numeric delta argument");
        return;
    }
    ArithRequest request;
    request.key = key;
    request.incr = incr;
    request.delta = delta;
    ArithResult result = store_.arithmetic(request, now_);
    switch (result.status) {
    case ArithStatus::ok: {
        std::string number;
        appendNumber(number, result.value);
        reply(number);
        break;
    }
    case ArithStatus::nonNumeric:
        reply("CLIENT_ERROR cannot increment or decrement non-numeric value");
        break;
    case ArithStatus::notFound:
    case ArithStatus::exists: reply("NOT_FOUND"); break;
    case ArithStatus::outOfMemory: reply("SERVER_ERROR out of memory"); break;
    }
}

void Connection::remove(const Tokens& tokens) {
    std::size_t n = tokens.ntokens;
    if (n > 3) {
        // Only "delete <key> [0] [noreply]" is accepted.
        bool holdIsZero = tokens[2] == "0";
        bool noreply = setNoreply(tokens);
        bool valid = (n == 4 && (holdIsZero || noreply)) || (n == 5 && holdIsZero && noreply);
        if (!valid) {
            reply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
            return;
        }
    }
    std::string_view key = tokens[1];
    if (key.size() > maxKeyLength) {
        reply(badFormat);
        return;
    }
    DeleteRequest request;
    request.key = key;
    reply(store_.remove(request, now_) == DeleteStatus::deleted ? "DELETED" : "NOT_FOUND");
}

void Connection::touch(const Tokens& tokens) {
    setNoreply(tokens);
    std::string_view key = tokens[1];
    if (key.size() > maxKeyLength) {
        reply(badFormat);
        return;
    }
    std::int32_t exptime = 0;
    if (!parseI32(tokens[2], exptime)) {
        reply("CLIENT_ERROR invalid exptime argument");
        return;
    }
    ThreadCounters::add(counters_.cmdTouch);
    bool touched = store_.touch(key, absoluteExpiry(exptime, now_), now_);
    reply(touched ? "TOUCHED" : "NOT_FOUND");
}

void Connection::verbosity(const Tokens& tokens) {
    setNoreply(tokens);
    std::uint32_t level = 0;
    if (!parseU32(tokens[1], level)) {
        reply(badFormat);
        return;
    }
    constexpr std::uint32_t maxVerbosity = 2;
    server_.setVerbosity(static_cast<int>(std::min(level, maxVerbosity)));
    reply("OK");
}

void Connection::flushAll(const Tokens& tokens) {
    setNoreply(tokens);
    ThreadCounters::add(counters_.cmdFlush);
    std::int32_t delay = 0;
    if (tokens.ntokens != (noreply_ ? 3U : 2U) && !parseI32(tokens[1], delay)) {
        reply("CLIENT_ERROR invalid exptime argument");
        return;
    }
    // memcached: items last stored or touched at or before (deadline - 1) go, once that
    // moment has come; so a delay of 0 or 1 flushes at once.
    Seconds deadline = delay > 0 ? absoluteExpiry(delay, now_) : now_;
    store_.flushAll(deadline - 1, now_);
    reply("OK");
}

void Connection::stats(const Tokens& tokens) {
    std::size_t n = tokens.ntokens;
    std::string_view sub = tokens[1];
    std::string body;
    if (n == 2) {
        body = server_.generalStats(now_);
    } else if (sub == "reset") {
        server_.resetStats();
        reply("RESET");
        return;
    } else if (sub == "detail") {
        std::string_view arg = n < 4 ? std::string_view{} : tokens[2];
        reply(arg == "on" || arg == "off" ? "OK" : "CLIENT_ERROR usage: stats detail on|off|dump");
        return;
    } else if (sub == "settings") {
        body = server_.settingsStats();
    } else if (sub == "items") {
        body = server_.itemStats(now_);
    } else if (sub == "slabs") {
        body = server_.slabStats();
    } else {
        reply("ERROR");
        return;
    }
    output_.append(body);
    output_.append("END\r\n");
}

} // namespace braid::memcache::detail
