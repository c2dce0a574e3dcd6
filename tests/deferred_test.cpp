// Deferred<T>: typed callback/errback chains with Twisted's semantics
// (twisted/test/test_defer.py is the reference for the behaviours checked here).
#include <braid/deferred.hpp>
#include <braid/testing/deferred.hpp>

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using braid::AlreadyCalledError;
using braid::Deferred;
using braid::Failure;
using braid::Outcome;
using braid::testing::failureResultOf;
using braid::testing::hasNoResult;
using braid::testing::successResultOf;

namespace {

struct CustomError : std::runtime_error {
    CustomError() : std::runtime_error("custom") {}
};

// A copy of `d` to add type-changing callbacks to, so that `d` stays usable for firing.
template <class T>
Deferred<T> handle(const Deferred<T>& d) {
    return d;
}

// --- typed chains ------------------------------------------------------------------

TEST(Deferred, CallbacksRunInOrderPassingResults) {
    Deferred<int> d;
    std::vector<int> seen;
    d.addCallback([&](int x) {
        seen.push_back(x);
        return x + 1;
    });
    d.addCallback([&](int x) {
        seen.push_back(x);
        return x * 10;
    });
    EXPECT_TRUE(seen.empty());
    d.callback(1);
    EXPECT_EQ(seen, (std::vector<int>{1, 2}));
    EXPECT_EQ(successResultOf(d), 20);
}

TEST(Deferred, SameTypeAddCallbackReturnsTheSameHandle) {
    Deferred<int> d;
    Deferred<int>& same = d.addCallback([](int x) { return x; });
    EXPECT_EQ(&same, &d);
    Deferred<int>& again = d.addErrback([](const Failure&) { return 0; });
    EXPECT_EQ(&again, &d);
}

TEST(Deferred, TypeChangingAddCallbackReturnsNewHandleAndEmptiesOld) {
    Deferred<int> d;
    Deferred<int> firer = d;
    Deferred<std::string> s = d.addCallback([](int x) { return std::to_string(x); });
    EXPECT_TRUE(d.empty());
    EXPECT_FALSE(s.empty());
    firer.callback(42);
    EXPECT_EQ(successResultOf(s), "42");
}

TEST(Deferred, EmptyHandleUseThrowsLogicError) {
    Deferred<int> d;
    Deferred<int> firer = d;
    auto s = d.addCallback([](int x) { return std::to_string(x); });
    EXPECT_THROW(d.addCallback([](int x) { return x; }), std::logic_error);
    EXPECT_THROW(d.callback(1), std::logic_error);
    EXPECT_THROW(d.cancel(), std::logic_error);
    firer.callback(1);
    EXPECT_EQ(successResultOf(s), "1");
}

TEST(Deferred, StaleHandleOfOldTypeCannotAddCallbacks) {
    Deferred<int> d;
    auto s = handle(d).addCallback([](int x) { return std::to_string(x); });
    EXPECT_THROW(d.addCallback([](int x) { return x; }), std::logic_error);
    d.callback(3); // firing takes the chain's first type: still int
    EXPECT_EQ(successResultOf(s), "3");
}

TEST(Deferred, ChainCanChangeTypeSeveralTimes) {
    Deferred<int> d;
    auto result = handle(d)
                      .addCallback([](int x) { return std::to_string(x); })
                      .addCallback([](const std::string& s) { return s.size(); })
                      .addCallback([](std::size_t n) { return static_cast<double>(n) / 2; });
    d.callback(12345);
    EXPECT_DOUBLE_EQ(successResultOf(result), 2.5);
}

TEST(Deferred, CallbacksAddedAfterFiringRunAtOnce) {
    Deferred<int> d;
    d.callback(5);
    int seen = 0;
    d.addCallback([&](int x) {
        seen = x;
        return x;
    });
    EXPECT_EQ(seen, 5);
}

TEST(Deferred, CallbackAddedDuringACallbackRunsAfterTheOthers) {
    Deferred<int> d;
    std::vector<std::string> order;
    d.addCallback([&](int x) {
        order.emplace_back("first");
        d.addCallback([&](int y) {
            order.emplace_back("added");
            return y;
        });
        return x;
    });
    d.addCallback([&](int x) {
        order.emplace_back("second");
        return x;
    });
    d.callback(0);
    EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "added"}));
}

