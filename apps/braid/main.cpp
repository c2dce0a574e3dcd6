// braid: the runner, Twisted's `twist` for braid. Each subcommand is a service run on the
// default reactor, listening where its --listen endpoint descriptions say:
//
//     braid echo --listen tcp:8000 --listen unix:/tmp/echo.sock
//
// See docs/runner.md.
#include <braid/endpoints.hpp>
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/protocols/echo.hpp>
#include <braid/reactor.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <memory>
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
