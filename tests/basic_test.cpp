// The framing receivers (braid/basic.hpp): details on a StringTransport, and the property
// that the same bytes give the same messages however they are cut, on a Loopback.
#include <braid/basic.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/testing/loopback.hpp>
#include <braid/testing/string_transport.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::LineOnlyReceiver;
using braid::LineReceiver;
using braid::NetstringReceiver;
using braid::Protocol;
using braid::StringTooLongError;
using braid::testing::Delivery;
using braid::testing::LogCapture;
using braid::testing::Loopback;
using braid::testing::LoopbackOptions;
using braid::testing::StringTransport;

bool within(std::string_view part, std::string_view whole) {
    const std::less_equal<> lessEqual;
    return lessEqual(whole.data(), part.data()) &&
           lessEqual(part.data() + part.size(), whole.data() + whole.size());
}

// Records lines and raw data as events ("line:x", "raw:x"); a line "raw N" switches to raw
// mode for N bytes, then back to lines with what follows them (the memcached tutorial's
// `set`). Hooks let a test act from inside the callbacks.
struct Lines : LineReceiver {
    void lineReceived(std::string_view line) override {
        events.emplace_back("line:" + std::string(line));
        views.push_back(line);
        if (line.starts_with("raw ")) {
            rawLeft = std::stoul(std::string(line.substr(4)));
            setRawMode();
        }
        if (onLine) {
            onLine(line);
        }
    }
    void rawDataReceived(std::string_view data) override {
        const std::size_t mine = std::min(rawLeft, data.size());
        raw.append(data.substr(0, mine));
        rawLeft -= mine;
        if (rawLeft == 0) {
            events.push_back("raw:" + raw);
            raw.clear();
            setLineMode(data.substr(mine));
        }
    }
    void lineLengthExceeded(std::string_view line) override {
        events.emplace_back("exceeded");
        exceeded.emplace_back(line);
        LineReceiver::lineLengthExceeded(line);
    }

    std::vector<std::string> events;
    std::vector<std::string_view> views; // valid only during the data's dataReceived
    std::vector<std::string> exceeded;
    std::function<void(std::string_view)> onLine;
    std::size_t rawLeft = 0;
    std::string raw;
};

struct LineReceiverTest : ::testing::Test {
    LineReceiverTest() { proto.makeConnection(transport); }

    StringTransport transport;
    Lines proto;
};

using Events = std::vector<std::string>;

TEST_F(LineReceiverTest, DeliversEachLineWithoutTheDelimiter) {
    proto.dataReceived("one\r\ntwo\r\n\r\nthree");
    EXPECT_EQ(proto.events, (Events{"line:one", "line:two", "line:"}));
    proto.dataReceived(" and more\r\n");
    EXPECT_EQ(proto.events, (Events{"line:one", "line:two", "line:", "line:three and more"}));
    EXPECT_EQ(proto.bufferedBytes(), 0U);
}

TEST_F(LineReceiverTest, LinesInsideOneReadAreViewsOfIt) {
    const std::string data = "alpha\r\nbeta\r\n";
    proto.onLine = [&](std::string_view line) { EXPECT_TRUE(within(line, data)) << line; };
    proto.dataReceived(data);
    EXPECT_EQ(proto.events.size(), 2U);
}

TEST_F(LineReceiverTest, FindsADelimiterSplitAcrossReads) {
    proto.dataReceived("abc\r");
    EXPECT_TRUE(proto.events.empty());
    proto.dataReceived("\ndef\r");
    proto.dataReceived("\n");
    EXPECT_EQ(proto.events, (Events{"line:abc", "line:def"}));
}

TEST_F(LineReceiverTest, DelimiterIsSettablePerInstance) {
    proto.delimiter = "END";
    proto.dataReceived("aEN");
    proto.dataReceived("Db\r\nEENDEN");
    proto.dataReceived("D");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:b\r\nE", "line:"}));
    proto.sendLine("x");
    EXPECT_EQ(transport.value(), "xEND");
}

