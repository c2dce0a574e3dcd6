// One memcached client connection: splits what arrives into request lines and data
// blocks, runs each command against the Store and collects the replies of one read into
// one write (memcached sends each pipelined reply on its own; braid coalesces them).
//
// Malformed input is answered as memcached 1.6 answers it (see text.hpp); a request line
// that grows past the limit without its newline closes the connection, as in memcached.
// While the transport's write buffer is over its high-water mark the connection, a push
// producer, stops running commands and keeps the unread rest of its input.
#pragma once

#include "text.hpp"
#include <braid/memcache/server.hpp>
#include <braid/memcache/store.hpp>
#include <braid/producer.hpp>
#include <braid/protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace braid::memcache::detail {

// The flags of a meta command (mg, ms, md, ma), parsed once.
struct MetaFlags {
    bool noUpdate = false, vivify = false, value = false, invalidate = false, quiet = false,
         hasCas = false, hasNewCas = false, newTtl = false, base64Key = false;
    char mode = 0;
    Seconds exptime = 0, vivifyExptime = 0, recacheTime = 0;
    bool hasRecache = false;
    std::uint32_t clientFlags = 0;
    std::uint64_t compareCas = 0, newCas = 0, delta = 1, initial = 0;
};

class Connection final : public Protocol, public IPushProducer {
public:
    explicit Connection(std::shared_ptr<ServerFactory> factory);
    ~Connection() override;

    void connectionMade() override;
    void dataReceived(std::string_view data) override;
    void connectionLost(const Failure& reason) override;

    void pauseProducing() override { paused_ = true; }
    void resumeProducing() override;
    void stopProducing() override {}

private:
    // A storage command waiting for its data block.
    struct PendingStore {
        StoreRequest request;
        std::string key;      // request.key points here
        std::size_t size = 0; // data bytes with the closing \r\n
        bool meta = false;
        bool noreply = false; // the command's noreply (text) or q (meta)
        std::string metaEcho; // ms: the O/k/c flags to answer with, in order
        std::string metaKey;  // ms: the key as the client sent it (base64 with 'b')
        bool base64Key = false;
    };

    // Runs every complete command in `input`; returns how many bytes it used.
    std::size_t process(std::string_view input);
    // Hints the store with the keys of the requests `input` holds (Store::prefetch).
    void prefetchKeys(std::string_view input) const;
    // Handles input with no newline in sight: false if the connection must close.
    bool acceptPartialLine(std::string_view partial) const;
    void runLine(std::string_view line);
    void completeStore(PendingStore& pending, std::string_view block);
    void runMeta(Tokens& tokens);
    void flush();
    void close();

    // Replies: a line with \r\n, unless noreply is in force for this command.
    void reply(std::string_view line);
    // Meta errors ignore q.
    void replyError(std::string_view line);

    // Classic text commands (commands.cpp).
    void get(const Tokens& tokens, bool withCas, bool touch);
    void update(const Tokens& tokens, StoreMode mode);
    void arithmetic(const Tokens& tokens, bool incr);
    void remove(const Tokens& tokens);
    void touch(const Tokens& tokens);
    void verbosity(const Tokens& tokens);
    void flushAll(const Tokens& tokens);
    void stats(const Tokens& tokens);
    bool setNoreply(const Tokens& tokens);
    void expectData(PendingStore pending, std::size_t valueLength);
    void appendValue(const ItemView& item, bool withCas);

    // Meta commands (meta.cpp).
    void metaGet(Tokens& tokens);
    void metaSet(Tokens& tokens);
    void metaDelete(Tokens& tokens);
    void metaArithmetic(Tokens& tokens);
    void metaDebug(Tokens& tokens);
    bool parseMetaFlags(Tokens& tokens, std::size_t first, MetaFlags& flags,
                        std::string_view& error);
    bool parseKeyAndFlags(Tokens& tokens, MetaFlags& flags);
    void replyCode(std::string_view code, const Tokens& tokens, std::string_view key,
                   bool base64 = false);
    void appendMetaKey(std::string_view key, bool base64);
    void appendOpaqueAndKey(const Tokens& tokens, std::size_t first, std::string_view key,
                            bool base64);
    void finishMetaSet(const PendingStore& pending, StoreStatus status, std::uint64_t cas);

    std::shared_ptr<ServerFactory> factory_;
    Server& server_;
    Store& store_;
    ThreadCounters& counters_;
    Seconds now_ = 0;

    std::string input_;  // unprocessed input kept between reads
    std::string output_; // replies not yet written
    std::optional<PendingStore> pending_;
    std::size_t swallow_ = 0; // data bytes of a refused storage command still to drop
    bool noreply_ = false;
    bool closing_ = false;
    bool paused_ = false;
    bool admitted_ = false;
    std::string scratch_; // base64 keys
};

} // namespace braid::memcache::detail
