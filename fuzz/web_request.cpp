// libFuzzer target: braid::web's request path (llhttp, the HTTP channel, Site traversal and
// rendering) through a connection on a StringTransport.
//
// Oracle: the input is fed once whole and once in pieces whose sizes come from its first
// bytes, each to a fresh Site; the responses must be the same bytes (the channel may not
// depend on how reads are split).
#include "serve_in_pieces.hpp"
#include <braid/task/clock.hpp>
#include <braid/web/resource.hpp>
#include <braid/web/site.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

using braid::web::RenderResult;
using braid::web::Request;

// Says what it was asked, so parsing differences show in the response.
class Echo : public braid::web::Resource {
public:
    RenderResult render_GET(Request& request) override { return describe(request); }
    RenderResult render_POST(Request& request) override { return describe(request); }

private:
    static std::string describe(Request& request) {
        std::string out = fmt::format("{} {} {} [{}]", request.method(), request.uri(),
                                      request.clientproto(), request.content());
        for (const auto& [name, values] : request.args()) {
            out += fmt::format(" {}={}", name, fmt::join(values, ","));
        }
        for (const auto& [name, value] : request.requestHeaders()) {
            out += fmt::format(" {}:{}", name, value);
        }
        return out;
    }
};

// Writes without a length (chunked or close-delimited).
class Streaming : public braid::web::Resource {
public:
    [[nodiscard]] bool isLeaf() const override { return true; }
    RenderResult render_GET(Request& request) override {
        request.write(request.path());
        request.write("!");
        request.finish();
        return braid::web::NOT_DONE_YET;
    }
};

std::string serve(std::string_view input, std::string_view sizes) {
    auto root = std::make_shared<braid::web::Resource>();
    root->putChild("", std::make_shared<Echo>());
    root->putChild("echo", std::make_shared<Echo>());
    root->putChild("stream", std::make_shared<Streaming>());
    braid::web::SiteLimits limits;
    limits.maxUriLength = 256;
    limits.maxHeaderBytes = 1024;
    limits.maxHeaders = 16;
    limits.maxBodySize = 1024;
    limits.maxPipelinedRequests = 4;
    auto site = std::make_shared<braid::web::Site>(root, limits);
    site->wallClock = [] { return 0.0; };
    braid::task::Clock clock;
    return braid::fuzz::serveInPieces(*site, clock, input, sizes);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view all(reinterpret_cast<const char*>(data), size);
    std::string_view sizes = all.substr(0, std::min<std::size_t>(8, all.size()));
    std::string_view input = all.substr(sizes.size());
    if (serve(input, {}) != serve(input, sizes)) {
        std::abort();
    }
    return 0;
}
