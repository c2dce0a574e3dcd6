#include "file_cache.hpp"
#include "http.hpp"
#include <braid/detail/read_file.hpp>
#include <braid/log.hpp>
#include <braid/web/error_page.hpp>
#include <braid/web/static.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

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

// An open descriptor, closed at the end of its scope.
class OpenFd {
public:
    OpenFd() noexcept = default;
    explicit OpenFd(int fd) noexcept : fd_(fd) {}
    OpenFd(OpenFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    OpenFd& operator=(OpenFd&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    OpenFd(const OpenFd&) = delete;
    OpenFd& operator=(const OpenFd&) = delete;
    ~OpenFd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    [[nodiscard]] int get() const noexcept { return fd_; }

private:
    int fd_ = -1;
};

// Opens `relative` under the directory `rootFd`, the kernel refusing any resolution that
// would leave it: "..", absolute symlinks, symlinks pointing out, /proc's magic links
// (openat2 with RESOLVE_BENEATH, Linux 5.6). O_NONBLOCK: opening a FIFO must not block.
OpenFd openBeneath(int rootFd, const std::string& relative) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (;;) {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): glibc has no openat2 wrapper
        const long fd = ::syscall(SYS_openat2, rootFd, relative.c_str(), &how, sizeof how);
        if (fd >= 0 || errno != EINTR) {
            return OpenFd(static_cast<int>(fd));
        }
    }
}

// What a URL path names under the root: an open file, a directory, or nothing.
struct Target {
    enum class Kind : std::uint8_t { notFound, redirect, file, directory } kind = Kind::notFound;
    std::string relative; // from the root directory
    OpenFd file;          // for Kind::file
    struct stat info{};
};

// A segment that could step outside the directory it is looked up in (after the channel's
// percent-decoding: "%2e%2e", "%2f" and "%5c" arrive here as "..", "/" and "\").
bool unsafe(const std::string& segment) {
    return segment == "." || segment == ".." ||
           segment.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos;
}

// Opens what `relative` names (a file or a directory) under the root; `slash`: the URL
// ended with one.
Target open(int rootFd, std::string relative, bool slash) {
    Target target;
    target.relative = std::move(relative);
    OpenFd fd = openBeneath(rootFd, target.relative);
    if (fd.get() < 0 || ::fstat(fd.get(), &target.info) != 0) {
        return target; // missing, unreadable, or a way out of the root
    }
    if (S_ISDIR(target.info.st_mode)) {
        target.kind = slash ? Target::Kind::directory : Target::Kind::redirect;
    } else if (S_ISREG(target.info.st_mode)) {
        target.kind = Target::Kind::file;
        target.file = std::move(fd);
    }
    return target;
}

// The file name's extension in lower case, as std::filesystem::path::extension() finds it
// (from the last dot; none for a name that only starts with one), without making a path.
std::string lowerExtension(std::string_view path) {
    const std::string_view name = path.substr(path.rfind('/') + 1); // (npos + 1 is 0)
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) {
        return {};
    }
    std::string extension(name.substr(dot));
    std::ranges::transform(extension, extension.begin(),
                           [](char c) { return detail::asciiLower(c); });
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
            return ByteRange{.first = 1, .last = 0};
        }
        return ByteRange{.first = size - std::min(*last, size), .last = size - 1};
    }
    if (dash + 1 < spec.size() && (!last || *last < *first)) {
        return std::nullopt;
    }
    if (*first >= size) {
        return ByteRange{.first = 1, .last = 0};
    }
    return ByteRange{.first = *first, .last = std::min(last.value_or(size - 1), size - 1)};
}

// Streams [offset, end) of an open file to a request with sendfile each time the connection
// asks (a pull producer), and finishes it. Keeps itself alive until then.
class FileSender final : public IPullProducer {
public:
    static void start(const std::shared_ptr<Request>& request, OpenFd file, std::uint64_t offset,
                      std::uint64_t end) {
        auto sender = std::make_shared<FileSender>(request, std::move(file), offset, end);
        sender->self_ = sender;
        request->registerProducer(static_cast<IPullProducer&>(*sender));
    }

