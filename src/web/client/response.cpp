#include "connection.hpp"
#include <braid/web/client/errors.hpp>
#include <braid/web/client/response.hpp>

#include <stdexcept>

namespace braid::web {

void Response::deliverBody(std::unique_ptr<Protocol> protocol) const {
    if (body == nullptr) {
        throw std::logic_error("Response::deliverBody: this response has no body stream");
    }
    body->deliverBody(std::move(protocol));
}

namespace {

// Gathers the body and fires `done` with it when the body ends.
class BodyCollector final : public Protocol {
public:
    explicit BodyCollector(Deferred<std::string> done) : done_(std::move(done)) {}
    void dataReceived(std::string_view data) override { body_.append(data); }
    void connectionLost(const Failure& reason) override {
        if (reason.check<ResponseDone, PotentialDataLoss>()) {
            done_.callback(std::move(body_));
        } else {
            done_.errback(reason);
        }
    }

private:
    Deferred<std::string> done_;
    std::string body_;
};

} // namespace

Deferred<std::string> readBody(const Response& response) {
    Deferred<std::string> done;
    response.deliverBody(std::make_unique<BodyCollector>(done));
    return done;
}

} // namespace braid::web
