// braid: the runner, Twisted's `twist` for braid. Each subcommand is a service run on the
// default reactor, listening where its --listen endpoint descriptions say:
//
//     braid echo --listen tcp:8000 --listen unix:/tmp/echo.sock
//     braid memcached -p 11211 -m 64
//     braid web --listen tcp:8080 --path /srv/www
//     braid                      # the demo: every service on one reactor
//
// See docs/runner.md.
#include "demo.hpp"
#include "memcached_command.hpp"
#include "service.hpp"
#include "web_command.hpp"
#include <braid/factory.hpp>
#include <braid/protocols/echo.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using runner::Service;

Service echoService(std::vector<std::string> descriptions) {
    return {"echo", braid::Factory::forProtocol<braid::protocols::Echo>(), std::move(descriptions)};
}

int run(int argc, char** argv) {
    CLI::App app{"braid runs braid's network services on one reactor, as Twisted's twist does. "
                 "With no command: a demo of every service at once.",
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

    runner::MemcachedCommand memcached;
    memcached.addTo(app);
    runner::WebCommand web;
    web.addTo(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        // exit() prints the help or the error; CLI11's own codes (106...) become the usual 2.
        return app.exit(error) == 0 ? 0 : runner::badUsage;
    }

    if (echo->parsed()) {
        std::vector<Service> services{echoService(echoListen)};
        return runner::serve(services);
    }
    if (app.got_subcommand("memcached")) {
        return memcached.run();
    }
    if (app.got_subcommand("web")) {
        return web.run();
    }
    return runner::demo(memcached);
}

} // namespace

int main(int argc, char** argv) {
    // The runner's services (memcached, web) serve many connections with small requests,
    // where io_uring's one system call per loop iteration pays most: the runner asks for
    // it (falling back to epoll where the kernel refuses) unless BRAID_REACTOR says otherwise.
    ::setenv("BRAID_REACTOR", "uring", 0);
    try {
        return run(argc, argv);
    } catch (const std::exception& error) { // the reactor could not start, say
        fmt::print(stderr, "braid: {}\n", error.what());
        return 1;
    }
}
