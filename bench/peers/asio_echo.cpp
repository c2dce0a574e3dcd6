// asio_echo: standalone Asio echo server for braid's echo benchmark (bench/echo_bench.py).
//
// Asio's own example (async_tcp_echo_server.cpp) on one thread: a session per connection,
// async_read_some into the session's buffer, async_write of what came, then read again.
// The buffer is 64 KiB instead of the example's 1 KiB, like the other peers' read buffers
// (a 4 KiB message would otherwise take four reads); pages never written stay unmapped, so
// an idle session costs little more than its socket and bookkeeping.
//
// usage: asio_echo PORT   (binds 127.0.0.1:PORT)
#include <asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

using asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

    void start() {
        socket_.set_option(tcp::no_delay(true));
        doRead();
    }

private:
    void doRead() {
        auto self = shared_from_this();
        socket_.async_read_some(asio::buffer(data_),
                                [this, self](std::error_code ec, std::size_t n) {
                                    if (!ec) {
                                        doWrite(n);
                                    }
                                });
    }

    void doWrite(std::size_t n) {
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(data_, n),
                          [this, self](std::error_code ec, std::size_t /*n*/) {
                              if (!ec) {
                                  doRead();
                              }
                          });
    }

    tcp::socket socket_;
    std::array<char, 64 * 1024> data_; // left uninitialised on purpose
};

class Server {
public:
    Server(asio::io_context& io, unsigned short port)
        : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)) {
        doAccept();
    }

private:
    void doAccept() {
        acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
            if (!ec) {
                std::make_shared<Session>(std::move(socket))->start();
            }
            doAccept();
        });
    }

    tcp::acceptor acceptor_;
};

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    try {
        asio::io_context io(1); // concurrency hint: one thread
        Server server(io, static_cast<unsigned short>(std::atoi(argv[1])));
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio_echo: %s\n", e.what());
        return 1;
    }
}
