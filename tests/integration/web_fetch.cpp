// Drives braid's web client for test_web_client.py: makes the requests given on the
// command line one after the other through one persistent pool (redirects followed)
// and prints one line per request:
//     <code> <body length> <body, at most 200 bytes, newlines as \n>
//     FAIL <exception type>: <message>
// Usage: web_fetch [--timeout S] METHOD URL BODY [METHOD URL BODY]...   (BODY "-": none)
#include <braid/failure.hpp>
#include <braid/reactor.hpp>
#include <braid/web/agent.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace web = braid::web;

namespace {

struct Request {
    std::string method;
    std::string url;
    std::string body;
};

std::string escape(std::string text) {
    text.resize(std::min<std::size_t>(text.size(), 200));
    std::string out;
    for (char c : text) {
        out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return out;
}

braid::Deferred<void> fetchAll(web::IAgent& agent, std::vector<Request> requests) {
    for (const Request& request : requests) {
        try {
            std::shared_ptr<web::IBodyProducer> body;
            if (request.body != "-") {
                body = std::make_shared<web::StringBodyProducer>(request.body);
            }
            web::Response response = co_await agent.request(request.method, request.url, {}, body);
            std::string content = co_await web::readBody(response);
            fmt::print("{} {} {}\n", response.code, content.size(), escape(content));
        } catch (...) {
            braid::Failure failure = braid::Failure::current();
            fmt::print("FAIL {}: {}\n", failure.typeName(), failure.getErrorMessage());
        }
        std::fflush(stdout);
    }
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    web::AgentOptions options{.connectTimeout = 5, .requestTimeout = 10};
    if (args.size() >= 2 && args[0] == "--timeout") {
        options.requestTimeout = std::atof(args[1].c_str());
        args.erase(args.begin(), args.begin() + 2);
    }
    std::vector<Request> requests;
    for (std::size_t i = 0; i + 3 <= args.size(); i += 3) {
        requests.push_back({args[i], args[i + 1], args[i + 2]});
    }
    braid::Reactor& reactor = braid::reactor();
    auto pool = std::make_shared<web::HTTPConnectionPool>(reactor, true);
    web::Agent agent(reactor, pool, options);
    web::RedirectAgent redirects(agent);
    fetchAll(redirects, std::move(requests)).addBoth([&](const braid::Outcome<void>&) {
        fmt::print("cached {}\n", pool->cachedConnectionCount());
        reactor.callLater(0, [&reactor] { reactor.stop(); });
    });
    reactor.run();
}
