#include "connection.hpp"
#include <braid/reactor.hpp>
#include <braid/web/agent.hpp>

namespace braid::web {

Agent::Agent(IReactorTCP& reactor, IReactorTime& clock, std::shared_ptr<HTTPConnectionPool> pool,
             AgentOptions options)
    : clock_(clock),
      pool_(pool ? std::move(pool) : std::make_shared<HTTPConnectionPool>(reactor, false)),
      options_(options) {}

Deferred<Response> Agent::request(std::string_view method, std::string_view uri,
                                  client::Headers headers,
                                  std::shared_ptr<IBodyProducer> bodyProducer) {
    client::RequestSpec spec;
    try {
        spec.uri = URI::fromBytes(uri);
    } catch (const InvalidURI&) {
        return fail<Response>(Failure::current());
    }
    if (spec.uri.scheme == "https") {
        return fail<Response>(SchemeNotSupported("https: TLS not supported yet"));
    }
    if (spec.uri.scheme != "http") {
        return fail<Response>(SchemeNotSupported("unsupported scheme: " + spec.uri.scheme));
    }
    spec.method = std::string(method);
    spec.headers = std::move(headers);
    spec.body = std::move(bodyProducer);
    spec.persistent = pool_->persistent();
    if (options_.requestTimeout > 0) {
        spec.deadline = clock_.seconds() + options_.requestTimeout;
    }
    return send(pool_, clock_, options_, std::move(spec), true);
}

namespace {

bool idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
           method == "DELETE" || method == "TRACE";
}

} // namespace

// Sends `spec` on a connection from `pool`. A kept-alive connection may have been closed
// by the server just as it was reused: an idempotent request that got no answer on one is
// tried once more (Twisted's _RetryingHTTP11ClientProtocol).
Deferred<Response> Agent::send(const std::shared_ptr<HTTPConnectionPool>& pool, IReactorTime& clock,
                               AgentOptions options, client::RequestSpec spec, bool mayRetry) {
    Deferred<client::HTTP11ClientProtocol*> connecting =
        pool->getConnection(spec.uri.host, spec.uri.port, options.connectTimeout);
    if (spec.deadline) {
        connecting.addTimeout(*spec.deadline - clock.seconds(), clock);
    }
    return connecting.addCallback(
        [pool, &clock, options, spec = std::move(spec), mayRetry](client::HTTP11ClientProtocol* c) {
            bool retry = mayRetry && c->requestCount() > 0 && idempotent(spec.method);
            Deferred<Response> response = c->request(spec);
            if (retry) {
                response.addErrback([pool, &clock, options, spec](const Failure& reason) {
                    reason.trap<ResponseNeverReceived>();
                    return send(pool, clock, options, spec, false);
                });
            }
            return response;
        });
}

namespace {

bool isRedirect(int code) {
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

// Reads and drops a body, so that its connection can go back to the pool.
void discardBody(const Response& response) {
    readBody(response).addErrback([](const Failure&) { return std::string(); });
}

} // namespace

Deferred<Response> RedirectAgent::request(std::string_view method, std::string_view uri,
                                          client::Headers headers,
                                          std::shared_ptr<IBodyProducer> bodyProducer) {
    URI parsed;
    try {
        parsed = URI::fromBytes(uri);
    } catch (const InvalidURI&) {
        return fail<Response>(Failure::current());
    }
    return follow(std::string(method), parsed, std::move(headers), std::move(bodyProducer), 0);
}

Deferred<Response> RedirectAgent::follow(std::string method, const URI& uri,
                                         client::Headers headers,
                                         std::shared_ptr<IBodyProducer> body, int redirects) {
    Deferred<Response> response = agent_.request(method, uri.toString(), headers, body);
    return response.addCallback(
        [this, method, uri, headers, body, redirects](Response r) mutable -> Deferred<Response> {
            if (!isRedirect(r.code)) {
                return succeed(std::move(r));
            }
            std::optional<std::string> location = r.headers.getFirst("Location");
            discardBody(r);
            if (!location) {
                return fail<Response>(RedirectWithNoLocation(
                    std::to_string(r.code) + " redirect without Location from " + uri.toString()));
            }
            if (redirects >= redirectLimit_) {
                return fail<Response>(InfiniteRedirection("more than " +
                                                          std::to_string(redirectLimit_) +
                                                          " redirects from " + uri.toString()));
            }
            URI next;
            try {
                next = uri.resolve(*location);
            } catch (const InvalidURI&) {
                return fail<Response>(Failure::current());
            }
            if (r.code == 303 || ((r.code == 301 || r.code == 302) && method == "POST")) {
                method = method == "HEAD" ? "HEAD" : "GET";
                body.reset();
                headers.removeHeader("Content-Type");
            }
            if (!next.sameOrigin(uri)) {
                for (const char* name : {"Authorization", "Cookie", "Proxy-Authorization"}) {
                    headers.removeHeader(name);
                }
            }
            headers.removeHeader("Host");
            return follow(method, next, headers, body, redirects + 1);
        });
}

Deferred<std::string> getPage(IAgent& agent, std::string_view url) {
    return agent.request("GET", url).addCallback([](const Response& r) -> Deferred<std::string> {
        if (r.code >= 200 && r.code < 300) {
            return readBody(r);
        }
        return readBody(r).addCallback([r](std::string body) -> std::string {
            throw Error(r.code, r.phrase, std::move(body));
        });
    });
}

Deferred<std::string> getPage(std::string_view url) {
    static Agent agent(reactor());
    static RedirectAgent redirects(agent);
    return getPage(redirects, url);
}

} // namespace braid::web
