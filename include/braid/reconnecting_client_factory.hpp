// ReconnectingClientFactory, after twisted.internet.protocol.ReconnectingClientFactory: a
// ClientFactory that connects again, through the same connector, whenever a connection
// fails or is lost, waiting longer each time (exponential backoff with jitter).
#pragma once

#include <braid/factory.hpp>
#include <braid/failure.hpp>
#include <braid/reactor_time.hpp>

#include <functional>
#include <memory>
#include <numbers>
#include <optional>

namespace braid {

// Subclass it and implement buildProtocol(); call resetDelay() once a connection has
// succeeded (in buildProtocol() or the protocol's connectionMade()), as in Twisted:
//
//     class EchoClientFactory : public ReconnectingClientFactory {
//         std::unique_ptr<Protocol> buildProtocol(const Address&) override {
//             resetDelay();
//             return std::make_unique<EchoClient>();
//         }
//     };
//
// Subclasses overriding clientConnectionFailed/Lost call these to keep retrying.
class ReconnectingClientFactory : public ClientFactory {
public:
    ReconnectingClientFactory();
    // Cancels a pending retry.
    ~ReconnectingClientFactory() override;

    // Retry (when continueTrying).
    void clientConnectionFailed(IConnector& connector, const Failure& reason) override;
    void clientConnectionLost(IConnector& connector, const Failure& reason) override;

    // Schedules connector.connect() after the next delay: delay = min(delay * factor,
    // maxDelay), then, with jitter, a normal variate with mean delay and standard
    // deviation delay * jitter (Python's random.normalvariate, fed by `random`). Does
    // nothing after stopTrying(), or once retries exceeds maxRetries.
    void retry(IConnector& connector);
    // retry() with the last connector this factory was told about; throws
    // std::logic_error if there is none.
    void retry();

    // No more retries: cancels a pending one and stops a connection attempt in
    // progress (a connection that is up stays up).
    void stopTrying();

    // After a successful connection: back to initialDelay, retries to 0, and trying.
    void resetDelay();

    double maxDelay = 3600;
    double initialDelay = 1.0;
    double factor = std::numbers::e; // Twisted's 2.7182818284590451
    double jitter = 0.11962656472;   // molar Planck constant times c, joule meter/mole
    double delay = initialDelay;     // the last delay waited (initialDelay at first)
    int retries = 0;
    std::optional<int> maxRetries; // unset: no limit
    bool continueTrying = true;

    // The clock retries are scheduled on; nullptr (the default) means braid::reactor().
    IReactorTime* clock = nullptr;
    // Uniform doubles in [0, 1), as Python's random.random(). By default a
    // std::mt19937_64 seeded from std::random_device; tests set a seeded one.
    std::function<double()> random;

    // The connector of the last failure or loss (Twisted's `connector`).
    std::weak_ptr<IConnector> connector;

private:
    DelayedCall callID_;
};

} // namespace braid
