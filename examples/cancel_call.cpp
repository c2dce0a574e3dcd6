// Seed 004's cancel snippet: the call due at 5 seconds is cancelled at 4, so "HI" is
// never printed; the reactor stops at 6.
//     ./cancel_call [scale]      (multiplies every delay; default 1)
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
    auto& reactor = braid::reactor();
    auto printIt = [](const std::string& p) { fmt::print("{}\n", p); };
    auto abort = [](braid::DelayedCall& call) {
        if (call.active()) {
            fmt::print("CANCELLING\n");
            std::fflush(stdout);
            call.cancel();
        }
    };
    braid::DelayedCall delayedCall = reactor.callLater(5 * scale, printIt, std::string("HI"));
    reactor.callLater(4 * scale, abort, delayedCall);
    reactor.callLater(6 * scale, [&reactor] { reactor.stop(); });
    reactor.run();
}
