// web::File over a real directory tree, through a Site on a StringTransport: types, sizes,
// validators, conditional and range requests, directories, and paths that try to leave
// the root.
#include <braid/task/clock.hpp>
#include <braid/testing/log_capture.hpp>
#include <braid/testing/string_transport.hpp>
#include <braid/web/site.hpp>
#include <braid/web/static.hpp>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

namespace braid::web {
namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path& path, std::string_view content) {
    std::ofstream(path, std::ios::binary) << content;
}

enum class Delivery : std::uint8_t { whole, bytes, random };

// A served tree and, beside it, a file it must never give out. Requests reach the server
// whole, a byte at a time, or in random pieces, as the first parameter says. With the
// second, small files are cached as soon as they are served (the fixture's files are
// newer than File::cacheSettled), so each test's later requests take the cache's path.
class WebStaticTest : public ::testing::TestWithParam<std::tuple<Delivery, bool>> {
protected:
    void SetUp() override {
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::ranges::replace(name, '/', '-'); // "Test/0": one directory, not two
        base_ =
            fs::temp_directory_path() / ("braid-static-" + std::to_string(::getpid()) + "-" + name);
        fs::create_directories(base_ / "root" / "sub");
        fs::create_directories(base_ / "root" / "withindex");
        root_ = base_ / "root";
        writeFile(base_ / "secret", "outside the root");
        writeFile(root_ / "hello.txt", "Hello, world!");
        writeFile(root_ / "page.html", "<p>page</p>");
        writeFile(root_ / "data.bin", "0123456789");
        writeFile(root_ / "sub" / "<a&b>.txt", "escaped");
        writeFile(root_ / "withindex" / "index.html", "<p>index</p>");
        big_.resize(200 * 1024);
        for (std::size_t i = 0; i < big_.size(); ++i) {
            big_[i] = static_cast<char>('a' + (i * 7) % 26);
        }
        writeFile(root_ / "big.txt", big_);
        fs::create_symlink(base_ / "secret", root_ / "link-out");
        site_ = std::make_shared<Site>(makeFile());
    }

    [[nodiscard]] std::shared_ptr<File> makeFile() const {
        auto file = std::make_shared<File>(root_);
        if (std::get<1>(GetParam())) {
            file->cacheSettled = std::chrono::milliseconds(0);
        }
        return file;
    }

    void TearDown() override { fs::remove_all(base_); }

    // One request on a new connection; the whole response, the file streamed to the end.
    std::string get(std::string_view target, std::string_view headers = {},
                    std::string_view method = "GET") {
        testing::StringTransport transport(clock_);
        std::unique_ptr<Protocol> channel = site_->buildProtocol(Address::ipv4("127.0.0.1", 1));
        channel->makeConnection(transport);
        deliver(*channel, std::string(method) + " " + std::string(target) +
                              " HTTP/1.1\r\nHost: test\r\n" + std::string(headers) + "\r\n");
        for (int turns = 0; transport.producer() != nullptr && turns < 1000; ++turns) {
            dynamic_cast<IPullProducer&>(*transport.producer()).resumeProducing();
        }
        channel->connectionLost(Failure(ConnectionDone()));
        return transport.value();
    }

    static void deliver(Protocol& channel, std::string_view request) {
        std::mt19937 random(7);
        const Delivery delivery = std::get<0>(GetParam());
        for (std::size_t at = 0; at < request.size();) {
            std::size_t size = request.size();
            if (delivery == Delivery::bytes) {
                size = 1;
            } else if (delivery == Delivery::random) {
                size = std::uniform_int_distribution<std::size_t>(1, 17)(random);
            }
            channel.dataReceived(request.substr(at, size));
            at += size;
        }
    }

    static std::string body(const std::string& response) {
        std::size_t end = response.find("\r\n\r\n");
        return end == std::string::npos ? std::string() : response.substr(end + 4);
    }

    static std::string header(const std::string& response, std::string_view name) {
        std::string head = response.substr(0, response.find("\r\n\r\n") + 2);
        std::size_t at = head.find("\r\n" + std::string(name) + ": ");
        if (at == std::string::npos) {
            return {};
        }
        at += name.size() + 4;
        return head.substr(at, head.find("\r\n", at) - at);
    }

    task::Clock clock_;
    fs::path base_;
    fs::path root_;
    std::string big_;
    std::shared_ptr<Site> site_;
};

INSTANTIATE_TEST_SUITE_P(DeliveryAndCache, WebStaticTest,
                         ::testing::Combine(::testing::Values(Delivery::whole, Delivery::bytes,
                                                              Delivery::random),
                                            ::testing::Bool()));

