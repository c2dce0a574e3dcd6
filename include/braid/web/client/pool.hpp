// HTTPConnectionPool (twisted.web.client.HTTPConnectionPool): where an Agent gets its
// connections. A persistent pool keeps up to maxPersistentPerHost idle keep-alive
// connections per (host, port) for cachedConnectionTimeout seconds and hands them to
// the next request; a connection goes back only once its response was read in full.
// A non-persistent pool (Agent's default, as in Twisted) opens one connection per request.
#pragma once

#include <braid/deferred.hpp>
#include <braid/interfaces.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace braid::web {

namespace client {
class HTTP11ClientProtocol;
struct PoolState;
} // namespace client

class HTTPConnectionPool {
public:
    // `reactor` must outlive the pool.
    explicit HTTPConnectionPool(IReactorTCP& reactor, bool persistent = true);
    HTTPConnectionPool(const HTTPConnectionPool&) = delete;
    HTTPConnectionPool& operator=(const HTTPConnectionPool&) = delete;
    // Closes the idle connections; connections in use close when their response ends.
    ~HTTPConnectionPool();

    void setMaxPersistentPerHost(std::size_t count);
    void setCachedConnectionTimeout(double seconds);
    [[nodiscard]] bool persistent() const noexcept;

    // An idle connection to (host, port), or a new one. Cancelling the Deferred stops
    // the connection attempt.
    Deferred<client::HTTP11ClientProtocol*>
    getConnection(const std::string& host, std::uint16_t port, double connectTimeout = 30);
    // Closes every idle connection.
    void closeCachedConnections();
    // How many idle connections the pool holds.
    [[nodiscard]] std::size_t cachedConnectionCount() const;

private:
    IReactorTCP& reactor_;
    std::shared_ptr<client::PoolState> state_;
};

} // namespace braid::web
