// memcached's meta commands: mg, ms, md, ma and me (mn is answered by the dispatcher).
// A meta command is a key and single-letter flags; its answer is a two-letter code (VA,
// HD, EN, NS, EX, NF) followed by the flags the client asked back, in its order. With q,
// only the nominal answer is left out (HD for ms/md/ma, EN for mg); errors always go out.
#include "connection.hpp"

#include <array>
#include <climits>
#include <utility>

namespace braid::memcache::detail {

namespace {

constexpr std::string_view badFormat = "CLIENT_ERROR bad command line format";
constexpr std::string_view badToken = "CLIENT_ERROR bad token in command line format";
// memcached's MFLAG_MAX_OPT_LENGTH (in tokens) and MFLAG_MAX_OPAQUE_LENGTH (in bytes).
constexpr std::size_t maxMetaTokens = 20;
constexpr std::size_t maxOpaqueLength = 32;

bool parseExptime(std::string_view digits, Seconds now, Seconds& out) {
    std::int32_t exptime = 0;
    if (!parseI32(digits, exptime)) {
        return false;
    }
    out = absoluteExpiry(exptime, now);
    return true;
}

// The TTL a meta answer reports: seconds left, or -1 for an item that never expires.
std::int64_t remainingTtl(Seconds exptime, Seconds now) {
    return exptime == 0 ? -1 : exptime - now;
}

} // namespace

// memcached's _meta_flag_preparse: every flag after the key is checked once; unknown and
// repeated flags are refused. On success the key token holds the decoded key ('b').
bool Connection::parseMetaFlags(Tokens& tokens, std::size_t first, MetaFlags& flags,
                                std::string_view& error) {
    std::array<bool, 128> seen{};
    bool failed = false;
    auto fail = [&](std::string_view message) {
        error = message;
        failed = true;
    };
    for (std::size_t i = first; i + 1 < tokens.ntokens; ++i) {
        std::string_view token = tokens.token[i];
        auto letter = static_cast<unsigned char>(token[0]);
        if (letter >= 127 || seen[letter]) {
            error = "CLIENT_ERROR duplicate flag";
            return false;
        }
        seen[letter] = true;
        std::string_view argument = token.substr(1);
        switch (letter) {
        case 'b':
            if (base64Decode(tokens.token[1], scratch_) && !scratch_.empty()) {
                tokens.token[1] = scratch_;
                flags.base64Key = true;
            } else {
                fail("CLIENT_ERROR error decoding key");
            }
            break;
        case 'N':
            flags.vivify = true;
            if (!parseExptime(argument, now_, flags.vivifyExptime)) {
                fail(badToken);
            }
            break;
        case 'T':
            flags.newTtl = true;
            if (!parseExptime(argument, now_, flags.exptime)) {
                fail(badToken);
            }
            break;
        case 'R':
            flags.hasRecache = true;
            if (!parseExptime(argument, now_, flags.recacheTime)) {
                fail(badToken);
            }
            break;
        case 'F':
            if (!parseU32(argument, flags.clientFlags)) {
                failed = true;
            }
            break;
        case 'C':
            flags.hasCas = parseU64(argument, flags.compareCas);
            if (!flags.hasCas) {
                fail(badToken);
            }
            break;
        case 'E': // the newer memcached's explicit new CAS value
            flags.hasNewCas = parseU64(argument, flags.newCas);
            if (!flags.hasNewCas) {
                fail(badToken);
            }
            break;
        case 'M':
            if (token.size() != 2) {
                fail("CLIENT_ERROR incorrect length for M token");
            } else {
                flags.mode = token[1];
            }
            break;
        case 'J':
            if (!parseU64(argument, flags.initial)) {
                fail("CLIENT_ERROR invalid numeric initial value");
            }
            break;
        case 'D':
            if (!parseU64(argument, flags.delta)) {
                fail("CLIENT_ERROR invalid numeric delta value");
            }
            break;
        case 'v': flags.value = true; break;
        case 'u': flags.noUpdate = true; break;
        case 'q': flags.quiet = true; break;
        case 'I': flags.invalidate = true; break;
        case 'O':
        case 'P':
        case 'L':
        case 'k':
        case 's':
        case 't':
        case 'c':
        case 'f':
        case 'l':
        case 'h': break;
        default: error = "CLIENT_ERROR invalid flag"; return false;
        }
    }
    if (failed) {
        return false;
    }
    for (std::size_t i = first; i + 1 < tokens.ntokens; ++i) {
        if (tokens.token[i][0] == 'O' && tokens.token[i].size() > maxOpaqueLength) {
            error = "CLIENT_ERROR opaque token too long";
            return false;
        }
    }
    return true;
}

void Connection::appendMetaKey(std::string_view key, bool base64) {
    output_.append(" k");
    if (base64) {
        base64Encode(key, output_);
        output_.append(" b");
    } else {
        output_.append(key);
    }
}

// The O (opaque) and k (key) flags, which every meta answer echoes.
void Connection::appendOpaqueAndKey(const Tokens& tokens, std::size_t first, std::string_view key,
                                    bool base64) {
    for (std::size_t i = first; i + 1 < tokens.ntokens; ++i) {
        std::string_view token = tokens.token[i];
        if (token[0] == 'O') {
            output_.push_back(' ');
            output_.append(token);
        } else if (token[0] == 'k') {
            appendMetaKey(key, base64);
        }
    }
}

void Connection::metaGet(Tokens& tokens) {
    if (tokens.ntokens < 3) {
        reply("ERROR");
        return;
    }
    if (tokens[1].size() > maxKeyLength) {
        replyError(badFormat);
        return;
    }
    if (tokens.ntokens > maxMetaTokens) {
        replyError("CLIENT_ERROR options flags are too long");
        return;
    }
    MetaFlags flags;
    std::string_view error = badFormat;
    if (!parseMetaFlags(tokens, 2, flags, error)) {
        replyError(error);
        return;
    }
    std::string_view key = tokens.token[1];
    GetOptions options;
    options.bumpLru = !flags.noUpdate;
    if (flags.newTtl) {
        options.touch = flags.exptime;
    }
    if (flags.vivify) {
        options.vivifyExptime = flags.vivifyExptime;
    }
    if (flags.hasRecache) {
        options.recacheBelow = flags.recacheTime;
    }
    ThreadCounters::add(flags.newTtl ? counters_.cmdTouch : counters_.getKeys);
    bool found = store_.get(key, now_, options, [&](const ItemView& item) {
        if (flags.value) {
            output_.append("VA ");
            appendNumber(output_, item.value.size());
        } else {
            output_.append("HD");
        }
        for (std::size_t i = 2; i + 1 < tokens.ntokens; ++i) {
            std::string_view token = tokens.token[i];
            switch (token[0]) {
            case 's':
                output_.append(" s");
                appendNumber(output_, item.value.size());
                break;
            case 't':
                output_.append(" t");
                appendSigned(output_, remainingTtl(item.exptime, now_));
                break;
            case 'c':
                output_.append(" c");
                appendNumber(output_, item.cas);
                break;
            case 'f':
                output_.append(" f");
                appendNumber(output_, item.flags);
                break;
            case 'l':
                output_.append(" l");
                appendSigned(output_, now_ - item.lastAccess);
                break;
            case 'h': output_.append(item.fetchedBefore ? " h1" : " h0"); break;
            case 'O':
                output_.push_back(' ');
                output_.append(token);
                break;
            case 'k': appendMetaKey(item.key, flags.base64Key); break;
            default: break;
            }
        }
        if (item.alreadyWon) {
            output_.append(" Z");
        }
        if (item.stale) {
            output_.append(" X");
        }
        if (item.won) {
            output_.append(" W");
        }
        output_.append("\r\n");
        if (flags.value) {
            output_.append(item.value);
            output_.append("\r\n");
        }
    });
    if (!found && !flags.quiet) {
        replyCode("EN", tokens, key, flags.base64Key);
    }
}

void Connection::metaSet(Tokens& tokens) {
    std::size_t n = tokens.ntokens;
    if (n < 3) {
        reply("ERROR");
        return;
    }
    if (tokens[1].size() > maxKeyLength || n == 3) {
        replyError(badFormat);
        return;
    }
    if (n > maxMetaTokens) {
        replyError("CLIENT_ERROR options flags too long");
        return;
    }
    std::int32_t length = 0;
    if (!parseI32(tokens[2], length) || length < 0 || length > INT_MAX - 2) {
        replyError(badFormat);
        return;
    }
    std::string_view rawKey = tokens[1];
    MetaFlags flags;
    std::string_view error = badFormat;
    bool ok = parseMetaFlags(tokens, 3, flags, error);
    StoreMode mode = StoreMode::set;
    switch (ok ? flags.mode : 'S') {
    case 0:
    case 'S': break;
    case 'E': mode = StoreMode::add; break;
    case 'A': mode = StoreMode::append; break;
    case 'P': mode = StoreMode::prepend; break;
    case 'R': mode = StoreMode::replace; break;
    default:
        ok = false;
        error = "CLIENT_ERROR invalid mode for ms M token";
        break;
    }
    if (!ok) {
        swallow_ = static_cast<std::size_t>(length) + 2;
        replyError(error);
        return;
    }
    // A CAS value turns set and replace into cas (replace + cas works as cas).
    if (flags.hasCas && (mode == StoreMode::set || mode == StoreMode::replace)) {
        mode = StoreMode::cas;
    }
    PendingStore pending;
    pending.meta = true;
    pending.noreply = flags.quiet;
    pending.key.assign(tokens.token[1]);
    pending.metaKey.assign(rawKey);
    pending.base64Key = flags.base64Key;
    pending.request.mode = mode;
    pending.request.flags = flags.clientFlags;
    pending.request.exptime = flags.newTtl ? flags.exptime : 0;
    if (flags.hasCas) {
        pending.request.compareCas = flags.compareCas;
    }
    if (flags.hasNewCas) {
        pending.request.newCas = flags.newCas;
    }
    pending.request.invalidate = flags.invalidate && mode == StoreMode::cas;
    if (flags.vivify) {
        pending.request.vivifyExptime = flags.vivifyExptime;
    }
    for (std::size_t i = 3; i + 1 < n; ++i) {
        char letter = tokens.token[i][0];
        if (letter == 'O' || letter == 'k' || letter == 'c') {
            pending.metaEcho.push_back(' ');
            pending.metaEcho.append(letter == 'O' ? tokens.token[i] : tokens.token[i].substr(0, 1));
        }
    }
    expectData(std::move(pending), static_cast<std::size_t>(length));
}

void Connection::finishMetaSet(const PendingStore& pending, StoreStatus status, std::uint64_t cas) {
    std::string_view code;
    switch (status) {
    case StoreStatus::stored:
        if (pending.noreply) {
            return;
        }
        code = "HD";
        break;
    case StoreStatus::notStored: code = "NS"; break;
    case StoreStatus::exists: code = "EX"; break;
    case StoreStatus::notFound: code = "NF"; break;
    case StoreStatus::tooLarge:
        ThreadCounters::add(counters_.storeTooLarge);
        replyError("SERVER_ERROR object too large for cache");
        return;
    case StoreStatus::outOfMemory:
        ThreadCounters::add(counters_.storeNoMemory);
        replyError("SERVER_ERROR out of memory storing object");
        return;
    }
    output_.append(code);
    std::string_view echo = pending.metaEcho;
    while (!echo.empty()) {
        echo.remove_prefix(1); // the space
        std::size_t end = std::min(echo.find(' '), echo.size());
        std::string_view flag = echo.substr(0, end);
        echo.remove_prefix(end);
        if (flag[0] == 'O') {
            output_.push_back(' ');
            output_.append(flag);
        } else if (flag[0] == 'k') {
            output_.append(" k");
            output_.append(pending.metaKey);
            if (pending.base64Key) {
                output_.append(" b");
            }
        } else {
            output_.append(" c");
            appendNumber(output_, cas);
        }
    }
    output_.append("\r\n");
}

// md and ma: the checks before their work, answered as memcached does (for these two, any
// flag error but a long opaque is "invalid or duplicate flag").
bool Connection::parseKeyAndFlags(Tokens& tokens, MetaFlags& flags) {
    if (tokens.ntokens < 3) {
        reply("ERROR");
        return false;
    }
    if (tokens[1].size() > maxKeyLength) {
        reply(badFormat);
        return false;
    }
    if (tokens.ntokens > maxMetaTokens) {
        reply("CLIENT_ERROR options flags too long");
        return false;
    }
    std::string_view error = badFormat;
    if (!parseMetaFlags(tokens, 2, flags, error)) {
        replyError(error == "CLIENT_ERROR opaque token too long"
                       ? error
                       : std::string_view{"CLIENT_ERROR invalid or duplicate flag"});
        return false;
    }
    return true;
}

// An answer code with the O and k flags the request asked back.
void Connection::replyCode(std::string_view code, const Tokens& tokens, std::string_view key,
                           bool base64) {
    output_.append(code);
    appendOpaqueAndKey(tokens, 2, key, base64);
    output_.append("\r\n");
}

void Connection::metaDelete(Tokens& tokens) {
    std::string_view rawKey = tokens[1];
    MetaFlags flags;
    if (!parseKeyAndFlags(tokens, flags)) {
        return;
    }
    DeleteRequest request;
    request.key = tokens.token[1];
    if (flags.hasCas) {
        request.compareCas = flags.compareCas;
    }
    if (flags.hasNewCas) {
        request.newCas = flags.newCas;
    }
    request.invalidate = flags.invalidate;
    if (flags.newTtl) {
        request.exptime = flags.exptime;
    }
    DeleteStatus status = store_.remove(request, now_);
    if (status == DeleteStatus::deleted && flags.quiet) {
        return;
    }
    std::string_view code = "EX";
    if (status != DeleteStatus::exists) {
        code = status == DeleteStatus::deleted ? "HD" : "NF";
    }
    replyCode(code, tokens, rawKey);
}

void Connection::metaArithmetic(Tokens& tokens) {
    std::string_view rawKey = tokens[1];
    MetaFlags flags;
    if (!parseKeyAndFlags(tokens, flags)) {
        return;
    }
    ArithRequest request;
    request.key = tokens.token[1];
    switch (flags.mode) {
    case 0:
    case 'I':
    case '+': request.incr = true; break;
    case 'D':
    case '-': request.incr = false; break;
    default: replyError("CLIENT_ERROR invalid mode for ma M token"); return;
    }
    request.delta = flags.delta;
    if (flags.hasCas) {
        request.compareCas = flags.compareCas;
    }
    if (flags.hasNewCas) {
        request.newCas = flags.newCas;
    }
    if (flags.vivify) {
        request.vivifyExptime = flags.vivifyExptime;
        request.initial = flags.initial;
    }
    if (flags.newTtl) {
        request.touch = flags.exptime;
    }
    ArithResult result = store_.arithmetic(request, now_);
    switch (result.status) {
    case ArithStatus::nonNumeric:
        replyError("CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    case ArithStatus::notFound:
    case ArithStatus::exists:
        replyCode(result.status == ArithStatus::notFound ? "NF" : "EX", tokens, rawKey);
        return;
    case ArithStatus::outOfMemory: replyError("SERVER_ERROR out of memory"); return;
    case ArithStatus::ok: break;
    }
    if (flags.quiet) {
        return; // memcached leaves the whole answer out, value included
    }
    std::string number;
    appendNumber(number, result.value);
    if (flags.value) {
        output_.append("VA ");
        appendNumber(output_, number.size());
    } else {
        output_.append("HD");
    }
    for (std::size_t i = 2; i + 1 < tokens.ntokens; ++i) {
        std::string_view token = tokens.token[i];
        switch (token[0]) {
        case 'c':
            output_.append(" c");
            appendNumber(output_, result.cas);
            break;
        case 't':
            output_.append(" t");
            appendSigned(output_, remainingTtl(result.exptime, now_));
            break;
        case 'O':
            output_.push_back(' ');
            output_.append(token);
            break;
        case 'k': appendMetaKey(rawKey, false); break;
        default: break;
        }
    }
    output_.append("\r\n");
    if (flags.value) {
        output_.append(number);
        output_.append("\r\n");
    }
}

// me: memcached's debug line about one item.
void Connection::metaDebug(Tokens& tokens) {
    if (tokens.ntokens < 3 || tokens[1].size() > maxKeyLength) {
        reply(badFormat);
        return;
    }
    GetOptions options;
    options.bumpLru = false;
    bool found = store_.get(tokens[1], now_, options, [&](const ItemView& item) {
        output_.append("ME ");
        output_.append(item.key);
        output_.append(" exp=");
        appendSigned(output_, item.exptime == 0 ? -1 : now_ - item.exptime);
        output_.append(" la=");
        appendSigned(output_, now_ - item.lastAccess);
        output_.append(" cas=");
        appendNumber(output_, item.cas);
        output_.append(item.fetchedBefore ? " fetch=yes" : " fetch=no");
        output_.append(" cls=1 size=");
        appendNumber(output_, Store::itemSize(item.key.size(), item.value.size()));
        output_.append("\r\n");
    });
    if (!found) {
        reply("EN");
    }
}

} // namespace braid::memcache::detail