TEST_P(WebStaticTest, ServesAFileWithItsTypeLengthAndValidators) {
    std::string response = get("/hello.txt");
    EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
    EXPECT_EQ("Hello, world!", body(response));
    EXPECT_EQ("13", header(response, "Content-Length"));
    EXPECT_EQ("text/plain; charset=utf-8", header(response, "Content-Type"));
    EXPECT_EQ("bytes", header(response, "Accept-Ranges"));
    EXPECT_FALSE(header(response, "ETag").empty());
    EXPECT_TRUE(header(response, "Last-Modified").ends_with(" GMT"));
    EXPECT_EQ("text/html; charset=utf-8", header(get("/page.html"), "Content-Type"));
    EXPECT_EQ("application/octet-stream", header(get("/data.bin"), "Content-Type"));
    // The extension is the file name's last dot on, in any case; a leading dot is none.
    writeFile(root_ / "SHOUT.TXT", "x");
    writeFile(root_ / "site.tar.gz", "x");
    writeFile(root_ / ".html", "x");
    writeFile(root_ / "sub" / "page.v2.HTML", "x");
    EXPECT_EQ("text/plain; charset=utf-8", header(get("/SHOUT.TXT"), "Content-Type"));
    EXPECT_EQ("application/gzip", header(get("/site.tar.gz"), "Content-Type"));
    EXPECT_EQ("application/octet-stream", header(get("/.html"), "Content-Type"));
    EXPECT_EQ("text/html; charset=utf-8", header(get("/sub/page.v2.HTML"), "Content-Type"));
}

TEST_P(WebStaticTest, ALargeFileStreamsWhole) {
    std::string response = get("/big.txt");
    EXPECT_EQ(std::to_string(big_.size()), header(response, "Content-Length"));
    EXPECT_EQ(big_, body(response));
}

// A file that shrinks while it is sent cannot complete its response: the connection ends
// (the client sees the body short of its Content-Length) and the error is logged.
TEST_P(WebStaticTest, AFileThatShrinksWhileSentEndsTheConnection) {
    braid::testing::LogCapture log;
    testing::StringTransport transport(clock_);
    std::unique_ptr<Protocol> channel = site_->buildProtocol(Address::ipv4("127.0.0.1", 1));
    channel->makeConnection(transport);
    deliver(*channel, "GET /big.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    fs::resize_file(root_ / "big.txt", 100);
    for (int turns = 0; transport.producer() != nullptr && turns < 1000; ++turns) {
        dynamic_cast<IPullProducer&>(*transport.producer()).resumeProducing();
    }
    EXPECT_TRUE(transport.disconnecting);
    EXPECT_LT(body(transport.value()).size(), big_.size());
    EXPECT_EQ(log.events().size(), 1U);
    channel->connectionLost(Failure(ConnectionDone()));
}

// Request::writeFile with no Content-Length: the file's bytes are read and sent as chunks.
TEST_P(WebStaticTest, WriteFileWithoutALengthIsChunked) {
    class Whole : public Resource {
    public:
        explicit Whole(fs::path path) : path_(std::move(path)) {}
        [[nodiscard]] bool isLeaf() const override { return true; }
        RenderResult render_GET(Request& request) override {
            int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
            auto size = static_cast<std::size_t>(fs::file_size(path_));
            for (std::size_t at = 0; at < size;) {
                at += request.writeFile(fd, at, size - at);
            }
            ::close(fd);
            request.finish();
            return NOT_DONE_YET;
        }

    private:
        fs::path path_;
    };
    site_ = std::make_shared<Site>(std::make_shared<Whole>(root_ / "big.txt"));
    std::string response = get("/");
    EXPECT_EQ("chunked", header(response, "Transfer-Encoding"));
    std::string chunked = body(response);
    std::string decoded;
    for (std::size_t at = 0;;) {
        std::size_t lineEnd = chunked.find("\r\n", at);
        ASSERT_NE(lineEnd, std::string::npos);
        std::size_t size = std::stoul(chunked.substr(at, lineEnd - at), nullptr, 16);
        if (size == 0) {
            break;
        }
        decoded += chunked.substr(lineEnd + 2, size);
        at = lineEnd + 2 + size + 2;
    }
    EXPECT_EQ(big_, decoded);
}

// A relative link that stays inside the root is followed; a FIFO is not a file to serve
// (and opening it must not block the loop).
TEST_P(WebStaticTest, LinksWithinTheRootAreFollowedAndFifosRefused) {
    fs::create_symlink("../hello.txt", root_ / "sub" / "alias.txt");
    ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0600), 0);
    EXPECT_EQ("Hello, world!", body(get("/sub/alias.txt")));
    EXPECT_TRUE(get("/pipe").starts_with("HTTP/1.1 404 "));
}

