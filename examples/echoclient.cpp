// Seed 002's echoclient.py: sends "Hello, world!", prints the reply, and stops the
// reactor when the connection ends (or could not be made).
//     ./echoclient [host] [port]   (default 127.0.0.1 8000)
#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <cstdlib>

class EchoClient : public braid::Protocol {
public:
    void connectionMade() override { transport->write("Hello, world!"); }

    void dataReceived(std::string_view data) override {
        fmt::print("Server said: {}\n", data);
        transport->loseConnection();
    }
};

class EchoFactory : public braid::ClientFactory {
public:
    std::unique_ptr<braid::Protocol> buildProtocol(const braid::Address&) override {
        return std::make_unique<EchoClient>();
    }

    void clientConnectionFailed(braid::IConnector&, const braid::Failure&) override {
        fmt::print("Connection failed.\n");
        braid::reactor().stop();
    }

    void clientConnectionLost(braid::IConnector&, const braid::Failure&) override {
        fmt::print("Connection lost.\n");
        braid::reactor().stop();
    }
};

int main(int argc, char** argv) {
    const char* host = argc > 1 ? argv[1] : "127.0.0.1";
    auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 8000);
    braid::reactor().connectTCP(host, port, std::make_shared<EchoFactory>());
    braid::reactor().run();
}
