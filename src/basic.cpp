#include <braid/basic.hpp>
#include <braid/log.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>

namespace braid {

namespace {

// Runs f when the scope ends, however it ends.
template <class F>
class AtExit {
public:
    explicit AtExit(F f) : f_(std::move(f)) {}
    AtExit(const AtExit&) = delete;
    AtExit(AtExit&&) = delete;
    AtExit& operator=(const AtExit&) = delete;
    AtExit& operator=(AtExit&&) = delete;
    ~AtExit() { f_(); }

private:
    F f_;
};

// Whether `part` lies inside `whole` (both views of live memory).
bool within(std::string_view part, std::string_view whole) noexcept {
    const std::less_equal<> lessEqual;
    return !whole.empty() && lessEqual(whole.data(), part.data()) &&
           lessEqual(part.data() + part.size(), whole.data() + whole.size());
}

// How many bytes of `next` end the line begun in `partial` (which holds no delimiter),
// delimiter included: the delimiter may start in partial's last bytes. npos when none.
std::size_t lineEnd(std::string_view partial, std::string_view next, std::string_view delimiter) {
    const std::size_t size = delimiter.size();
    // The longest overlap first: it is the earliest delimiter.
    for (std::size_t inPartial = std::min(partial.size(), size - 1); inPartial > 0; --inPartial) {
        if (partial.ends_with(delimiter.substr(0, inPartial)) &&
            next.starts_with(delimiter.substr(inPartial))) {
            return size - inPartial;
        }
    }
    const std::size_t position = next.find(delimiter);
    return position == std::string_view::npos ? position : position + size;
}

} // namespace

namespace detail {

// --- FramingReceiver ---------------------------------------------------------------------

void FramingReceiver::dataReceived(std::string_view data) {
    if (transport != nullptr && transport->closing()) {
        return; // nothing will handle it: a closing transport reads no more
    }
    if (receiving_ || paused_ || !backlog_.empty()) {
        // Behind what waits already. Held data with a receiver that is not paused is rare:
        // the rest of a read after the transport closed and then (in a test) reopened.
        backlog_.append(data);
        if (receiving_ || paused_) {
            return;
        }
        data = {};
    }
    receiving_ = true;
    // Views into data must not outlive this call, even when a callback throws.
    const AtExit done([this] {
        receiving_ = false;
        in_ = {};
    });

    in_ = data;
    for (;;) {
        parse();
        if (!in_.empty() || stopped() || backlog_.empty()) {
            break;
        }
        working_.swap(backlog_);
        backlog_.clear();
        in_ = working_;
    }
    keepUnhandled();
}

// backlog_ = in_ + backlog_: in_ is a view of data that is going away.
void FramingReceiver::keepUnhandled() {
    if (in_.empty()) {
        return;
    }
    scratch_.assign(in_);
    scratch_.append(backlog_);
    backlog_.swap(scratch_);
    scratch_.clear();
    in_ = {};
}

void FramingReceiver::pauseProducing() {
    paused_ = true;
    transport->pauseProducing();
}

void FramingReceiver::resumeProducing() {
    paused_ = false;
    transport->resumeProducing();
    dataReceived({});
}

void FramingReceiver::stopProducing() {
    paused_ = true;
    transport->stopProducing();
}

bool FramingReceiver::stopped() const noexcept {
    return paused_ || (transport != nullptr && transport->closing());
}

std::optional<std::string_view> FramingReceiver::take(std::size_t size) {
    if (partial_.empty() && in_.size() >= size) {
        std::string_view message = in_.substr(0, size);
        in_.remove_prefix(size);
        return message;
    }
    const std::size_t missing = size - partial_.size();
    const std::size_t taking = std::min(missing, in_.size());
    partial_.append(in_.substr(0, taking));
    in_.remove_prefix(taking);
    if (taking < missing) {
        return std::nullopt;
    }
    return takePartial();
}

std::string_view FramingReceiver::takePartial() {
    taken_.swap(partial_);
    partial_.clear();
    return taken_;
}

std::string FramingReceiver::takeUnhandled() {
    std::string unhandled;
    unhandled.reserve(partial_.size() + in_.size() + backlog_.size());
    unhandled.append(partial_).append(in_).append(backlog_);
    partial_.clear();
    in_ = {};
    backlog_.clear();
    return unhandled;
}

bool FramingReceiver::continueWith(std::string_view rest) noexcept {
    // Data queued meanwhile came before rest.
    if (!receiving_ || !in_.empty() || !backlog_.empty()) {
        return false;
    }
    in_ = rest;
    return true;
}

} // namespace detail

// --- LineOnlyReceiver --------------------------------------------------------------------

void LineOnlyReceiver::lineLengthExceeded(std::string_view /*line*/) {
    transport->loseConnection();
}

void LineOnlyReceiver::sendLine(std::string_view line) {
    const std::array<std::string_view, 2> pieces{line, delimiter};
    transport->writeSequence(pieces);
}

std::string LineOnlyReceiver::clearLineBuffer() {
    return takeUnhandled();
}

void LineOnlyReceiver::parse() {
    while (!in_.empty() && !stopped() && parseLine()) {
    }
}

bool LineOnlyReceiver::parseLine() {
    if (delimiter.empty()) {
        throw std::logic_error("LineReceiver: the delimiter is empty");
    }
    const std::size_t size = delimiter.size();
    if (!partial_.empty()) {
        const std::size_t end = lineEnd(partial_, in_, delimiter);
        partial_.append(in_.substr(0, end));
        in_.remove_prefix(end == std::string_view::npos ? in_.size() : end);
        if (end == std::string_view::npos) {
            // Twisted's limit: no delimiter in that many bytes means a line too long.
            if (partial_.size() >= MAX_LENGTH + size) {
                lineLengthExceeded(clearLineBuffer());
            }
            return false;
        }
        if (partial_.size() - size > MAX_LENGTH) {
            lineLengthExceeded(clearLineBuffer());
            return false;
        }
        std::string_view line = takePartial();
        lineReceived(line.substr(0, line.size() - size));
        return true;
    }
    const std::size_t position = in_.find(delimiter);
    if (position == std::string_view::npos) {
        if (in_.size() >= MAX_LENGTH + size) {
            lineLengthExceeded(clearLineBuffer());
        } else {
            partial_.assign(in_);
            in_ = {};
        }
        return false;
    }
    if (position > MAX_LENGTH) {
        lineLengthExceeded(clearLineBuffer());
        return false;
    }
    std::string_view line = in_.substr(0, position);
    in_.remove_prefix(position + size);
    lineReceived(line);
    return true;
}

// --- LineReceiver ------------------------------------------------------------------------

void LineReceiver::rawDataReceived(std::string_view /*data*/) {
    throw std::logic_error("LineReceiver::rawDataReceived is not implemented");
}

void LineReceiver::setLineMode(std::string_view extra) {
    lineMode_ = true;
    if (extra.empty()) {
        return;
    }
    // The usual case, rawDataReceived() handing back the rest of its data: go on from
    // there instead of copying it.
    if (within(extra, raw_) && continueWith(extra)) {
        return;
    }
    dataReceived(extra);
}

void LineReceiver::parse() {
    while (!stopped()) {
        if (lineMode_) {
            if (in_.empty() || !parseLine()) {
                return;
            }
        } else if (!partial_.empty()) {
            // A partial line from before setRawMode() is raw data now.
            deliverRaw(takePartial(), false);
        } else if (!in_.empty()) {
            deliverRaw(std::exchange(in_, {}), true);
        } else {
            return;
        }
    }
}

void LineReceiver::deliverRaw(std::string_view data, bool fromInput) {
    raw_ = fromInput ? data : std::string_view();
    const AtExit forget([this] { raw_ = {}; });
    rawDataReceived(data);
}

// --- IntNStringReceiver ------------------------------------------------------------------

template <class Prefix>
void IntNStringReceiver<Prefix>::lengthLimitExceeded(std::size_t /*length*/) {
    transport->loseConnection();
}

template <class Prefix>
void IntNStringReceiver<Prefix>::sendString(std::string_view string) {
    constexpr std::size_t largest = std::numeric_limits<Prefix>::max();
    if (string.size() > largest) {
        throw StringTooLongError(
            fmt::format("Try to send {} bytes whereas maximum is {}", string.size(), largest + 1));
    }
    std::array<char, sizeof(Prefix)> prefix{};
    std::size_t length = string.size();
    for (auto byte = prefix.rbegin(); byte != prefix.rend(); ++byte, length >>= 8U) {
        *byte = static_cast<char>(length & 0xffU);
    }
    const std::array<std::string_view, 2> pieces{std::string_view(prefix.data(), prefix.size()),
                                                 string};
    transport->writeSequence(pieces);
}

template <class Prefix>
void IntNStringReceiver<Prefix>::parse() {
    while (!broken_ && !stopped()) {
        if (!length_) {
            std::optional<std::string_view> prefix = take(sizeof(Prefix));
            if (!prefix) {
                return;
            }
            std::size_t length = 0;
            for (char byte : *prefix) {
                length = (length << 8U) | static_cast<unsigned char>(byte);
            }
            if (length > MAX_LENGTH) {
                broken_ = true;
                lengthLimitExceeded(length);
                break;
            }
            length_ = length;
        }
        std::optional<std::string_view> string = take(*length_);
        if (!string) {
            return;
        }
        length_.reset();
        stringReceived(*string);
    }
    if (broken_) {
        in_ = {}; // nothing after a bad prefix means anything
    }
}

template class IntNStringReceiver<std::uint8_t>;
template class IntNStringReceiver<std::uint16_t>;
template class IntNStringReceiver<std::uint32_t>;

// --- NetstringReceiver -------------------------------------------------------------------

void NetstringReceiver::sendString(std::string_view string) {
    const std::string length = fmt::format("{}:", string.size());
    const std::array<std::string_view, 3> pieces{length, string, ","};
    transport->writeSequence(pieces);
}

void NetstringReceiver::parse() {
    while (!brokenPeer_ && !stopped()) {
        if (!inString_ && !parseLength()) {
            break;
        }
        // The string and its comma.
        std::optional<std::string_view> string = take(length_ + 1);
        if (!string) {
            return;
        }
        if (string->back() != ',') {
            parseError("The received netstring is not terminated by a comma.");
            break;
        }
        string->remove_suffix(1);
        inString_ = false;
        length_ = 0;
        digits_ = 0;
        stringReceived(*string);
    }
    if (brokenPeer_) {
        in_ = {};
    }
}

// Reads the length digits and the colon; false when they are not all there yet or wrong.
bool NetstringReceiver::parseLength() {
    while (!in_.empty()) {
        const char byte = in_.front();
        in_.remove_prefix(1);
        if (byte == ':' && digits_ > 0) {
            inString_ = true;
            return true;
        }
        // "0" is a length, "07" is not.
        if (byte < '0' || byte > '9' || (digits_ == 1 && length_ == 0)) {
            parseError("The received netstring does not start with a length specification.");
            return false;
        }
        const auto digit = static_cast<std::size_t>(byte - '0');
        if (digit > MAX_LENGTH || length_ > (MAX_LENGTH - digit) / 10) {
            parseError(fmt::format("The received netstring is longer than the maximum {} "
                                   "specified by self.MAX_LENGTH",
                                   MAX_LENGTH));
            return false;
        }
        length_ = length_ * 10 + digit;
        ++digits_;
    }
    return false;
}

void NetstringReceiver::parseError(std::string_view reason) {
    static Logger log{"braid.basic"};
    brokenPeer_ = true;
    log.warn("Dropping the connection to {peer}: {reason}",
             fmt::arg("peer", transport->getPeer().toString()), fmt::arg("reason", reason));
    transport->loseConnection();
}

} // namespace braid
