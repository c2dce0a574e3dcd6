// web::File: serves a file, or a directory tree, from disk (twisted.web.static.File; C++
// has `static` as a keyword, so the class lives in braid::web). It answers GET and HEAD
// with Content-Type from the extension, Content-Length, Last-Modified and ETag; honours
// If-None-Match / If-Modified-Since (304) and one byte range (206, 416); serves a
// directory's index.html or lists it; and never serves a byte from outside its root.
//
//     auto site = std::make_shared<web::Site>(std::make_shared<web::File>("/srv/www"));
#pragma once

#include <braid/web/resource.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace braid::web {

class File : public Resource {
public:
    // `path`: a directory (served as a tree) or one file. It must exist.
    explicit File(const std::filesystem::path& path);

    // File resolves the rest of the URL path itself, one checked segment at a time.
    [[nodiscard]] bool isLeaf() const override { return true; }
    RenderResult render_GET(Request& request) override;
    [[nodiscard]] std::vector<std::string> allowedMethods() const override;

    // Tried in order in a directory; the first one present is served.
    std::vector<std::string> indexNames{"index.html"};
    // A directory without an index file: an HTML list of its entries, or 404 when false.
    bool allowDirectoryListing = true;
    // Extension (lower case, with the dot) to Content-Type; set more as needed.
    std::map<std::string, std::string> contentTypes;
    // For extensions not in contentTypes. (Twisted's default is text/html; braid does not
    // let an unknown file be read as a page.)
    std::string defaultType = "application/octet-stream";
    // A body up to this size is read and sent with the headers in one write; a larger one
    // streams with sendfile(2) as the connection takes it.
    std::size_t sendfileAbove = std::size_t{64} * 1024;

private:
    RenderResult serveFile(Request& request, const std::filesystem::path& path) const;

    std::filesystem::path root_; // canonical
};

} // namespace braid::web
