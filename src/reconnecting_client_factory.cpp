#include <braid/log.hpp>
#include <braid/reactor.hpp>
#include <braid/reconnecting_client_factory.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <stdexcept>

namespace braid {

namespace {

Logger& logger() {
    static Logger log{"braid.reconnect"};
    return log;
}

// Uniform in [0, 1) from the top 53 bits of a 64-bit engine (never 1.0).
std::function<double()> seededRandom() {
    return [engine = std::mt19937_64(std::random_device{}())]() mutable {
        return std::ldexp(static_cast<double>(engine() >> 11), -53);
    };
}

// Python's random.normalvariate (Kinderman and Monahan's ratio of uniforms), so that the
// delays follow Twisted's for the same uniform numbers.
double normalVariate(const std::function<double()>& random, double mu, double sigma) {
    const double magic = 4 * std::exp(-0.5) / std::numbers::sqrt2;
    double z = 0;
    while (true) {
        double u1 = random();
        double u2 = 1.0 - random();
        z = magic * (u1 - 0.5) / u2;
        if (z * z / 4.0 <= -std::log(u2)) {
            break;
        }
    }
    return mu + (z * sigma);
}

} // namespace

ReconnectingClientFactory::ReconnectingClientFactory() : random(seededRandom()) {}

ReconnectingClientFactory::~ReconnectingClientFactory() {
    if (callID_.active()) {
        callID_.cancel();
    }
}

void ReconnectingClientFactory::clientConnectionFailed(IConnector& connector,
                                                       const Failure& /*reason*/) {
    if (continueTrying) {
        this->connector = connector.weak_from_this();
        retry(connector);
    }
}

void ReconnectingClientFactory::clientConnectionLost(IConnector& connector,
                                                     const Failure& /*reason*/) {
    if (continueTrying) {
        this->connector = connector.weak_from_this();
        retry(connector);
    }
}

void ReconnectingClientFactory::retry() {
    std::shared_ptr<IConnector> last = connector.lock();
    if (!last) {
        throw std::logic_error("ReconnectingClientFactory::retry(): no connector to retry");
    }
    retry(*last);
}

void ReconnectingClientFactory::retry(IConnector& connector) {
    if (!continueTrying) {
        return;
    }
    ++retries;
    if (maxRetries && retries > *maxRetries) {
        logger().info("Abandoning {address} after {retries} retries",
                      fmt::arg("address", connector.getDestination().toString()),
                      fmt::arg("retries", retries));
        return;
    }
    delay = std::min(delay * factor, maxDelay);
    if (jitter != 0) {
        delay = normalVariate(random, delay, delay * jitter);
    }
    logger().info("{address} will retry in {delay:.3f} seconds",
                  fmt::arg("address", connector.getDestination().toString()),
                  fmt::arg("delay", delay));
    // The call keeps the connector alive until it has tried again.
    std::shared_ptr<IConnector> target = connector.shared_from_this();
    IReactorTime& time = clock != nullptr ? *clock : braid::reactor();
    callID_ = time.callLater(delay, [target] { target->connect(); });
}

void ReconnectingClientFactory::stopTrying() {
    if (callID_.active()) {
        callID_.cancel();
    }
    callID_ = DelayedCall();
    continueTrying = false;
    if (std::shared_ptr<IConnector> last = connector.lock()) {
        try {
            last->stopConnecting();
        } catch (const std::logic_error&) { // NOLINT(bugprone-empty-catch)
            // Not connecting (Twisted's NotConnectingError): nothing to stop.
        }
    }
}

void ReconnectingClientFactory::resetDelay() {
    delay = initialDelay;
    retries = 0;
    callID_ = DelayedCall();
    continueTrying = true;
}

} // namespace braid