    FileSender(std::shared_ptr<Request> request, OpenFd file, std::uint64_t offset,
               std::uint64_t end)
        : request_(std::move(request)), file_(std::move(file)), offset_(offset), end_(end) {}

    void resumeProducing() override {
        auto keep = self_; // finish() unregisters us: stay alive until the end of the call
        try {
            offset_ +=
                request_->writeFile(file_.get(), offset_, static_cast<std::size_t>(end_ - offset_));
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
    OpenFd file_;
    std::uint64_t offset_;
    std::uint64_t end_;
    std::shared_ptr<FileSender> self_;
};

// `length` bytes of the file from `offset` (it shrank: std::system_error, a 500).
std::string readRange(int fd, std::uint64_t offset, std::size_t length) {
    std::string body;
    body.reserve(length);
    while (body.size() < length) {
        body += braid::detail::readFilePiece(fd, offset + body.size(), length - body.size());
    }
    return body;
}

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
    std::ranges::sort(entries);
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

// A directory without its slash: relative links inside it need one.
RenderResult redirectToDirectory(Request& request) {
    std::string location = request.path() + "/";
    if (std::size_t query = request.uri().find('?'); query != std::string::npos) {
        location += request.uri().substr(query);
    }
    request.setResponseCode(301);
    request.setHeader("Location", location);
    return fmt::format("<a href=\"{0}\">{0}</a>\n", escapeHtml(location));
}

// A regular file's bytes: in memory (from the cache), or to be read from its descriptor.
struct FileBytes {
    const std::string* cached = nullptr;
    OpenFd fd;
};

detail::FileMeta metaOf(const struct stat& info) {
    return {.info = info,
            .etag = fmt::format("\"{:x}-{:x}\"", info.st_size,
                                (info.st_mtim.tv_sec * 1'000'000'000) + info.st_mtim.tv_nsec),
            .lastModified = detail::httpDate(static_cast<double>(info.st_mtim.tv_sec))};
}

RenderResult serveFile(const File& file, Request& request, const std::string& relative,
                       const detail::FileMeta& meta, FileBytes bytes) {
    const struct stat& info = meta.info;
    const auto size = static_cast<std::uint64_t>(info.st_size);
    const std::string& etag = meta.etag;
    request.setHeader("ETag", etag);
    request.setHeader("Last-Modified", meta.lastModified);
    request.setHeader("Accept-Ranges", "bytes");
    auto type = file.contentTypes.find(lowerExtension(relative));
    request.setHeader("Content-Type",
                      type != file.contentTypes.end() ? type->second : file.defaultType);
    if (notModified(request, etag, info.st_mtim.tv_sec)) {
        request.setResponseCode(304);
        request.finish();
        return NOT_DONE_YET;
    }
    ByteRange range{.first = 0, .last = size == 0 ? 0 : size - 1};
    if (std::optional<std::string_view> header = request.getHeader("Range"); header && size > 0) {
        if (std::optional<ByteRange> asked = parseRange(*header, size)) {
            if (asked->first > asked->last) {
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
        request.finish();
        return NOT_DONE_YET;
    }
    if (bytes.cached != nullptr) {
        return bytes.cached->substr(range.first, length);
    }
    if (length <= file.sendfileAbove) { // read now, sent with the headers in one write
        return readRange(bytes.fd.get(), range.first, static_cast<std::size_t>(length));
    }
    FileSender::start(request.shared_from_this(), std::move(bytes.fd), range.first,
                      range.first + length);
    return NOT_DONE_YET;
}

detail::FileCache::Limits cacheLimits(const File& file) {
    return {.bytes = file.cacheBytes,
            .fileSize = file.cacheFileSize,
            .checkInterval = file.cacheCheckInterval,
            .settled = file.cacheSettled};
}

// `relative` served from the cache, if it is there and unchanged on disk.
std::optional<RenderResult> serveCached(const File& file, detail::FileCache& cache,
                                        Request& request, int rootFd, const std::string& relative) {
    std::shared_ptr<const detail::CachedFile> entry =
        cache.find(rootFd, relative, cacheLimits(file));
    if (!entry) {
        return std::nullopt;
    }
    return serveFile(file, request, relative, entry->meta, {.cached = &entry->content, .fd = {}});
}

// The whole of a file of `size` bytes, or nothing if it shrank meanwhile (it is then
// served from disk as it is now, not kept).
std::optional<std::string> readWhole(int fd, std::size_t size) {
    try {
        return readRange(fd, 0, size);
    } catch (const std::system_error&) {
        return std::nullopt;
    }
}

// A regular file just opened: kept in the cache if it is small enough, then served.
RenderResult serveOpened(const File& file, detail::FileCache& cache, Request& request,
                         Target target) {
    const detail::FileCache::Limits limits = cacheLimits(file);
    if (detail::FileCache::takes(target.relative, target.info, limits)) {
        const auto size = static_cast<std::size_t>(target.info.st_size);
        if (std::optional<std::string> content = readWhole(target.file.get(), size)) {
            std::shared_ptr<const detail::CachedFile> entry =
                cache.add(target.relative, metaOf(target.info), std::move(*content), limits);
            return serveFile(file, request, target.relative, entry->meta,
                             {.cached = &entry->content, .fd = {}});
        }
    }
    return serveFile(file, request, target.relative, metaOf(target.info),
                     {.cached = nullptr, .fd = std::move(target.file)});
}

// The directory's index file, or a listing of it.
RenderResult serveDirectory(const File& file, detail::FileCache& cache, Request& request,
                            int rootFd, const fs::path& root, const std::string& relative) {
    for (const std::string& name : file.indexNames) {
        const std::string path = fmt::format("{}/{}", relative, name);
        if (std::optional<RenderResult> cached = serveCached(file, cache, request, rootFd, path)) {
            return std::move(*cached);
        }
        Target index = open(rootFd, path, false);
        if (index.kind == Target::Kind::file) {
            return serveOpened(file, cache, request, std::move(index));
        }
    }
    if (!file.allowDirectoryListing) {
        return NoResource().render(request);
    }
    request.setHeader("Content-Type", "text/html; charset=utf-8");
    return listing(request, root / relative);
}

// The directory File opens paths under: `path`, or the directory of the one file it is.
fs::path servedDirectory(const fs::path& path) {
    fs::path real = fs::canonical(path);
    return fs::is_directory(real) ? real : real.parent_path();
}

} // namespace

File::File(const std::filesystem::path& path)
    : contentTypes(usualTypes()),
      root_(servedDirectory(path)),
      rootName_(fs::is_directory(path) ? "." : fs::canonical(path).filename().string()),
      rootFd_(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)), // NOLINT(*-vararg)
      cache_(std::make_unique<detail::FileCache>()) {
    if (rootFd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "web::File: " + root_.string());
    }
}

File::~File() {
    ::close(rootFd_);
}

std::vector<std::string> File::allowedMethods() const {
    return {"GET", "HEAD"};
}

RenderResult File::render_GET(Request& request) {
    const std::vector<std::string>& segments = request.postpath;
    std::string relative = rootName_;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (segments[i].empty() && i + 1 == segments.size()) {
            break; // the trailing slash
        }
        if (segments[i].empty() || unsafe(segments[i])) {
            return NoResource().render(request);
        }
        relative += "/" + segments[i];
    }
    if (std::optional<RenderResult> cached =
            serveCached(*this, *cache_, request, rootFd_, relative)) {
        return std::move(*cached);
    }
    Target target = open(rootFd_, relative, segments.empty() || segments.back().empty());
    switch (target.kind) {
    case Target::Kind::notFound: return NoResource().render(request);
    case Target::Kind::redirect: return redirectToDirectory(request);
    case Target::Kind::directory:
        return serveDirectory(*this, *cache_, request, rootFd_, root_, target.relative);
    case Target::Kind::file: break;
    }
    return serveOpened(*this, *cache_, request, std::move(target));
}

} // namespace braid::web
