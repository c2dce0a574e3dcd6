// ErrorPage and NoResource (twisted.web.resource): resources that answer every request
// with an error status and a small HTML page saying what went wrong.
#pragma once

#include <braid/web/resource.hpp>

#include <string>

namespace braid::web {

class ErrorPage : public Resource {
public:
    ErrorPage(int code, std::string brief, std::string detail);

    [[nodiscard]] bool isLeaf() const override { return true; }
    // Every method gets the page.
    RenderResult render(Request& request) override;
    std::shared_ptr<Resource> getChild(const std::string& path, Request& request) override;

private:
    int code_;
    std::string brief_;
    std::string detail_;
};

// 404 Not Found.
class NoResource : public ErrorPage {
public:
    explicit NoResource(std::string message = "Sorry. No luck finding that resource.")
        : ErrorPage(404, "No Such Resource", std::move(message)) {}
};

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string escapeHtml(std::string_view text);

} // namespace braid::web
