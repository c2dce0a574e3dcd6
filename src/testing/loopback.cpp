#include <braid/error.hpp>
#include <braid/testing/loopback.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace braid::testing {

namespace {

Failure resetByPeer() {
    return Failure(ConnectionLost("Connection reset by peer: it closed before reading all."));
}

} // namespace

// --- LoopbackTransport ---------------------------------------------------------------------

IProducer* LoopbackTransport::producer() const noexcept {
    if (pushProducer_ != nullptr) {
        return pushProducer_;
    }
    return pullProducer_;
}

task::Clock& LoopbackTransport::clock() {
    return loopback_.clock();
}

bool LoopbackTransport::wantsToRead() const noexcept {
    return !disconnected() && !closeReason_ && !readShut_ && !readPaused_ && !disconnecting_ &&
           !(throttled_ && limits_.pauseReading);
}

bool LoopbackTransport::sentEnd() const noexcept {
    return writeShut_ || (lostReason_ && lostReason_->check<ConnectionDone>());
}

void LoopbackTransport::writeSequence(std::span<const std::string_view> data) {
    if (disconnected() || closeReason_ || writeShutRequested_) {
        return;
    }
    for (std::string_view piece : data) {
        out_.append(piece);
    }
    if (other_->disconnected() && bufferedBytes() > 0) {
        setCloseReason(resetByPeer());
        return;
    }
    checkHighWater();
}

void LoopbackTransport::loseConnection() {
    if (disconnected() || closeReason_ || disconnecting_) {
        return;
    }
    disconnecting_ = true;
    if (bufferedBytes() == 0 && producer() == nullptr) {
        setCloseReason(ConnectionDone());
    }
}

void LoopbackTransport::abortConnection() {
    if (disconnected()) {
        return;
    }
    out_.clear();
    sent_ = 0;
    setCloseReason(ConnectionAborted());
}

void LoopbackTransport::loseWriteConnection() {
    if (!disconnected() && !closeReason_) {
        writeShutRequested_ = true;
    }
}

void LoopbackTransport::setWriteBufferLimits(WriteBufferLimits limits) {
    limits_ = limits;
    checkHighWater();
    checkLowWater();
}

void LoopbackTransport::registerProducer(IPushProducer& producer) {
    if (this->producer() != nullptr) {
        throw std::logic_error("registerProducer: a producer is already registered");
    }
    pushProducer_ = &producer;
    if (throttled_) {
        producer.pauseProducing();
    }
}

void LoopbackTransport::registerProducer(IPullProducer& producer) {
    if (this->producer() != nullptr) {
        throw std::logic_error("registerProducer: a producer is already registered");
    }
    pullProducer_ = &producer;
    producer.resumeProducing();
}

void LoopbackTransport::unregisterProducer() {
    pushProducer_ = nullptr;
    pullProducer_ = nullptr;
    if (disconnecting_ && bufferedBytes() == 0) {
        setCloseReason(ConnectionDone());
    }
}

// `size` bytes of the buffer reached the peer.
void LoopbackTransport::consumed(std::size_t size) {
    sent_ += size;
    if (bufferedBytes() == 0) {
        out_.clear();
        sent_ = 0;
        onDrained();
    } else if (sent_ >= out_.size() / 2) {
        out_.erase(0, sent_); // amortised O(1) per byte, even one byte at a time
        sent_ = 0;
    }
    checkLowWater();
}

void LoopbackTransport::onDrained() {
    if (pullProducer_ != nullptr) {
        pullProducer_->resumeProducing();
        if (bufferedBytes() > 0) {
            return;
        }
    }
    if (disconnecting_ && producer() == nullptr) {
        setCloseReason(ConnectionDone());
    }
}

// The peer closed cleanly: this side reads end of file once it reads again; what it still
// had for the peer will never be read, which TCP answers with a reset.
void LoopbackTransport::peerClosed() {
    if (bufferedBytes() > 0) {
        setCloseReason(resetByPeer());
    }
}

void LoopbackTransport::checkHighWater() {
    if (throttled_ || bufferedBytes() <= limits_.high) {
        return;
    }
    throttled_ = true;
    if (pushProducer_ != nullptr) {
        pushProducer_->pauseProducing();
    }
}

void LoopbackTransport::checkLowWater() {
    if (!throttled_ || bufferedBytes() > limits_.low) {
        return;
    }
    throttled_ = false;
    if (pushProducer_ != nullptr) {
        pushProducer_->resumeProducing();
    }
}

