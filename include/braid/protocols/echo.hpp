// Echo: writes back every byte it receives (twisted.protocols.wire.Echo). The protocol of
// the seeds' echo server, `braid echo`, the examples and the echo benchmark.
#pragma once

#include <braid/protocol.hpp>

#include <string_view>

namespace braid::protocols {

class Echo : public Protocol {
public:
    void dataReceived(std::string_view data) override { transport->write(data); }
};

} // namespace braid::protocols