TEST(Deferred, VoidDeferredCallbacksTakeNoArguments) {
    Deferred<void> d;
    int calls = 0;
    d.addCallback([&] { ++calls; });
    d.addCallback([&] { ++calls; });
    d.callback();
    EXPECT_EQ(calls, 2);
    EXPECT_TRUE(d.hasResult());
}

TEST(Deferred, CallbackReturningVoidGivesADeferredVoid) {
    Deferred<int> d;
    int seen = 0;
    Deferred<void> v = handle(d).addCallback([&](int x) { seen = x; });
    bool ran = false;
    v.addCallback([&] { ran = true; });
    EXPECT_FALSE(ran);
    d.callback(7);
    EXPECT_EQ(seen, 7);
    EXPECT_TRUE(ran);
}

TEST(Deferred, VoidToValueAndBack) {
    Deferred<void> d;
    auto n = handle(d).addCallback([] { return 4; });
    d.callback();
    EXPECT_EQ(successResultOf(n), 4);
}

TEST(Deferred, CallbackParametersByConstRefRvalueValueOrAuto) {
    Deferred<std::string> d;
    d.addCallback([](const std::string& s) { return s + "a"; });
    d.addCallback([](std::string&& s) { return s + "b"; });
    d.addCallback([](std::string s) { return s + "c"; });
    d.addCallback([](auto s) { return s + "d"; });
    d.callback("x");
    EXPECT_EQ(successResultOf(d), "xabcd");
}

TEST(Deferred, MoveOnlyValuesTravelTheChain) {
    Deferred<std::unique_ptr<int>> d;
    auto n = handle(d).addCallback([](std::unique_ptr<int> p) { return *p + 1; });
    d.callback(std::make_unique<int>(41));
    EXPECT_EQ(successResultOf(n), 42);
}

TEST(Deferred, ValuesLargerThanTheInlineBufferWork) {
    using Big = std::array<char, 512>;
    Deferred<Big> d;
    d.addCallback([](Big b) {
        b[500] = 'z';
        return b;
    });
    Big b{};
    b[0] = 'a';
    d.callback(b);
    Big result = successResultOf(d);
    EXPECT_EQ(result[0], 'a');
    EXPECT_EQ(result[500], 'z');
}

TEST(Deferred, CallbacksWithLargeCapturesWork) {
    std::array<long, 32> captured{};
    captured[31] = 9;
    Deferred<long> d;
    d.addCallback([captured](long x) { return x + captured[31]; });
    d.callback(1);
    EXPECT_EQ(successResultOf(d), 10);
}

TEST(Deferred, CapturesAreReleasedOnceTheLinkHasRun) {
    auto token = std::make_shared<int>(0);
    Deferred<int> d;
    d.addCallback([token](int x) { return x; });
    EXPECT_EQ(token.use_count(), 2);
    d.callback(1);
    EXPECT_EQ(token.use_count(), 1);
}

TEST(Deferred, CopiesShareOneChain) {
    Deferred<int> a;
    Deferred<int> b = a;
    a.addCallback([](int x) { return x + 1; });
    b.addCallback([](int x) { return x * 3; });
    b.callback(1);
    EXPECT_TRUE(a.called());
    EXPECT_EQ(successResultOf(a), 6);
}

// --- errors ------------------------------------------------------------------------

TEST(Deferred, ThrowingCallbackSwitchesToTheErrorPath) {
    Deferred<int> d;
    bool skipped = true;
    std::string message;
    d.addCallback([](int) -> int { throw CustomError(); });
    d.addCallback([&](int x) {
        skipped = false;
        return x;
    });
    d.addErrback([&](const Failure& f) {
        message = f.getErrorMessage();
        EXPECT_TRUE(f.check<CustomError>());
        return -1;
    });
    d.callback(1);
    EXPECT_TRUE(skipped);
    EXPECT_EQ(message, "custom");
    EXPECT_EQ(successResultOf(d), -1);
}

