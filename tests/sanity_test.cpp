// Keeps ctest honest before the real suites land: the build, GoogleTest and the public
// include path all work.
#include <braid/error.hpp>

#include <gtest/gtest.h>

#include <type_traits>

TEST(SanityTest, CancelledErrorIsABraidError) {
    static_assert(std::is_base_of_v<braid::Error, braid::CancelledError>);
    EXPECT_THROW(throw braid::CancelledError(), braid::Error);
}