TEST_F(LineReceiverTest, SendLineAppendsTheDelimiter) {
    proto.sendLine("hello");
    proto.sendLine("");
    EXPECT_EQ(transport.value(), "hello\r\n\r\n");
}

TEST_F(LineReceiverTest, SetRawModeInsideLineReceivedSendsTheRestOfTheReadRaw) {
    proto.dataReceived("raw 5\r\nhello");
    EXPECT_EQ(proto.events, (Events{"line:raw 5", "raw:hello"}));
    EXPECT_TRUE(proto.lineMode());
}

TEST_F(LineReceiverTest, SetLineModeWithTheRestOfRawDataGoesOnWithLines) {
    const std::string data = "raw 3\r\nabc\r\nnext\r\nraw 2\r\nxyz\r\n";
    proto.onLine = [&](std::string_view line) {
        // Lines after setLineMode(extra) are still views of the read: no copy was made.
        EXPECT_TRUE(within(line, data)) << line;
    };
    proto.dataReceived(data);
    EXPECT_EQ(proto.events, (Events{"line:raw 3", "raw:abc", "line:", "line:next", "line:raw 2",
                                    "raw:xy", "line:z"}));
}

TEST_F(LineReceiverTest, SetLineModeExtraComesBeforeLaterData) {
    // The rest of a read is kept while the transport is closing; when it is handled along
    // with a new read, what rawDataReceived() hands back still comes first.
    proto.onLine = [&](std::string_view line) { transport.disconnecting = line == "raw 3"; };
    proto.dataReceived("raw 3\r\nabcXY");
    EXPECT_EQ(proto.events, (Events{"line:raw 3"}));
    transport.disconnecting = false;
    proto.dataReceived("Z\r\n");
    EXPECT_EQ(proto.events, (Events{"line:raw 3", "raw:abc", "line:XYZ"}));
}

TEST_F(LineReceiverTest, RawDataAcrossReads) {
    proto.dataReceived("raw 6\r\nab");
    proto.dataReceived("cd");
    proto.dataReceived("efline\r");
    proto.dataReceived("\n");
    EXPECT_EQ(proto.events, (Events{"line:raw 6", "raw:abcdef", "line:line"}));
}

TEST_F(LineReceiverTest, SetLineModeFromOutsideHandlesExtraAtOnce) {
    proto.setRawMode();
    proto.setLineMode("a\r\nb");
    EXPECT_EQ(proto.events, (Events{"line:a"}));
    proto.dataReceived("\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:b"}));
}

TEST_F(LineReceiverTest, APartialLineBecomesRawDataAfterSetRawMode) {
    struct Raw : LineReceiver {
        void lineReceived(std::string_view /*line*/) override {}
        void rawDataReceived(std::string_view data) override { raw.append(data); }
        std::string raw;
    } raw;
    raw.makeConnection(transport);
    raw.dataReceived("partial");
    raw.setRawMode();
    raw.dataReceived(" then raw\r\n");
    EXPECT_EQ(raw.raw, "partial then raw\r\n");
}

TEST_F(LineReceiverTest, RawDataReceivedThrowsUnlessOverridden) {
    struct NoRaw : LineReceiver {
        void lineReceived(std::string_view /*line*/) override { setRawMode(); }
    } noRaw;
    noRaw.makeConnection(transport);
    EXPECT_THROW(noRaw.dataReceived("x\r\ny"), std::logic_error);
}

TEST_F(LineReceiverTest, ALineOfMaxLengthIsAccepted) {
    proto.MAX_LENGTH = 5;
    proto.dataReceived("12345\r\n");
    EXPECT_EQ(proto.events, (Events{"line:12345"}));
    EXPECT_FALSE(transport.disconnecting);
}

