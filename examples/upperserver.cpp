// Seed 004's upperserver.py: sends back everything each client sends, uppercased.
//     ./upperserver [port]       (default 8000)
#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

class Upper : public braid::Protocol {
public:
    void dataReceived(std::string_view data) override {
        std::string upper(data);
        std::transform(upper.begin(), upper.end(), upper.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        transport->write(upper);
    }
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8000);
    braid::reactor().listenTCP(port, braid::Factory::forProtocol<Upper>());
    braid::reactor().run();
}
