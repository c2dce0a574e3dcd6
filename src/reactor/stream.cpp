#include "stream.hpp"

#include "connector.hpp"
#include "core.hpp"
#include <braid/error.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <system_error>
#include <utility>

namespace braid::detail {

namespace {

// A buffer that grew for a burst is given back once drained, so that idle connections
// stay small.
constexpr std::size_t keptBufferCapacity = 16 * 1024;
// The most one sendfile(2) call moves (Linux's own limit).
constexpr std::size_t maxSendfile = 0x7ffff000;
// Reads per readiness event before giving other connections a turn.
constexpr int readsPerEvent = 4;

Failure errnoFailure(int error) {
    return Failure(ConnectionLost(std::string("Connection lost: ") + std::strerror(error)));
}

} // namespace

template <class F>
bool StreamConnection::callProtocol(const char* what, F&& f) {
    if (core_.guarded(what, std::forward<F>(f))) {
        return true;
    }
    abortConnection();
    return false;
}

StreamConnection::StreamConnection(ReactorCore& core, int fd, Address peer, bool tcp,
                                   std::shared_ptr<Connector> connector)
    : core_(core),
      completions_(core.poller->completions()),
      fd_(fd),
      peer_(std::move(peer)),
      connector_(std::move(connector)),
      tcp_(tcp) {}

StreamConnection::~StreamConnection() {
    if (slot_ != nullptr) {
        completions_->close(*slot_);
    }
    if (fd_ >= 0) {
        core_.poller->remove(fd_, *this);
        ::close(fd_);
    }
}

void StreamConnection::start(std::unique_ptr<Protocol> protocol) {
    protocol_ = std::move(protocol);
    if (completions_ != nullptr) {
        slot_ = completions_->open(fd_, *this);
        updateCompletions();
    } else {
        interest_ = Poller::readable | Poller::edge;
        core_.poller->add(fd_, interest_, *this);
    }
    callProtocol("connectionMade", [&] { protocol_->makeConnection(*this); });
}

// --- reading -----------------------------------------------------------------------------

bool StreamConnection::wantsToRead() const noexcept {
    return !closeReason_ && !readShut_ && !readPaused_ && !disconnecting_ &&
           !(throttled_ && limits_.pauseReading);
}

void StreamConnection::updateInterest() {
    if (fd_ < 0) {
        return;
    }
    if (completions_ != nullptr) {
        updateCompletions();
        return;
    }
    // Edge-triggered, like nginx: an event only when readiness changes, so no epoll_ctl
    // per request, and connections are served in the order their data came.
    bool wantsToWrite = bufferedBytes() > 0 || socketFull_;
    std::uint32_t wanted = Poller::edge | (wantsToRead() ? Poller::readable : 0U) |
                           (!closeReason_ && wantsToWrite ? Poller::writable : 0U);
    if (wanted != interest_) {
        interest_ = wanted;
        core_.poller->modify(fd_, interest_, *this);
    }
}

// io_uring: the backend receives while the connection wants to read; the poller is asked
// only when sendfile found the socket full.
void StreamConnection::updateCompletions() {
    bool read = wantsToRead();
    if (read != receiving_) {
        receiving_ = read;
        completions_->receive(*slot_, read);
    }
    if (read && (!pendingInput_.empty() || pendingEnd_)) {
        moreToRead_ = true; // what came while paused goes first, next iteration
        serveAgainLater();
    }
    std::uint32_t wanted = !closeReason_ && socketFull_ ? Poller::writable : 0U;
    if (wanted != interest_) {
        if (interest_ == 0) {
            core_.poller->add(fd_, wanted, *this);
        } else if (wanted == 0) {
            core_.poller->remove(fd_, *this);
        } else {
            core_.poller->modify(fd_, wanted, *this);
        }
        interest_ = wanted;
    }
}

void StreamConnection::onReady(std::uint32_t events) {
    if (closeReason_) {
        return;
    }
    if (completions_ != nullptr) { // only ever asked for writable, after sendfile's EAGAIN
        socketFull_ = false;
        flushOut();
        return;
    }
    if ((events & Poller::writable) != 0) {
        socketFull_ = false;
        flushOut();
    }
    if ((events & Poller::peerClosed) != 0) {
        peerClosed_ = true;
    }
    if ((events & (Poller::readable | Poller::hangup | Poller::error)) != 0 && wantsToRead()) {
        doRead();
    } else if ((events & (Poller::error | Poller::hangup)) != 0 && !closeReason_) {
        // Not reading (paused, or the read side is done) yet the socket is dead: errors
        // and hangups are reported whatever the interest, so end it now or spin.
        int error = 0;
        socklen_t length = sizeof(error);
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
        fail(errnoFailure(error != 0 ? error : EPIPE));
    }
}

void StreamConnection::doRead() {
    for (int i = 0; i < readsPerEvent && wantsToRead(); ++i) {
        ssize_t n = ::recv(fd_, core_.readBuffer.get(), ReactorCore::readBufferSize, 0);
        if (n > 0) {
            deliver(std::string_view(core_.readBuffer.get(), static_cast<std::size_t>(n)));
            if (static_cast<std::size_t>(n) < ReactorCore::readBufferSize && !peerClosed_) {
                return; // the socket is drained: bytes that come now make a new edge
            }
        } else if (n == 0) {
            readEnded();
            return;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fail(errnoFailure(errno));
            }
            return;
        }
    }
    // Its share of this iteration is read and more may wait: no new edge will say so.
    if (wantsToRead()) {
        moreToRead_ = true;
        serveAgainLater();
    }
}

