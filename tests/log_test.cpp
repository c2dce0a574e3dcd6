// Logger, LogPublisher, the text and JSON formats, and testing::LogCapture.
#include <braid/log.hpp>
#include <braid/testing/log_capture.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using braid::LogEvent;
using braid::Logger;
using braid::LogLevel;
using braid::LogPublisher;
using braid::testing::LogCapture;

// Counts how often it is formatted.
struct Counted {
    static inline int formats = 0;
};

// Its formatter throws.
struct Unformattable {};

} // namespace

template <>
struct fmt::formatter<Counted> : fmt::formatter<std::string_view> {
    auto format(const Counted&, fmt::format_context& context) const {
        ++Counted::formats;
        return fmt::formatter<std::string_view>::format("counted", context);
    }
};

template <>
struct fmt::formatter<Unformattable> : fmt::formatter<std::string_view> {
    auto format(const Unformattable&, fmt::format_context& context) const
        -> decltype(context.out()) {
        throw std::runtime_error("cannot format this");
    }
};

namespace {

// A publisher of its own (no default observer) that records what reaches it.
class LoggerTest : public ::testing::Test {
protected:
    LoggerTest() {
        publisher.addObserver([this](const LogEvent& event) { events.push_back(event); });
    }

    LogPublisher publisher;
    Logger log{"braid.test", publisher};
    std::vector<LogEvent> events;
};

// Everything written to a temporary file.
std::string contentsOf(std::FILE* file) {
    std::rewind(file);
    std::string contents;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
        contents.append(buffer, n);
    }
    return contents;
}

LogEvent sampleEvent() {
    LogEvent event;
    event.level = LogLevel::info;
    event.ns = "braid.tcp";
    event.format = "connection from {peer}";
    event.text = "connection from 10.0.0.1";
    event.fields = {{"peer", "10.0.0.1"}};
    event.time = 1795341600.25; // 2026-11-22T10:00:00.25Z
    return event;
}

TEST_F(LoggerTest, NamedArgumentsBecomeFields) {
    log.info("connection from {peer} on port {port}", fmt::arg("peer", "10.0.0.1"),
             fmt::arg("port", 8080));
    ASSERT_EQ(events.size(), 1u);
    const LogEvent& event = events[0];
    EXPECT_EQ(event.level, LogLevel::info);
    EXPECT_EQ(event.ns, "braid.test");
    EXPECT_EQ(event.format, "connection from {peer} on port {port}");
    EXPECT_EQ(event.text, "connection from 10.0.0.1 on port 8080");
    using Fields = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(event.fields, (Fields{{"peer", "10.0.0.1"}, {"port", "8080"}}));
}

TEST_F(LoggerTest, PositionalArgumentsAreFormattedButAreNotFields) {
    std::string peer = "10.0.0.2";
    log.warn("{} sent {} bytes", peer, 12);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].text, "10.0.0.2 sent 12 bytes");
    EXPECT_TRUE(events[0].fields.empty());
}

TEST_F(LoggerTest, PositionalAndNamedArgumentsMix) {
    log.info("{} from {peer}", 3, fmt::arg("peer", "x"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].text, "3 from x");
    ASSERT_EQ(events[0].fields.size(), 1u);
    EXPECT_EQ(events[0].fields[0].first, "peer");
}

TEST_F(LoggerTest, EachMethodEmitsAtItsLevel) {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.critical("c");
    log.emit(LogLevel::warn, "emitted");
    ASSERT_EQ(events.size(), 6u);
    const LogLevel expected[] = {LogLevel::debug, LogLevel::info,     LogLevel::warn,
                                 LogLevel::error, LogLevel::critical, LogLevel::warn};
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].level, expected[i]) << events[i].text;
    }
}

TEST_F(LoggerTest, EventsCarryTheCurrentUnixTime) {
    const double before =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    log.info("now");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_GE(events[0].time, before);
    EXPECT_LT(events[0].time, before + 60);
}

TEST_F(LoggerTest, ObserversReceiveOnlyTheLevelsTheyAskFor) {
    std::vector<std::string> errors;
    publisher.addObserver([&](const LogEvent& event) { errors.push_back(event.text); },
                          LogLevel::error);
    log.warn("warning");
    log.error("failure");
    log.critical("disaster");
    EXPECT_EQ(errors, (std::vector<std::string>{"failure", "disaster"}));
    EXPECT_EQ(events.size(), 3u);
}

