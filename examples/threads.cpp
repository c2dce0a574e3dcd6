// Seed 003's thread snippets: callInThread for work whose result nobody needs, and
// deferToThread when the result matters (its callbacks run back on the reactor thread).
#include <braid/reactor.hpp>
#include <braid/threads.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <string>

// Stands for a blocking call (a file write, a slow library).
int slowSquare(int x) {
    return x * x;
}

int main() {
    auto& reactor = braid::reactor();
    reactor.callInThread([] {
        fmt::print("callInThread: ran in a pool thread\n");
        std::fflush(stdout);
    });
    braid::Deferred<int> deferredResult = braid::deferToThread(reactor, slowSquare, 12);
    deferredResult.addCallback([&reactor](int result) {
        fmt::print("deferToThread: doSomethingWithTheResult({})\n", result);
        std::fflush(stdout);
        reactor.stop(); // the thread pool finishes its work during shutdown
        return result;
    });
    reactor.run();
}