// The peer shut down its side. What we still have to write is kept: the default
// readConnectionLost() closes only once it is sent.
void StreamConnection::readEnded() {
    readShut_ = true;
    updateInterest();
    callProtocol("readConnectionLost", [&] { protocol_->readConnectionLost(); });
}

void StreamConnection::onReceived(std::string_view data) {
    if (closeReason_ || readShut_) {
        return;
    }
    if (!wantsToRead() || !pendingInput_.empty()) {
        pendingInput_.append(data); // on its way before reading paused: kept for later
        return;
    }
    deliver(data);
}

void StreamConnection::onReceiveEnded(int error) {
    receiving_ = false;
    if (!closeReason_ && !readShut_) {
        endReading(error);
    }
}

// Reading ended (0: end of file, else an errno): acted on now, or kept until what came
// before it has been delivered and reading is not paused.
void StreamConnection::endReading(int error) {
    if (!wantsToRead() || !pendingInput_.empty()) {
        pendingEnd_ = error;
    } else if (error == 0) {
        readEnded();
    } else {
        fail(errnoFailure(error));
    }
}

void StreamConnection::deliverPending() {
    std::string input = std::exchange(pendingInput_, {});
    std::optional<int> end = std::exchange(pendingEnd_, std::nullopt);
    if (!input.empty()) {
        deliver(input);
    }
    if (end && !closeReason_ && !readShut_) {
        endReading(*end); // (kept again if what was delivered paused reading)
    }
}

void StreamConnection::serveAgainLater() {
    if (!againQueued_) {
        againQueued_ = true;
        core_.again(*this);
    }
}

// A pull producer whose piece went straight to the kernel, which can take more: no event
// will say so, so it is asked again next iteration (not now: other connections first).
void StreamConnection::askPullProducerAgainLater() {
    if (pullProducer_ != nullptr && bufferedBytes() == 0 && !socketFull_) {
        pullAgain_ = true;
        serveAgainLater();
    }
}

void StreamConnection::serveAgain() {
    againQueued_ = false;
    if (closeReason_) {
        return;
    }
    if (std::exchange(moreToRead_, false) && wantsToRead()) {
        if (completions_ != nullptr) {
            deliverPending();
        } else {
            doRead();
        }
    }
    if (std::exchange(pullAgain_, false) && pullProducer_ != nullptr && !closeReason_ &&
        bufferedBytes() == 0 && !socketFull_) {
        onDrained();
    }
}

