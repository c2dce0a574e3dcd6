#include "web/channel.hpp"
#include <braid/log.hpp>
#include <braid/web/access_log.hpp>
#include <braid/web/error_page.hpp>
#include <braid/web/site.hpp>

#include <chrono>
#include <type_traits>
#include <variant>

namespace braid::web {

Site::Site(std::shared_ptr<Resource> root, SiteLimits limits)
    : root_(std::move(root)), limits_(limits) {}

void Site::log(const Request& request) const {
    if (accessLog) {
        accessLog(combinedLogFormatter(wallClock(), request));
    }
}

double Site::systemWallClock() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::unique_ptr<Protocol> Site::buildProtocol(const Address& /*address*/) {
    return std::make_unique<detail::HTTPChannel>(shared_from_this());
}

std::shared_ptr<Resource> Site::getResourceFor(Request& request) {
    std::shared_ptr<Resource> resource = root_;
    while (!request.postpath.empty() && !resource->isLeaf()) {
        std::string name = std::move(request.postpath.front());
        request.postpath.erase(request.postpath.begin());
        request.prepath.push_back(name);
        resource = resource->getChildWithDefault(name, request);
    }
    return resource;
}

namespace {

// Sends a whole body: its length is known (and said, unless the status has no body).
void writeBody(Request& request, const std::string& body) {
    int code = request.code();
    bool hasBody = code >= 200 && code != 204 && code != 304;
    if (hasBody && !request.startedWriting() && !request.getResponseHeader("Content-Length")) {
        request.setHeader("Content-Length", std::to_string(body.size()));
    }
    request.write(body);
    request.finish();
}

} // namespace

void Site::render(const std::shared_ptr<Request>& request) {
    try {
        RenderResult result = getResourceFor(*request)->render(*request);
        std::visit(
            [&](auto& value) {
                using V = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<V, std::string>) {
                    writeBody(*request, value);
                } else if constexpr (std::is_same_v<V, Deferred<std::string>>) {
                    value.addCallbacks(
                        [request](std::string body) {
                            writeBody(*request, body);
                            return body;
                        },
                        [request, tracebacks = displayTracebacks](const Failure& failure) {
                            processingFailed(*request, failure, tracebacks);
                            return std::string();
                        });
                }
            },
            result.value());
    } catch (...) {
        processingFailed(*request, Failure::current(), displayTracebacks);
    }
}

void Site::processingFailed(Request& request, const Failure& failure, bool tracebacks) {
    Logger("braid.web")
        .error("Exception rendering {uri}: {failure}", fmt::arg("uri", request.uri()),
               fmt::arg("failure", failure.toString()));
    if (request.startedWriting()) {
        request.finish(); // too late for an error page
        return;
    }
    std::string detail = "An error occurred rendering the requested page.";
    if (tracebacks) {
        detail = failure.toString();
    }
    ErrorPage page(500, "Processing Failed", detail);
    RenderResult result = page.render(request);
    writeBody(request, std::get<std::string>(result.value()));
}

} // namespace braid::web