TEST(Deferred, ErrbackIsSkippedOnSuccessAndCallbackOnFailure) {
    Deferred<int> ok;
    bool errbackRan = false;
    ok.addErrback([&](const Failure&) {
        errbackRan = true;
        return 0;
    });
    ok.callback(3);
    EXPECT_FALSE(errbackRan);
    EXPECT_EQ(successResultOf(ok), 3);

    Deferred<int> bad;
    bool callbackRan = false;
    bad.addCallback([&](int x) {
        callbackRan = true;
        return x;
    });
    bad.errback(CustomError());
    EXPECT_FALSE(callbackRan);
    EXPECT_TRUE(failureResultOf(bad).check<CustomError>());
}

TEST(Deferred, ErrbackReturningAValueRecovers) {
    Deferred<std::string> d;
    d.addErrback([](const Failure& f) { return "recovered from " + f.getErrorMessage(); });
    d.addCallback([](std::string s) { return s + "!"; });
    d.errback(std::runtime_error("boom"));
    EXPECT_EQ(successResultOf(d), "recovered from boom!");
}

TEST(Deferred, ErrbackReturningTheFailureKeepsFailing) {
    Deferred<int> d;
    int errbacks = 0;
    d.addErrback([&](Failure f) {
        ++errbacks;
        return f;
    });
    d.addErrback([&](Failure f) {
        ++errbacks;
        return f;
    });
    d.errback(CustomError());
    EXPECT_EQ(errbacks, 2);
    EXPECT_TRUE(failureResultOf(d).check<CustomError>());
}

TEST(Deferred, ErrbackRethrowingKeepsTheOriginalType) {
    Deferred<int> d;
    d.addErrback([](const Failure& f) -> int { f.raiseException(); });
    d.errback(CustomError());
    Failure f = failureResultOf(d);
    EXPECT_TRUE(f.check<CustomError>());
}

TEST(Deferred, TrapPassesOnErrorsItDoesNotHandle) {
    Deferred<int> d;
    bool handledLogic = false;
    d.addErrback([&](const Failure& f) {
        f.trap<std::logic_error>();
        handledLogic = true;
        return 0;
    });
    d.errback(CustomError());
    EXPECT_FALSE(handledLogic);
    EXPECT_TRUE(failureResultOf(d).check<CustomError>());

    Deferred<int> e;
    e.addErrback([](const Failure& f) {
        f.trap<std::invalid_argument, CustomError>();
        return 1;
    });
    e.errback(CustomError());
    EXPECT_EQ(successResultOf(e), 1);
}

TEST(Deferred, ErrbackThrowingANewErrorReplacesTheFailure) {
    Deferred<int> d;
    d.addErrback([](const Failure&) -> int { throw std::out_of_range("new"); });
    d.errback(CustomError());
    Failure f = failureResultOf(d);
    EXPECT_TRUE(f.check<std::out_of_range>());
    EXPECT_FALSE(f.check<CustomError>());
}

TEST(Deferred, VoidErrbackRecoversADeferredVoid) {
    Deferred<void> d;
    bool after = false;
    d.addErrback([](const Failure&) {});
    d.addCallback([&] { after = true; });
    d.errback(CustomError());
    EXPECT_TRUE(after);
}

TEST(Deferred, AddCallbacksRunsOnlyOneHalf) {
    Deferred<int> d;
    std::string which;
    d.addCallbacks(
        [&](int x) {
            which += "callback";
            return x;
        },
        [&](const Failure&) {
            which += "errback";
            return 0;
        });
    d.callback(1);
    EXPECT_EQ(which, "callback");
}

TEST(Deferred, AddCallbacksErrbackDoesNotSeeItsOwnCallbacksError) {
    Deferred<int> d;
    bool siblingErrback = false;
    d.addCallbacks([](int) -> int { throw CustomError(); },
                   [&](const Failure&) {
                       siblingErrback = true;
                       return 0;
                   });
    d.callback(1);
    EXPECT_FALSE(siblingErrback);
    EXPECT_TRUE(failureResultOf(d).check<CustomError>());
}

TEST(Deferred, AddCallbacksCanChangeType) {
    Deferred<int> d;
    Deferred<std::string> s = handle(d).addCallbacks([](int x) { return std::to_string(x); },
                                                     [](const Failure& f) { return f.typeName(); });
    d.errback(CustomError());
    EXPECT_EQ(successResultOf(s), "(anonymous namespace)::CustomError");
}

