// Seed 000's server: every connection gets "Hello Twisted" and is closed, so a browser
// (or curl http://127.0.0.1:2000/) shows it.
//     ./hello_server [port]      (default 2000)
#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>

class ServerProtocol : public braid::Protocol {
public:
    void connectionMade() override {
        fmt::print("New Connection\n");
        std::fflush(stdout);
        transport->write("Hello Twisted");
        transport->loseConnection();
    }
};

class TutorialServerFactory : public braid::ServerFactory {
public:
    std::unique_ptr<braid::Protocol> buildProtocol(const braid::Address& address) override {
        fmt::print("{}\n", address.toString());
        return std::make_unique<ServerProtocol>();
    }
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 2000);
    braid::reactor().listenTCP(port, std::make_shared<TutorialServerFactory>());
    braid::reactor().run();
}
