// DeferredList, gatherResults and gather.
#include <braid/deferred_list.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/log_capture.hpp>

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <variant>
#include <vector>

using braid::CancelledError;
using braid::Deferred;
using braid::DeferredList;
using braid::FirstError;
using braid::Outcome;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::LogCapture;
using braid::testing::successResultOf;

namespace {

struct ListError : std::runtime_error {
    ListError() : std::runtime_error("list error") {}
};

TEST(DeferredList, FiresWithEveryOutcomeInOrder) {
    Deferred<int> a;
    Deferred<int> b;
    Deferred<int> c;
    auto list = DeferredList<int>({a, b, c}, {.consumeErrors = true});
    c.callback(3);
    a.callback(1);
    EXPECT_TRUE(hasNoResult(list));
    b.errback(ListError());
    auto outcomes = successResultOf(list);
    ASSERT_EQ(outcomes.size(), 3U);
    EXPECT_EQ(outcomes[0].value(), 1);
    EXPECT_TRUE(outcomes[1].failed());
    EXPECT_TRUE(outcomes[1].failure().check<ListError>());
    EXPECT_EQ(outcomes[2].value(), 3);
}

TEST(DeferredList, EmptyListFiresAtOnce) {
    auto list = DeferredList<int>({});
    EXPECT_TRUE(successResultOf(list).empty());
}

TEST(DeferredList, AlreadyFiredMembersCount) {
    auto list = DeferredList<int>({braid::succeed(1), braid::succeed(2)});
    auto outcomes = successResultOf(list);
    EXPECT_EQ(outcomes[0].value() + outcomes[1].value(), 3);
}

TEST(DeferredList, FireOnOneCallbackFiresAtTheFirstSuccess) {
    Deferred<std::string> a;
    Deferred<std::string> b;
    auto list = DeferredList<std::string>({a, b}, {.fireOnOneCallback = true});
    b.callback("b wins");
    auto outcomes = successResultOf(list);
    EXPECT_TRUE(outcomes[0].empty());
    EXPECT_EQ(outcomes[1].value(), "b wins");
    a.callback("too late"); // harmless
}

TEST(DeferredList, FireOnOneErrbackFailsWithFirstError) {
    Deferred<int> a;
    Deferred<int> b;
    auto list = DeferredList<int>({a, b}, {.fireOnOneErrback = true, .consumeErrors = true});
    b.errback(ListError());
    auto failure = failureResultOf(list);
    ASSERT_TRUE(failure.check<FirstError>());
    const FirstError* first = failure.value<FirstError>();
    EXPECT_EQ(first->index, 1U);
    EXPECT_TRUE(first->subFailure.check<ListError>());
    a.callback(1);
}

TEST(DeferredList, MemberFailuresAreReportedUnlessConsumed) {
    {
        LogCapture log;
        {
            auto list = DeferredList<int>({braid::fail<int>(ListError())});
            EXPECT_TRUE(successResultOf(list)[0].failed());
        }
        EXPECT_EQ(log.count("Unhandled error in Deferred"), 1U);
    }
    {
        LogCapture log;
        {
            auto list = DeferredList<int>({braid::fail<int>(ListError())}, {.consumeErrors = true});
            EXPECT_TRUE(successResultOf(list)[0].failed());
        }
        EXPECT_EQ(log.count("Unhandled error in Deferred"), 0U);
    }
}

TEST(DeferredList, CancellingTheListCancelsItsMembers) {
    int cancelled = 0;
    Deferred<int> a([&] { ++cancelled; });
    Deferred<int> b([&] { ++cancelled; });
    auto list = DeferredList<int>({a, b}, {.consumeErrors = true});
    list.cancel();
    EXPECT_EQ(cancelled, 2);
    auto outcomes = successResultOf(list);
    EXPECT_TRUE(outcomes[0].failure().check<CancelledError>());
    EXPECT_TRUE(outcomes[1].failure().check<CancelledError>());
}

TEST(DeferredList, VoidMembers) {
    Deferred<void> a;
    auto list = DeferredList<void>({a, braid::succeed()});
    a.callback();
    auto outcomes = successResultOf(list);
    EXPECT_TRUE(outcomes[0].succeeded());
    EXPECT_TRUE(outcomes[1].succeeded());
}

TEST(GatherResults, ValuesInOrder) {
    Deferred<int> a;
    Deferred<int> b;
    auto all = braid::gatherResults<int>({a, b});
    b.callback(2);
    a.callback(1);
    EXPECT_EQ(successResultOf(all), (std::vector<int>{1, 2}));
}

TEST(GatherResults, FirstFailureWins) {
    Deferred<int> a;
    Deferred<int> b;
    auto all = braid::gatherResults<int>({a, b}, true);
    b.errback(ListError());
    auto failure = failureResultOf(all);
    ASSERT_TRUE(failure.check<FirstError>());
    EXPECT_EQ(failure.value<FirstError>()->index, 1U);
    a.errback(ListError()); // a second failure changes nothing
}

TEST(GatherResults, VoidDeferreds) {
    Deferred<void> a;
    auto all = braid::gatherResults<void>({a, braid::succeed()});
    EXPECT_TRUE(hasNoResult(all));
    a.callback();
    EXPECT_TRUE(all.hasResult());
}

TEST(Gather, TupleOfMixedTypes) {
    Deferred<int> a;
    Deferred<std::string> b;
    Deferred<void> c;
    auto all = braid::gather(a, b, c);
    c.callback();
    b.callback("two");
    EXPECT_TRUE(hasNoResult(all));
    a.callback(1);
    auto [one, two, three] = successResultOf(all);
    EXPECT_EQ(one, 1);
    EXPECT_EQ(two, "two");
    EXPECT_EQ(three, std::monostate{});
}

TEST(Gather, FailureGivesFirstErrorWithIndexAndIsConsumed) {
    LogCapture log;
    {
        Deferred<int> a;
        Deferred<std::string> b;
        auto all = braid::gather(a, b);
        b.errback(ListError());
        auto failure = failureResultOf(all);
        ASSERT_TRUE(failure.check<FirstError>());
        EXPECT_EQ(failure.value<FirstError>()->index, 1U);
        a.callback(0);
    }
    EXPECT_EQ(log.count("Unhandled error in Deferred"), 0U);
}

TEST(Gather, NoArgumentsFiresAtOnce) {
    auto all = braid::gather();
    EXPECT_TRUE(all.hasResult());
}

} // namespace
