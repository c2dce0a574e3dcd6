// braid: the runner, Twisted's `twist` for braid. Each subcommand is a service run on the
// default reactor, listening where its --listen endpoint descriptions say:
//
//     braid echo --listen tcp:8000 --listen unix:/tmp/echo.sock
//
// See docs/runner.md.
#include <braid/endpoints.hpp>
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/memcache/server.hpp>
#include <braid/protocols/echo.hpp>
#include <braid/reactor.hpp>
#include <braid/reactor_pool.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

// Exit codes: 0 after a clean stop (SIGINT, SIGTERM), 1 when a port could not be opened,
// 2 for a bad command line.
constexpr int cannotListen = 1;
constexpr int badUsage = 2;

// One service on the reactor: a factory served on the ports its endpoints open.
struct Service {
    Service(std::string serviceName, std::shared_ptr<braid::Factory> serviceFactory)
        : name(std::move(serviceName)), factory(std::move(serviceFactory)) {}

    std::string name;
    std::shared_ptr<braid::Factory> factory;
    std::vector<std::shared_ptr<braid::IListeningPort>> ports;
    bool failed = false;
};

// Listens on `endpoint` and says where (the real port when port 0 was asked for), or says
// why not and stops the reactor: a service missing one of its ports should not run.
// NOLINTBEGIN(cppcoreguidelines-avoid-reference-coroutine-parameters): both outlive the run
braid::Deferred<void> listenOn(Service& service, braid::IStreamServerEndpoint& endpoint,
                               std::string description) {
    // NOLINTEND(cppcoreguidelines-avoid-reference-coroutine-parameters)
    try {
        std::shared_ptr<braid::IListeningPort> port = co_await endpoint.listen(service.factory);
        fmt::print("braid {}: listening on {}\n", service.name, port->getHost().toString());
        std::fflush(stdout); // for whoever waits for this line through a pipe
        service.ports.push_back(std::move(port));
    } catch (const std::exception& error) {
        fmt::print(stderr, "braid {}: cannot listen on {}: {}\n", service.name, description,
                   error.what());
        service.failed = true;
        if (braid::reactor().running()) {
            braid::reactor().stop();
        }
    }
}

// Parses every description first (so a typo fails before anything listens), then runs the
// reactor with the service listening on each.
int serve(Service service, const std::vector<std::string>& descriptions) {
    braid::Reactor& reactor = braid::reactor();
    std::vector<std::unique_ptr<braid::IStreamServerEndpoint>> endpoints;
    for (const std::string& description : descriptions) {
        try {
            endpoints.push_back(braid::serverFromString(reactor, description));
        } catch (const braid::EndpointDescriptionError& error) {
            fmt::print(stderr, "braid {}: --listen {}: {}\n", service.name, description,
                       error.what());
            return badUsage;
        }
    }
    reactor.callWhenRunning([&] {
        for (std::size_t i = 0; i < endpoints.size(); ++i) {
            listenOn(service, *endpoints[i], descriptions[i]);
        }
    });
    reactor.run();
    return service.failed ? cannotListen : 0;
}

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

// `braid memcached`: its own options and memcached's usual flags, which mean what they
// mean to memcached, so scripts written for memcached can start braid instead.
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

    void addTo(CLI::App& app) {
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
        command->add_option("-p,--port", port, "TCP port (without --listen)")
            ->capture_default_str();
        command->add_option("-l,--listen-address", interface,
                            "address to listen on (without --listen; default: all)");
        command->add_option("-U,--udp-port", udpPort, "UDP port: only 0 (off) is supported");
        command->add_flag("-v", verbosity, "more verbose (-vv: more still)");
        command->add_option("-u,--user", user, "accepted for memcached compatibility; ignored");
        command->add_flag("-M,--disable-evictions", noEvictions,
                          "answer out of memory instead of evicting items");
    }

    [[nodiscard]] std::vector<std::string> descriptions() const {
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

    [[nodiscard]] int run() const {
        if (udpPort != 0) {
            fmt::print(stderr, "braid memcached: UDP is not supported (-U {})\n", udpPort);
            return badUsage;
        }
        braid::memcache::ServerOptions options;
        try {
            options.store.memoryLimit = parseSize(memoryLimit, std::size_t{1} << 20);
            options.store.maxItemSize = parseSize(maxItemSize, 1);
        } catch (const std::exception& error) {
            fmt::print(stderr, "braid memcached: bad size: {}\n", error.what());
            return badUsage;
        }
        options.store.evict = !noEvictions;
        options.maxConnections = maxConnections;
        options.threads = threads;
        options.verbosity = verbosity;
        auto server = std::make_shared<braid::memcache::Server>(options);
        if (threads > 1) {
            return servePool(server, descriptions());
        }
        auto factory = std::make_shared<braid::memcache::ServerFactory>(server, braid::reactor());
        return serve(Service("memcached", factory), descriptions());
    }

    // --threads N: N reactors sharing each TCP address through SO_REUSEPORT, every one with
    // its own factory over the one shared Server.
    [[nodiscard]] int servePool(const std::shared_ptr<braid::memcache::Server>& server,
                                const std::vector<std::string>& where) const {
        braid::ReactorPool pool(
            {.reactors = threads, .backend = std::nullopt, .installSignalHandlers = true});
        for (const std::string& description : where) {
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
};

// `braid` alone: the commands, one line each.
void printUsage(const CLI::App& app) {
    fmt::print("usage: braid <command> [options]   (braid --help, braid <command> --help)\n"
               "commands:\n");
    for (const CLI::App* command : app.get_subcommands({})) {
        fmt::print("  {:<10} {}\n", command->get_name(), command->get_description());
    }
}

int run(int argc, char** argv) {
    CLI::App app{"braid runs braid's network services on one reactor, as Twisted's twist does.",
                 "braid"};
    app.require_subcommand(0, 1);
    app.footer("Endpoint descriptions (tcp:PORT, tcp6:PORT, unix:PATH, with options such as "
               ":interface=ADDRESS): see docs/runner.md.");

    std::vector<std::string> echoListen{"tcp:8000"};
    CLI::App* echo = app.add_subcommand("echo", "an echo server: writes back what it receives");
    echo->add_option("--listen", echoListen,
                     "where to listen, as an endpoint description; repeatable")
        ->type_name("DESCRIPTION")
        ->capture_default_str();

    MemcachedCommand memcached;
    memcached.addTo(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        // exit() prints the help or the error; CLI11's own codes (106...) become the usual 2.
        return app.exit(error) == 0 ? 0 : badUsage;
    }

    if (echo->parsed()) {
        return serve(Service("echo", braid::Factory::forProtocol<braid::protocols::Echo>()),
                     echoListen);
    }
    if (app.got_subcommand("memcached")) {
        return memcached.run();
    }
    printUsage(app);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) { // the reactor could not start, say
        fmt::print(stderr, "braid: {}\n", error.what());
        return 1;
    }
}
