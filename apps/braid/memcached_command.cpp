#include "memcached_command.hpp"

#include <braid/endpoints.hpp>
#include <braid/error.hpp>
#include <braid/memcache/server.hpp>
#include <braid/reactor.hpp>
#include <braid/reactor_pool.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>

namespace runner {

namespace {

// A size as memcached's -I takes it: bytes, or a number with k, m or g. `unit` applies to
// a plain number (memcached's -m counts megabytes).
std::size_t parseSize(const std::string& text, std::size_t unit) {
    std::size_t end = 0;
    unsigned long long number = std::stoull(text, &end);
    std::string suffix = text.substr(end);
    std::size_t scale = unit;
    if (suffix == "k" || suffix == "K") {
        scale = std::size_t{1} << 10;
    } else if (suffix == "m" || suffix == "M") {
        scale = std::size_t{1} << 20;
    } else if (suffix == "g" || suffix == "G") {
        scale = std::size_t{1} << 30;
    } else if (!suffix.empty()) {
        throw std::invalid_argument("unknown size suffix '" + suffix + "'");
    }
    return static_cast<std::size_t>(number) * scale;
}

} // namespace

void MemcachedCommand::addTo(CLI::App& app) {
    CLI::App* command = app.add_subcommand(
        "memcached", "a memcached-compatible cache server (text and meta protocols)");
    command
        ->add_option("--listen", listen,
                     "where to listen, as an endpoint description; repeatable "
                     "(default: tcp:PORT from -p, on -l's address)")
        ->type_name("DESCRIPTION");
    command
        ->add_option("-m,--memory-limit", memoryLimit,
                     "memory for items, in megabytes, or with a k/m/g suffix")
        ->capture_default_str();
    command
        ->add_option("-I,--max-item-size", maxItemSize,
                     "largest item: bytes, or with a k/m/g suffix")
        ->capture_default_str();
    command->add_option("-t,--threads", threads, "reactor threads")->capture_default_str();
    command->add_option("-c,--max-connections", maxConnections, "most open connections")
        ->capture_default_str();
    command->add_option("-p,--port", port, "TCP port (without --listen)")->capture_default_str();
    command->add_option("-l,--listen-address", interface,
                        "address to listen on (without --listen; default: all)");
    command->add_option("-U,--udp-port", udpPort, "UDP port: only 0 (off) is supported");
    command->add_flag("-v", verbosity, "more verbose (-vv: more still)");
    command->add_option("-u,--user", user, "accepted for memcached compatibility; ignored");
    command->add_flag("-M,--disable-evictions", noEvictions,
                      "answer out of memory instead of evicting items");
}

std::vector<std::string> MemcachedCommand::descriptions() const {
    if (!listen.empty()) {
        return listen;
    }
    std::vector<std::string> out;
    if (interface.empty()) {
        out.push_back(fmt::format("tcp:{}", port));
    }
    // memcached's -l takes a comma-separated list.
    for (std::size_t start = 0; start < interface.size();) {
        std::size_t comma = std::min(interface.find(',', start), interface.size());
        out.push_back(
            fmt::format("tcp:{}:interface={}", port, interface.substr(start, comma - start)));
        start = comma + 1;
    }
    return out;
}

std::optional<braid::memcache::ServerOptions> MemcachedCommand::options() const {
    if (udpPort != 0) {
        fmt::print(stderr, "braid memcached: UDP is not supported (-U {})\n", udpPort);
        return std::nullopt;
    }
    braid::memcache::ServerOptions options;
    try {
        options.store.memoryLimit = parseSize(memoryLimit, std::size_t{1} << 20);
        options.store.maxItemSize = parseSize(maxItemSize, 1);
    } catch (const std::exception& error) {
        fmt::print(stderr, "braid memcached: bad size: {}\n", error.what());
        return std::nullopt;
    }
    options.store.evict = !noEvictions;
    options.maxConnections = maxConnections;
    options.threads = threads;
    options.verbosity = verbosity;
    return options;
}

std::optional<Service> MemcachedCommand::service() const {
    std::optional<braid::memcache::ServerOptions> serverOptions = options();
    if (!serverOptions) {
        return std::nullopt;
    }
    auto server = std::make_shared<braid::memcache::Server>(*serverOptions);
    return Service("memcached",
                   std::make_shared<braid::memcache::ServerFactory>(server, braid::reactor()),
                   descriptions());
}

int MemcachedCommand::run() const {
    if (threads > 1) {
        std::optional<braid::memcache::ServerOptions> serverOptions = options();
        if (!serverOptions) {
            return badUsage;
        }
        return servePool(std::make_shared<braid::memcache::Server>(*serverOptions));
    }
    std::optional<Service> memcached = service();
    if (!memcached) {
        return badUsage;
    }
    std::vector<Service> services{std::move(*memcached)};
    return serve(services);
}

// --threads N: N reactors sharing each TCP address through SO_REUSEPORT, every one with
// its own factory over the one shared Server.
int MemcachedCommand::servePool(const std::shared_ptr<braid::memcache::Server>& server) const {
    braid::ReactorPool pool(
        {.reactors = threads, .backend = std::nullopt, .installSignalHandlers = true});
    for (const std::string& description : descriptions()) {
        std::unique_ptr<braid::IStreamServerEndpoint> endpoint;
        try {
            endpoint = braid::serverFromString(pool.reactor(0), description);
        } catch (const braid::EndpointDescriptionError& error) {
            fmt::print(stderr, "braid memcached: --listen {}: {}\n", description, error.what());
            return badUsage;
        }
        auto* tcp = dynamic_cast<braid::TCPServerEndpoint*>(endpoint.get());
        if (tcp == nullptr) {
            fmt::print(stderr, "braid memcached: --threads {} needs tcp endpoints, not {}\n",
                       threads, description);
            return badUsage;
        }
        try {
            std::uint16_t port = pool.listenTCP(
                tcp->port(),
                [&](std::size_t i) {
                    return std::make_shared<braid::memcache::ServerFactory>(server,
                                                                            pool.reactor(i));
                },
                tcp->backlog(), tcp->interface());
            fmt::print("braid memcached: listening on {}:{} ({} threads)\n",
                       tcp->interface().empty() ? "0.0.0.0" : tcp->interface(), port, threads);
            std::fflush(stdout);
        } catch (const std::exception& error) {
            fmt::print(stderr, "braid memcached: cannot listen on {}: {}\n", description,
                       error.what());
            return cannotListen;
        }
    }
    pool.run();
    return 0;
}

} // namespace runner