TEST_F(LineReceiverTest, ACompleteLineTooLongGetsItAndWhatFollows) {
    proto.MAX_LENGTH = 5;
    proto.dataReceived("ok\r\n123456\r\nmore\r\n");
    EXPECT_EQ(proto.events, (Events{"line:ok", "exceeded"}));
    EXPECT_EQ(proto.exceeded.front(), "123456\r\nmore\r\n");
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_EQ(proto.bufferedBytes(), 0U);
}

TEST_F(LineReceiverTest, MaxLengthPlusDelimiterBytesWithoutDelimiterIsTooLong) {
    proto.MAX_LENGTH = 5;
    proto.dataReceived("123456"); // Twisted waits for MAX_LENGTH + len(delimiter) bytes
    EXPECT_TRUE(proto.events.empty());
    proto.dataReceived("\r");
    EXPECT_EQ(proto.events, (Events{"exceeded"}));
    EXPECT_EQ(proto.exceeded.front(), "123456\r");
    EXPECT_TRUE(transport.disconnecting);
}

TEST_F(LineReceiverTest, NoMoreLinesOnceTheTransportIsClosing) {
    proto.onLine = [&](std::string_view line) {
        if (line == "quit") {
            transport.loseConnection();
        }
    };
    proto.dataReceived("a\r\nquit\r\nb\r\n");
    proto.dataReceived("c\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:quit"}));
    EXPECT_EQ(proto.clearLineBuffer(), "b\r\n");
}

TEST_F(LineReceiverTest, ClearLineBufferReturnsAndDropsThePartialLine) {
    proto.dataReceived("a\r\npart");
    EXPECT_EQ(proto.clearLineBuffer(), "part");
    EXPECT_EQ(proto.clearLineBuffer(), "");
    proto.dataReceived("ial\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:ial"}));
}

TEST_F(LineReceiverTest, ClearLineBufferInsideLineReceivedTakesTheRest) {
    std::string rest;
    proto.onLine = [&](std::string_view line) {
        if (line == "stop") {
            rest = proto.clearLineBuffer();
        }
    };
    proto.dataReceived("stop\r\nx\r\ny");
    EXPECT_EQ(rest, "x\r\ny");
    EXPECT_EQ(proto.events, (Events{"line:stop"}));
}

TEST_F(LineReceiverTest, PauseStopsLinesAlreadyReceivedUntilResume) {
    proto.onLine = [&](std::string_view line) {
        if (line == "pause") {
            proto.pauseProducing();
        }
    };
    proto.dataReceived("a\r\npause\r\nb\r\nc");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:pause"}));
    EXPECT_TRUE(proto.paused());
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::paused);
    proto.dataReceived("\r\nd\r\n"); // the read that was already on its way
    EXPECT_EQ(proto.events.size(), 2U);
    EXPECT_EQ(proto.bufferedBytes(), std::string("b\r\nc\r\nd\r\n").size());

    proto.resumeProducing();
    EXPECT_EQ(proto.events, (Events{"line:a", "line:pause", "line:b", "line:c", "line:d"}));
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::producing);
    EXPECT_EQ(proto.bufferedBytes(), 0U);
}

TEST_F(LineReceiverTest, PauseAndResumeInsideOneLine) {
    proto.onLine = [&](std::string_view /*line*/) {
        proto.pauseProducing();
        proto.resumeProducing();
    };
    proto.dataReceived("a\r\nb\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:b"}));
}

TEST_F(LineReceiverTest, StopProducingStopsLinesAndTheTransport) {
    proto.onLine = [&](std::string_view /*line*/) { proto.stopProducing(); };
    proto.dataReceived("a\r\nb\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a"}));
    EXPECT_EQ(transport.producerState(), StringTransport::ProducerState::stopped);
}

TEST_F(LineReceiverTest, DataReceivedFromInsideLineReceivedIsQueuedBehind) {
    proto.onLine = [&](std::string_view line) {
        if (line == "a") {
            proto.dataReceived("inner\r\n");
        }
    };
    proto.dataReceived("a\r\nb\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:b", "line:inner"}));
}

