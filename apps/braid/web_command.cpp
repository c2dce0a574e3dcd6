#include "web_command.hpp"

#include <braid/web/site.hpp>
#include <braid/web/static.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string_view>

namespace runner {

void WebCommand::addTo(CLI::App& app) {
    CLI::App* command =
        app.add_subcommand("web", "an HTTP/1.1 server for a directory tree (index.html or a "
                                  "listing for directories)");
    command
        ->add_option("--listen", listen, "where to listen, as an endpoint description; repeatable")
        ->type_name("DESCRIPTION")
        ->capture_default_str();
    command->add_option("--path", path, "the directory to serve")->capture_default_str();
    command->add_flag("--no-access-log", noAccessLog,
                      "do not log each request (combined log format, on stdout)");
    command
        ->add_option("--cache-check-interval", cacheCheckMs,
                     "milliseconds a small file kept in memory is served without checking the "
                     "disk (0: a stat per request, changes show at once)")
        ->type_name("MS")
        ->capture_default_str();
}

std::optional<Service> WebCommand::service() const {
    std::error_code error;
    if (!std::filesystem::is_directory(path, error)) {
        fmt::print(stderr, "braid web: --path {}: not a directory\n", path);
        return std::nullopt;
    }
    auto root = std::make_shared<braid::web::File>(path);
    root->cacheCheckInterval = std::chrono::milliseconds(cacheCheckMs);
    auto site = std::make_shared<braid::web::Site>(root);
    if (!noAccessLog) {
        site->accessLog = [](std::string_view line) {
            // Flushed line by line: a log read while the server runs is up to date.
            fmt::print("{}\n", line);
            std::fflush(stdout);
        };
    }
    return Service("web", site, listen);
}

int WebCommand::run() const {
    std::optional<Service> web = service();
    if (!web) {
        return badUsage;
    }
    std::vector<Service> services{std::move(*web)};
    return serve(services);
}

} // namespace runner
