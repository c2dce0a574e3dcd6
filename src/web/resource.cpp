#include <braid/web/error_page.hpp>
#include <braid/web/resource.hpp>

#include <fmt/format.h>

#include <string_view>

namespace braid::web {

namespace {

// What a render_X that is not overridden returns (405, with Allow).
RenderResult notAllowed(const Resource& resource, Request& request) {
    std::vector<std::string> allowed = resource.allowedMethods();
    request.setHeader("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
    return ErrorPage(405, "Method Not Allowed",
                     fmt::format("Your browser approached me (at {}) with the method \"{}\". "
                                 "I only allow the method{} {} here.",
                                 request.uri(), request.method(), allowed.size() == 1 ? "" : "s",
                                 fmt::join(allowed, ", ")))
        .render(request);
}

} // namespace

void Resource::putChild(std::string path, std::shared_ptr<Resource> child) {
    children_[std::move(path)] = std::move(child);
}

std::shared_ptr<Resource> Resource::getChildWithDefault(const std::string& path, Request& request) {
    auto it = children_.find(path);
    return it != children_.end() ? it->second : getChild(path, request);
}

std::shared_ptr<Resource> Resource::getChild(const std::string& /*path*/, Request& /*request*/) {
    return std::make_shared<NoResource>();
}

RenderResult Resource::render(Request& request) {
    const std::string& method = request.method();
    if (method == "GET") {
        return render_GET(request);
    }
    if (method == "HEAD") {
        return render_HEAD(request);
    }
    if (method == "POST") {
        return render_POST(request);
    }
    if (method == "PUT") {
        return render_PUT(request);
    }
    if (method == "DELETE") {
        return render_DELETE(request);
    }
    if (method == "PATCH") {
        return render_PATCH(request);
    }
    if (method == "OPTIONS") {
        return render_OPTIONS(request);
    }
    return notAllowed(*this, request);
}

RenderResult Resource::render_GET(Request& request) {
    return notAllowed(*this, request);
}
RenderResult Resource::render_HEAD(Request& request) {
    return render_GET(request);
}
RenderResult Resource::render_POST(Request& request) {
    return notAllowed(*this, request);
}
RenderResult Resource::render_PUT(Request& request) {
    return notAllowed(*this, request);
}
RenderResult Resource::render_DELETE(Request& request) {
    return notAllowed(*this, request);
}
RenderResult Resource::render_PATCH(Request& request) {
    return notAllowed(*this, request);
}
RenderResult Resource::render_OPTIONS(Request& request) {
    return notAllowed(*this, request);
}

std::vector<std::string> Resource::allowedMethods() const {
    return {"GET", "HEAD"};
}

} // namespace braid::web
