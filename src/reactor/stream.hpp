// StreamConnection: the transport of one connected TCP or UNIX stream socket. It owns
// its protocol. The hot path is onReady → recv into the reactor's buffer → dataReceived
// → write (appended while dataReceived runs) → one send once it returns. On io_uring the
// backend reads and sends: onReceived → dataReceived → write → takeOutput, sent with the
// iteration's other sends.
#pragma once

#include "poller.hpp"
#include <braid/failure.hpp>
#include <braid/protocol.hpp>
#include <braid/transport.hpp>

#include <memory>
#include <optional>
#include <string>

namespace braid::detail {

class ReactorCore;
class Connector;

class StreamConnection final : public ITransport, public IOHandler, public StreamIOHandler {
public:
    // connector: the client connector this connection came from (nullptr when accepted).
    StreamConnection(ReactorCore& core, int fd, Address peer, bool tcp,
                     std::shared_ptr<Connector> connector);
    StreamConnection(const StreamConnection&) = delete;
    StreamConnection& operator=(const StreamConnection&) = delete;
    ~StreamConnection() override;

    [[nodiscard]] int fd() const noexcept { return fd_; }

    // Registers with the poller and calls protocol->makeConnection(*this).
    void start(std::unique_ptr<Protocol> protocol);
    void onReady(std::uint32_t events) override;
    // End-of-iteration work asked for through ReactorCore::defer(). Returns true when
    // the connection is closed and can be destroyed.
    bool finishIteration();
    // Called by the reactor for serveAgainLater(): reads left over, a pull producer to ask.
    void serveAgain();
    // Closes at once with `reason` (reactor shutdown).
    void closeNow(const Failure& reason);

    // StreamIOHandler (io_uring)
    void onReceived(std::string_view data) override;
    void onReceiveEnded(int error) override;
    void takeOutput(std::string& into) override;
    void onSent(int error) override;

    // ITransport
    void write(std::string_view data) override;
    void writeSequence(std::span<const std::string_view> data) override;
    std::size_t writeFile(int fd, std::uint64_t offset, std::size_t count) override;
    void loseConnection() override;
    void abortConnection() override;
    void loseWriteConnection() override;
    [[nodiscard]] bool closing() const noexcept override {
        return disconnecting_ || closeReason_.has_value();
    }
    [[nodiscard]] Address getPeer() const override { return peer_; }
    [[nodiscard]] Address getHost() const override;
    void setTcpNoDelay(bool enabled) override;
    void setTcpKeepAlive(bool enabled) override;
    void setWriteBufferLimits(WriteBufferLimits limits) override;
    [[nodiscard]] std::size_t bufferedBytes() const override {
        return out_.size() - sent_ + inPlace_.size() + inFlight_;
    }
    [[nodiscard]] IReactorTime& clock() override;

    // IConsumer
    void registerProducer(IPushProducer& producer) override;
    void registerProducer(IPullProducer& producer) override;
    void unregisterProducer() override;

    // IPushProducer: pausing stops reading from the peer.
    void pauseProducing() override;
    void resumeProducing() override;
    void stopProducing() override;

private:
    [[nodiscard]] bool wantsToRead() const noexcept;
    void updateInterest();
    void updateCompletions();
    void doRead();
    void deliverPending();
    void endReading(int error);
    void readEnded();
    void serveAgainLater();
    void askPullProducerAgainLater();
    void deliver(std::string_view data);
    void requestSend();
    bool sendQueued(int flags);
    void flushOut();
    bool sendDirect(std::string_view data);
    void onDrained();
    void checkHighWater();
    void checkLowWater();
    void append(std::string_view data);
    [[nodiscard]] bool inReadBuffer(std::string_view data) const noexcept;
    void materializeInPlace();
    // Ends the connection with `reason` at the end of this iteration.
    void fail(Failure reason);
    // Asks the reactor to call finishIteration() at the end of this iteration.
    void scheduleFinish();
    // Calls into the protocol. One that throws is logged and its connection aborted (it
    // cannot be trusted any more); returns false then.
    template <class F>
    bool callProtocol(const char* what, F&& f);

    ReactorCore& core_;
    StreamCompletions* completions_; // io_uring reads and sends for it; else nullptr
    StreamSlot* slot_ = nullptr;     // its state there
    int fd_;
    Address peer_;
    std::shared_ptr<Connector> connector_;
    std::unique_ptr<Protocol> protocol_;

    std::string out_; // bytes written but not sent yet, from out_[sent_]
    std::size_t sent_ = 0;
    // A write made during dataReceived of bytes inside the reactor's read buffer (an echo
    // of what arrived): kept as a view, valid until dataReceived returns, and sent from
    // there without a copy. Any other write first copies it into out_, keeping the order.
    std::string_view inPlace_;
    std::size_t inFlight_ = 0; // io_uring: bytes handed to the backend, not yet all sent
    // io_uring: bytes that arrived while reading was paused, and how reading ended then
    // (0 end of file, else an errno), delivered once it resumes.
    std::string pendingInput_;
    std::optional<int> pendingEnd_;
    WriteBufferLimits limits_;
    IPushProducer* pushProducer_ = nullptr;
    IPullProducer* pullProducer_ = nullptr;
    std::optional<Failure> closeReason_; // set: closes at the end of the iteration

    std::uint32_t interest_ = 0; // what the poller watches now
    bool tcp_;
    bool corked_ = false;        // inside dataReceived: writes wait for it to return
    bool deferred_ = false;      // in the reactor's end-of-iteration list
    bool disconnecting_ = false; // loseConnection(): close once drained
    bool readShut_ = false;      // the peer half-closed (or reading is over)
    bool readPaused_ = false;    // pauseProducing()
    bool throttled_ = false;     // above the high-water mark
    bool writeShutRequested_ = false;
    bool writeShut_ = false;
    bool socketFull_ = false;  // writeFile() met EAGAIN: wait for the writable edge
    bool againQueued_ = false; // in the reactor's serve-again list
    bool moreToRead_ = false;  // its share of reads ended with bytes perhaps left
    bool pullAgain_ = false;   // the pull producer is to be asked again
    bool peerClosed_ = false;  // EPOLLRDHUP seen: read on to the end of file
    bool receiving_ = false;   // io_uring: the backend is receiving for it
};

} // namespace braid::detail
