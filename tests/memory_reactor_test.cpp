// testing::MemoryReactor: recorded listen/connect calls, fake ports and connectors, time,
// and the run/stop/system-event bookkeeping.
#include <braid/deferred.hpp>
#include <braid/error.hpp>
#include <braid/factory.hpp>
#include <braid/testing/deferred.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/testing/memory_reactor.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using braid::Address;
using braid::testing::MemoryConnector;
using braid::testing::MemoryListeningPort;
using braid::testing::MemoryReactor;

struct RecordingClientFactory : braid::ClientFactory {
    std::unique_ptr<braid::Protocol> buildProtocol(const Address& /*address*/) override {
        return std::make_unique<braid::Protocol>();
    }
    void startedConnecting(braid::IConnector& connector) override { started.push_back(&connector); }
    std::vector<braid::IConnector*> started;
};

// Code under test takes the interface, as library code should.
std::shared_ptr<braid::IListeningPort> serve(braid::IReactorTCP& reactor,
                                             std::shared_ptr<braid::Factory> factory) {
    return reactor.listenTCP(8080, std::move(factory), 100, "127.0.0.1");
}

TEST(MemoryReactorTest, ListenTCPIsRecorded) {
    MemoryReactor reactor;
    auto factory = braid::Factory::forProtocol<braid::Protocol>();
    auto port = serve(reactor, factory);

    ASSERT_EQ(reactor.tcpServers.size(), 1U);
    const MemoryReactor::TCPServer& server = reactor.tcpServers[0];
    EXPECT_EQ(server.port, 8080);
    EXPECT_EQ(server.factory, factory);
    EXPECT_EQ(server.backlog, 100);
    EXPECT_EQ(server.interface, "127.0.0.1");
    EXPECT_EQ(server.listener, port);
    EXPECT_EQ(port->getHost(), Address::ipv4("127.0.0.1", 8080));
}

TEST(MemoryReactorTest, ListeningPortAnswersTheAddressAskedFor) {
    MemoryReactor reactor;
    auto factory = braid::Factory::forProtocol<braid::Protocol>();
    EXPECT_EQ(reactor.listenTCP(0, factory)->getHost(), Address::ipv4("0.0.0.0", 0));
    EXPECT_EQ(reactor.listenTCP(80, factory, 50, "::1")->getHost(), Address::ipv6("::1", 80));
    EXPECT_EQ(reactor.tcpServers[0].backlog, 50);
    EXPECT_EQ(reactor.tcpServers[0].interface, "");
}

TEST(MemoryReactorTest, StopListeningFires) {
    MemoryReactor reactor;
    reactor.listenTCP(1, braid::Factory::forProtocol<braid::Protocol>());
    const auto& listener = reactor.tcpServers[0].listener;
    EXPECT_FALSE(listener->stopped);
    braid::Deferred<void> stopped = listener->stopListening();
    EXPECT_TRUE(stopped.called());
    EXPECT_TRUE(listener->stopped);
}

TEST(MemoryReactorTest, ConnectTCPIsRecordedAndTellsTheFactory) {
    MemoryReactor reactor;
    auto factory = std::make_shared<RecordingClientFactory>();
    auto connector =
        reactor.connectTCP("example.com", 443, factory, 5, Address::ipv4("10.0.0.9", 0));

    ASSERT_EQ(reactor.tcpClients.size(), 1U);
    const MemoryReactor::TCPClient& client = reactor.tcpClients[0];
    EXPECT_EQ(client.host, "example.com");
    EXPECT_EQ(client.port, 443);
    EXPECT_EQ(client.factory, factory);
    EXPECT_EQ(client.timeout, 5);
    EXPECT_EQ(client.bindAddress, Address::ipv4("10.0.0.9", 0));
    EXPECT_EQ(client.connector, connector);
    EXPECT_EQ(factory->started, std::vector<braid::IConnector*>{connector.get()});
    EXPECT_EQ(connector->getDestination().host(), "example.com");
    EXPECT_EQ(connector->getDestination().port(), 443);
    EXPECT_EQ(reactor.connectTCP("::1", 1, factory)->getDestination(), Address::ipv6("::1", 1));
    EXPECT_EQ(reactor.tcpClients[1].timeout, 30);
    EXPECT_FALSE(reactor.tcpClients[1].bindAddress.has_value());
}

TEST(MemoryReactorTest, ConnectorRecordsWhatIsAskedOfIt) {
    MemoryReactor reactor;
    auto factory = std::make_shared<RecordingClientFactory>();
    reactor.connectTCP("127.0.0.1", 80, factory);
    MemoryConnector& connector = *reactor.tcpClients[0].connector;
    connector.connect();
    connector.connect();
    connector.stopConnecting();
    EXPECT_EQ(connector.connectCalls, 2);
    EXPECT_TRUE(connector.stoppedConnecting);
    EXPECT_FALSE(connector.disconnected);
    connector.disconnect();
    EXPECT_TRUE(connector.disconnected);
}