void StreamConnection::deliver(std::string_view data) {
    // Writes made by dataReceived are gathered and sent with one syscall when it returns
    // (a read holding many pipelined requests gets its replies in one send).
    corked_ = true;
    bool ok = callProtocol("dataReceived", [&] { protocol_->dataReceived(data); });
    corked_ = false;
    if (!ok) {
        return;
    }
    if (!inPlace_.empty()) {
        std::string_view echoed = std::exchange(inPlace_, {});
        if (closeReason_) {
            return;
        }
        if (sendDirect(echoed)) {
            onDrained(); // as flushOut() would: a loseConnection() may be waiting for this
        } else {
            checkHighWater(); // the rest was copied to out_
        }
    } else if (bufferedBytes() > 0 && !closeReason_) {
        flushOut();
    }
}

// --- writing -----------------------------------------------------------------------------

bool StreamConnection::inReadBuffer(std::string_view data) const noexcept {
    const char* begin = core_.readBuffer.get();
    return std::less_equal<>()(begin, data.data()) &&
           std::less_equal<>()(data.data() + data.size(), begin + ReactorCore::readBufferSize);
}

void StreamConnection::materializeInPlace() {
    if (!inPlace_.empty()) {
        append(std::exchange(inPlace_, {}));
    }
}

void StreamConnection::write(std::string_view data) {
    if (closeReason_ || writeShutRequested_ || data.empty()) {
        return;
    }
    if (corked_ && bufferedBytes() == 0 && inReadBuffer(data)) {
        inPlace_ = data; // sent when dataReceived returns, from the read buffer itself
        return;
    }
    materializeInPlace();
    if (bufferedBytes() == 0 && !corked_ && completions_ == nullptr) {
        if (sendDirect(data)) {
            return;
        }
    } else {
        append(data);
        if (!corked_) {
            requestSend();
        }
    }
    checkHighWater();
}

// io_uring: the backend takes out_ (takeOutput) before its next submission.
void StreamConnection::requestSend() {
    if (slot_ != nullptr && out_.size() > sent_) {
        completions_->flush(*slot_);
    }
}

void StreamConnection::takeOutput(std::string& into) {
    if (sent_ > 0) { // writeFile sent a part itself, ahead of the file
        out_.erase(0, sent_);
        sent_ = 0;
    }
    into.swap(out_);
    inFlight_ = into.size();
}

void StreamConnection::onSent(int error) {
    inFlight_ = 0;
    if (error != 0) {
        fail(errnoFailure(error));
        return;
    }
    flushOut();
}

// Sends with no copy when nothing is queued; queues what the kernel did not take.
bool StreamConnection::sendDirect(std::string_view data) {
    ssize_t n;
    do {
        n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            fail(errnoFailure(errno));
            return true;
        }
        n = 0;
    }
    if (static_cast<std::size_t>(n) == data.size()) {
        return true;
    }
    append(data.substr(static_cast<std::size_t>(n)));
    updateInterest();
    return false;
}

void StreamConnection::writeSequence(std::span<const std::string_view> data) {
    if (closeReason_ || writeShutRequested_) {
        return;
    }
    materializeInPlace();
    if (bufferedBytes() > 0 || corked_ || data.size() > IOV_MAX || completions_ != nullptr) {
        for (std::string_view piece : data) {
            append(piece);
        }
        if (!corked_) {
            requestSend();
        }
        checkHighWater();
        return;
    }
    std::array<iovec, 64> small{};
    std::vector<iovec> large;
    iovec* iov = small.data();
    if (data.size() > small.size()) {
        large.resize(data.size());
        iov = large.data();
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        iov[i] = iovec{const_cast<char*>(data[i].data()), data[i].size()}; // NOLINT: writev API
        total += data[i].size();
    }
    ssize_t n;
    do {
        // sendmsg, not writev: MSG_NOSIGNAL turns a peer that went away into EPIPE, not SIGPIPE.
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = data.size();
        n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            fail(errnoFailure(errno));
            return;
        }
        n = 0;
    }
    auto skip = static_cast<std::size_t>(n);
    if (skip == total) {
        return;
    }
    for (std::string_view piece : data) {
        if (skip >= piece.size()) {
            skip -= piece.size();
            continue;
        }
        append(piece.substr(skip));
        skip = 0;
    }
    updateInterest();
    checkHighWater();
}

