#include "file_cache.hpp"

#include <fcntl.h>

#include <deque>
#include <utility>

namespace braid::web::detail {

namespace {

// An entry's cost besides its bytes: its key, the map's node and the queue's copy of it.
constexpr std::size_t entryOverhead = 256;

std::size_t cost(const std::string& relative, std::size_t size) {
    return size + (2 * relative.size()) + entryOverhead;
}

bool sameTime(const struct timespec& a, const struct timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// The same file, unchanged: a rewrite changes the modification time, a rename or a new
// link the change time, a replacement the inode.
bool unchanged(const struct stat& now, const struct stat& then) {
    return S_ISREG(now.st_mode) && now.st_dev == then.st_dev && now.st_ino == then.st_ino &&
           now.st_size == then.st_size && sameTime(now.st_mtim, then.st_mtim) &&
           sameTime(now.st_ctim, then.st_ctim);
}

} // namespace

bool FileCache::takes(const std::string& relative, const struct stat& info, const Limits& limits) {
    const auto size = static_cast<std::size_t>(info.st_size);
    const auto changed = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(info.st_ctim.tv_sec) +
            std::chrono::nanoseconds(info.st_ctim.tv_nsec)));
    return size <= limits.fileSize && cost(relative, size) <= limits.bytes &&
           std::chrono::system_clock::now() - changed >= limits.settled;
}

std::shared_ptr<const CachedFile> FileCache::find(int rootFd, const std::string& relative,
                                                  const Limits& limits) {
    std::shared_ptr<CachedFile> entry;
    const bool timed = limits.checkInterval.count() > 0; // else no clock to read
    const auto now =
        timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    {
        const std::lock_guard lock(mutex_);
        makeRoom(0, limits); // (the limit may have been lowered: 0 lets go of everything)
        auto it = entries_.find(relative);
        if (it == entries_.end()) {
            return nullptr;
        }
        entry = it->second;
        if (timed && now - entry->checked < limits.checkInterval) {
            return entry;
        }
    }
    // The stat goes through symlinks the way the open did. An entry only matches the very
    // file that was opened beneath the root (same device, inode and times), so following a
    // path that now leads elsewhere finds another file, and a miss. (A path that now
    // reaches that same unchanged file by a way the open would refuse, a directory swapped
    // for an absolute link to itself, say, still finds it: the bytes are those the file
    // had inside the root.)
    struct stat info{};
    const bool same =
        ::fstatat(rootFd, relative.c_str(), &info, 0) == 0 && unchanged(info, entry->meta.info);
    const std::lock_guard lock(mutex_);
    if (!same) {
        erase(relative, entry->serial); // (not a newer entry another thread made meanwhile)
        return nullptr;
    }
    entry->checked = now;
    return entry;
}

std::shared_ptr<const CachedFile> FileCache::add(const std::string& relative, FileMeta meta,
                                                 std::string content, const Limits& limits) {
    auto entry = std::make_shared<CachedFile>();
    entry->meta = std::move(meta);
    entry->content = std::move(content);
    entry->checked = std::chrono::steady_clock::now();
    const std::size_t bytes = cost(relative, entry->content.size());
    const std::lock_guard lock(mutex_);
    entry->serial = ++serial_;
    erase(relative);
    makeRoom(bytes, limits);
    bytes_ += bytes;
    entries_.emplace(relative, entry);
    order_.push_back({.relative = relative, .serial = entry->serial});
    return entry;
}

void FileCache::erase(const std::string& relative, std::optional<std::uint64_t> serial) {
    auto it = entries_.find(relative);
    if (it != entries_.end() && (!serial || it->second->serial == *serial)) {
        bytes_ -= cost(relative, it->second->content.size());
        entries_.erase(it); // its record in order_ goes when it comes round
    }
}

void FileCache::makeRoom(std::size_t bytes, const Limits& limits) {
    while (!order_.empty() && bytes_ + bytes > limits.bytes) {
        erase(order_.front().relative, order_.front().serial);
        order_.pop_front();
    }
    // Files that changed left records of their earlier entries: drop them now and then.
    if (order_.size() > (2 * entries_.size()) + 64) {
        std::erase_if(order_, [this](const Added& added) {
            auto it = entries_.find(added.relative);
            return it == entries_.end() || it->second->serial != added.serial;
        });
    }
}

} // namespace braid::web::detail
