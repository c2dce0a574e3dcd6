// findKeysAhead: the keys of a read's requests, found before they run so that the store can
// prefetch them. Only a hint, but a wrong key or a missed data block would waste the hint.
#include "memcache/lookahead.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using braid::memcache::detail::findKeysAhead;
using braid::memcache::detail::KeysAhead;

std::vector<std::string> keysOf(std::string_view input) {
    KeysAhead ahead;
    findKeysAhead(input, ahead);
    return {ahead.keys.begin(), ahead.keys.begin() + static_cast<std::ptrdiff_t>(ahead.count)};
}

using Keys = std::vector<std::string>;

TEST(MemcacheLookaheadTest, GetsTakeEveryKeyOfTheLine) {
    EXPECT_EQ(keysOf("get a bb  ccc\r\ngets d\r\n"), (Keys{"a", "bb", "ccc", "d"}));
    EXPECT_EQ(keysOf("gat 100 a b\r\ngats 0 c\r\n"), (Keys{"a", "b", "c"}));
}

TEST(MemcacheLookaheadTest, StorageCommandsSkipTheirDataBlocks) {
    EXPECT_EQ(keysOf("set a 0 0 5\r\nget x\r\nadd b 1 2 0\r\n\r\ncas c 0 0 1 99 noreply\r\n"
                     "z\r\nget d\r\n"),
              (Keys{"a", "b", "c", "d"}));
    EXPECT_EQ(keysOf("append a 0 0 2\r\nhi\r\nprepend b 0 0 2\r\nhi\r\n"
                     "replace c 0 0 2\r\nhi\r\n"),
              (Keys{"a", "b", "c"}));
    EXPECT_EQ(keysOf("ms a 3 T0 F5\r\nabc\r\nmg b v\r\n"), (Keys{"a", "b"}));
}

TEST(MemcacheLookaheadTest, OneKeyCommands) {
    EXPECT_EQ(keysOf("delete a\r\nincr b 1\r\ndecr c 1\r\ntouch d 10\r\nmd e q\r\nma f\r\n"
                     "mg g k v\n"),
              (Keys{"a", "b", "c", "d", "e", "f", "g"}));
}

TEST(MemcacheLookaheadTest, StopsAtWhatItDoesNotKnow) {
    EXPECT_EQ(keysOf("get a\r\nstats\r\nget b\r\n"), (Keys{"a"}));
    EXPECT_EQ(keysOf("get a\r\nset b 0 0 x\r\nget c\r\n"), (Keys{"a", "b"}));
    EXPECT_EQ(keysOf("get a\r\nget b"), (Keys{"a"})); // no newline yet
    EXPECT_EQ(keysOf(""), Keys{});
}

TEST(MemcacheLookaheadTest, ADataBlockBeyondTheInputEndsTheScan) {
    EXPECT_EQ(keysOf("set a 0 0 100\r\nget b\r\n"), (Keys{"a"}));
}

TEST(MemcacheLookaheadTest, KeepsAtMostItsCapacity) {
    std::string line = "get";
    for (std::size_t i = 0; i < KeysAhead::capacity + 5; ++i) {
        line += " k" + std::to_string(i);
    }
    const Keys keys = keysOf(line + "\r\nget last\r\n");
    ASSERT_EQ(keys.size(), KeysAhead::capacity);
    EXPECT_EQ(keys.back(), "k" + std::to_string(KeysAhead::capacity - 1));
}

} // namespace
