// Producers and consumers (twisted.internet.interfaces IPushProducer, IPullProducer,
// IConsumer): how a source of data and a transport agree on pace, so that nothing
// buffers without bound. A push producer writes on its own and is paused when the
// consumer's buffer is full; a pull producer writes one chunk each time it is asked.
#pragma once

#include <string_view>

namespace braid {

// Something that can be stopped for good.
class IProducer {
public:
    virtual ~IProducer() = default;
    // Stop producing; the consumer is going away.
    virtual void stopProducing() = 0;
};

// Produces data on its own until paused.
class IPushProducer : public IProducer {
public:
    virtual void pauseProducing() = 0;
    virtual void resumeProducing() = 0;
};

// Produces one chunk (by writing it to the consumer) each time resumeProducing() is called.
class IPullProducer : public IProducer {
public:
    virtual void resumeProducing() = 0;
};

// Takes data and paces the producer registered with it.
class IConsumer {
public:
    virtual ~IConsumer() = default;
    // At most one producer at a time. It is not owned: it must stay alive until it is
    // unregistered or stopProducing() is called on it.
    virtual void registerProducer(IPushProducer& producer) = 0;
    virtual void registerProducer(IPullProducer& producer) = 0;
    virtual void unregisterProducer() = 0;
    virtual void write(std::string_view data) = 0;
};

} // namespace braid
