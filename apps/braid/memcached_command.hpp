// `braid memcached`: braid::memcache's server with its own options and memcached's usual
// flags, which mean what they mean to memcached (docs/memcached.md).
#pragma once

#include "service.hpp"
#include <braid/memcache/server.hpp>

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace runner {

struct MemcachedCommand {
    std::vector<std::string> listen;
    std::string memoryLimit = "64";
    std::string maxItemSize = "1m";
    std::size_t threads = 1;
    std::size_t maxConnections = 1024;
    std::uint16_t port = 11211;
    std::string interface;
    int udpPort = 0;
    int verbosity = 0;
    std::string user;
    bool noEvictions = false;

    void addTo(CLI::App& app);
    // Runs the server until SIGINT/SIGTERM; returns the exit code.
    [[nodiscard]] int run() const;
    // The server as one service of the default reactor (the demo's), or nullopt after
    // saying why the options are wrong.
    [[nodiscard]] std::optional<Service> service() const;

private:
    [[nodiscard]] std::vector<std::string> descriptions() const;
    [[nodiscard]] std::optional<braid::memcache::ServerOptions> options() const;
    [[nodiscard]] int servePool(const std::shared_ptr<braid::memcache::Server>& server) const;
};

} // namespace runner
