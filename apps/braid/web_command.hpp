// `braid web`: serves a directory tree over HTTP/1.1 (web::Site over web::File), as
// `twist web --path DIR` does.
#pragma once

#include "service.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace runner {

struct WebCommand {
    std::vector<std::string> listen{"tcp:8080"};
    std::string path = ".";
    bool noAccessLog = false;
    unsigned cacheCheckMs = 0; // web::File::cacheCheckInterval

    void addTo(CLI::App& app);
    // Runs the server until SIGINT/SIGTERM; returns the exit code.
    [[nodiscard]] int run() const;
    // The site as one service of the default reactor, or nullopt after saying why not.
    [[nodiscard]] std::optional<Service> service() const;
};

} // namespace runner