TEST(Deferred, AddBothSeesValuesAndFailures) {
    Deferred<int> ok;
    ok.addBoth([](Outcome<int> o) {
        EXPECT_TRUE(o.succeeded());
        return o.value() + 1;
    });
    ok.callback(1);
    EXPECT_EQ(successResultOf(ok), 2);

    Deferred<int> bad;
    bad.addBoth([](Outcome<int> o) {
        EXPECT_TRUE(o.failed());
        return o.failure().check<CustomError>() ? 99 : 0;
    });
    bad.errback(CustomError());
    EXPECT_EQ(successResultOf(bad), 99);
}

TEST(Deferred, AddBothReturningTheOutcomePassesItThrough) {
    int cleanups = 0;
    auto cleanup = [&](Outcome<int> o) {
        ++cleanups;
        return o;
    };
    Deferred<int> ok;
    ok.addBoth(cleanup);
    ok.callback(5);
    EXPECT_EQ(successResultOf(ok), 5);
    Deferred<int> bad;
    bad.addBoth(cleanup);
    bad.errback(CustomError());
    EXPECT_TRUE(failureResultOf(bad).check<CustomError>());
    EXPECT_EQ(cleanups, 2);
}

TEST(Deferred, AddBothCanChangeType) {
    Deferred<int> d;
    auto s = handle(d).addBoth(
        [](const Outcome<int>& o) { return o.failed() ? std::string("failed") : "ok"; });
    d.errback(CustomError());
    EXPECT_EQ(successResultOf(s), "failed");
}

TEST(Deferred, SecondCallbackThrowsAlreadyCalledError) {
    Deferred<int> d;
    d.callback(1);
    EXPECT_THROW(d.callback(2), AlreadyCalledError);
    EXPECT_THROW(d.errback(CustomError()), AlreadyCalledError);
    EXPECT_EQ(successResultOf(d), 1);
}

TEST(Deferred, CallbackAfterErrbackThrowsAlreadyCalledError) {
    Deferred<void> d;
    d.errback(CustomError());
    EXPECT_THROW(d.callback(), AlreadyCalledError);
    (void)failureResultOf(d);
}

// --- Deferreds returned from callbacks ---------------------------------------------

TEST(Deferred, CallbackReturningUnfiredDeferredPausesTheChain) {
    Deferred<int> outer;
    Deferred<int> inner;
    std::vector<int> seen;
    outer.addCallback([inner](int) { return inner; });
    outer.addCallback([&](int x) {
        seen.push_back(x);
        return x;
    });
    outer.callback(1);
    EXPECT_TRUE(seen.empty());
    EXPECT_TRUE(hasNoResult(outer));
    inner.callback(7);
    EXPECT_EQ(seen, (std::vector<int>{7}));
    EXPECT_EQ(successResultOf(outer), 7);
}

TEST(Deferred, InnerDeferredCanHaveAnotherType) {
    Deferred<int> outer;
    Deferred<std::string> inner;
    auto s = handle(outer).addCallback([inner](int) { return inner; });
    outer.callback(1);
    inner.callback("inner");
    EXPECT_EQ(successResultOf(s), "inner");
}

TEST(Deferred, InnerDeferredFailureReachesOuterErrbacks) {
    Deferred<int> outer;
    Deferred<int> inner;
    outer.addCallback([inner](int) { return inner; });
    outer.callback(1);
    inner.errback(CustomError());
    EXPECT_TRUE(failureResultOf(outer).check<CustomError>());
}

TEST(Deferred, CallbackReturningFiredDeferredContinuesAtOnce) {
    Deferred<int> d;
    d.addCallback([](int x) { return braid::succeed(x + 1); });
    d.addCallback([](int x) { return x * 2; });
    d.callback(1);
    EXPECT_EQ(successResultOf(d), 4);
}

TEST(Deferred, CallbackReturningItsOwnDeferredFails) {
    Deferred<int> d;
    d.addCallback([d](int) { return d; });
    d.callback(1);
    EXPECT_TRUE(failureResultOf(d).check<std::logic_error>());
}

TEST(Deferred, ADeferredReturnedFromTwoCallbacksFailsTheSecond) {
    Deferred<int> inner;
    Deferred<int> a;
    Deferred<int> b;
    a.addCallback([inner](int) { return inner; });
    b.addCallback([inner](int) { return inner; });
    a.callback(0);
    b.callback(0);
    EXPECT_TRUE(failureResultOf(b).check<std::logic_error>());
    inner.callback(5);
    EXPECT_EQ(successResultOf(a), 5);
}

