// Framing receivers (twisted.protocols.basic): protocols that cut the byte stream into
// messages, lines (LineReceiver, LineOnlyReceiver), length-prefixed strings
// (Int32StringReceiver, Int16StringReceiver, Int8StringReceiver) and netstrings.
#pragma once

#include <braid/error.hpp>
#include <braid/producer.hpp>
#include <braid/protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace braid {

// sendString() of a string too long for the length prefix (Twisted's StringTooLongError).
class StringTooLongError : public Error {
public:
    using Error::Error;
};

namespace detail {

// What the framing receivers share: the bytes not handled yet and pausing. A message that
// arrives whole inside one dataReceived() is handed over as a view into that data, with no
// copy; only the pieces of a message split across reads are buffered.
//
// Messages are taken out of the stream only while the receiver is not paused and the
// transport is not closing(): a line that calls loseConnection() is the last one handled,
// as in Twisted. What arrives while paused is kept in order and handled on
// resumeProducing(); what arrives once the transport is closing is dropped.
// dataReceived() called from inside a callback (setLineMode(extra) does so) queues its
// data behind what is being handled.
class FramingReceiver : public Protocol, public IPushProducer {
public:
    void dataReceived(std::string_view data) override;

    // IPushProducer (Twisted's _PauseableMixin): pauseProducing() stops the delivery of
    // messages, those already received included, and pauses the transport's reading;
    // resumeProducing() delivers what was held back, then reads again. stopProducing()
    // stops delivering for good and stops the transport.
    void pauseProducing() override;
    void resumeProducing() override;
    void stopProducing() override;

    [[nodiscard]] bool paused() const noexcept { return paused_; }
    // Bytes held, not delivered yet: a partial message and what arrived while paused. At
    // most MAX_LENGTH plus the framing plus one read.
    [[nodiscard]] std::size_t bufferedBytes() const noexcept {
        return partial_.size() + backlog_.size();
    }

protected:
    // Takes messages out of in_ until it is empty or stopped(); the bytes of an incomplete
    // message at its end go to partial_.
    virtual void parse() = 0;

    // Paused, or the transport is closing: take no more messages for now.
    [[nodiscard]] bool stopped() const noexcept;

    // The next `size` bytes of the stream: a view of in_ when they are there in one
    // piece, else gathered in partial_ and returned (from taken_) once complete.
    // std::nullopt: not all there yet.
    std::optional<std::string_view> take(std::size_t size);

    // Moves partial_ to taken_ and returns it: a message that stays valid while its
    // callback runs, whatever the callback does to the receiver.
    std::string_view takePartial();

    // Removes and returns everything received and not handled yet, in order.
    std::string takeUnhandled();

    // Handles `rest`, a part of the data being parsed, next, without copying it, when
    // nothing else waits to be handled; false (nothing done) otherwise.
    bool continueWith(std::string_view rest) noexcept;

    std::string_view in_; // the data being handled, from the next byte
    std::string partial_; // an incomplete message (its start)
    std::string taken_;   // the message being delivered, when it came in pieces

private:
    void keepUnhandled();

    std::string backlog_; // arrived while paused, or during a callback
    std::string working_; // the backlog being handled
    std::string scratch_;
    bool receiving_ = false;
    bool paused_ = false;
};

} // namespace detail

// A protocol receiving lines (twisted.protocols.basic.LineOnlyReceiver): override
// lineReceived(). `line` excludes the delimiter and is valid only during the call.
class LineOnlyReceiver : public detail::FramingReceiver {
public:
    // Change it before data arrives or from lineReceived().
    std::string delimiter = "\r\n";
    // Longest line accepted; a longer one goes to lineLengthExceeded().
    std::size_t MAX_LENGTH = 16384;

    virtual void lineReceived(std::string_view line) = 0;

