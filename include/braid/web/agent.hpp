// web::Agent, RedirectAgent and getPage (twisted.web.client): an HTTP/1.1 client.
// Agent::request() gives a Deferred<Response> once the status line and headers are in;
// the body follows through Response::deliverBody() or readBody(). getPage(url) is the
// short form the seeds use: the body of a 2xx page, redirects followed.
//
//     web::Agent agent(reactor);
//     agent.request("GET", "http://example.com/")
//         .addCallback([](web::Response r) { return web::readBody(r); })
//         .addCallback([](std::string body) { ... });
//
// Connect failures come as DNSLookupError, ConnectionRefusedError or TimeoutError; a
// response that breaks off as ResponseFailed; https as SchemeNotSupported (no TLS yet).
#pragma once

#include <braid/deferred.hpp>
#include <braid/interfaces.hpp>
#include <braid/reactor_time.hpp>
#include <braid/web/client/body_producer.hpp>
#include <braid/web/client/errors.hpp>
#include <braid/web/client/headers.hpp>
#include <braid/web/client/pool.hpp>
#include <braid/web/client/response.hpp>
#include <braid/web/client/uri.hpp>

#include <concepts>
#include <memory>
#include <string>
#include <string_view>

namespace braid::web {

namespace client {
struct RequestSpec;
} // namespace client

// What Agent and the agents wrapping it offer (twisted.web.iweb.IAgent).
class IAgent {
public:
    virtual ~IAgent() = default;
    virtual Deferred<Response> request(std::string_view method, std::string_view uri,
                                       client::Headers headers = {},
                                       std::shared_ptr<IBodyProducer> bodyProducer = nullptr) = 0;
};

struct AgentOptions {
    double connectTimeout = 30; // seconds to establish the TCP connection
    // Seconds from request() until the response body has been read in full; 0: none.
    // Past it the request fails with TimeoutError (ResponseFailed wrapping it for a body
    // already being read).
    double requestTimeout = 0;
};

class Agent final : public IAgent {
public:
    // `reactor` (a Reactor, or a testing::MemoryReactor) gives both connections and time;
    // without a pool, each request has a connection of its own, as Twisted's Agent does.
    template <class R>
        requires std::derived_from<R, IReactorTCP> && std::derived_from<R, IReactorTime>
    explicit Agent(R& reactor, std::shared_ptr<HTTPConnectionPool> pool = nullptr,
                   AgentOptions options = {})
        : Agent(static_cast<IReactorTCP&>(reactor), static_cast<IReactorTime&>(reactor),
                std::move(pool), options) {}
    Agent(IReactorTCP& reactor, IReactorTime& clock, std::shared_ptr<HTTPConnectionPool> pool,
          AgentOptions options);

    // Sends `method` to `uri` (http only) with `headers` (Host is added unless given) and
    // the body `bodyProducer` writes (Content-Length when it knows its length, chunked
    // otherwise).
    Deferred<Response> request(std::string_view method, std::string_view uri,
                               client::Headers headers = {},
                               std::shared_ptr<IBodyProducer> bodyProducer = nullptr) override;

    [[nodiscard]] HTTPConnectionPool& pool() noexcept { return *pool_; }

private:
    static Deferred<Response> send(const std::shared_ptr<HTTPConnectionPool>& pool,
                                   IReactorTime& clock, AgentOptions options,
                                   client::RequestSpec spec, bool mayRetry);

    IReactorTime& clock_;
    std::shared_ptr<HTTPConnectionPool> pool_;
    AgentOptions options_;
};

// Follows redirects (twisted.web.client.BrowserLikeRedirectAgent): 301, 302, 303, 307
// and 308. 303, and 301/302 answering a POST, continue as GET without a body, as
// browsers do; 307/308 repeat the method and body. Credentials (Authorization, Cookie)
// are not sent to another origin. More than `redirectLimit` redirects fail with
// InfiniteRedirection. `agent` must outlive this one.
class RedirectAgent final : public IAgent {
public:
    explicit RedirectAgent(IAgent& agent, int redirectLimit = 20)
        : agent_(agent), redirectLimit_(redirectLimit) {}

    Deferred<Response> request(std::string_view method, std::string_view uri,
                               client::Headers headers = {},
                               std::shared_ptr<IBodyProducer> bodyProducer = nullptr) override;

private:
    Deferred<Response> follow(std::string method, const URI& uri, client::Headers headers,
                              std::shared_ptr<IBodyProducer> body, int redirects);

    IAgent& agent_;
    int redirectLimit_;
};

// The body of `url` fetched with GET through `agent`, redirects followed; a status
// outside 2xx fails with web::Error (its status, phrase and body).
Deferred<std::string> getPage(IAgent& agent, std::string_view url);
// The same through a process-wide RedirectAgent on braid::reactor() (twisted's getPage).
Deferred<std::string> getPage(std::string_view url);

} // namespace braid::web