TEST(Deferred, NestedChainsOfUnfiredDeferredsResolveInOrder) {
    Deferred<int> a;
    Deferred<int> b;
    Deferred<int> c;
    a.addCallback([b](int) { return b; });
    b.addCallback([c](int) { return c; });
    a.callback(0);
    b.callback(0);
    c.callback(3);
    EXPECT_EQ(successResultOf(a), 3);
}

// --- pause / unpause ---------------------------------------------------------------

TEST(Deferred, PausedDeferredRunsNoCallbacksUntilUnpaused) {
    Deferred<int> d;
    int seen = 0;
    d.pause();
    d.addCallback([&](int x) {
        seen = x;
        return x;
    });
    d.callback(3);
    EXPECT_EQ(seen, 0);
    EXPECT_TRUE(d.paused());
    d.unpause();
    EXPECT_EQ(seen, 3);
}

TEST(Deferred, PausesNest) {
    Deferred<int> d;
    int seen = 0;
    d.pause();
    d.pause();
    d.addCallback([&](int x) {
        seen = x;
        return x;
    });
    d.callback(3);
    d.unpause();
    EXPECT_EQ(seen, 0);
    d.unpause();
    EXPECT_EQ(seen, 3);
}

TEST(Deferred, CallbacksAddedWhilePausedAfterFiringWait) {
    Deferred<int> d;
    d.callback(1);
    d.pause();
    int seen = 0;
    d.addCallback([&](int x) {
        seen = x;
        return x;
    });
    EXPECT_EQ(seen, 0);
    d.unpause();
    EXPECT_EQ(seen, 1);
}

TEST(Deferred, UnpauseWithoutPauseIsAnError) {
    Deferred<int> d;
    EXPECT_THROW(d.unpause(), std::logic_error);
}

// --- succeed / fail / maybeDeferred ------------------------------------------------

TEST(Deferred, SucceedAndFail) {
    auto s = braid::succeed(std::string("yes"));
    EXPECT_EQ(successResultOf(s), "yes");
    auto v = braid::succeed();
    EXPECT_TRUE(v.hasResult());
    auto f = braid::fail<int>(CustomError());
    EXPECT_TRUE(failureResultOf(f).check<CustomError>());
}

TEST(Deferred, MaybeDeferredWrapsValuesErrorsAndDeferreds) {
    auto value = braid::maybeDeferred([](int x) { return x + 1; }, 1);
    EXPECT_EQ(successResultOf(value), 2);

    auto thrown = braid::maybeDeferred([]() -> int { throw CustomError(); });
    EXPECT_TRUE(failureResultOf(thrown).check<CustomError>());

    bool ran = false;
    auto nothing = braid::maybeDeferred([&] { ran = true; });
    EXPECT_TRUE(ran);
    EXPECT_TRUE(nothing.hasResult());

    Deferred<std::string> pending;
    auto same = braid::maybeDeferred([&] { return pending; });
    EXPECT_TRUE(hasNoResult(same));
    pending.callback("later");
    EXPECT_EQ(successResultOf(same), "later");
}

// --- constant stack ----------------------------------------------------------------

TEST(Deferred, MillionCallbacksReturningFiredDeferredsUseConstantStack) {
    Deferred<long> d;
    constexpr long links = 1'000'000;
    for (long i = 0; i < links; ++i) {
        d.addCallback([](long x) { return braid::succeed(x + 1); });
    }
    d.callback(0);
    EXPECT_EQ(successResultOf(d), links);
}

TEST(Deferred, DeeplyNestedUnfiredDeferredsResolveWithoutRecursion) {
    // d[i]'s callback returns d[i+1]; firing them all in order then the last one
    // resumes 100,000 paused chains, which Twisted (and braid) do in a loop.
    constexpr int depth = 100'000;
    std::vector<Deferred<int>> ds(depth);
    for (int i = 0; i + 1 < depth; ++i) {
        ds[i].addCallback([next = ds[i + 1]](int) { return next; });
    }
    for (int i = 0; i + 1 < depth; ++i) {
        ds[i].callback(0);
    }
    ds[depth - 1].callback(77);
    EXPECT_EQ(successResultOf(ds[0]), 77);
}

} // namespace
