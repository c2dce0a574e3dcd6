// Seed 002's echoserver.py: echoes back whatever each client sends.
//     ./echoserver [port]        (default 8000)
#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <cstdlib>
#include <string>

class Echo : public braid::Protocol {
public:
    void dataReceived(std::string_view data) override { transport->write(data); }
};

class EchoFactory : public braid::Factory {
public:
    std::unique_ptr<braid::Protocol> buildProtocol(const braid::Address&) override {
        return std::make_unique<Echo>();
    }
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8000);
    braid::reactor().listenTCP(port, std::make_shared<EchoFactory>());
    braid::reactor().run();
}
