#include "connection.hpp"

#include "lookahead.hpp"
#include <braid/log.hpp>

#include <cstring>
#include <optional>
#include <utility>

namespace braid::memcache::detail {

namespace {

Logger log("braid.memcache"); // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

// Replies of one read are written once this many bytes pile up, not only at the end.
constexpr std::size_t flushThreshold = std::size_t{256} * 1024;

} // namespace

Connection::Connection(std::shared_ptr<ServerFactory> factory)
    : factory_(std::move(factory)),
      server_(factory_->server()),
      store_(server_.store()),
      counters_(factory_->counters()) {}

Connection::~Connection() {
    if (admitted_) {
        server_.release();
    }
}

void Connection::connectionMade() {
    admitted_ = server_.admit();
    if (!admitted_) {
        // memcached's answer when -c connections are open already.
        transport->write("ERROR Too many open connections\r\n");
        transport->loseConnection();
        closing_ = true;
        return;
    }
    transport->setTcpNoDelay(true);
    transport->registerProducer(static_cast<IPushProducer&>(*this));
}

void Connection::connectionLost(const Failure& /*reason*/) {
    closing_ = true;
}

void Connection::dataReceived(std::string_view data) {
    ThreadCounters::add(counters_.bytesRead, data.size());
    if (closing_) {
        return;
    }
    if (input_.empty() && !paused_) {
        std::size_t used = process(data);
        if (used < data.size() && !closing_) {
            input_.assign(data.substr(used));
        }
    } else {
        input_.append(data);
        if (!paused_) {
            input_.erase(0, process(input_));
        }
    }
    flush();
}

void Connection::resumeProducing() {
    paused_ = false;
    if (!input_.empty() && !closing_) {
        input_.erase(0, process(input_));
        flush();
    }
}

std::size_t Connection::process(std::string_view input) {
    now_ = factory_->now();
    prefetchKeys(input);
    std::size_t at = 0;
    while (at < input.size() && !closing_ && !paused_) {
        std::string_view rest = input.substr(at);
        if (swallow_ > 0) {
            std::size_t n = std::min(swallow_, rest.size());
            swallow_ -= n;
            at += n;
            continue;
        }
        if (pending_) {
            if (rest.size() < pending_->size) {
                break;
            }
            completeStore(*pending_, rest.substr(0, pending_->size));
            at += pending_->size;
            pending_.reset();
            continue;
        }
        const void* newline = std::memchr(rest.data(), '\n', rest.size());
        if (newline == nullptr) {
            if (!acceptPartialLine(rest)) {
                log.debug("closing a connection whose request line has no end");
                close();
            }
            break;
        }
        std::size_t length = static_cast<const char*>(newline) - rest.data();
        at += length + 1;
        std::string_view line = rest.substr(0, length);
        if (line.size() > 1 && line.back() == '\r') {
            line.remove_suffix(1);
        }
        runLine(line);
        if (output_.size() >= flushThreshold) {
            flush(); // may pause us: the transport's buffer is over its mark
        }
    }
    return closing_ ? input.size() : at;
}

// The scan starts after the data still owed to a storage command (or still to be
// swallowed): while a large value arrives in small reads, each read would otherwise scan
// all of it again.
void Connection::prefetchKeys(std::string_view input) const {
    std::size_t owed = swallow_;
    if (pending_) {
        owed = pending_->size;
    }
    if (owed >= input.size()) {
        return;
    }
    KeysAhead ahead;
    findKeysAhead(input.substr(owed), ahead);
    if (ahead.count > 1) {
        store_.prefetch(std::span(ahead.keys.data(), ahead.count));
    }
}

bool Connection::acceptPartialLine(std::string_view partial) const {
    const ServerOptions& options = server_.options();
    if (partial.size() <= options.maxLineLength) {
        return true;
    }
    // Only a get with many keys may be that long (memcached allows 100 leading spaces).
    std::size_t spaces = partial.find_first_not_of(' ');
    if (spaces == std::string_view::npos || spaces > 100) {
        return false;
    }
    std::string_view command = partial.substr(spaces);
    bool multiget = command.starts_with("get ") || command.starts_with("gets ");
    return multiget && partial.size() <= options.maxMultigetLine;
}

// memcached's process_command_ascii: the command, then its token-count rule (memcached
// counts the terminal token: "get k" is 3), then the command itself.
void Connection::runLine(std::string_view line) {
    noreply_ = false;
    Tokens tokens = tokenize(line);
    std::string_view command = tokens[0];
    const std::size_t n = tokens.ntokens;
    auto within = [n](std::size_t low, std::size_t high) { return n >= low && n <= high; };
    if (n < 2 || command.size() < 2) {
        reply("ERROR");
        return;
    }
    if (command.size() == 2 && command[0] == 'm') {
        runMeta(tokens);
    } else if (isGet(command) && n >= 3) {
        get(tokens, command == "gets" || command == "gats", command.starts_with("gat"));
    } else if (std::optional<StoreMode> mode = storageMode(command);
               mode && within(*mode == StoreMode::cas ? 7 : 6, *mode == StoreMode::cas ? 8 : 7)) {
        update(tokens, *mode);
    } else if ((command == "incr" || command == "decr") && within(4, 5)) {
        arithmetic(tokens, command == "incr");
    } else if (command == "delete" && within(3, 5)) {
        remove(tokens);
    } else if (command == "touch" && within(4, 5)) {
        touch(tokens);
    } else if (command == "stats") {
        stats(tokens);
    } else if (command == "flush_all" && within(2, 4)) {
        flushAll(tokens);
    } else if (command == "version") {
        reply("VERSION " + server_.options().version);
    } else if (command == "quit") {
        close();
    } else if (command == "verbosity" && within(3, 4)) {
        verbosity(tokens);
    } else if (command == "shutdown") {
        reply("ERROR: shutdown not enabled");
    } else {
        reply("ERROR"); // unknown, or the wrong number of tokens
    }
}

void Connection::runMeta(Tokens& tokens) {
    switch (tokens[0][1]) {
    case 'g': metaGet(tokens); break;
    case 's': metaSet(tokens); break;
    case 'd': metaDelete(tokens); break;
    case 'a': metaArithmetic(tokens); break;
    case 'e': metaDebug(tokens); break;
    case 'n': reply("MN"); break;
    default: reply("ERROR"); break;
    }
}

void Connection::completeStore(PendingStore& pending, std::string_view block) {
    ThreadCounters::add(counters_.cmdSet);
    noreply_ = pending.noreply;
    if (!block.ends_with("\r\n")) {
        if (pending.meta) {
            noreply_ = false; // meta commands always report errors
        }
        reply("CLIENT_ERROR bad data chunk");
        return;
    }
    pending.request.key = pending.key;
    pending.request.value = block.substr(0, block.size() - 2);
    StoreResult result = store_.store(pending.request, now_);
    if (pending.meta) {
        finishMetaSet(pending, result.status, result.cas);
        return;
    }
    switch (result.status) {
    case StoreStatus::stored: reply("STORED"); break;
    case StoreStatus::notStored: reply("NOT_STORED"); break;
    case StoreStatus::exists: reply("EXISTS"); break;
    case StoreStatus::notFound: reply("NOT_FOUND"); break;
    case StoreStatus::tooLarge:
        ThreadCounters::add(counters_.storeTooLarge);
        reply("SERVER_ERROR object too large for cache");
        break;
    case StoreStatus::outOfMemory:
        ThreadCounters::add(counters_.storeNoMemory);
        reply("SERVER_ERROR out of memory storing object");
        break;
    }
}

void Connection::reply(std::string_view line) {
    if (noreply_) {
        return;
    }
    output_.append(line);
    output_.append("\r\n");
}

void Connection::replyError(std::string_view line) {
    noreply_ = false;
    reply(line);
}

void Connection::flush() {
    if (output_.empty() || transport == nullptr) {
        return;
    }
    ThreadCounters::add(counters_.bytesWritten, output_.size());
    transport->write(output_);
    output_.clear();
}

// quit, or a request line with no end: send what is answered, then close.
void Connection::close() {
    closing_ = true;
    flush();
    transport->unregisterProducer();
    transport->loseConnection();
}

} // namespace braid::memcache::detail
