#include "http.hpp"
#include <braid/detail/read_file.hpp>
#include <braid/log.hpp>
#include <braid/web/error_page.hpp>
#include <braid/web/static.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <memory>
#include <optional>
#include <system_error>

namespace braid::web {

namespace {

namespace fs = std::filesystem;

const std::map<std::string, std::string>& usualTypes() {
    static const std::map<std::string, std::string> types{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css"},
        {".js", "text/javascript"},
        {".mjs", "text/javascript"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".xml", "application/xml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".pdf", "application/pdf"},
        {".wasm", "application/wasm"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".mp4", "video/mp4"},
        {".zip", "application/zip"},
        {".gz", "application/gzip"},
        {".tar", "application/x-tar"},
    };
    return types;
}

// What a URL path names under the root.
struct Target {
    enum class Kind : std::uint8_t { notFound, redirect, file, directory } kind = Kind::notFound;
    fs::path path;
};

// A segment that could step outside the directory it is looked up in (after the channel's
// percent-decoding: "%2e%2e", "%2f" and "%5c" arrive here as "..", "/" and "\").
bool unsafe(const std::string& segment) {
    return segment == "." || segment == ".." ||
           segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos;
}

bool within(const fs::path& root, const fs::path& path) {
    auto [rootEnd, pathAt] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    return rootEnd == root.end();
}

Target resolve(const fs::path& root, const Request& request) {
    const std::vector<std::string>& segments = request.postpath;
    fs::path path = root;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const bool last = i + 1 == segments.size();
        if (segments[i].empty() && last) {
            break; // the trailing slash
        }
        if (segments[i].empty() || unsafe(segments[i])) {
            return {};
        }
        path /= segments[i];
    }
    std::error_code error;
    fs::path real = fs::canonical(path, error);
    if (error || !within(root, real)) {
        return {}; // missing, or a link out of the root
    }
    fs::file_status status = fs::status(real, error);
    if (fs::is_directory(status)) {
        bool slash = segments.empty() || segments.back().empty();
        return {slash ? Target::Kind::directory : Target::Kind::redirect, real};
    }
    return {fs::is_regular_file(status) ? Target::Kind::file : Target::Kind::notFound, real};
}

std::string lowerExtension(const fs::path& path) {
    std::string extension = path.extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension;
}

std::optional<std::time_t> parseHttpDate(std::string_view text) {
    std::tm tm{};
    std::string copy(text);
    const char* end = ::strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    return ::timegm(&tm);
}

// A single "bytes=first-last" range of a body of `size` bytes: [first, last] inclusive,
// nullopt for no usable range (absent, malformed or several: the whole body is sent), and
// first > last for an unsatisfiable one.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

std::optional<std::uint64_t> number(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<ByteRange> parseRange(std::string_view header, std::uint64_t size) {
    constexpr std::string_view unit = "bytes=";
    if (!header.starts_with(unit) || header.find(',') != std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view spec = header.substr(unit.size());
    std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<std::uint64_t> first = number(spec.substr(0, dash));
    std::optional<std::uint64_t> last = number(spec.substr(dash + 1));
    if (!first) { // "-n": the last n bytes
        if (!last || dash != 0) {
            return std::nullopt;
        }
        if (*last == 0) {
            return ByteRange{1, 0};
        }
        return ByteRange{size - std::min(*last, size), size - 1};
    }
    if (dash + 1 < spec.size() && (!last || *last < *first)) {
        return std::nullopt;
    }
    if (*first >= size) {
        return ByteRange{1, 0};
    }
    return ByteRange{*first, std::min(last.value_or(size - 1), size - 1)};
}

// Streams [offset, end) of an open file to a request each time the connection asks (a
// pull producer), and finishes it. Keeps itself alive until then. A body no larger than
// `small` is read and goes out with the headers in one write; a larger one by sendfile.
class FileSender final : public IPullProducer {
public:
    static void start(const std::shared_ptr<Request>& request, int fd, std::uint64_t offset,
                      std::uint64_t end, std::size_t small) {
        auto sender = std::make_shared<FileSender>(request, fd, offset, end, small);
        sender->self_ = sender;
        request->registerProducer(static_cast<IPullProducer&>(*sender));
    }

    FileSender(std::shared_ptr<Request> request, int fd, std::uint64_t offset, std::uint64_t end,
               std::size_t small)
        : request_(std::move(request)),
          fd_(fd),
          offset_(offset),
          end_(end),
          sendfile_(end - offset > small) {}
    FileSender(const FileSender&) = delete;
    FileSender& operator=(const FileSender&) = delete;
    FileSender(FileSender&&) = delete;
    FileSender& operator=(FileSender&&) = delete;
    ~FileSender() override { ::close(fd_); }

    void resumeProducing() override {
        auto keep = self_; // finish() unregisters us: stay alive until the end of the call
        try {
            offset_ += sendSome();
        } catch (const std::system_error& error) { // the file shrank or cannot be read
            Logger("braid.web")
                .error("Sending {path}: {error}", fmt::arg("path", request_->path()),
                       fmt::arg("error", error.what()));
            done(false);
            return;
        }
        if (offset_ == end_) {
            done(true);
        }
    }

    void stopProducing() override { self_.reset(); }

private:
    std::size_t sendSome() {
        auto left = static_cast<std::size_t>(end_ - offset_);
        if (sendfile_) {
            return request_->writeFile(fd_, offset_, left);
        }
        std::string piece = braid::detail::readFilePiece(fd_, offset_, left);
        request_->write(piece);
        return piece.size();
    }

    // An incomplete response can only end with the connection: the client sees it short.
    void done(bool complete) {
        request_->unregisterProducer();
        if (complete) {
            request_->finish();
        } else {
            request_->loseConnection();
        }
        self_.reset();
    }

    std::shared_ptr<Request> request_;
    int fd_;
    std::uint64_t offset_;
    std::uint64_t end_;
    bool sendfile_;
    std::shared_ptr<FileSender> self_;
};

// A path segment for a link: everything but unreserved characters and '/' escaped.
std::string percentEncode(std::string_view text) {
    std::string out;
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) != 0 ||
            std::string_view("-._~/").find(c) != std::string_view::npos) {
            out.push_back(c);
        } else {
            out += fmt::format("%{:02X}", byte);
        }
    }
    return out;
}

std::string listing(const Request& request, const fs::path& directory) {
    std::vector<std::pair<std::string, bool>> entries;
    std::error_code error;
    for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
        entries.emplace_back(entry.path().filename().string(), entry.is_directory(error));
    }
    std::sort(entries.begin(), entries.end());
    std::string title = escapeHtml("Directory listing for " + request.path());
    std::string page = fmt::format("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                                   "<title>{0}</title></head>\n<body><h1>{0}</h1>\n<ul>\n",
                                   title);
    for (const auto& [name, isDirectory] : entries) {
        std::string shown = name + (isDirectory ? "/" : "");
        page += fmt::format("<li><a href=\"{}\">{}</a></li>\n", escapeHtml(percentEncode(shown)),
                            escapeHtml(shown));
    }
    page += "</ul>\n</body></html>\n";
    return page;
}

