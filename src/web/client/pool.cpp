#include "connection.hpp"
#include <braid/factory.hpp>
#include <braid/web/client/pool.hpp>

namespace braid::web {

namespace {

// Makes the one connection a getConnection() asked for, and reports how connecting went.
class ConnectionFactory final : public ClientFactory {
public:
    ConnectionFactory(std::weak_ptr<client::PoolState> pool, client::PoolKey key,
                      Deferred<client::HTTP11ClientProtocol*> done)
        : pool_(std::move(pool)), key_(std::move(key)), done_(std::move(done)) {}

    std::unique_ptr<Protocol> buildProtocol(const Address& /*address*/) override {
        return std::make_unique<client::HTTP11ClientProtocol>(pool_, key_, done_);
    }
    void clientConnectionFailed(IConnector& /*connector*/, const Failure& reason) override {
        if (!cancelling && !done_.called()) {
            done_.errback(reason);
        }
    }

    // Set while the Deferred's canceller stops the attempt, so that cancel() gives
    // CancelledError (which addTimeout turns into TimeoutError), not UserError.
    bool cancelling = false;
    std::weak_ptr<IConnector> connector;

private:
    std::weak_ptr<client::PoolState> pool_;
    client::PoolKey key_;
    Deferred<client::HTTP11ClientProtocol*> done_;
};

} // namespace

HTTPConnectionPool::HTTPConnectionPool(IReactorTCP& reactor, bool persistent)
    : reactor_(reactor), state_(std::make_shared<client::PoolState>()) {
    state_->persistent = persistent;
}

HTTPConnectionPool::~HTTPConnectionPool() {
    closeCachedConnections();
}

void HTTPConnectionPool::setMaxPersistentPerHost(std::size_t count) {
    state_->maxPersistentPerHost = count;
}

void HTTPConnectionPool::setCachedConnectionTimeout(double seconds) {
    state_->cachedConnectionTimeout = seconds;
}

bool HTTPConnectionPool::persistent() const noexcept {
    return state_->persistent;
}

Deferred<client::HTTP11ClientProtocol*> HTTPConnectionPool::getConnection(const std::string& host,
                                                                          std::uint16_t port,
                                                                          double connectTimeout) {
    client::PoolKey key{host, port};
    auto found = state_->idle.find(key);
    while (found != state_->idle.end() && !found->second.empty()) {
        client::HTTP11ClientProtocol* connection = found->second.back();
        found->second.pop_back();
        connection->inPool = false;
        if (connection->idleTimer.active()) {
            connection->idleTimer.cancel();
        }
        if (!connection->transport->closing()) {
            return succeed(connection);
        }
    }
    auto factory = std::make_shared<std::weak_ptr<ConnectionFactory>>();
    Deferred<client::HTTP11ClientProtocol*> done([factory] {
        if (std::shared_ptr<ConnectionFactory> f = factory->lock()) {
            if (std::shared_ptr<IConnector> connector = f->connector.lock()) {
                f->cancelling = true;
                connector->stopConnecting();
            }
        }
    });
    auto made = std::make_shared<ConnectionFactory>(state_, key, done);
    *factory = made;
    made->connector = reactor_.connectTCP(host, port, made, connectTimeout);
    return done;
}

void HTTPConnectionPool::closeCachedConnections() {
    auto idle = std::move(state_->idle);
    state_->idle.clear();
    for (auto& [key, connections] : idle) {
        for (client::HTTP11ClientProtocol* connection : connections) {
            connection->inPool = false;
            if (connection->idleTimer.active()) {
                connection->idleTimer.cancel();
            }
            connection->transport->loseConnection();
        }
    }
}

std::size_t HTTPConnectionPool::cachedConnectionCount() const {
    std::size_t count = 0;
    for (const auto& [key, connections] : state_->idle) {
        count += connections.size();
    }
    return count;
}

} // namespace braid::web
