// IBodyProducer and StringBodyProducer (twisted.web.iweb.IBodyProducer,
// twisted.web.client.FileBodyProducer for a string): what writes a request's body.
// A body with a known length is sent with Content-Length, one without in chunks.
#pragma once

#include <braid/deferred.hpp>
#include <braid/producer.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace braid::web {

class IBodyProducer {
public:
    virtual ~IBodyProducer() = default;
    // The body's length in bytes, or nullopt when unknown (Twisted's UNKNOWN_LENGTH).
    [[nodiscard]] virtual std::optional<std::uint64_t> length() const = 0;
    // Writes the body to `consumer`; the Deferred fires once all of it is written. It may
    // be called again for a new request (a redirect that keeps the body).
    virtual Deferred<void> startProducing(IConsumer& consumer) = 0;
    // The request was abandoned: stop writing.
    virtual void stopProducing() {}
};

// A body held in memory. With knownLength = false it claims not to know its length, so
// the request is sent chunked.
class StringBodyProducer final : public IBodyProducer {
public:
    explicit StringBodyProducer(std::string body, bool knownLength = true)
        : body_(std::move(body)), knownLength_(knownLength) {}
    [[nodiscard]] std::optional<std::uint64_t> length() const override {
        return knownLength_ ? std::optional<std::uint64_t>(body_.size()) : std::nullopt;
    }
    Deferred<void> startProducing(IConsumer& consumer) override {
        if (!body_.empty()) {
            consumer.write(body_);
        }
        return succeed();
    }

private:
    std::string body_;
    bool knownLength_;
};

} // namespace braid::web
