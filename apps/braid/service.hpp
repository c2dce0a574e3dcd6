// The runner's services: a factory served on the endpoints its descriptions name, all on
// the default reactor. `braid echo`, `braid memcached` and the demo are lists of these.
#pragma once

#include <braid/endpoints.hpp>
#include <braid/factory.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace runner {

// Exit codes: 0 after a clean stop (SIGINT, SIGTERM), 1 when a port could not be opened,
// 2 for a bad command line.
inline constexpr int cannotListen = 1;
inline constexpr int badUsage = 2;

struct Service {
    Service(std::string serviceName, std::shared_ptr<braid::Factory> serviceFactory,
            std::vector<std::string> where)
        : name(std::move(serviceName)),
          factory(std::move(serviceFactory)),
          descriptions(std::move(where)) {}

    std::string name;
    std::shared_ptr<braid::Factory> factory;
    std::vector<std::string> descriptions; // endpoint descriptions (--listen)
    std::vector<std::shared_ptr<braid::IListeningPort>> ports;
    bool failed = false;
};

// Parses every description of every service first (so a typo fails before anything
// listens), then runs the default reactor with each service listening on each of its
// endpoints, saying where. Returns the exit code.
int serve(std::vector<Service>& services);

} // namespace runner
