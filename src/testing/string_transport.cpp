#include <braid/testing/string_transport.hpp>

#include <stdexcept>

namespace braid::testing {

StringTransport::StringTransport() : clock_(&ownClock_) {}

StringTransport::StringTransport(task::Clock& clock) : clock_(&clock) {}

void StringTransport::writeSequence(std::span<const std::string_view> data) {
    for (std::string_view piece : data) {
        write(piece);
    }
}

void StringTransport::abortConnection() {
    aborted = true;
    disconnecting = true;
}

void StringTransport::registerProducer(IPushProducer& producer) {
    setProducer(producer, true);
}

void StringTransport::registerProducer(IPullProducer& producer) {
    setProducer(producer, false);
}

void StringTransport::setProducer(IProducer& producer, bool streaming) {
    if (producer_ != nullptr) {
        throw std::logic_error("StringTransport: a producer is already registered");
    }
    producer_ = &producer;
    streaming_ = streaming;
}

void StringTransport::unregisterProducer() {
    if (producer_ == nullptr) {
        throw std::logic_error("StringTransport: no producer is registered");
    }
    producer_ = nullptr;
    streaming_ = false;
}

void StringTransport::pauseProducing() {
    setProducerState(ProducerState::paused);
}

void StringTransport::resumeProducing() {
    setProducerState(ProducerState::producing);
}

void StringTransport::stopProducing() {
    producerState_ = ProducerState::stopped;
}

void StringTransport::setProducerState(ProducerState state) {
    if (producerState_ == ProducerState::stopped) {
        throw std::logic_error("StringTransport: cannot pause or resume a stopped producer");
    }
    producerState_ = state;
}

} // namespace braid::testing
