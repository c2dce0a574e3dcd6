// Site: the factory of an HTTP/1.1 server (twisted.web.server.Site). Each connection gets
// an HTTP channel that parses requests (llhttp), finds each one's resource by walking the
// tree from the root (getChildForRequest) and renders it; limits and timeouts protect the
// server from bad clients, each of which only loses its own connection.
#pragma once

#include <braid/factory.hpp>
#include <braid/web/resource.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace braid::web {

// Limits on what a client may send; going over one answers with the status given and
// closes the connection.
struct SiteLimits {
    std::size_t maxUriLength = std::size_t{8} * 1024;        // 414 URI Too Long
    std::size_t maxHeaderBytes = std::size_t{16} * 1024;     // 431 (all names and values)
    std::size_t maxHeaders = 100;                            // 431
    std::size_t maxBodySize = std::size_t{10} * 1024 * 1024; // 413 Content Too Large
    // Requests parsed ahead of the one being answered; past that, reading pauses.
    std::size_t maxPipelinedRequests = 16;
    // Seconds from a request's first byte to the end of its headers (408, then closed).
    double headerTimeout = 30;
    // Seconds a keep-alive connection may sit with no request before it is closed, and a
    // request body may stall (408, then closed).
    double idleTimeout = 60;
};

// Owned by a shared_ptr (its connections keep it alive).
class Site : public ServerFactory, public std::enable_shared_from_this<Site> {
public:
    explicit Site(std::shared_ptr<Resource> root, SiteLimits limits = {});

    std::unique_ptr<Protocol> buildProtocol(const Address& address) override;

    // The resource for `request` (twisted.web.resource.getChildForRequest): walks
    // request.postpath from the root, moving segments to request.prepath, until a leaf or
    // the end of the path.
    std::shared_ptr<Resource> getResourceFor(Request& request);
    // Renders `request` and writes what the resource returned (a failure is a 500).
    void render(const std::shared_ptr<Request>& request);

    [[nodiscard]] const SiteLimits& limits() const noexcept { return limits_; }
    [[nodiscard]] const std::shared_ptr<Resource>& resource() const noexcept { return root_; }

    // Twisted's Site.displayTracebacks: a 500 page shows the exception's message.
    bool displayTracebacks = false;
    // Seconds since the epoch, for Date headers: the system's wall clock (tests fix it).
    std::function<double()> wallClock = systemWallClock;
    // Where log() sends each line (Twisted's Site(logPath=...)); empty: no access log.
    std::function<void(std::string_view line)> accessLog;

    // Called as each request finishes: one combinedLogFormatter() line to accessLog.
    void log(const Request& request) const;

    static double systemWallClock();

private:
    // (Static: a pending Deferred's errback must not keep the Site alive.)
    static void processingFailed(Request& request, const Failure& failure, bool tracebacks);

    std::shared_ptr<Resource> root_;
    SiteLimits limits_;
};

} // namespace braid::web
