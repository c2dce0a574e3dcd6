// Seed 001's print_later_twice.py: a Deferred with two callbacks, fired by callLater.
//     ./print_later_twice [seconds]   (default 1; stops one second after printing)
#include <braid/deferred.hpp>
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <string>

std::string printAndPassthrough(std::string result) {
    fmt::print("{}\n", result);
    std::fflush(stdout);
    return result;
}

void printLaterTwice(const std::string& mesg, double delay) {
    braid::Deferred<std::string> d;
    d.addCallback(printAndPassthrough);
    d.addCallback(printAndPassthrough);
    braid::reactor().callLater(delay, [d, mesg]() mutable { d.callback(mesg); });
}

int main(int argc, char** argv) {
    double delay = argc > 1 ? std::atof(argv[1]) : 1.0;
    printLaterTwice("The future is now!", delay);
    braid::reactor().callLater(delay + 1, [] { braid::reactor().stop(); });
    braid::reactor().run();
}
