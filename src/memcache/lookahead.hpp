// The keys of the requests a read holds, found before any of them runs, so that the store
// can bring all their items into the CPU cache at once (Store::prefetch): a pipelined
// batch then waits for memory a few times in all instead of two or three times per request.
//
// A quick scan, not a parser: it stops at the first line it cannot take apart and never
// decides anything about the requests, which the connection parses properly afterwards
// (and may refuse: the scan skips a storage command's data block whether or not the
// parser will accept the command). A wrong key (a meta command's base64 key, taken as it
// is) only wastes its hint.
#pragma once

#include <braid/memcache/store.hpp>

#include <array>
#include <cstddef>
#include <string_view>

namespace braid::memcache::detail {

struct KeysAhead {
    static constexpr std::size_t capacity = Store::maxPrefetchKeys;
    std::array<std::string_view, capacity> keys{};
    std::size_t count = 0;
};

// The keys of the first requests in `input` (the text retrievals, the storage commands,
// delete, incr, decr, touch and the meta commands), up to `capacity`; data blocks skipped.
void findKeysAhead(std::string_view input, KeysAhead& out) noexcept;

} // namespace braid::memcache::detail
