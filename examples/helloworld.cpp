// Seed 004's helloworld.py: prints whatever any client sends.
//     ./helloworld [port]        (default 8000)
#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>

class HelloWorld : public braid::Protocol {
public:
    void dataReceived(std::string_view data) override {
        fmt::print("{}", data);
        std::fflush(stdout);
    }
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8000);
    braid::reactor().listenTCP(port, braid::Factory::forProtocol<HelloWorld>());
    braid::reactor().run();
}