std::size_t StreamConnection::writeFile(int fd, std::uint64_t offset, std::size_t count) {
    if (closeReason_ || writeShutRequested_ || count == 0) {
        return 0;
    }
    materializeInPlace();
    if (inFlight_ > 0) {
        return 0; // io_uring is sending: onSent → onDrained asks the producer again
    }
    // What is queued (a response's headers) goes first, held back (MSG_MORE) to share its
    // packet with the file's first bytes; if it cannot all go now, the file waits its turn.
    if (!sendQueued(MSG_MORE) || bufferedBytes() > 0) {
        requestSend(); // (io_uring) the rest of it goes with the iteration's other sends
        return 0;
    }
    auto position = static_cast<off_t>(offset);
    ssize_t n;
    do {
        n = ::sendfile(fd_, fd, &position, std::min<std::size_t>(count, maxSendfile));
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        return static_cast<std::size_t>(n);
    }
    if (n == 0) {
        throw std::system_error(std::make_error_code(std::errc::io_error),
                                "the file to send ended early");
    }
    switch (errno) {
    case EAGAIN: // the kernel's buffer is full: its writable edge asks the producer again
        socketFull_ = true;
        updateInterest();
        return 0;
    case EINVAL:
    case ENOSYS: return ITransport::writeFile(fd, offset, count); // a file sendfile cannot read
    case EIO: throw std::system_error(errno, std::generic_category(), "reading a file to send");
    default: fail(errnoFailure(errno)); return 0;
    }
}

void StreamConnection::append(std::string_view data) {
    if (sent_ > 0 && sent_ >= out_.size() / 2) {
        out_.erase(0, sent_); // keep the unsent part at the front, amortised O(1)
        sent_ = 0;
    }
    out_.append(data);
}

// Sends what is queued, as much as the kernel takes; false when the connection failed.
bool StreamConnection::sendQueued(int flags) {
    while (out_.size() > sent_) {
        ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | flags);
        if (n > 0) {
            sent_ += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            fail(errnoFailure(errno));
            return false;
        }
        break; // the kernel's buffer is full: EPOLLOUT will tell us when to go on
    }
    return true;
}

void StreamConnection::flushOut() {
    if (completions_ != nullptr) {
        requestSend();
    } else if (!sendQueued(0)) {
        return;
    }
    if (bufferedBytes() == 0) {
        out_.clear();
        sent_ = 0;
        if (out_.capacity() > keptBufferCapacity) {
            std::string().swap(out_);
        }
        onDrained();
    }
    updateInterest();
    checkLowWater();
}

void StreamConnection::onDrained() {
    if (pullProducer_ != nullptr && !closeReason_) {
        core_.guarded("resumeProducing", [&] { pullProducer_->resumeProducing(); });
        if (bufferedBytes() > 0) {
            return;
        }
        askPullProducerAgainLater();
    }
    if (writeShutRequested_ && !writeShut_) {
        scheduleFinish();
    }
    if (disconnecting_ && pushProducer_ == nullptr && pullProducer_ == nullptr) {
        fail(Failure(ConnectionDone()));
    }
}

void StreamConnection::checkHighWater() {
    if (throttled_ || bufferedBytes() <= limits_.high) {
        return;
    }
    throttled_ = true;
    if (pushProducer_ != nullptr) {
        core_.guarded("pauseProducing", [&] { pushProducer_->pauseProducing(); });
    }
    updateInterest();
}

void StreamConnection::checkLowWater() {
    if (!throttled_ || bufferedBytes() > limits_.low) {
        return;
    }
    throttled_ = false;
    if (pushProducer_ != nullptr) {
        core_.guarded("resumeProducing", [&] { pushProducer_->resumeProducing(); });
    }
    updateInterest();
}

void StreamConnection::setWriteBufferLimits(WriteBufferLimits limits) {
    limits_ = limits;
    checkHighWater();
    checkLowWater();
}

// --- closing -----------------------------------------------------------------------------

void StreamConnection::scheduleFinish() {
    if (!deferred_) {
        deferred_ = true;
        core_.defer(*this);
    }
}

void StreamConnection::fail(Failure reason) {
    if (closeReason_) {
        return;
    }
    closeReason_ = std::move(reason);
    updateInterest();
    scheduleFinish();
}

void StreamConnection::loseConnection() {
    if (closeReason_ || disconnecting_) {
        return;
    }
    disconnecting_ = true;
    updateInterest();
    if (bufferedBytes() == 0 && pushProducer_ == nullptr && pullProducer_ == nullptr) {
        fail(Failure(ConnectionDone()));
    }
}

