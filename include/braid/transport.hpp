// ITransport: a protocol's end of the wire (twisted.internet.interfaces.ITransport and
// ITCPTransport). write() never blocks: what the kernel does not take at once is
// buffered, and the buffer is bounded by backpressure (see WriteBufferLimits).
#pragma once

#include <braid/address.hpp>
#include <braid/producer.hpp>
#include <braid/reactor_time.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace braid {

// A transport's write buffer marks. Above `high` buffered bytes the transport pauses its
// registered producer and, when `pauseReading`, stops reading from its own peer (so a
// peer that sends but never reads cannot grow the buffer without bound); below `low` it
// resumes them.
struct WriteBufferLimits {
    std::size_t high = 64 * 1024;
    std::size_t low = 16 * 1024;
    bool pauseReading = true;
};

class ITransport : public IConsumer, public IPushProducer {
public:
    // Queues data for the peer; sent at once when the buffer was empty.
    void write(std::string_view data) override = 0;
    // Queues several pieces in one go (one writev when possible).
    virtual void writeSequence(std::span<const std::string_view> data) = 0;
    // Sends up to `count` bytes of the open file `fd` from `offset`, after what is already
    // buffered; returns how many it took: 0 when the connection cannot take more now (a
    // registered pull producer is asked again when it can). For a pull producer streaming
    // a file. Sockets use sendfile(2), so the bytes never pass through user space; the
    // default reads a piece of the file and write()s it. Throws std::system_error when the
    // file cannot be read or ends before `count` bytes.
    virtual std::size_t writeFile(int fd, std::uint64_t offset, std::size_t count);

    // Closes after everything buffered has been written (and the producer, if any, is
    // unregistered). connectionLost gets ConnectionDone.
    virtual void loseConnection() = 0;
    // Closes now, dropping what is buffered. connectionLost gets ConnectionAborted.
    virtual void abortConnection() = 0;
    // Half-close: shuts down the write side once the buffer has drained; reading goes on.
    virtual void loseWriteConnection() = 0;
    // loseConnection() or abortConnection() was called, or the connection failed: nothing
    // more will be read (Twisted's `transport.disconnecting`). Protocols that take several
    // messages out of one read, such as LineReceiver, stop there.
    [[nodiscard]] virtual bool closing() const noexcept = 0;

    [[nodiscard]] virtual Address getPeer() const = 0;
    [[nodiscard]] virtual Address getHost() const = 0;

    // TCP options; no-ops on transports that are not TCP.
    virtual void setTcpNoDelay(bool enabled) = 0;
    virtual void setTcpKeepAlive(bool enabled) = 0;

    virtual void setWriteBufferLimits(WriteBufferLimits limits) = 0;
    // Bytes written but not yet taken by the kernel.
    [[nodiscard]] virtual std::size_t bufferedBytes() const = 0;

    // The clock of the reactor this transport runs on (for timeouts and Protocol::callLater).
    [[nodiscard]] virtual IReactorTime& clock() = 0;

    // As an IPushProducer, a transport produces what it reads from the peer:
    // pauseProducing() stops reading, resumeProducing() starts again, stopProducing()
    // closes the connection (loseConnection(), as in Twisted).
};

} // namespace braid
