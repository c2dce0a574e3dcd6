// The framing receivers (braid/basic.hpp): details on a StringTransport, and the property
// that the same bytes give the same messages however they are cut, on a Loopback.
#include <braid/basic.hpp>
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

using braid::LineReceiver;
using braid::Protocol;
using braid::testing::Delivery;
using braid::testing::Loopback;
using braid::testing::LoopbackOptions;
using braid::testing::StringTransport;

bool within(std::string_view part, std::string_view whole) {
    std::less_equal<const char*> lessEqual;
    return lessEqual(whole.data(), part.data()) &&
           lessEqual(part.data() + part.size(), whole.data() + whole.size());
}

// Records lines and raw data as events ("line:x", "raw:x"); a line "raw N" switches to raw
// mode for N bytes, then back to lines with what follows them (the memcached tutorial's
// `set`). Hooks let a test act from inside the callbacks.
struct Lines : LineReceiver {
    void lineReceived(std::string_view line) override {
        events.push_back("line:" + std::string(line));
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
        events.push_back("exceeded");
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
        void lineReceived(std::string_view) override {}
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
        void lineReceived(std::string_view) override { setRawMode(); }
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
    proto.onLine = [&](std::string_view) {
        proto.pauseProducing();
        proto.resumeProducing();
    };
    proto.dataReceived("a\r\nb\r\n");
    EXPECT_EQ(proto.events, (Events{"line:a", "line:b"}));
}

TEST_F(LineReceiverTest, StopProducingStopsLinesAndTheTransport) {
    proto.onLine = [&](std::string_view) { proto.stopProducing(); };
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
        void lineReceived(std::string_view) override {}
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
            data += std::string(random() % 30, static_cast<char>('a' + random() % 26));
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

} // namespace
