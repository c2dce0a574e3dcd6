// For the server fuzzers (fuzz/web_request.cpp, memcache_server.cpp): feeds a connection's
// bytes to a server protocol in one read, or cut into reads whose sizes the input chooses,
// and gives back everything the server wrote. A server must answer both the same.
#pragma once

#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/task/clock.hpp>
#include <braid/testing/string_transport.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace braid::fuzz {

// `sizes` empty: all of `input` in one read; else read i has 1 + sizes[i % n] % 64 bytes.
// Stops early when the server closes the connection.
inline std::string serveInPieces(Factory& factory, task::Clock& clock, std::string_view input,
                                 std::string_view sizes) {
    testing::StringTransport transport(clock);
    std::unique_ptr<Protocol> protocol = factory.buildProtocol(Address::ipv4("127.0.0.1", 1));
    protocol->makeConnection(transport);
    std::size_t at = 0;
    std::size_t turn = 0;
    while (at < input.size() && !transport.disconnecting) {
        std::size_t size = sizes.empty()
                               ? input.size()
                               : 1 + static_cast<unsigned char>(sizes[turn++ % sizes.size()]) % 64;
        protocol->dataReceived(input.substr(at, size));
        at += size;
    }
    braid::detail::deliverConnectionLost(*protocol, Failure(ConnectionDone()));
    return transport.value();
}

} // namespace braid::fuzz