TEST(LogPublisherTest, WantsFollowsTheObservers) {
    LogPublisher publisher;
    EXPECT_FALSE(publisher.wants(LogLevel::critical));
    const braid::ObserverId id = publisher.addObserver([](const LogEvent&) {}, LogLevel::error);
    EXPECT_TRUE(publisher.wants(LogLevel::critical));
    EXPECT_TRUE(publisher.wants(LogLevel::error));
    EXPECT_FALSE(publisher.wants(LogLevel::warn));
    publisher.removeObserver(id);
    EXPECT_FALSE(publisher.wants(LogLevel::critical));
}

TEST(LogPublisherTest, NothingIsFormattedWhenNoObserverWantsTheLevel) {
    LogPublisher publisher;
    int delivered = 0;
    publisher.addObserver([&](const LogEvent&) { ++delivered; }, LogLevel::warn);
    Logger log{"braid.test", publisher};
    Counted::formats = 0;
    log.info("{}", Counted{});
    log.debug("{value}", fmt::arg("value", Counted{}));
    EXPECT_EQ(Counted::formats, 0);
    EXPECT_EQ(delivered, 0);
    log.warn("{}", Counted{});
    EXPECT_EQ(Counted::formats, 1);
    log.warn("{value}", fmt::arg("value", Counted{}));
    EXPECT_EQ(Counted::formats, 3); // once for the text, once for the field
    EXPECT_EQ(delivered, 2);
}

TEST(LogPublisherTest, RemovedObserversGetNothingMore) {
    LogPublisher publisher;
    Logger log{"braid.test", publisher};
    int calls = 0;
    const braid::ObserverId id = publisher.addObserver([&](const LogEvent&) { ++calls; });
    log.info("one");
    publisher.removeObserver(id);
    publisher.removeObserver(id);     // already gone: ignored
    publisher.removeObserver(123456); // never existed: ignored
    log.info("two");
    EXPECT_EQ(calls, 1);
}

TEST(LogPublisherTest, AThrowingObserverIsSkippedAndReportedOnce) {
    LogPublisher publisher;
    Logger log{"braid.test", publisher};
    publisher.addObserver([](const LogEvent&) { throw std::runtime_error("observer broke"); });
    std::vector<std::string> seen;
    publisher.addObserver([&](const LogEvent& event) { seen.push_back(event.text); });
    ::testing::internal::CaptureStderr();
    EXPECT_NO_THROW(log.info("one"));
    EXPECT_NO_THROW(log.info("two"));
    const std::string stderrText = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(seen, (std::vector<std::string>{"one", "two"}));
    const auto first = stderrText.find("observer broke");
    ASSERT_NE(first, std::string::npos) << stderrText;
    EXPECT_EQ(stderrText.find("observer broke", first + 1), std::string::npos) << stderrText;
}

TEST_F(LoggerTest, AFormatterThatThrowsDoesNotMakeLoggingThrow) {
    EXPECT_NO_THROW(log.info("bad {}", Unformattable{}));
    EXPECT_NO_THROW(log.info("bad {thing}", fmt::arg("thing", Unformattable{})));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_NE(events[0].text.find("cannot format this"), std::string::npos) << events[0].text;
    EXPECT_EQ(events[0].format, "bad {}");
    ASSERT_EQ(events[1].fields.size(), 1u);
    EXPECT_EQ(events[1].fields[0].second, "<unformattable>");
}

TEST(LogPublisherTest, AnObserverMayLogAndRemoveItselfWhileCalled) {
    LogPublisher publisher;
    Logger log{"braid.test", publisher};
    std::vector<std::string> seen;
    publisher.addObserver([&](const LogEvent& event) { seen.push_back(event.text); });
    braid::ObserverId self = 0;
    self = publisher.addObserver([&](const LogEvent&) {
        publisher.removeObserver(self);
        log.info("logged by an observer");
    });
    log.info("first");
    log.info("second");
    EXPECT_EQ(seen, (std::vector<std::string>{"first", "logged by an observer", "second"}));
}

TEST(LogPublisherTest, TheDefaultObserverCanBeTurnedOff) {
    std::vector<std::string> seen;
    LogPublisher publisher([&](const LogEvent& event) { seen.push_back(event.text); });
    Logger log{"braid.test", publisher};
    EXPECT_TRUE(publisher.defaultObserverEnabled());
    log.debug("below info");
    log.info("shown");
    publisher.setDefaultObserverEnabled(false);
    EXPECT_FALSE(publisher.defaultObserverEnabled());
    EXPECT_FALSE(publisher.wants(LogLevel::critical));
    log.error("hidden");
    publisher.setDefaultObserverEnabled(true);
    publisher.setDefaultObserverEnabled(true); // idempotent
    log.warn("shown again");
    EXPECT_EQ(seen, (std::vector<std::string>{"shown", "shown again"}));
}