// Conditional GET: the client's copy is current (If-None-Match wins over If-Modified-Since).
bool notModified(const Request& request, const std::string& etag, std::time_t modified) {
    if (std::optional<std::string_view> match = request.getHeader("If-None-Match")) {
        return *match == "*" || match->find(etag) != std::string_view::npos;
    }
    if (std::optional<std::string_view> since = request.getHeader("If-Modified-Since")) {
        std::optional<std::time_t> time = parseHttpDate(*since);
        return time && modified <= *time;
    }
    return false;
}

} // namespace

File::File(const std::filesystem::path& path)
    : contentTypes(usualTypes()), root_(fs::canonical(path)) {}

std::vector<std::string> File::allowedMethods() const {
    return {"GET", "HEAD"};
}

RenderResult File::render_GET(Request& request) {
    Target target = resolve(root_, request);
    switch (target.kind) {
    case Target::Kind::notFound: return NoResource().render(request);
    case Target::Kind::redirect: {
        // A directory without its slash: relative links inside it need one.
        std::string location = request.path() + "/";
        if (std::size_t query = request.uri().find('?'); query != std::string::npos) {
            location += request.uri().substr(query);
        }
        request.setResponseCode(301);
        request.setHeader("Location", location);
        return fmt::format("<a href=\"{0}\">{0}</a>\n", escapeHtml(location));
    }
    case Target::Kind::directory: {
        for (const std::string& name : indexNames) {
            std::error_code error;
            if (fs::is_regular_file(target.path / name, error)) {
                target.path /= name;
                target.kind = Target::Kind::file;
                break;
            }
        }
        if (target.kind == Target::Kind::directory) {
            if (!allowDirectoryListing) {
                return NoResource().render(request);
            }
            request.setHeader("Content-Type", "text/html; charset=utf-8");
            return listing(request, target.path);
        }
        break;
    }
    case Target::Kind::file: break;
    }
    return serveFile(request, target.path);
}

RenderResult File::serveFile(Request& request, const std::filesystem::path& path) const {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info{};
    if (fd < 0 || ::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        if (fd >= 0) {
            ::close(fd);
        }
        return NoResource().render(request);
    }
    const auto size = static_cast<std::uint64_t>(info.st_size);
    const std::string etag = fmt::format(
        "\"{:x}-{:x}\"", size, (info.st_mtim.tv_sec * 1'000'000'000) + info.st_mtim.tv_nsec);
    request.setHeader("ETag", etag);
    request.setHeader("Last-Modified", detail::httpDate(static_cast<double>(info.st_mtim.tv_sec)));
    request.setHeader("Accept-Ranges", "bytes");
    auto type = contentTypes.find(lowerExtension(path));
    request.setHeader("Content-Type", type != contentTypes.end() ? type->second : defaultType);
    if (notModified(request, etag, info.st_mtim.tv_sec)) {
        ::close(fd);
        request.setResponseCode(304);
        request.finish();
        return NOT_DONE_YET;
    }
    ByteRange range{0, size == 0 ? 0 : size - 1};
    if (std::optional<std::string_view> header = request.getHeader("Range"); header && size > 0) {
        if (std::optional<ByteRange> asked = parseRange(*header, size)) {
            if (asked->first > asked->last) {
                ::close(fd);
                request.setResponseCode(416);
                request.setHeader("Content-Range", fmt::format("bytes */{}", size));
                return "";
            }
            range = *asked;
            request.setResponseCode(206);
            request.setHeader("Content-Range",
                              fmt::format("bytes {}-{}/{}", range.first, range.last, size));
        }
    }
    const std::uint64_t length = size == 0 ? 0 : range.last - range.first + 1;
    request.setHeader("Content-Length", std::to_string(length));
    if (request.method() == "HEAD" || length == 0) {
        ::close(fd);
        request.finish();
        return NOT_DONE_YET;
    }
    FileSender::start(request.shared_from_this(), fd, range.first, range.first + length,
                      sendfileAbove);
    return NOT_DONE_YET;
}

} // namespace braid::web
