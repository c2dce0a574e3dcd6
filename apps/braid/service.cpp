#include "service.hpp"

#include <braid/error.hpp>
#include <braid/reactor.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <exception>

namespace runner {

namespace {

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

} // namespace

int serve(std::vector<Service>& services) {
    braid::Reactor& reactor = braid::reactor();
    struct Listening {
        Service* service;
        std::unique_ptr<braid::IStreamServerEndpoint> endpoint;
        std::string description;
    };
    std::vector<Listening> endpoints;
    for (Service& service : services) {
        for (const std::string& description : service.descriptions) {
            try {
                endpoints.push_back(
                    {&service, braid::serverFromString(reactor, description), description});
            } catch (const braid::EndpointDescriptionError& error) {
                fmt::print(stderr, "braid {}: --listen {}: {}\n", service.name, description,
                           error.what());
                return badUsage;
            }
        }
    }
    reactor.callWhenRunning([&] {
        for (Listening& listening : endpoints) {
            listenOn(*listening.service, *listening.endpoint, listening.description);
        }
    });
    reactor.run();
    for (const Service& service : services) {
        if (service.failed) {
            return cannotListen;
        }
    }
    return 0;
}

} // namespace runner
