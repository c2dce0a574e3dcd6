// Seed 000's "Hello Twisted" as a real web page, served twisted.web's way: a Site whose
// root Resource is a leaf rendering GET (and HEAD) for every path.
//     ./hello_web [port]      (default 8080), then open http://127.0.0.1:8080/
#include <braid/reactor.hpp>
#include <braid/web/resource.hpp>
#include <braid/web/site.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

class Hello : public braid::web::Resource {
public:
    [[nodiscard]] bool isLeaf() const override { return true; }

    braid::web::RenderResult render_GET(braid::web::Request& request) override {
        request.setHeader("Content-Type", "text/plain; charset=utf-8");
        return "Hello Twisted";
    }
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
    auto site = std::make_shared<braid::web::Site>(std::make_shared<Hello>());
    auto listening = braid::reactor().listenTCP(port, site);
    fmt::print("Serving on http://{}/\n", listening->getHost().toString());
    std::fflush(stdout);
    braid::reactor().run();
}