TEST_F(LineReceiverTest, NeverBuffersMoreThanMaxLengthPlusOneRead) {
    struct Keep : LineReceiver {
        void lineReceived(std::string_view /*line*/) override {}
        void lineLengthExceeded(std::string_view line) override {
            longest = std::max(longest, line.size());
        }
        std::size_t longest = 0;
    } keep;
    keep.makeConnection(transport);
    keep.MAX_LENGTH = 1000;
    const std::string read(300, 'x');
    for (int i = 0; i < 100; ++i) {
        keep.dataReceived(read);
        EXPECT_LT(keep.bufferedBytes(), keep.MAX_LENGTH + 2);
    }
    EXPECT_LE(keep.longest, keep.MAX_LENGTH + 2 + read.size());
    keep.dataReceived(std::string(100'000, 'y'));
    EXPECT_EQ(keep.bufferedBytes(), 0U);
}

// --- the same messages however the bytes are cut -----------------------------------------

// Sends `data` from a plain protocol to a receiver S, delivered as `options` says, and
// returns what S recorded.
template <class S>
auto receive(const std::string& data, LoopbackOptions options) {
    Loopback<Protocol, S> loop(std::move(options));
    loop.client().transport->write(data);
    loop.pump();
    return loop.server().events;
}

std::vector<LoopbackOptions> cuts() {
    std::vector<LoopbackOptions> all{{}, {.delivery = Delivery::oneByteAtATime}};
    for (std::uint32_t seed = 0; seed < 60; ++seed) {
        all.push_back({.delivery = Delivery::randomChunks,
                       .seed = seed,
                       .maxChunk = std::size_t{1} << (seed % 12)});
    }
    return all;
}

// Lines, empty lines, raw sections that end mid-read, a \r alone, a long line near the
// limit: all made from one seed.
std::string lineTraffic(std::uint32_t seed) {
    std::mt19937 random(seed);
    std::string data;
    for (int i = 0; i < 40; ++i) {
        switch (random() % 4) {
        case 0:
            data += "raw " + std::to_string(random() % 30) + "\r\n";
            data += std::string(random() % 30, static_cast<char>('a' + (random() % 26)));
            break;
        case 1: data += std::string(random() % 310, 'L') + "\r\n"; break;
        case 2: data += "a\rb\n\r\n"; break;
        default: data += "\r\n";
        }
    }
    return data;
}

TEST(LineReceiverPropertyTest, SameEventsHoweverTheBytesAreCut) {
    struct Small : Lines {
        Small() { MAX_LENGTH = 300; }
    };
    for (std::uint32_t seed = 0; seed < 8; ++seed) {
        const std::string data = lineTraffic(seed);
        const Events expected = receive<Small>(data, {});
        ASSERT_GT(expected.size(), 5U);
        for (const LoopbackOptions& cut : cuts()) {
            EXPECT_EQ(receive<Small>(data, cut), expected)
                << "seed " << seed << ", delivery " << static_cast<int>(cut.delivery)
                << ", chunk seed " << cut.seed;
        }
    }
}

// --- LineOnlyReceiver --------------------------------------------------------------------

struct OnlyLines : LineOnlyReceiver {
    void lineReceived(std::string_view line) override {
        events.emplace_back("line:" + std::string(line));
        if (line == "quit") {
            transport->loseConnection();
        }
    }
    void lineLengthExceeded(std::string_view line) override {
        events.emplace_back("exceeded");
        LineOnlyReceiver::lineLengthExceeded(line);
    }
    std::vector<std::string> events;
};

TEST(LineOnlyReceiverTest, LinesLimitsAndClosing) {
    StringTransport transport;
    OnlyLines proto;
    proto.makeConnection(transport);
    proto.MAX_LENGTH = 4;
    proto.dataReceived("ab\r\n1234\r");
    proto.dataReceived("\nquit\r\nafter\r\n");
    EXPECT_EQ(proto.events, (Events{"line:ab", "line:1234", "line:quit"}));
    EXPECT_TRUE(transport.disconnecting);
    proto.sendLine("x");
    EXPECT_EQ(transport.value(), "x\r\n");

    StringTransport other;
    OnlyLines tooLong;
    tooLong.makeConnection(other);
    tooLong.MAX_LENGTH = 4;
    tooLong.dataReceived("12345\r\n");
    EXPECT_EQ(tooLong.events, (Events{"exceeded"}));
    EXPECT_TRUE(other.disconnecting);
}

TEST(LineOnlyReceiverPropertyTest, SameLinesHoweverTheBytesAreCut) {
    std::string data;
    for (int i = 0; i < 200; ++i) {
        data +=
            std::string(static_cast<std::size_t>(i % 17), 'x') + (i % 3 == 0 ? "\r" : "") + "\r\n";
    }
    data += "quit\r\nnever\r\n";
    const Events expected = receive<OnlyLines>(data, {});
    EXPECT_EQ(expected.size(), 201U);
    for (const LoopbackOptions& cut : cuts()) {
        EXPECT_EQ(receive<OnlyLines>(data, cut), expected) << "chunk seed " << cut.seed;
    }
}

// --- Int8/16/32StringReceiver ------------------------------------------------------------

template <class Base>
struct Strings : Base {
    void stringReceived(std::string_view string) override {
        events.push_back("string:" + std::string(string));
        views.push_back(string);
        if (string == "pause") {
            this->pauseProducing();
        }
        if (string == "quit") {
            this->transport->loseConnection();
        }
    }
    std::vector<std::string> events;
    std::vector<std::string_view> views;
};

template <class Base>
struct IntStrings : Strings<Base> {
    void lengthLimitExceeded(std::size_t length) override {
        this->events.push_back("limit:" + std::to_string(length));
        Base::lengthLimitExceeded(length);
    }
};

// The prefix of `size` for an N-byte receiver, big-endian.
std::string prefix(std::size_t bytes, std::size_t size) {
    std::string out(bytes, '\0');
    for (std::size_t i = bytes; i-- > 0; size >>= 8U) {
        out[i] = static_cast<char>(size & 0xffU);
    }
    return out;
}

template <class Receiver>
struct IntNStringReceiverTest : ::testing::Test {};

using IntNTypes = ::testing::Types<braid::Int8StringReceiver, braid::Int16StringReceiver,
                                   braid::Int32StringReceiver>;
TYPED_TEST_SUITE(IntNStringReceiverTest, IntNTypes);

template <class P>
constexpr std::size_t prefixBytes(braid::IntNStringReceiver<P>* /*unused*/) {
    return sizeof(P);
}

template <class R>
constexpr std::size_t prefixOf = prefixBytes(static_cast<R*>(nullptr));

TYPED_TEST(IntNStringReceiverTest, SendStringWritesTheBigEndianPrefix) {
    StringTransport transport;
    IntStrings<TypeParam> proto;
    proto.makeConnection(transport);
    proto.sendString("hello");
    proto.sendString("");
    const std::size_t n = prefixOf<TypeParam>;
    EXPECT_EQ(transport.value(), prefix(n, 5) + "hello" + prefix(n, 0));
}

TYPED_TEST(IntNStringReceiverTest, ReceivesWholeAndSplitStrings) {
    StringTransport transport;
    IntStrings<TypeParam> proto;
    proto.makeConnection(transport);
    const std::size_t n = prefixOf<TypeParam>;
    const std::string data = prefix(n, 3) + "abc" + prefix(n, 0) + prefix(n, 4) + "wxyz";
    proto.dataReceived(std::string_view(data).substr(0, n + 3));
    ASSERT_EQ(proto.events.size(), 1U);
    proto.dataReceived(std::string_view(data).substr(n + 3, n + 1)); // empty string, 1 prefix byte
    for (char byte : std::string_view(data).substr((2 * n) + 4)) {
        proto.dataReceived(std::string_view(&byte, 1));
    }
    EXPECT_EQ(proto.events, (Events{"string:abc", "string:", "string:wxyz"}));
    EXPECT_EQ(proto.bufferedBytes(), 0U);
}

TYPED_TEST(IntNStringReceiverTest, StringsInsideOneReadAreViewsOfIt) {
    StringTransport transport;
    IntStrings<TypeParam> proto;
    proto.makeConnection(transport);
    const std::size_t n = prefixOf<TypeParam>;
    const std::string data = prefix(n, 2) + "ab" + prefix(n, 2) + "cd";
    proto.dataReceived(data);
    ASSERT_EQ(proto.views.size(), 2U);
    EXPECT_TRUE(within(proto.views[0], data));
    EXPECT_TRUE(within(proto.views[1], data));
}

TYPED_TEST(IntNStringReceiverTest, APrefixOverMaxLengthCallsLengthLimitExceeded) {
    StringTransport transport;
    IntStrings<TypeParam> proto;
    proto.makeConnection(transport);
    proto.MAX_LENGTH = 10;
    const std::size_t n = prefixOf<TypeParam>;
    proto.dataReceived(prefix(n, 10) + std::string(10, 'k') + prefix(n, 11) + "more");
    EXPECT_EQ(proto.events, (Events{"string:" + std::string(10, 'k'), "limit:11"}));
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_EQ(proto.bufferedBytes(), 0U);
}

TYPED_TEST(IntNStringReceiverTest, SendStringRefusesWhatThePrefixCannotSay) {
    StringTransport transport;
    IntStrings<TypeParam> proto;
    proto.makeConnection(transport);
    if constexpr (prefixOf<TypeParam> < 4) {
        const std::size_t largest = (std::size_t{1} << (8 * prefixOf<TypeParam>)) - 1;
        EXPECT_NO_THROW(proto.sendString(std::string(largest, 'a')));
        transport.clear();
        EXPECT_THROW(proto.sendString(std::string(largest + 1, 'a')), StringTooLongError);
        EXPECT_EQ(transport.value(), "");
    } else {
        // 4 GiB is too much to allocate in a test: a view of a fake size is never read
        // before the check.
        const std::string_view huge(transport.value().data(), std::size_t{1} << 32U);
        EXPECT_THROW(proto.sendString(huge), StringTooLongError);
    }
}

TYPED_TEST(IntNStringReceiverTest, PauseHoldsStringsUntilResume) {
    StringTransport transport;
    IntStrings<TypeParam> proto;
    proto.makeConnection(transport);
    const std::size_t n = prefixOf<TypeParam>;
    proto.dataReceived(prefix(n, 5) + "pause" + prefix(n, 1) + "a" + prefix(n, 1));
    EXPECT_EQ(proto.events, (Events{"string:pause"}));
    proto.dataReceived("b");
    EXPECT_EQ(proto.events.size(), 1U);
    proto.resumeProducing();
    EXPECT_EQ(proto.events, (Events{"string:pause", "string:a", "string:b"}));
}

template <class R>
std::string intTraffic(std::uint32_t seed) {
    std::mt19937 random(seed);
    std::string data;
    const std::size_t n = prefixOf<R>;
    for (int i = 0; i < 60; ++i) {
        const std::size_t size = random() % (i % 10 == 9 ? 250 : 20);
        data += prefix(n, size) + std::string(size, static_cast<char>(random()));
    }
    return data + prefix(n, 4) + "quit" + prefix(n, 1) + "x";
}

TYPED_TEST(IntNStringReceiverTest, SameStringsHoweverTheBytesAreCut) {
    struct Limited : IntStrings<TypeParam> {
        Limited() { this->MAX_LENGTH = 240; } // some prefixes exceed it
    };
    for (std::uint32_t seed = 0; seed < 6; ++seed) {
        const std::string data = intTraffic<TypeParam>(seed);
        const Events expected = receive<Limited>(data, {});
        ASSERT_GT(expected.size(), 5U);
        for (const LoopbackOptions& cut : cuts()) {
            EXPECT_EQ(receive<Limited>(data, cut), expected)
                << "seed " << seed << ", chunk seed " << cut.seed;
        }
    }
}

// --- NetstringReceiver -------------------------------------------------------------------

using Netstrings = Strings<NetstringReceiver>;

struct NetstringReceiverTest : ::testing::Test {
    NetstringReceiverTest() { proto.makeConnection(transport); }

    // Feeds data; expects the connection dropped with `reason` logged.
    void expectError(std::string_view data, std::string_view reason) {
        LogCapture log;
        proto.dataReceived(data);
        EXPECT_TRUE(proto.brokenPeer()) << data;
        EXPECT_TRUE(transport.disconnecting) << data;
        EXPECT_TRUE(log.contains(reason)) << data;
        EXPECT_TRUE(log.contains("192.168.1.1")) << data;
    }

    StringTransport transport;
    Netstrings proto;
};

TEST_F(NetstringReceiverTest, SendString) {
    proto.sendString("hello");
    proto.sendString("");
    EXPECT_EQ(transport.value(), "5:hello,0:,");
}

TEST_F(NetstringReceiverTest, ReceivesNetstringsInAnyPieces) {
    proto.dataReceived("5:hello,0:,1");
    proto.dataReceived("2:hello world!");
    proto.dataReceived(",");
    EXPECT_EQ(proto.events, (Events{"string:hello", "string:", "string:hello world!"}));
    EXPECT_FALSE(transport.disconnecting);
}

TEST_F(NetstringReceiverTest, LeadingZerosAreAnError) {
    expectError("05:hello,", "does not start with a length");
}

TEST_F(NetstringReceiverTest, ANonDigitLengthIsAnError) {
    expectError("x:", "does not start with a length");
}

TEST_F(NetstringReceiverTest, AnEmptyLengthIsAnError) {
    expectError(":hello,", "does not start with a length");
}

TEST_F(NetstringReceiverTest, AMissingCommaIsAnError) {
    expectError("5:helloX", "not terminated by a comma");
    EXPECT_TRUE(proto.events.empty());
}

TEST_F(NetstringReceiverTest, ALengthOverMaxLengthIsAnErrorAsSoonAsItsDigitsSaySo) {
    proto.dataReceived("99999");
    EXPECT_FALSE(proto.brokenPeer());
    expectError("9", "longer than the maximum 99999");
}

TEST_F(NetstringReceiverTest, NothingIsReadAfterAnError) {
    expectError("3:abcd", "comma");
    proto.dataReceived("1:x,");
    EXPECT_TRUE(proto.events.empty());
    EXPECT_EQ(proto.bufferedBytes(), 0U);
}

TEST_F(NetstringReceiverTest, MaxLengthIsSettable) {
    proto.MAX_LENGTH = 3;
    proto.dataReceived("3:abc,");
    EXPECT_EQ(proto.events, (Events{"string:abc"}));
    expectError("4:", "longer than the maximum 3");
}

TEST(NetstringReceiverPropertyTest, SameStringsHoweverTheBytesAreCut) {
    std::string data;
    for (int i = 0; i < 100; ++i) {
        const std::string s(static_cast<std::size_t>(i * 7 % 23), static_cast<char>(i));
        data += std::to_string(s.size()) + ":" + s + ",";
    }
    for (const std::string& ending : {std::string("4:quit,1:x,"), std::string("3:abcX2:xy,"),
                                      std::string("012:"), std::string("100000:")}) {
        LogCapture log;
        const Events expected = receive<Netstrings>(data + ending, {});
        EXPECT_EQ(expected.size(), ending.starts_with("4:quit") ? 101U : 100U);
        for (const LoopbackOptions& cut : cuts()) {
            EXPECT_EQ(receive<Netstrings>(data + ending, cut), expected) << ending;
        }
    }
}

} // namespace