TEST_P(WebStaticTest, HeadSendsTheHeadersOnly) {
    std::string response = get("/hello.txt", {}, "HEAD");
    EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n"));
    EXPECT_EQ("13", header(response, "Content-Length"));
    EXPECT_EQ("", body(response));
}

TEST_P(WebStaticTest, ConditionalRequestsGet304) {
    std::string first = get("/hello.txt");
    std::string etag = header(first, "ETag");
    std::string modified = header(first, "Last-Modified");
    std::string byTag = get("/hello.txt", "If-None-Match: " + etag + "\r\n");
    EXPECT_TRUE(byTag.starts_with("HTTP/1.1 304 Not Modified\r\n")) << byTag;
    EXPECT_EQ("", body(byTag));
    EXPECT_EQ("", header(byTag, "Content-Length"));
    std::string byDate = get("/hello.txt", "If-Modified-Since: " + modified + "\r\n");
    EXPECT_TRUE(byDate.starts_with("HTTP/1.1 304")) << byDate;
    std::string otherTag = get("/hello.txt", "If-None-Match: \"other\"\r\n");
    EXPECT_TRUE(otherTag.starts_with("HTTP/1.1 200"));
    std::string older = get("/hello.txt", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
    EXPECT_TRUE(older.starts_with("HTTP/1.1 200"));
}

TEST_P(WebStaticTest, SingleRanges) {
    std::string middle = get("/data.bin", "Range: bytes=2-5\r\n");
    EXPECT_TRUE(middle.starts_with("HTTP/1.1 206 Partial Content\r\n")) << middle;
    EXPECT_EQ("2345", body(middle));
    EXPECT_EQ("bytes 2-5/10", header(middle, "Content-Range"));
    EXPECT_EQ("4", header(middle, "Content-Length"));
    EXPECT_EQ("789", body(get("/data.bin", "Range: bytes=-3\r\n")));
    EXPECT_EQ("6789", body(get("/data.bin", "Range: bytes=6-\r\n")));
    EXPECT_EQ("89", body(get("/data.bin", "Range: bytes=8-100\r\n")));
    std::string beyond = get("/data.bin", "Range: bytes=10-\r\n");
    EXPECT_TRUE(beyond.starts_with("HTTP/1.1 416")) << beyond;
    EXPECT_EQ("bytes */10", header(beyond, "Content-Range"));
    // Several ranges, or nonsense: the whole file.
    EXPECT_EQ("0123456789", body(get("/data.bin", "Range: bytes=0-1,4-5\r\n")));
    EXPECT_EQ("0123456789", body(get("/data.bin", "Range: bytes=5-2\r\n")));
    EXPECT_EQ("0123456789", body(get("/data.bin", "Range: pages=1\r\n")));
}

TEST_P(WebStaticTest, Directories) {
    std::string redirect = get("/sub?x=1");
    EXPECT_TRUE(redirect.starts_with("HTTP/1.1 301")) << redirect;
    EXPECT_EQ("/sub/?x=1", header(redirect, "Location"));
    EXPECT_EQ("<p>index</p>", body(get("/withindex/")));
    std::string listing = get("/sub/");
    EXPECT_TRUE(listing.starts_with("HTTP/1.1 200")) << listing;
    EXPECT_NE(std::string::npos, listing.find("&lt;a&amp;b&gt;.txt"));
    EXPECT_NE(std::string::npos, listing.find("href=\"%3Ca%26b%3E.txt\""));
    EXPECT_EQ(std::string::npos, listing.find("<a&b>"));
    EXPECT_NE(std::string::npos, get("/").find("hello.txt"));
}

TEST_P(WebStaticTest, ListingCanBeTurnedOff) {
    auto file = makeFile();
    file->allowDirectoryListing = false;
    site_ = std::make_shared<Site>(file);
    EXPECT_TRUE(get("/sub/").starts_with("HTTP/1.1 404"));
    EXPECT_TRUE(get("/withindex/").starts_with("HTTP/1.1 200"));
}

TEST_P(WebStaticTest, NeverAByteFromOutsideTheRoot) {
    for (std::string_view target :
         {"/../secret", "/sub/../../secret", "/%2e%2e/secret", "/%2E%2E/secret",
          "/sub/..%2f..%2fsecret", "/sub%2f..%2f..%2fsecret", "/sub%5c..%5c..%5csecret",
          "/..%5csecret", "/link-out", "/missing.txt", "/hello.txt%00.html", "/./hello.txt",
          "//etc/passwd"}) {
        std::string response = get(target);
        EXPECT_TRUE(response.starts_with("HTTP/1.1 404") || response.starts_with("HTTP/1.1 400"))
            << target << ": " << response;
        EXPECT_EQ(std::string::npos, response.find("outside the root")) << target;
    }
}

// The cache (File::cacheBytes and its kin): a file kept in memory is served from there
// while unchanged, and read again once it changes, moves, goes or leaves the root.
class WebStaticCacheTest : public WebStaticTest {
protected:
    std::shared_ptr<File> cachingFile(std::chrono::milliseconds checkInterval) {
        auto file = std::make_shared<File>(root_);
        file->cacheSettled = std::chrono::milliseconds(0);
        file->cacheCheckInterval = checkInterval;
        site_ = std::make_shared<Site>(file);
        return file;
    }

    // Rewritten with a modification time of its own, so that the change shows even within
    // one tick of the file system's clock.
    void rewrite(const fs::path& path, std::string_view content) {
        writeFile(path, content);
        fs::last_write_time(path, fs::file_time_type::clock::now() + std::chrono::hours(++edits_));
    }

private:
    int edits_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Delivery, WebStaticCacheTest,
                         ::testing::Combine(::testing::Values(Delivery::whole),
                                            ::testing::Values(true)));

TEST_P(WebStaticCacheTest, AKeptFileIsServedFromMemoryUntilItIsCheckedAgain) {
    auto file = cachingFile(std::chrono::hours(1));
    EXPECT_EQ("Hello, world!", body(get("/hello.txt")));
    rewrite(root_ / "hello.txt", "Changed!");
    EXPECT_EQ("Hello, world!", body(get("/hello.txt"))) << "not looked at again yet";
    file->cacheCheckInterval = std::chrono::milliseconds(0);
    std::string response = get("/hello.txt");
    EXPECT_EQ("Changed!", body(response));
    EXPECT_EQ("8", header(response, "Content-Length"));
}

TEST_P(WebStaticCacheTest, EveryChangeOnDiskShowsAtTheNextRequest) {
    cachingFile(std::chrono::milliseconds(0));
    EXPECT_EQ("Hello, world!", body(get("/hello.txt")));
    const std::string etag = header(get("/hello.txt"), "ETag");
    rewrite(root_ / "hello.txt", "Hello, earth!"); // the same size
    std::string response = get("/hello.txt");
    EXPECT_EQ("Hello, earth!", body(response));
    EXPECT_NE(etag, header(response, "ETag"));
    fs::rename(root_ / "hello.txt", root_ / "moved.txt");
    writeFile(root_ / "hello.txt", "Another file");
    EXPECT_EQ("Another file", body(get("/hello.txt")));
    fs::remove(root_ / "hello.txt");
    EXPECT_TRUE(get("/hello.txt").starts_with("HTTP/1.1 404"));
    EXPECT_EQ("Hello, earth!", body(get("/moved.txt")));
}

// Changes that keep the size and the modification time: another inode renamed over the
// path, or the same inode rewritten (its change time moves).
TEST_P(WebStaticCacheTest, ChangesThatKeepSizeAndModificationTimeShowToo) {
    cachingFile(std::chrono::milliseconds(0));
    const fs::path path = root_ / "hello.txt";
    EXPECT_EQ("Hello, world!", body(get("/hello.txt")));
    const auto modified = fs::last_write_time(path);
    writeFile(root_ / "other.txt", "Hello, other!");
    fs::last_write_time(root_ / "other.txt", modified);
    fs::rename(root_ / "other.txt", path);
    EXPECT_EQ("Hello, other!", body(get("/hello.txt")));

    struct stat before{};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    struct stat after{};
    for (int tries = 0; tries < 200; ++tries) { // until the file system's clock has moved
        writeFile(path, "Hello, again!");
        fs::last_write_time(path, modified);
        ASSERT_EQ(::stat(path.c_str(), &after), 0);
        if (after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
            after.st_ctim.tv_nsec != before.st_ctim.tv_nsec) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(after.st_ino, before.st_ino);
    ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    EXPECT_EQ("Hello, again!", body(get("/hello.txt")));
}

// With the default cacheSettled a file just written is not kept: a same-size rewrite in
// the same tick of the file system's clock would not show in its times.
TEST_P(WebStaticCacheTest, AFileJustWrittenIsNotKept) {
    auto file = std::make_shared<File>(root_);
    file->cacheCheckInterval = std::chrono::hours(1); // a kept file would not be looked at
    site_ = std::make_shared<Site>(file);
    EXPECT_EQ("Hello, world!", body(get("/hello.txt")));
    writeFile(root_ / "hello.txt", "Hello, later!");
    EXPECT_EQ("Hello, later!", body(get("/hello.txt")));
}

TEST_P(WebStaticCacheTest, AKeptFileReplacedByALinkOutOfTheRootIsRefused) {
    cachingFile(std::chrono::milliseconds(0));
    EXPECT_EQ("Hello, world!", body(get("/hello.txt")));
    fs::remove(root_ / "hello.txt");
    fs::create_symlink(base_ / "secret", root_ / "hello.txt");
    std::string response = get("/hello.txt");
    EXPECT_TRUE(response.starts_with("HTTP/1.1 404")) << response;
    EXPECT_EQ(std::string::npos, response.find("outside the root"));
}

TEST_P(WebStaticCacheTest, TheOldestFilesMakeRoomAndLargeOnesAreNotKept) {
    auto file = cachingFile(std::chrono::hours(1));
    file->cacheBytes = 400; // room for one small file and its bookkeeping
    file->cacheFileSize = 100;
    EXPECT_EQ("Hello, world!", body(get("/hello.txt")));
    EXPECT_EQ("0123456789", body(get("/data.bin"))); // hello.txt makes room for it
    EXPECT_EQ(big_, body(get("/big.txt")));          // too large to keep
    rewrite(root_ / "hello.txt", "Changed!");
    rewrite(root_ / "data.bin", "9876543210");
    rewrite(root_ / "big.txt", "small now");
    EXPECT_EQ("0123456789", body(get("/data.bin"))) << "kept, not looked at again yet";
    EXPECT_EQ("Changed!", body(get("/hello.txt")));
    EXPECT_EQ("small now", body(get("/big.txt")));
    EXPECT_EQ("9876543210", body(get("/data.bin"))); // kept again, in place of big.txt
    rewrite(root_ / "data.bin", "0000000000");
    EXPECT_EQ("9876543210", body(get("/data.bin"))) << "kept";
    file->cacheBytes = 0; // no cache: everything from disk
    EXPECT_EQ("0000000000", body(get("/data.bin")));
    file->cacheBytes = 100; // less than one file with its bookkeeping: served, not kept
    EXPECT_EQ("0000000000", body(get("/data.bin")));
    rewrite(root_ / "data.bin", "1111111111");
    EXPECT_EQ("1111111111", body(get("/data.bin")));
}

// One File (and its cache) shared by sites on two threads while the file changes under
// them: every response is one version of the file, whole. (Run under TSan by ./dev test.)
class WebStaticThreadTest : public WebStaticCacheTest {};

INSTANTIATE_TEST_SUITE_P(Delivery, WebStaticThreadTest,
                         ::testing::Combine(::testing::Values(Delivery::whole),
                                            ::testing::Values(true)));

TEST_P(WebStaticThreadTest, ThreadsSharingAFileSeeWholeVersionsOfIt) {
    auto file = std::make_shared<File>(root_);
    file->cacheSettled = std::chrono::milliseconds(0);
    const std::vector<std::string> versions = {"Hello, world!", "A longer version of it."};
    std::atomic<int> finished{0};
    std::atomic<int> wrong{0};
    auto reader = [&] {
        task::Clock clock;
        auto site = std::make_shared<Site>(file);
        for (int i = 0; i < 300; ++i) {
            testing::StringTransport transport(clock);
            std::unique_ptr<Protocol> channel = site->buildProtocol(Address::ipv4("127.0.0.1", 1));
            channel->makeConnection(transport);
            channel->dataReceived("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
            const std::string response = transport.value();
            const std::string got = body(response);
            if (std::ranges::find(versions, got) == versions.end() ||
                header(response, "Content-Length") != std::to_string(got.size())) {
                ++wrong;
            }
            channel->connectionLost(Failure(ConnectionDone()));
        }
        ++finished;
    };
    std::thread first(reader);
    std::thread second(reader);
    for (int i = 0; finished < 2 && i < 100'000; ++i) {
        // Written beside and renamed over: readers see one file or the other, never half.
        const fs::path next = root_ / "next.txt";
        rewrite(next, versions[static_cast<std::size_t>(i) % 2]);
        fs::rename(next, root_ / "hello.txt");
    }
    first.join();
    second.join();
    EXPECT_EQ(wrong, 0);
}

} // namespace
} // namespace braid::web
