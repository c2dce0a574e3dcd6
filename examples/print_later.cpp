// Seed 001's print_later.py: deferLater prints the message after one second.
//     ./print_later [seconds]    (default 1; the seed's program then runs until Ctrl-C,
//                                 this one stops one second after printing)
#include <braid/reactor.hpp>
#include <braid/task.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <string>

void printLater(const std::string& mesg, double delay) {
    (void)braid::task::deferLater(braid::reactor(), delay, [mesg] {
        fmt::print("{}\n", mesg);
        std::fflush(stdout);
    });
}

int main(int argc, char** argv) {
    double delay = argc > 1 ? std::atof(argv[1]) : 1.0;
    printLater("The future is now!", delay);
    braid::reactor().callLater(delay + 1, [] { braid::reactor().stop(); });
    braid::reactor().run();
}
