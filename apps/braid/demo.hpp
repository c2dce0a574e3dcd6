// `braid` alone: the demo. Every service on one reactor (echo on 8000, memcached on 11211,
// web on 8080), the web one serving a page at / that says what runs where, its data at
// /status.json, and the docs under /docs/ when started from the source tree.
#pragma once

#include "memcached_command.hpp"

namespace runner {

int demo(const MemcachedCommand& memcached);

} // namespace runner
