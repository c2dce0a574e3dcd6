// Resource: a node of a site's URL tree that renders requests
// (twisted.web.resource.Resource). render() dispatches to render_GET, render_POST...;
// a render method answers with a body, or says it will answer later (NOT_DONE_YET, then
// request.write()/finish()), or returns a Deferred<std::string> (a coroutine, say).
#pragma once

#include <braid/deferred.hpp>
#include <braid/web/request.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace braid::web {

// The render result that means "I will write and finish the request myself".
struct NotDoneYet {};
inline constexpr NotDoneYet NOT_DONE_YET{};

// What a render method returns: the whole body, NOT_DONE_YET, or a body to come.
class RenderResult {
public:
    RenderResult(std::string body) : value_(std::move(body)) {}   // NOLINT: implicit on purpose
    RenderResult(const char* body) : value_(std::string(body)) {} // NOLINT
    RenderResult(NotDoneYet notDone) : value_(notDone) {}         // NOLINT
    RenderResult(Deferred<std::string> body) : value_(std::move(body)) {} // NOLINT

    [[nodiscard]] std::variant<std::string, NotDoneYet, Deferred<std::string>>& value() noexcept {
        return value_;
    }

private:
    std::variant<std::string, NotDoneYet, Deferred<std::string>> value_;
};

class Resource : public std::enable_shared_from_this<Resource> {
public:
    Resource() = default;
    Resource(const Resource&) = delete;
    Resource& operator=(const Resource&) = delete;
    Resource(Resource&&) = delete;
    Resource& operator=(Resource&&) = delete;
    virtual ~Resource() = default;

    // A leaf renders every path below it itself (traversal stops there).
    [[nodiscard]] virtual bool isLeaf() const { return false; }

    // A static child: the resource for path segment `path` ("" is the trailing slash).
    void putChild(std::string path, std::shared_ptr<Resource> child);
    // A child put with putChild(), else getChild().
    std::shared_ptr<Resource> getChildWithDefault(const std::string& path, Request& request);
    // Dynamic children; the default is a 404 (NoResource).
    virtual std::shared_ptr<Resource> getChild(const std::string& path, Request& request);

    // Dispatches on request.method(): GET, HEAD (render_GET unless overridden), POST, PUT,
    // DELETE, PATCH, OPTIONS; any other method, or one whose render_X is not overridden,
    // gets 405 with an Allow header listing allowedMethods().
    virtual RenderResult render(Request& request);
    // NOLINTBEGIN(readability-identifier-naming): Twisted's names
    virtual RenderResult render_GET(Request& request);
    virtual RenderResult render_HEAD(Request& request);
    virtual RenderResult render_POST(Request& request);
    virtual RenderResult render_PUT(Request& request);
    virtual RenderResult render_DELETE(Request& request);
    virtual RenderResult render_PATCH(Request& request);
    virtual RenderResult render_OPTIONS(Request& request);
    // NOLINTEND(readability-identifier-naming)
    // The methods this resource renders, for Allow (C++ cannot see which render_X are
    // overridden): GET and HEAD unless overridden.
    [[nodiscard]] virtual std::vector<std::string> allowedMethods() const;

private:
    std::map<std::string, std::shared_ptr<Resource>, std::less<>> children_;
};

} // namespace braid::web