TEST(LogPublisherTest, TheGlobalDefaultObserverWritesInfoAndAboveToStderr) {
    braid::LogPublisher& publisher = braid::logPublisher();
    const bool wasEnabled = publisher.defaultObserverEnabled();
    publisher.setDefaultObserverEnabled(true);
    Logger log{"braid.test"};
    ::testing::internal::CaptureStderr();
    log.debug("quiet {}", 1);
    log.info("hello {}", "stderr");
    const std::string written = ::testing::internal::GetCapturedStderr();
    publisher.setDefaultObserverEnabled(wasEnabled);
    EXPECT_EQ(written.find("quiet"), std::string::npos) << written;
    EXPECT_NE(written.find("Z [braid.test#info] hello stderr\n"), std::string::npos) << written;
}

TEST(LogFormatTest, LevelNamesAreTwistedsSpellings) {
    EXPECT_EQ(braid::levelName(LogLevel::debug), "debug");
    EXPECT_EQ(braid::levelName(LogLevel::info), "info");
    EXPECT_EQ(braid::levelName(LogLevel::warn), "warn");
    EXPECT_EQ(braid::levelName(LogLevel::error), "error");
    EXPECT_EQ(braid::levelName(LogLevel::critical), "critical");
}

TEST(LogFormatTest, TextObserverWritesOneTimestampedLine) {
    std::FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    braid::textObserver(file)(sampleEvent());
    EXPECT_EQ(contentsOf(file), "2026-11-22T10:00:00Z [braid.tcp#info] connection from 10.0.0.1\n");
    std::fclose(file);
}

TEST(LogFormatTest, TextIndentsContinuationLines) {
    LogEvent event = sampleEvent();
    event.level = LogLevel::error;
    event.text = "Unhandled error\nTraceback:\n  here";
    EXPECT_EQ(braid::eventAsText(event),
              "2026-11-22T10:00:00Z [braid.tcp#error] Unhandled error\n\tTraceback:\n\t  here\n");
}

TEST(LogFormatTest, JsonObserverWritesOneObjectPerLine) {
    std::FILE* file = std::tmpfile();
    ASSERT_NE(file, nullptr);
    const braid::LogObserver observer = braid::jsonObserver(file);
    observer(sampleEvent());
    LogEvent second = sampleEvent();
    second.level = LogLevel::warn;
    second.fields.clear();
    observer(second);
    const std::string line =
        R"({"time":1795341600.250000,"level":"info","namespace":"braid.tcp",)"
        R"("text":"connection from 10.0.0.1","format":"connection from {peer}",)"
        R"("fields":{"peer":"10.0.0.1"}})";
    const std::string secondLine =
        R"({"time":1795341600.250000,"level":"warn","namespace":"braid.tcp",)"
        R"("text":"connection from 10.0.0.1","format":"connection from {peer}","fields":{}})";
    EXPECT_EQ(contentsOf(file), line + "\n" + secondLine + "\n");
    std::fclose(file);
}

TEST(LogFormatTest, JsonEscapesQuotesBackslashesAndControlCharacters) {
    LogEvent event = sampleEvent();
    event.text = "say \"hi\" \\ \n\r\t\b\f \x01\x1f\x7f end";
    event.fields = {{"odd \"key\"", "tab\there"}};
    const std::string json = braid::eventAsJSON(event);
    EXPECT_NE(json.find(R"("text":"say \"hi\" \\ \n\r\t\b\f \u0001\u001f\u007f end")"),
              std::string::npos)
        << json;
    EXPECT_NE(json.find(R"("fields":{"odd \"key\"":"tab\there"}})"), std::string::npos) << json;
}

