#include "demo.hpp"

#include "service.hpp"
#include <braid/factory.hpp>
#include <braid/protocols/echo.hpp>
#include <braid/web/site.hpp>
#include <braid/web/static.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace runner {

namespace {

// Where each service listens, for the page: name and description.
using Listing = std::vector<std::pair<std::string, std::string>>;

// The demo's page: a table of the services, filled in by its script from /status.json
// (so a browser that runs it shows the same as the JSON).
class DemoPage final : public braid::web::Resource {
public:
    // "/" (the trailing slash's empty segment) is this page too.
    std::shared_ptr<Resource> getChild(const std::string& path,
                                       braid::web::Request& request) override {
        return path.empty() ? shared_from_this() : Resource::getChild(path, request);
    }

    braid::web::RenderResult render_GET(braid::web::Request& request) override {
        request.setHeader("Content-Type", "text/html; charset=utf-8");
        return R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>braid demo</title></head>
<body>
<h1>braid demo</h1>
<p>Twisted's programming model in C++20. These services run on one reactor:</p>
<table id="services"><tr><th>service</th><th>listening on</th></tr></table>
<p>Try <code>nc localhost 8000</code> (echo) or <code>printf 'stats\r\n' | nc localhost 11211</code>
(memcached). Documentation: <a href="/docs/">docs/</a> (tutorial, Twisted to braid,
runner, memcached, benchmarks).</p>
<script>
fetch("/status.json").then(r => r.json()).then(status => {
  const table = document.getElementById("services");
  for (const service of status.services) {
    const row = table.insertRow();
    row.insertCell().textContent = service.name;
    row.insertCell().textContent = service.listen;
  }
  document.title = "braid demo: " + status.services.length + " services";
});
</script>
</body></html>
)";
    }
};

class Status final : public braid::web::Resource {
public:
    explicit Status(Listing services) : services_(std::move(services)) {}

    braid::web::RenderResult render_GET(braid::web::Request& request) override {
        request.setHeader("Content-Type", "application/json");
        std::string items;
        for (const auto& [name, listen] : services_) {
            items += fmt::format("{}{{\"name\": \"{}\", \"listen\": \"{}\"}}",
                                 items.empty() ? "" : ", ", name, listen);
        }
        return fmt::format("{{\"services\": [{}]}}\n", items);
    }

private:
    Listing services_;
};

std::shared_ptr<braid::web::Resource> demoSite(const Listing& services) {
    auto root = std::make_shared<DemoPage>();
    root->putChild("status.json", std::make_shared<Status>(services));
    std::error_code error;
    if (std::filesystem::is_directory("docs", error)) {
        root->putChild("docs", std::make_shared<braid::web::File>("docs"));
    }
    return root;
}

} // namespace

int demo(const MemcachedCommand& memcached) {
    std::optional<Service> cache = memcached.service();
    if (!cache) {
        return badUsage;
    }
    std::vector<Service> services;
    services.emplace_back("echo", braid::Factory::forProtocol<braid::protocols::Echo>(),
                          std::vector<std::string>{"tcp:8000"});
    services.push_back(std::move(*cache));
    Listing listing;
    for (const Service& service : services) {
        listing.emplace_back(service.name,
                             fmt::format("{}", fmt::join(service.descriptions, ", ")));
    }
    listing.emplace_back("web", "tcp:8080");
    services.emplace_back("web", std::make_shared<braid::web::Site>(demoSite(listing)),
                          std::vector<std::string>{"tcp:8080"});
    fmt::print("braid demo: {} services on one reactor; open http://localhost:8080/ "
               "(Ctrl-C stops them, `braid --help` lists the commands)\n",
               services.size());
    std::fflush(stdout);
    return serve(services);
}

} // namespace runner