TEST(MemoryReactorTest, UnixCallsAreRecorded) {
    MemoryReactor reactor;
    auto serverFactory = braid::Factory::forProtocol<braid::Protocol>();
    auto clientFactory = std::make_shared<RecordingClientFactory>();
    auto port = reactor.listenUNIX("/tmp/s.sock", serverFactory, 7, 0600);
    auto connector = reactor.connectUNIX("/tmp/s.sock", clientFactory, 2);

    ASSERT_EQ(reactor.unixServers.size(), 1U);
    EXPECT_EQ(reactor.unixServers[0].path, "/tmp/s.sock");
    EXPECT_EQ(reactor.unixServers[0].factory, serverFactory);
    EXPECT_EQ(reactor.unixServers[0].backlog, 7);
    EXPECT_EQ(reactor.unixServers[0].mode, 0600);
    EXPECT_EQ(port->getHost(), Address::unix("/tmp/s.sock"));
    ASSERT_EQ(reactor.unixClients.size(), 1U);
    EXPECT_EQ(reactor.unixClients[0].path, "/tmp/s.sock");
    EXPECT_EQ(reactor.unixClients[0].timeout, 2);
    EXPECT_EQ(reactor.unixClients[0].connector, connector);
    EXPECT_EQ(connector->getDestination(), Address::unix("/tmp/s.sock"));
    EXPECT_EQ(clientFactory->started.size(), 1U);
    EXPECT_TRUE(reactor.tcpServers.empty());
    EXPECT_TRUE(reactor.tcpClients.empty());
}

TEST(MemoryReactorTest, TimeIsATaskClock) {
    MemoryReactor reactor;
    braid::IReactorTime& time = reactor;
    int ran = 0;
    time.callLater(2, [&ran] { ++ran; });
    reactor.advance(1);
    EXPECT_EQ(ran, 0);
    reactor.advance(1);
    EXPECT_EQ(ran, 1);
    EXPECT_EQ(time.seconds(), 2);
}

TEST(MemoryReactorTest, RunFiresStartupAndCallWhenRunningFunctions) {
    MemoryReactor reactor;
    std::vector<std::string> log;
    reactor.addSystemEventTrigger("after", "startup", [&log] { log.emplace_back("after"); });
    reactor.callWhenRunning([&log] { log.emplace_back("whenRunning"); });
    reactor.addSystemEventTrigger("during", "startup", [&log] { log.emplace_back("during"); });
    reactor.addSystemEventTrigger("before", "startup", [&log] { log.emplace_back("before"); });
    reactor.addSystemEventTrigger("before", "shutdown", [&log] { log.emplace_back("shutdown"); });
    EXPECT_FALSE(reactor.running());
    EXPECT_TRUE(log.empty());

    reactor.run();
    EXPECT_TRUE(reactor.running());
    EXPECT_TRUE(reactor.hasRun());
    EXPECT_EQ(log, (std::vector<std::string>{"before", "during", "after", "whenRunning"}));

    reactor.callWhenRunning([&log] { log.emplace_back("now"); });
    EXPECT_EQ(log.back(), "now");
}

TEST(MemoryReactorTest, StopFiresShutdown) {
    MemoryReactor reactor;
    std::vector<std::string> log;
    reactor.addSystemEventTrigger(
        "during", "shutdown", [&] { log.emplace_back(reactor.running() ? "running" : "stopped"); });
    EXPECT_THROW(reactor.stop(), braid::ReactorNotRunning);
    reactor.run();
    EXPECT_TRUE(log.empty());
    reactor.stop();
    EXPECT_FALSE(reactor.running());
    EXPECT_TRUE(reactor.hasStopped());
    EXPECT_EQ(log, std::vector<std::string>{"stopped"});
    EXPECT_THROW(reactor.run(), braid::ReactorNotRestartable);
    EXPECT_THROW(reactor.stop(), braid::ReactorNotRunning);
}

TEST(MemoryReactorTest, RunTwiceThrows) {
    MemoryReactor reactor;
    reactor.run();
    EXPECT_THROW(reactor.run(), std::logic_error);
}

TEST(MemoryReactorTest, LaterPhasesWaitForTheBeforeTriggersDeferreds) {
    MemoryReactor reactor;
    braid::Deferred<void> draining;
    std::vector<std::string> log;
    reactor.addSystemEventTrigger("before", "shutdown", [&] { return draining; });
    reactor.addSystemEventTrigger("after", "shutdown", [&log] { log.emplace_back("after"); });
    reactor.fireSystemEvent("shutdown");
    EXPECT_TRUE(log.empty());
    draining.callback();
    EXPECT_EQ(log, std::vector<std::string>{"after"});
}

TEST(MemoryReactorTest, TriggersFireOnceAndCanBeRemoved) {
    MemoryReactor reactor;
    int fired = 0;
    auto removed = reactor.addSystemEventTrigger("during", "startup", [&fired] { fired += 10; });
    reactor.addSystemEventTrigger("during", "startup", [&fired] { ++fired; });
    reactor.removeSystemEventTrigger(removed);
    reactor.fireSystemEvent("startup");
    reactor.fireSystemEvent("startup");
    EXPECT_EQ(fired, 1);
}

TEST(MemoryReactorTest, BadPhaseOrEventIsRejected) {
    MemoryReactor reactor;
    EXPECT_THROW(reactor.addSystemEventTrigger("whenever", "startup", [] {}),
                 std::invalid_argument);
    EXPECT_THROW(reactor.addSystemEventTrigger("before", "persist", [] {}), std::invalid_argument);
    EXPECT_THROW(reactor.fireSystemEvent("persist"), std::invalid_argument);
}

TEST(MemoryReactorTest, FailingTriggersAreLoggedAndTheOthersRun) {
    braid::testing::LogCapture logs;
    MemoryReactor reactor;
    bool after = false;
    reactor.addSystemEventTrigger("before", "shutdown",
                                  [] { return braid::fail<void>(std::runtime_error("drain")); });
    reactor.addSystemEventTrigger("during", "shutdown", [] { throw std::runtime_error("boom"); });
    reactor.addSystemEventTrigger("after", "shutdown", [&after] { after = true; });
    reactor.fireSystemEvent("shutdown");
    EXPECT_TRUE(after);
    EXPECT_TRUE(logs.contains("drain"));
    EXPECT_TRUE(logs.contains("boom"));
}

} // namespace
