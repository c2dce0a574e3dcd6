// Seed 004's callLater snippet: prints after 5 and 10 seconds, stops after 11.
//     ./call_later [scale]       (multiplies every delay; default 1)
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
    auto printIt = [](const std::string& s) {
        fmt::print("{}\n", s);
        std::fflush(stdout);
    };
    auto& reactor = braid::reactor();
    reactor.callLater(5 * scale, printIt, std::string("5 seconds passed"));
    reactor.callLater(10 * scale, printIt, std::string("10 seconds passed"));
    reactor.callLater(11 * scale, [&reactor] { reactor.stop(); });
    reactor.run();
}
