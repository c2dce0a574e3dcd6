// web::File's cache of small files: their bytes and metadata in memory, served while the
// file on disk is unchanged (as nginx's open_file_cache, with the bytes too). Checking
// that takes one stat(2) instead of the open, fstat, read and close of a file served from
// disk, or none at all for a file checked within File::cacheCheckInterval. Bounded in
// bytes; the oldest entries go first. Safe to share between threads.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace braid::web::detail {

// What web::File sends of a file besides its bytes: made once for a file kept here.
struct FileMeta {
    struct stat info{};
    std::string etag;
    std::string lastModified; // an HTTP date
};

struct CachedFile {
    FileMeta meta;
    std::string content;                           // the whole file
    std::chrono::steady_clock::time_point checked; // last seen unchanged on disk
    std::uint64_t serial = 0;                      // tells it from earlier entries of its path
};

class FileCache {
public:
    struct Limits {
        std::size_t bytes = 0;    // for all entries; 0: no cache
        std::size_t fileSize = 0; // the largest file kept
        std::chrono::milliseconds checkInterval{0};
        std::chrono::milliseconds settled{0}; // kept only when unchanged for this long
    };

    // The entry for `relative` (under the directory rootFd) if there is one and the file
    // it names is still the one read, with the same size and times; else nothing.
    std::shared_ptr<const CachedFile> find(int rootFd, const std::string& relative,
                                           const Limits& limits);

    // Whether a file would be kept: small enough (alone, with its bookkeeping, within the
    // budget), and unchanged for `settled` (file times come from a coarse clock: a file
    // rewritten with the same size within a tick or so keeps its times, so only an older
    // one is sure to show a later change).
    [[nodiscard]] static bool takes(const std::string& relative, const struct stat& info,
                                    const Limits& limits);

    // Keeps a file that takes() accepted under the same limits (its bytes, the whole file
    // as meta.info describes it), making room for it; returns its entry.
    std::shared_ptr<const CachedFile> add(const std::string& relative, FileMeta meta,
                                          std::string content, const Limits& limits);

private:
    struct Added {
        std::string relative;
        std::uint64_t serial;
    };

    // Removes the entry of `relative`, or only the one with this serial.
    void erase(const std::string& relative, std::optional<std::uint64_t> serial = {});
    void makeRoom(std::size_t bytes, const Limits& limits);

    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<CachedFile>> entries_; // checked: under mutex_
    std::deque<Added> order_; // oldest first; some of them replaced or gone already
    std::size_t bytes_ = 0;
    std::uint64_t serial_ = 0;
};

} // namespace braid::web::detail
