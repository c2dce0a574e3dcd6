// web::File: serves a file, or a directory tree, from disk (twisted.web.static.File; C++
// has `static` as a keyword, so the class lives in braid::web). It answers GET and HEAD
// with Content-Type from the extension, Content-Length, Last-Modified and ETag; honours
// If-None-Match / If-Modified-Since (304) and one byte range (206, 416); serves a
// directory's index.html or lists it; and never serves a byte from outside its root.
//
//     auto site = std::make_shared<web::Site>(std::make_shared<web::File>("/srv/www"));
#pragma once

#include <braid/web/resource.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace braid::web {

namespace detail {
class FileCache;
} // namespace detail

class File : public Resource {
public:
    // `path`: a directory (served as a tree) or one file. It must exist (else
    // std::filesystem::filesystem_error). Paths are opened beneath it with openat2(2)'s
    // RESOLVE_BENEATH, so the kernel refuses every way out (Linux 5.6 and later).
    explicit File(const std::filesystem::path& path);
    ~File() override;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    File(File&&) = delete;
    File& operator=(File&&) = delete;

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

    // Files up to cacheFileSize bytes are kept in memory, cacheBytes for all of them at most
    // (the oldest go first), and served from there while unchanged on disk: each request
    // checks that with one stat(2) (the same inode, size and times) instead of opening and
    // reading the file. A file checked less than cacheCheckInterval ago is served without
    // even that (nginx's open_file_cache_valid): a change on disk then shows up to that
    // much later. A file changed less than cacheSettled ago is not kept: file times come
    // from a coarse clock, and a rewrite of the same size within a tick keeps them, so keep
    // cacheSettled at least the file system's tick (2 s on FAT; 0 only in tests). A kept
    // file is sent from memory whatever sendfileAbove says. cacheBytes = 0: no cache.
    std::size_t cacheBytes = std::size_t{16} << 20;
    std::size_t cacheFileSize = std::size_t{64} * 1024;
    std::chrono::milliseconds cacheCheckInterval{0};
    std::chrono::milliseconds cacheSettled{1000};

private:
    std::filesystem::path root_; // the served directory (a file's own directory), canonical
    std::string rootName_;       // "." for a directory; the file's name for one file
    int rootFd_;                 // root_, opened O_PATH
    std::unique_ptr<detail::FileCache> cache_;
};

} // namespace braid::web
