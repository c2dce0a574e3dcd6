// Failure: check, trap, value, getErrorMessage, typeName, raiseException.
#include <braid/error.hpp>
#include <braid/failure.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using braid::Failure;

namespace {

struct Base : std::runtime_error {
    explicit Base(const std::string& what) : std::runtime_error(what) {}
};
struct Derived : Base {
    Derived() : Base("derived") {}
    int code = 7;
};

TEST(Failure, CheckMatchesTheTypeAndItsBases) {
    Failure f = Derived();
    EXPECT_TRUE(f.check<Derived>());
    EXPECT_TRUE(f.check<Base>());
    EXPECT_TRUE(f.check<std::exception>());
    EXPECT_FALSE(f.check<std::logic_error>());
    EXPECT_TRUE((f.check<std::logic_error, Base>()));
}

TEST(Failure, TrapReturnsTheIndexOfTheFirstMatch) {
    Failure f = Derived();
    EXPECT_EQ((f.trap<std::logic_error, Derived, Base>()), 1U);
    EXPECT_EQ(f.trap<Base>(), 0U);
}

TEST(Failure, TrapRethrowsTheOriginalWhenNothingMatches) {
    Failure f = Derived();
    try {
        f.trap<std::logic_error>();
        FAIL() << "trap should have thrown";
    } catch (const Derived& e) {
        EXPECT_EQ(e.code, 7);
    }
}

TEST(Failure, ValueGivesTheExceptionObject) {
    Failure f = Derived();
    const Derived* d = f.value<Derived>();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->code, 7);
    EXPECT_EQ(f.value<std::logic_error>(), nullptr);
    EXPECT_EQ(f.value<Base>(), static_cast<const Base*>(d));
}

TEST(Failure, MessagesAndTypeNames) {
    Failure f = braid::CancelledError();
    EXPECT_EQ(f.typeName(), "braid::CancelledError");
    EXPECT_EQ(f.getErrorMessage(), "Deferred was cancelled");
    EXPECT_EQ(f.toString(), "braid::CancelledError: Deferred was cancelled");
    Failure r = std::runtime_error("plain");
    EXPECT_EQ(r.typeName(), "std::runtime_error");
}

TEST(Failure, ExceptionsThatAreNotStdExceptions) {
    Failure f(std::make_exception_ptr(42));
    EXPECT_EQ(f.typeName(), "int");
    EXPECT_EQ(f.getErrorMessage(), "exception of type int");
    EXPECT_TRUE(f.check<int>());
    EXPECT_FALSE(f.check<std::exception>());
}

TEST(Failure, RaiseExceptionKeepsTheDynamicType) {
    Failure f = Derived();
    EXPECT_THROW(f.raiseException(), Derived);
}

TEST(Failure, CurrentCapturesTheExceptionBeingHandled) {
    Failure f;
    EXPECT_TRUE(f.empty());
    try {
        throw Derived();
    } catch (...) {
        f = Failure::current();
    }
    EXPECT_FALSE(f.empty());
    EXPECT_TRUE(f.check<Derived>());
}

TEST(Failure, EmptyFailureMatchesNothing) {
    Failure f;
    EXPECT_FALSE(f.check<std::exception>());
    EXPECT_EQ(f.value<std::exception>(), nullptr);
    EXPECT_THROW(f.raiseException(), std::logic_error);
}

TEST(Failure, CopiesShareTheSameException) {
    Failure f = Derived();
    Failure g = f;
    EXPECT_EQ(f.value<Derived>(), g.value<Derived>());
}

TEST(Errors, AllDeriveFromBraidError) {
    EXPECT_TRUE((std::is_base_of_v<braid::Error, braid::CancelledError>));
    EXPECT_TRUE((std::is_base_of_v<braid::Error, braid::TimeoutError>));
    EXPECT_TRUE((std::is_base_of_v<braid::Error, braid::AlreadyCalledError>));
    EXPECT_TRUE((std::is_base_of_v<braid::Error, braid::AlreadyCalled>));
    EXPECT_TRUE((std::is_base_of_v<braid::Error, braid::AlreadyCancelled>));
}

} // namespace
