// The echo server on several threads: a ReactorPool, one SO_REUSEPORT socket per reactor.
//     ./echo_pool [port] [threads]        (default 8000, 2); Ctrl-C stops every thread
#include <braid/factory.hpp>
#include <braid/protocols/echo.hpp>
#include <braid/reactor_pool.hpp>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8000);
    auto threads = static_cast<std::size_t>(argc > 2 ? std::atoi(argv[2]) : 2);
    braid::ReactorPool pool(
        {.reactors = threads, .backend = std::nullopt, .installSignalHandlers = true});
    port = pool.listenTCP(
        port, [](std::size_t) { return braid::Factory::forProtocol<braid::protocols::Echo>(); });
    std::cout << "echo on port " << port << " with " << threads << " reactors" << std::endl;
    pool.run();
}
