#include <braid/log.hpp>
#include <braid/policies.hpp>
#include <braid/reactor.hpp>

#include <algorithm>
#include <stdexcept>

namespace braid {

namespace {

Logger& logger() {
    static Logger log{"braid.policies"};
    return log;
}

} // namespace

// --- ProtocolWrapper ---------------------------------------------------------------

ProtocolWrapper::ProtocolWrapper(std::shared_ptr<WrappingFactory> factory,
                                 std::unique_ptr<Protocol> wrappedProtocol)
    : factory_(std::move(factory)), wrappedProtocol_(std::move(wrappedProtocol)) {}

// A wrapper destroyed without connectionLost() (its owner went away) leaves the
// factory's list all the same.
ProtocolWrapper::~ProtocolWrapper() {
    if (registered_) {
        registered_ = false;
        factory_->unregisterProtocol(*this);
    }
}

void ProtocolWrapper::makeConnection(ITransport& transport) {
    Protocol::makeConnection(transport);
    factory_->registerProtocol(*this);
    registered_ = true;
    wrappedProtocol_->makeConnection(*this);
}

void ProtocolWrapper::dataReceived(std::string_view data) {
    wrappedProtocol_->dataReceived(data);
}

void ProtocolWrapper::connectionLost(const Failure& reason) {
    if (registered_) {
        registered_ = false;
        factory_->unregisterProtocol(*this);
    }
    // Through deliverConnectionLost so that the wrapped protocol's timers go too.
    detail::deliverConnectionLost(*wrappedProtocol_, reason);
}

void ProtocolWrapper::readConnectionLost() {
    wrappedProtocol_->readConnectionLost();
}

void ProtocolWrapper::writeConnectionLost() {
    wrappedProtocol_->writeConnectionLost();
}

void ProtocolWrapper::write(std::string_view data) {
    transport->write(data);
}

void ProtocolWrapper::writeSequence(std::span<const std::string_view> data) {
    transport->writeSequence(data);
}

void ProtocolWrapper::loseConnection() {
    disconnecting = true;
    transport->loseConnection();
}

void ProtocolWrapper::abortConnection() {
    disconnecting = true;
    transport->abortConnection();
}

void ProtocolWrapper::loseWriteConnection() {
    transport->loseWriteConnection();
}

Address ProtocolWrapper::getPeer() const {
    return transport->getPeer();
}

Address ProtocolWrapper::getHost() const {
    return transport->getHost();
}

void ProtocolWrapper::setTcpNoDelay(bool enabled) {
    transport->setTcpNoDelay(enabled);
}

void ProtocolWrapper::setTcpKeepAlive(bool enabled) {
    transport->setTcpKeepAlive(enabled);
}

void ProtocolWrapper::setWriteBufferLimits(WriteBufferLimits limits) {
    transport->setWriteBufferLimits(limits);
}

std::size_t ProtocolWrapper::bufferedBytes() const {
    return transport->bufferedBytes();
}

bool ProtocolWrapper::closing() const noexcept {
    return transport->closing();
}

IReactorTime& ProtocolWrapper::clock() {
    return transport->clock();
}

void ProtocolWrapper::registerProducer(IPushProducer& producer) {
    transport->registerProducer(producer);
}

void ProtocolWrapper::registerProducer(IPullProducer& producer) {
    transport->registerProducer(producer);
}

void ProtocolWrapper::unregisterProducer() {
    transport->unregisterProducer();
}

void ProtocolWrapper::pauseProducing() {
    transport->pauseProducing();
}

void ProtocolWrapper::resumeProducing() {
    transport->resumeProducing();
}

void ProtocolWrapper::stopProducing() {
    transport->stopProducing();
}

// --- WrappingFactory ---------------------------------------------------------------

WrappingFactory::WrappingFactory(std::shared_ptr<Factory> wrappedFactory)
    : wrappedFactory(std::move(wrappedFactory)) {
    if (!this->wrappedFactory) {
        throw std::invalid_argument("WrappingFactory: no factory to wrap");
    }
}

std::unique_ptr<Protocol> WrappingFactory::buildProtocol(const Address& address) {
    std::unique_ptr<Protocol> wrapped = wrappedFactory->buildProtocol(address);
    if (!wrapped) {
        return nullptr;
    }
    return wrap(std::move(wrapped));
}

std::unique_ptr<ProtocolWrapper> WrappingFactory::wrap(std::unique_ptr<Protocol> wrapped) {
    return std::make_unique<ProtocolWrapper>(shared_from_this(), std::move(wrapped));
}

void WrappingFactory::startFactory() {
    wrappedFactory->doStart();
}

void WrappingFactory::stopFactory() {
    wrappedFactory->doStop();
}

void WrappingFactory::startedConnecting(IConnector& connector) {
    if (auto* client = dynamic_cast<ClientFactory*>(wrappedFactory.get())) {
        client->startedConnecting(connector);
    }
}

void WrappingFactory::clientConnectionFailed(IConnector& connector, const Failure& reason) {
    if (auto* client = dynamic_cast<ClientFactory*>(wrappedFactory.get())) {
        client->clientConnectionFailed(connector, reason);
    }
}

void WrappingFactory::clientConnectionLost(IConnector& connector, const Failure& reason) {
    if (auto* client = dynamic_cast<ClientFactory*>(wrappedFactory.get())) {
        client->clientConnectionLost(connector, reason);
    }
}

void WrappingFactory::registerProtocol(ProtocolWrapper& protocol) {
    protocols_.push_back(&protocol);
}

void WrappingFactory::unregisterProtocol(ProtocolWrapper& protocol) {
    std::erase(protocols_, &protocol);
}

// --- ThrottlingProtocol ------------------------------------------------------------

ThrottlingProtocol::ThrottlingProtocol(const std::shared_ptr<ThrottlingFactory>& factory,
                                       std::unique_ptr<Protocol> wrappedProtocol)
    : ProtocolWrapper(factory, std::move(wrappedProtocol)), throttlingFactory_(*factory) {}

void ThrottlingProtocol::write(std::string_view data) {
    throttlingFactory_.registerWritten(data.size());
    ProtocolWrapper::write(data);
}

void ThrottlingProtocol::writeSequence(std::span<const std::string_view> data) {
    std::size_t length = 0;
    for (std::string_view piece : data) {
        length += piece.size();
    }
    throttlingFactory_.registerWritten(length);
    ProtocolWrapper::writeSequence(data);
}

void ThrottlingProtocol::dataReceived(std::string_view data) {
    throttlingFactory_.registerRead(data.size());
    ProtocolWrapper::dataReceived(data);
}

void ThrottlingProtocol::registerProducer(IPushProducer& producer) {
    ProtocolWrapper::registerProducer(producer);
    producer_ = &producer;
}

void ThrottlingProtocol::registerProducer(IPullProducer& producer) {
    ProtocolWrapper::registerProducer(producer);
}

void ThrottlingProtocol::unregisterProducer() {
    producer_ = nullptr;
    ProtocolWrapper::unregisterProducer();
}

void ThrottlingProtocol::throttleReads() {
    transport->pauseProducing();
}

void ThrottlingProtocol::unthrottleReads() {
    transport->resumeProducing();
}

void ThrottlingProtocol::throttleWrites() {
    if (producer_ != nullptr) {
        producer_->pauseProducing();
    }
}

void ThrottlingProtocol::unthrottleWrites() {
    if (producer_ != nullptr) {
        producer_->resumeProducing();
    }
}

// --- ThrottlingFactory -------------------------------------------------------------

ThrottlingFactory::ThrottlingFactory(std::shared_ptr<Factory> wrappedFactory,
                                     std::size_t maxConnectionCount,
                                     std::optional<double> readLimit,
                                     std::optional<double> writeLimit)
    : WrappingFactory(std::move(wrappedFactory)),
      maxConnectionCount(maxConnectionCount),
      readLimit(readLimit),
      writeLimit(writeLimit) {}

ThrottlingFactory::~ThrottlingFactory() {
    cancelCalls();
}

IReactorTime& ThrottlingFactory::theClock() const {
    return clock != nullptr ? *clock : braid::reactor();
}

template <class F>
void ThrottlingFactory::forEachProtocol(F f) {
    // A copy: pausing or resuming may close a connection, which unregisters it.
    std::vector<ProtocolWrapper*> protocols = this->protocols();
    for (ProtocolWrapper* protocol : protocols) {
        if (auto* throttling = dynamic_cast<ThrottlingProtocol*>(protocol)) {
            f(*throttling);
        }
    }
}

void ThrottlingFactory::checkReadBandwidth() {
    if (!readLimit) {
        return;
    }
    if (static_cast<double>(readThisSecond_) > *readLimit) {
        logger().info("Throttling reads");
        forEachProtocol([](ThrottlingProtocol& p) { p.throttleReads(); });
        double throttleTime = (static_cast<double>(readThisSecond_) / *readLimit) - 1.0;
        unthrottleReadsCall_ = theClock().callLater(throttleTime, [this] {
            logger().info("Stopped throttling reads");
            forEachProtocol([](ThrottlingProtocol& p) { p.unthrottleReads(); });
        });
    }
    readThisSecond_ = 0;
    checkReadBandwidthCall_ = theClock().callLater(1, [this] { checkReadBandwidth(); });
}

void ThrottlingFactory::checkWriteBandwidth() {
    if (!writeLimit) {
        return;
    }
    if (static_cast<double>(writtenThisSecond_) > *writeLimit) {
        logger().info("Throttling writes");
        forEachProtocol([](ThrottlingProtocol& p) { p.throttleWrites(); });
        double throttleTime = (static_cast<double>(writtenThisSecond_) / *writeLimit) - 1.0;
        unthrottleWritesCall_ = theClock().callLater(throttleTime, [this] {
            logger().info("Stopped throttling writes");
            forEachProtocol([](ThrottlingProtocol& p) { p.unthrottleWrites(); });
        });
    }
    writtenThisSecond_ = 0;
    checkWriteBandwidthCall_ = theClock().callLater(1, [this] { checkWriteBandwidth(); });
}

std::unique_ptr<Protocol> ThrottlingFactory::buildProtocol(const Address& address) {
    if (connectionCount_ == 0) {
        if (readLimit) {
            checkReadBandwidth();
        }
        if (writeLimit) {
            checkWriteBandwidth();
        }
    }
    if (connectionCount_ >= maxConnectionCount) {
        logger().info("Max connection count reached!");
        return nullptr;
    }
    std::unique_ptr<Protocol> protocol = WrappingFactory::buildProtocol(address);
    if (protocol) {
        ++connectionCount_;
    }
    return protocol;
}

std::unique_ptr<ProtocolWrapper> ThrottlingFactory::wrap(std::unique_ptr<Protocol> wrapped) {
    return std::make_unique<ThrottlingProtocol>(
        std::static_pointer_cast<ThrottlingFactory>(shared_from_this()), std::move(wrapped));
}

void ThrottlingFactory::unregisterProtocol(ProtocolWrapper& protocol) {
    WrappingFactory::unregisterProtocol(protocol);
    if (--connectionCount_ == 0) {
        cancelCalls();
    }
}

void ThrottlingFactory::cancelCalls() {
    for (DelayedCall* call : {&unthrottleReadsCall_, &checkReadBandwidthCall_,
                              &unthrottleWritesCall_, &checkWriteBandwidthCall_}) {
        if (call->active()) {
            call->cancel();
        }
    }
}

// --- TimeoutMixin ------------------------------------------------------------------

Protocol& TimeoutMixin::protocol() {
    auto* protocol = dynamic_cast<Protocol*>(this);
    if (protocol == nullptr || protocol->transport == nullptr) {
        throw std::logic_error("TimeoutMixin: needs to be a connected Protocol");
    }
    return *protocol;
}

std::optional<double> TimeoutMixin::setTimeout(std::optional<double> period) {
    std::optional<double> previous = timeOut_;
    timeOut_ = period;
    if (timeoutCall_.active()) {
        if (period) {
            timeoutCall_.reset(*period);
        } else {
            timeoutCall_.cancel();
        }
    } else if (period) {
        timeoutCall_ = protocol().callLater(*period, [this] { timedOut(); });
    }
    return previous;
}

void TimeoutMixin::resetTimeout() {
    if (timeoutCall_.active() && timeOut_) {
        timeoutCall_.reset(*timeOut_);
    }
}

void TimeoutMixin::timedOut() {
    timeoutCall_ = DelayedCall();
    timeoutConnection();
}

void TimeoutMixin::timeoutConnection() {
    protocol().transport->loseConnection();
}

// --- TimeoutProtocol and TimeoutFactory --------------------------------------------

TimeoutProtocol::TimeoutProtocol(std::shared_ptr<WrappingFactory> factory,
                                 std::unique_ptr<Protocol> wrappedProtocol,
                                 std::optional<double> timeoutPeriod)
    : ProtocolWrapper(std::move(factory), std::move(wrappedProtocol)),
      initialPeriod_(timeoutPeriod) {}

// Before the wrapped protocol connects, so that what it writes at once counts.
void TimeoutProtocol::connectionMade() {
    setTimeout(initialPeriod_);
}

void TimeoutProtocol::write(std::string_view data) {
    resetTimeout();
    ProtocolWrapper::write(data);
}

void TimeoutProtocol::writeSequence(std::span<const std::string_view> data) {
    resetTimeout();
    ProtocolWrapper::writeSequence(data);
}

void TimeoutProtocol::dataReceived(std::string_view data) {
    resetTimeout();
    ProtocolWrapper::dataReceived(data);
}

void TimeoutProtocol::timeoutConnection() {
    timeoutFunc();
}

void TimeoutProtocol::timeoutFunc() {
    loseConnection();
}

TimeoutFactory::TimeoutFactory(std::shared_ptr<Factory> wrappedFactory,
                               std::optional<double> timeoutPeriod)
    : WrappingFactory(std::move(wrappedFactory)), timeoutPeriod(timeoutPeriod) {}

std::unique_ptr<ProtocolWrapper> TimeoutFactory::wrap(std::unique_ptr<Protocol> wrapped) {
    return std::make_unique<TimeoutProtocol>(shared_from_this(), std::move(wrapped), timeoutPeriod);
}

} // namespace braid
