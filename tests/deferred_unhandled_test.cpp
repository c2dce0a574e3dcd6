// "Unhandled error in Deferred": logged exactly once when the last handle of a chain
// that ended in a Failure dies, with the failure and where the Deferred was created;
// never when the error was handled.
#include <braid/deferred.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/log_capture.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

using braid::Deferred;
using braid::Failure;
using braid::LogLevel;
using braid::testing::LogCapture;

namespace {

constexpr const char* unhandled = "Unhandled error in Deferred";

struct ReportedError : std::runtime_error {
    ReportedError() : std::runtime_error("reported error text") {}
};

TEST(DeferredUnhandled, LoggedWhenTheLastHandleDies) {
    LogCapture log;
    std::optional<Deferred<int>> d;
    d.emplace();
    d->errback(ReportedError());
    EXPECT_EQ(log.count(unhandled), 0U) << "not while a handle is alive";
    d.reset();
    ASSERT_EQ(log.count(unhandled), 1U);
    auto events = log.events();
    EXPECT_EQ(events.back().level, LogLevel::critical);
    EXPECT_NE(events.back().text.find("ReportedError"), std::string::npos);
    EXPECT_NE(events.back().text.find("reported error text"), std::string::npos);
}

TEST(DeferredUnhandled, NamesWhereTheDeferredWasCreated) {
    LogCapture log;
    int line = 0;
    {
        line = __LINE__ + 1;
        Deferred<int> d;
        d.errback(ReportedError());
    }
    ASSERT_EQ(log.count(unhandled), 1U);
    std::string text = log.events().back().text;
    EXPECT_NE(text.find("deferred_unhandled_test.cpp:" + std::to_string(line)), std::string::npos)
        << text;
}

TEST(DeferredUnhandled, LoggedOnceWhateverTheNumberOfCopies) {
    LogCapture log;
    {
        Deferred<int> a;
        Deferred<int> b = a;
        Deferred<int> c = b;
        a.errback(ReportedError());
    }
    EXPECT_EQ(log.count(unhandled), 1U);
}

TEST(DeferredUnhandled, LoggedOnceAcrossTypeChanges) {
    LogCapture log;
    {
        Deferred<int> d;
        Deferred<int> firer = d;
        Deferred<std::string> s = d.addCallback([](int x) { return std::to_string(x); });
        firer.errback(ReportedError());
    }
    EXPECT_EQ(log.count(unhandled), 1U);
}

TEST(DeferredUnhandled, NotLoggedWhenAnErrbackHandlesIt) {
    LogCapture log;
    {
        Deferred<int> d;
        d.addErrback([](const Failure&) { return 0; });
        d.errback(ReportedError());
    }
    EXPECT_EQ(log.count(unhandled), 0U);
}

TEST(DeferredUnhandled, NotLoggedWhenHandledAfterFiring) {
    LogCapture log;
    {
        Deferred<int> d;
        d.errback(ReportedError());
        d.addErrback([](const Failure&) { return 0; });
    }
    EXPECT_EQ(log.count(unhandled), 0U);
}

TEST(DeferredUnhandled, LoggedWhenAnErrbackFailsAgain) {
    LogCapture log;
    {
        Deferred<int> d;
        d.addErrback([](const Failure&) -> int { throw std::logic_error("errback broke"); });
        d.errback(ReportedError());
    }
    ASSERT_EQ(log.count(unhandled), 1U);
    EXPECT_TRUE(log.contains("errback broke"));
}

TEST(DeferredUnhandled, NotLoggedForSuccessOrForNeverFired) {
    LogCapture log;
    {
        Deferred<int> ok;
        ok.callback(1);
        Deferred<int> never;
    }
    EXPECT_EQ(log.size(), 0U);
}

TEST(DeferredUnhandled, FailureTakenByFailureResultOfIsHandled) {
    LogCapture log;
    {
        Deferred<int> d;
        d.errback(ReportedError());
        (void)braid::testing::failureResultOf(d);
    }
    EXPECT_EQ(log.count(unhandled), 0U);
}

TEST(DeferredUnhandled, InnerFailurePassedToOuterIsReportedOnlyByTheOuter) {
    LogCapture log;
    {
        Deferred<int> inner;
        Deferred<int> outer;
        outer.addCallback([inner](int) { return inner; });
        outer.callback(0);
        inner.errback(ReportedError());
    }
    EXPECT_EQ(log.count(unhandled), 1U);
}

TEST(DeferredUnhandled, InnerFailureHandledByTheOuterIsNotReported) {
    LogCapture log;
    {
        Deferred<int> inner;
        inner.errback(ReportedError());
        Deferred<int> outer;
        outer.addCallback([inner](int) { return inner; });
        outer.addErrback([](const Failure&) { return 0; });
        outer.callback(0);
    }
    EXPECT_EQ(log.count(unhandled), 0U);
}

TEST(DeferredUnhandled, FailureThatIsLaterRecoveredIsNotReported) {
    LogCapture log;
    {
        Deferred<int> d;
        d.errback(ReportedError());
        d.pause();
        d.addErrback([](const Failure&) { return 1; });
        d.unpause();
    }
    EXPECT_EQ(log.count(unhandled), 0U);
}

} // namespace