void LoopbackTransport::setCloseReason(Failure reason) {
    if (!disconnected() && !closeReason_) {
        closeReason_ = std::move(reason);
    }
}

// --- LoopbackBase --------------------------------------------------------------------------

namespace detail {

LoopbackBase::LoopbackBase(LoopbackOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &ownClock_),
      random_(options_.seed),
      client_(*this, options_.clientAddress, options_.serverAddress),
      server_(*this, options_.serverAddress, options_.clientAddress) {
    if (options_.delivery == Delivery::randomChunks && options_.maxChunk == 0) {
        throw std::invalid_argument("Loopback: maxChunk must be at least 1");
    }
    client_.other_ = &server_;
    server_.other_ = &client_;
}

void LoopbackBase::start(std::unique_ptr<Protocol> client, std::unique_ptr<Protocol> server) {
    if (client == nullptr || server == nullptr) {
        throw std::invalid_argument("Loopback: a protocol is missing");
    }
    client_.protocol_ = std::move(client);
    server_.protocol_ = std::move(server);
    server_.protocol_->makeConnection(server_);
    client_.protocol_->makeConnection(client_);
}

bool LoopbackBase::pumpOnce() {
    clock_->advance(0);
    bool toServer = transfer(client_, server_);
    bool toClient = transfer(server_, client_);
    return toServer || toClient;
}

void LoopbackBase::pump(std::size_t maxRounds) {
    for (std::size_t round = 0; round < maxRounds; ++round) {
        if (!pumpOnce()) {
            return;
        }
    }
    throw std::runtime_error("Loopback::pump(): still busy after " + std::to_string(maxRounds) +
                             " rounds");
}

bool LoopbackBase::transfer(LoopbackTransport& from, LoopbackTransport& to) {
    if (options_.dropAfterBytes && delivered_ >= *options_.dropAfterBytes) {
        from.setCloseReason(ConnectionLost());
        to.setCloseReason(ConnectionLost());
    }
    if (!from.disconnected()) {
        if (from.closeReason_) {
            close(from, to);
            return true;
        }
        if (from.bufferedBytes() > 0) {
            if (!to.wantsToRead()) {
                return false;
            }
            deliverChunk(from, to);
            return true;
        }
        if (from.writeShutRequested_ && !from.writeShut_) {
            from.writeShut_ = true;
            from.protocol_->writeConnectionLost();
            return true;
        }
    }
    if (from.sentEnd() && !to.readShut_ && to.wantsToRead()) {
        to.readShut_ = true;
        to.protocol_->readConnectionLost();
        return true;
    }
    return false;
}

void LoopbackBase::deliverChunk(LoopbackTransport& from, LoopbackTransport& to) {
    std::size_t size = chunkSize(from.bufferedBytes());
    // A copy, as a real transport hands over its read buffer: the view dataReceived gets
    // dies with the call, whatever the sender does meanwhile.
    std::string chunk = from.out_.substr(from.sent_, size);
    delivered_ += size;
    from.consumed(size);
    to.protocol_->dataReceived(chunk);
}

std::size_t LoopbackBase::chunkSize(std::size_t available) {
    std::size_t size = available;
    if (options_.delivery == Delivery::oneByteAtATime) {
        size = 1;
    } else if (options_.delivery == Delivery::randomChunks) {
        size = std::uniform_int_distribution<std::size_t>(1, options_.maxChunk)(random_);
    }
    if (options_.dropAfterBytes) {
        size = std::min(size, *options_.dropAfterBytes - delivered_);
    }
    return std::min(size, available);
}

// As a real transport closes: the producer is stopped, then the protocol hears
// connectionLost(). The peer reads end of file after a clean close; anything else resets it.
void LoopbackBase::close(LoopbackTransport& side, LoopbackTransport& other) {
    Failure reason = *std::exchange(side.closeReason_, std::nullopt);
    side.lostReason_ = reason;
    side.out_.clear();
    side.sent_ = 0;
    IProducer* producer = side.producer();
    side.pushProducer_ = nullptr;
    side.pullProducer_ = nullptr;
    if (producer != nullptr) {
        producer->stopProducing();
    }
    braid::detail::deliverConnectionLost(*side.protocol_, reason);
    if (reason.check<ConnectionDone>()) {
        other.peerClosed();
    } else {
        other.setCloseReason(ConnectionLost());
    }
}

} // namespace detail

} // namespace braid::testing
