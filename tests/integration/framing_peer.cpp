// braid's side of the framing interop test (test_framing.py): LineReceiver,
// Int32StringReceiver and NetstringReceiver as a server or a client, with the same command
// line as Twisted's side, framing_peer.py.
//
// usage: framing_peer server FRAMING PORT
//        framing_peer client FRAMING PORT COUNT SEED
//   FRAMING: line | int32 | netstring
//
// The server answers every message with the message reversed. The client sends COUNT
// messages made from SEED all at once, checks every answer, prints "ok COUNT" and exits 0
// (1 on a wrong answer or a lost connection).
#include <braid/basic.hpp>
#include <braid/factory.hpp>
#include <braid/reactor.hpp>

#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// A receiver of Base's framing seen as messages: received() and send().
template <class Base>
class Framed : public Base {
public:
    virtual void received(std::string_view message) = 0;
    void send(std::string_view message) { this->sendString(message); }
    void stringReceived(std::string_view string) override { received(string); }
};

template <>
class Framed<braid::LineReceiver> : public braid::LineReceiver {
public:
    virtual void received(std::string_view message) = 0;
    void send(std::string_view message) { sendLine(message); }
    void lineReceived(std::string_view line) override { received(line); }
};

template <class Base>
class Reverser : public Framed<Base> {
public:
    void received(std::string_view message) override {
        this->send(std::string(message.rbegin(), message.rend()));
    }
};

// COUNT messages for a framing: the first empty, then sizes from a fixed menu (up to
// `largest`, under MAX_LENGTH on both sides); any byte except for lines.
std::vector<std::string> messages(bool lines, std::size_t largest, int count, unsigned seed) {
    constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 \t";
    const std::array<std::size_t, 7> sizes{0, 1, 2, 10, 100, 1000, largest};
    std::mt19937 random(seed);
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) {
        std::string message(i == 0 ? 0 : sizes[random() % sizes.size()], '\0');
        for (char& byte : message) {
            byte = lines ? alphabet[random() % alphabet.size()] : static_cast<char>(random());
        }
        out.push_back(std::move(message));
    }
    return out;
}

struct Outcome {
    int code = 1;
};

template <class Base>
class Checker : public Framed<Base> {
public:
    Checker(std::vector<std::string> sent, Outcome* outcome)
        : sent_(std::move(sent)), outcome_(outcome) {
        this->MAX_LENGTH = 100000;
    }

    void connectionMade() override {
        for (const std::string& message : sent_) {
            this->send(message);
        }
    }

    void received(std::string_view message) override {
        const std::string& question = sent_[answers_];
        if (message != std::string(question.rbegin(), question.rend())) {
            fmt::print("answer {}: got {} bytes, expected {}\n", answers_, message.size(),
                       question.size());
            this->transport->loseConnection();
            return;
        }
        if (++answers_ == sent_.size()) {
            fmt::print("ok {}\n", sent_.size());
            outcome_->code = 0;
            this->transport->loseConnection();
        }
    }

    void connectionLost(const braid::Failure& reason) override {
        if (outcome_->code != 0) {
            fmt::print("connection lost after {} answers: {}\n", answers_,
                       reason.getErrorMessage());
        }
        braid::reactor().stop();
    }

private:
    std::vector<std::string> sent_;
    Outcome* outcome_;
    std::size_t answers_ = 0;
};

class CheckerFactory : public braid::ClientFactory {
public:
    using Build = std::function<std::unique_ptr<braid::Protocol>()>;
    explicit CheckerFactory(Build build) : build_(std::move(build)) {}

    std::unique_ptr<braid::Protocol> buildProtocol(const braid::Address& /*addr*/) override {
        return build_();
    }
    void clientConnectionFailed(braid::IConnector& /*connector*/,
                                const braid::Failure& reason) override {
        fmt::print("connect failed: {}\n", reason.getErrorMessage());
        braid::reactor().stop();
    }

private:
    Build build_;
};

template <class Base>
int server(std::uint16_t port) {
    braid::reactor().listenTCP(port, braid::Factory::forProtocol<Reverser<Base>>(), 50,
                               "127.0.0.1");
    braid::reactor().run();
    return 0;
}

template <class Base>
int client(std::uint16_t port, std::size_t largest, int count, unsigned seed) {
    const std::vector<std::string> sent =
        messages(std::is_same_v<Base, braid::LineReceiver>, largest, count, seed);
    Outcome outcome;
    braid::reactor().connectTCP("127.0.0.1", port, std::make_shared<CheckerFactory>([&] {
                                    return std::make_unique<Checker<Base>>(sent, &outcome);
                                }));
    braid::reactor().run();
    std::fflush(stdout);
    return outcome.code;
}

// The server or the client (as argv says) for the framing Base.
template <class Base>
int run(int argc, char** argv, std::size_t largest) {
    const std::string_view role = argv[1];
    const auto port = static_cast<std::uint16_t>(std::stoi(argv[3]));
    if (role == "server" && argc == 4) {
        return server<Base>(port);
    }
    if (role == "client" && argc == 6) {
        return client<Base>(port, largest, std::stoi(argv[4]),
                            static_cast<unsigned>(std::stoul(argv[5])));
    }
    return -1;
}

} // namespace

int main(int argc, char** argv) {
    int code = -1;
    if (argc >= 4) {
        const std::string_view framing = argv[2];
        // The largest messages: as in framing_peer.py.
        if (framing == "line") {
            code = run<braid::LineReceiver>(argc, argv, 16000);
        } else if (framing == "int32") {
            code = run<braid::Int32StringReceiver>(argc, argv, 99000);
        } else if (framing == "netstring") {
            code = run<braid::NetstringReceiver>(argc, argv, 99000);
        }
    }
    if (code < 0) {
        fmt::print(stderr, "usage: framing_peer server|client line|int32|netstring PORT "
                           "[COUNT SEED]\n");
        return 2;
    }
    return code;
}