void StreamConnection::abortConnection() {
    out_.clear();
    sent_ = 0;
    inPlace_ = {};
    if (tcp_ && fd_ >= 0 && !closeReason_) {
        // Close with a reset, so the peer learns the close was not clean and the kernel
        // drops what it still holds for sending.
        linger reset{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    fail(Failure(ConnectionAborted()));
}

void StreamConnection::loseWriteConnection() {
    if (closeReason_ || writeShutRequested_) {
        return;
    }
    writeShutRequested_ = true;
    if (bufferedBytes() == 0) {
        scheduleFinish();
    }
}

bool StreamConnection::finishIteration() {
    deferred_ = false;
    if (!closeReason_ && writeShutRequested_ && !writeShut_ && bufferedBytes() == 0) {
        writeShut_ = true;
        ::shutdown(fd_, SHUT_WR);
        callProtocol("writeConnectionLost", [&] { protocol_->writeConnectionLost(); });
    }
    if (!closeReason_) {
        return false;
    }
    closeNow(*closeReason_);
    return true;
}

void StreamConnection::closeNow(const Failure& reason) {
    if (fd_ < 0) {
        return;
    }
    if (againQueued_) {
        core_.forgetAgain(*this);
        againQueued_ = false;
    }
    if (slot_ != nullptr) {
        completions_->close(*std::exchange(slot_, nullptr));
    }
    core_.poller->remove(fd_, *this);
    if (reason.check<ConnectionDone>() && !readShut_) {
        core_.linger(fd_); // the peer may still be sending: see LingeringClose
    } else {
        ::close(fd_);
    }
    fd_ = -1;
    IProducer* producer = pushProducer_ != nullptr ? static_cast<IProducer*>(pushProducer_)
                                                   : static_cast<IProducer*>(pullProducer_);
    pushProducer_ = nullptr;
    pullProducer_ = nullptr;
    if (producer != nullptr) {
        core_.guarded("stopProducing", [&] { producer->stopProducing(); });
    }
    core_.guarded("connectionLost", [&] { detail::deliverConnectionLost(*protocol_, reason); });
    if (connector_) {
        connector_->connectionLost(reason);
    }
}

// --- the rest of ITransport ----------------------------------------------------------------

Address StreamConnection::getHost() const {
    sockaddr_storage storage{};
    socklen_t length = sizeof(storage);
    if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
        return {};
    }
    return Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
}

void StreamConnection::setTcpNoDelay(bool enabled) {
    int value = enabled ? 1 : 0;
    if (tcp_ && fd_ >= 0) {
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value));
    }
}

void StreamConnection::setTcpKeepAlive(bool enabled) {
    int value = enabled ? 1 : 0;
    if (tcp_ && fd_ >= 0) {
        ::setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &value, sizeof(value));
    }
}

IReactorTime& StreamConnection::clock() {
    return core_.owner;
}

void StreamConnection::registerProducer(IPushProducer& producer) {
    if (pushProducer_ != nullptr || pullProducer_ != nullptr) {
        throw std::logic_error("registerProducer: a producer is already registered");
    }
    pushProducer_ = &producer;
    if (throttled_) {
        producer.pauseProducing();
    }
}

void StreamConnection::registerProducer(IPullProducer& producer) {
    if (pushProducer_ != nullptr || pullProducer_ != nullptr) {
        throw std::logic_error("registerProducer: a producer is already registered");
    }
    pullProducer_ = &producer;
    producer.resumeProducing(); // a pull producer writes when asked: ask for the first chunk
    askPullProducerAgainLater();
}

void StreamConnection::unregisterProducer() {
    pushProducer_ = nullptr;
    pullProducer_ = nullptr;
    if (disconnecting_ && bufferedBytes() == 0) {
        fail(Failure(ConnectionDone()));
    }
}

void StreamConnection::pauseProducing() {
    readPaused_ = true;
    updateInterest();
}

void StreamConnection::resumeProducing() {
    readPaused_ = false;
    updateInterest();
}

void StreamConnection::stopProducing() {
    loseConnection();
}

} // namespace braid::detail
