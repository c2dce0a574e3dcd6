#include <braid/web/error_page.hpp>

#include <fmt/format.h>

namespace braid::web {

std::string escapeHtml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#x27;"; break;
        default: out.push_back(c);
        }
    }
    return out;
}

ErrorPage::ErrorPage(int code, std::string brief, std::string detail)
    : code_(code), brief_(std::move(brief)), detail_(std::move(detail)) {}

RenderResult ErrorPage::render(Request& request) {
    request.setResponseCode(code_);
    request.setHeader("Content-Type", "text/html; charset=utf-8");
    return fmt::format("\n<html>\n  <head><title>{0} - {1}</title></head>\n  <body>\n"
                       "    <h1>{1}</h1>\n    <p>{2}</p>\n  </body>\n</html>\n",
                       code_, escapeHtml(brief_), escapeHtml(detail_));
}

std::shared_ptr<Resource> ErrorPage::getChild(const std::string& /*path*/, Request& /*request*/) {
    return shared_from_this();
}

} // namespace braid::web