TEST(LogFormatTest, JsonKeepsValidUtf8AndReplacesInvalidBytes) {
    LogEvent event = sampleEvent();
    event.text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    EXPECT_NE(
        braid::eventAsJSON(event).find("\"text\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
        std::string::npos);
    // A stray byte, an overlong '/', an encoded surrogate, a value past U+10FFFF and a
    // truncated sequence: each byte that is not part of a valid sequence becomes U+FFFD.
    event.text = "a\xff"
                 "b\xc0\xaf"
                 "c\xed\xa0\x80"
                 "d\xf4\x90\x80\x80"
                 "e\xe2\x82";
    const std::string r = "\\ufffd";
    EXPECT_NE(braid::eventAsJSON(event).find("\"text\":\"a" + r + "b" + r + r + "c" + r + r + r +
                                             "d" + r + r + r + r + "e" + r + r + "\""),
              std::string::npos)
        << braid::eventAsJSON(event);
}

TEST(LogCaptureTest, CapturesEveryLevelAndSilencesTheDefaultObserver) {
    braid::LogPublisher& publisher = braid::logPublisher();
    const bool wasEnabled = publisher.defaultObserverEnabled();
    publisher.setDefaultObserverEnabled(true);
    Logger log{"braid.test"};
    ::testing::internal::CaptureStderr();
    {
        LogCapture capture;
        EXPECT_FALSE(publisher.defaultObserverEnabled());
        log.debug("debug {n}", fmt::arg("n", 1));
        log.critical("critical");
        EXPECT_EQ(capture.size(), 2u);
        EXPECT_EQ(capture.events()[0].level, LogLevel::debug);
        EXPECT_EQ(capture.events()[0].fields[0].second, "1");
    }
    const std::string written = ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(publisher.defaultObserverEnabled());
    publisher.setDefaultObserverEnabled(wasEnabled);
    EXPECT_EQ(written, "");
}

TEST(LogCaptureTest, CanKeepTheDefaultObserver) {
    braid::LogPublisher& publisher = braid::logPublisher();
    const bool wasEnabled = publisher.defaultObserverEnabled();
    publisher.setDefaultObserverEnabled(true);
    {
        LogCapture capture{LogCapture::DefaultObserver::kept};
        EXPECT_TRUE(publisher.defaultObserverEnabled());
    }
    EXPECT_TRUE(publisher.defaultObserverEnabled());
    publisher.setDefaultObserverEnabled(wasEnabled);
}

TEST(LogCaptureTest, AnswersQuestionsAboutTheTexts) {
    LogCapture capture;
    Logger log{"braid.test"};
    log.info("connection from {peer}", fmt::arg("peer", "a"));
    log.info("connection from {peer}", fmt::arg("peer", "b"));
    log.error("connection lost");
    EXPECT_EQ(capture.texts(), (std::vector<std::string>{"connection from a", "connection from b",
                                                         "connection lost"}));
    EXPECT_TRUE(capture.contains("from b"));
    EXPECT_FALSE(capture.contains("from c"));
    EXPECT_EQ(capture.count("connection"), 3u);
    EXPECT_EQ(capture.count("from"), 2u);
    capture.clear();
    EXPECT_EQ(capture.size(), 0u);
    EXPECT_FALSE(capture.contains("connection"));
}

TEST(LogCaptureTest, NestedCapturesBothRecordAndRestoreTheDefault) {
    braid::LogPublisher& publisher = braid::logPublisher();
    const bool wasEnabled = publisher.defaultObserverEnabled();
    publisher.setDefaultObserverEnabled(true);
    Logger log{"braid.test"};
    {
        LogCapture outer;
        log.info("one");
        {
            LogCapture inner;
            log.info("two");
            EXPECT_EQ(inner.texts(), std::vector<std::string>{"two"});
        }
        EXPECT_FALSE(publisher.defaultObserverEnabled());
        log.info("three");
        EXPECT_EQ(outer.texts(), (std::vector<std::string>{"one", "two", "three"}));
    }
    EXPECT_TRUE(publisher.defaultObserverEnabled());
    publisher.setDefaultObserverEnabled(wasEnabled);
}

TEST(LogCaptureTest, StopsRecordingWhenDestroyed) {
    Logger log{"braid.test"};
    LogCapture outer;
    {
        LogCapture inner;
    }
    log.info("after");
    EXPECT_EQ(outer.size(), 1u); // and ASan sees no call into the destroyed capture
}

TEST(LogThreadTest, PublishingFromManyThreadsDeliversEveryEvent) {
    LogCapture capture;
    Logger log{"braid.test"};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&log, t] {
            for (int i = 0; i < 250; ++i) {
                log.info("thread {thread} event {i}", fmt::arg("thread", t), fmt::arg("i", i));
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(capture.size(), 1000u);
    EXPECT_EQ(capture.count("thread 3 event"), 250u);
}

} // namespace
