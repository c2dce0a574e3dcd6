// A twisted.web Resource tree: static children, a dynamic child, a form that reads the
// request's args, a page rendered by a coroutine and one streamed with NOT_DONE_YET.
//     ./web_tree [port]      (default 8080), then open http://127.0.0.1:8080/
//
//     /             links to the rest
//     /hello?name=  "Hello, <name>!" (escaped)
//     /users/<id>   a dynamic child per id (getChild)
//     /slow         a coroutine that waits half a second before answering
//     /count        0 to 9, one line every 0.1 s (chunked; stops if the client goes away)
#include <braid/reactor.hpp>
#include <braid/task.hpp>
#include <braid/web/error_page.hpp>
#include <braid/web/resource.hpp>
#include <braid/web/site.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace web = braid::web;

class Index : public web::Resource {
public:
    web::RenderResult render_GET(web::Request& /*request*/) override {
        return "<html><body><h1>braid::web</h1><ul>"
               "<li><a href=\"/hello?name=Twisted\">/hello?name=Twisted</a></li>"
               "<li><a href=\"/users/42\">/users/42</a></li>"
               "<li><a href=\"/slow\">/slow</a> (a coroutine)</li>"
               "<li><a href=\"/count\">/count</a> (streamed)</li></ul></body></html>";
    }
};

class Hello : public web::Resource {
public:
    web::RenderResult render_GET(web::Request& request) override {
        return fmt::format("<p>Hello, {}!</p>",
                           web::escapeHtml(request.getArg("name").value_or("stranger")));
    }
};

class User : public web::Resource {
public:
    explicit User(std::string id) : id_(std::move(id)) {}
    [[nodiscard]] bool isLeaf() const override { return true; }
    web::RenderResult render_GET(web::Request& /*request*/) override {
        return fmt::format("<p>User {}</p>", web::escapeHtml(id_));
    }

private:
    std::string id_;
};

class Users : public web::Resource {
public:
    std::shared_ptr<web::Resource> getChild(const std::string& path,
                                            web::Request& request) override {
        if (path.empty()) {
            return web::Resource::getChild(path, request); // 404
        }
        return std::make_shared<User>(path);
    }
};

// render_GET hands back the Deferred of a coroutine (Twisted's ensureDeferred).
class Slow : public web::Resource {
public:
    web::RenderResult render_GET(web::Request& request) override { return page(request.uri()); }

private:
    static braid::Deferred<std::string> page(std::string uri) {
        co_await braid::task::deferLater(braid::reactor(), 0.5, [] {});
        co_return fmt::format("<p>{} took its time.</p>", web::escapeHtml(uri));
    }
};

// Writes a line every 0.1 s and finishes after ten; notifyFinish() stops it early.
class Count : public web::Resource {
public:
    web::RenderResult render_GET(web::Request& request) override {
        request.setHeader("Content-Type", "text/plain; charset=utf-8");
        auto state = std::make_shared<Counter>();
        state->request = request.shared_from_this();
        request.notifyFinish().addErrback([state](const braid::Failure&) {
            if (state->call.active()) {
                state->call.cancel();
            }
        });
        tick(state);
        return web::NOT_DONE_YET;
    }

private:
    struct Counter {
        std::shared_ptr<web::Request> request;
        int next = 0;
        braid::DelayedCall call;
    };

    static void tick(const std::shared_ptr<Counter>& state) {
        state->request->write(fmt::format("{}\n", state->next++));
        if (state->next == 10) {
            state->request->finish();
            return;
        }
        state->call = braid::reactor().callLater(0.1, [state] { tick(state); });
    }
};

int main(int argc, char** argv) {
    auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
    auto root = std::make_shared<web::Resource>();
    root->putChild("", std::make_shared<Index>());
    root->putChild("hello", std::make_shared<Hello>());
    root->putChild("users", std::make_shared<Users>());
    root->putChild("slow", std::make_shared<Slow>());
    root->putChild("count", std::make_shared<Count>());
    auto listening = braid::reactor().listenTCP(port, std::make_shared<web::Site>(root));
    fmt::print("Serving on http://{}/\n", listening->getHost().toString());
    std::fflush(stdout);
    braid::reactor().run();
}