    // A line longer than MAX_LENGTH arrived, or MAX_LENGTH + delimiter bytes without a
    // delimiter. `line` is everything buffered from the start of that line (it is cleared).
    // The default drops the connection (loseConnection()), as Twisted does.
    virtual void lineLengthExceeded(std::string_view line);

    // Writes line + delimiter.
    void sendLine(std::string_view line);

    // Removes and returns all the data received and not handled yet (during
    // lineReceived(): what follows the current line).
    std::string clearLineBuffer();

protected:
    void parse() override;
    // Delivers the next line, or keeps the start of an incomplete one; false when it needs
    // more data (or the line was too long).
    bool parseLine();
};

// A protocol receiving lines and raw data (twisted.protocols.basic.LineReceiver): in line
// mode (the default) each line goes to lineReceived(); after setRawMode() the bytes go to
// rawDataReceived() as they come, until setLineMode(). Switching from inside either
// callback applies to the very next byte.
class LineReceiver : public LineOnlyReceiver {
public:
    // Twisted raises NotImplementedError; so does this (std::logic_error).
    virtual void rawDataReceived(std::string_view data);

    void setRawMode() noexcept { lineMode_ = false; }
    // Back to lines. `extra`: bytes to handle as if they were received next (the part of
    // rawDataReceived()'s data that it did not consume); no copy is made when it is a part
    // of that data.
    void setLineMode(std::string_view extra = {});
    [[nodiscard]] bool lineMode() const noexcept { return lineMode_; }

protected:
    void parse() override;

private:
    void deliverRaw(std::string_view data, bool fromInput);

    bool lineMode_ = true;
    std::string_view raw_; // rawDataReceived()'s data while it runs, when a view of in_
};

// Strings with a big-endian length prefix of sizeof(Prefix) bytes
// (twisted.protocols.basic.IntNStringReceiver). Use Int32StringReceiver and friends.
template <class Prefix>
class IntNStringReceiver : public detail::FramingReceiver {
public:
    // Longest string accepted; a longer prefix goes to lengthLimitExceeded().
    std::size_t MAX_LENGTH = 99999;

    // `string` is valid only during the call.
    virtual void stringReceived(std::string_view string) = 0;

    // A prefix announced more than MAX_LENGTH bytes. The default drops the connection;
    // either way nothing more is read from this stream (it cannot be resynchronised).
    virtual void lengthLimitExceeded(std::size_t length);

    // Writes the prefix and string. Throws StringTooLongError when the length does not fit.
    void sendString(std::string_view string);

protected:
    void parse() override;

private:
    std::optional<std::size_t> length_; // of the string being received, once its prefix is
    bool broken_ = false;
};

extern template class IntNStringReceiver<std::uint8_t>;
extern template class IntNStringReceiver<std::uint16_t>;
extern template class IntNStringReceiver<std::uint32_t>;

using Int8StringReceiver = IntNStringReceiver<std::uint8_t>;
using Int16StringReceiver = IntNStringReceiver<std::uint16_t>;
using Int32StringReceiver = IntNStringReceiver<std::uint32_t>;

// Netstrings, "5:hello," (twisted.protocols.basic.NetstringReceiver). A malformed one
// (a length that is not decimal digits, or has leading zeros, or exceeds MAX_LENGTH; no
// comma after the string) is logged and drops the connection; nothing more is read.
class NetstringReceiver : public detail::FramingReceiver {
public:
    std::size_t MAX_LENGTH = 99999;

    // `string` is valid only during the call.
    virtual void stringReceived(std::string_view string) = 0;

    void sendString(std::string_view string);

    // A malformed netstring was received (Twisted's brokenPeer).
    [[nodiscard]] bool brokenPeer() const noexcept { return brokenPeer_; }

protected:
    void parse() override;

private:
    bool parseLength();
    void parseError(std::string_view reason);

    std::size_t length_ = 0;
    std::size_t digits_ = 0;
    bool inString_ = false; // the length and colon are read
    bool brokenPeer_ = false;
};

} // namespace braid
