// Seed 001's blocking_input.py: fetches several pages at once with getPage; each
// Deferred reports success or failure as its download completes, in whatever order
// they finish. Stops once every download has ended (the Python version runs forever).
//     ./blocking_input [URL...]   (default: the seed's list, which needs the internet)
#include <braid/deferred.hpp>
#include <braid/reactor.hpp>
#include <braid/web/agent.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

std::map<std::string, std::string> pages;
std::size_t pending = 0;

void requestPage(const std::string& url) {
    auto reportSuccess = [url](std::string result) {
        fmt::print("Successfully downloaded `{}`.\n", url);
        std::fflush(stdout);
        return result;
    };
    auto reportFailure = [url](const braid::Failure& /*failure*/) {
        fmt::print("Failed to download `{}`.\n", url);
        std::fflush(stdout);
        return std::string();
    };
    auto saveResult = [url](std::string result) {
        pages[url] = result;
        return result;
    };
    braid::Deferred<std::string> d = braid::web::getPage(url);
    d.addCallbacks(reportSuccess, reportFailure);
    d.addCallback(saveResult);
    d.addBoth([](const braid::Outcome<std::string>& /*outcome*/) {
        if (--pending == 0) {
            // Later, not now: a bad URL fails before the reactor runs.
            braid::reactor().callLater(0, [] { braid::reactor().stop(); });
        }
        return std::string();
    });
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> urls(argv + 1, argv + argc);
    if (urls.empty()) {
        urls = {"http://www.google.com", "http://www.twitter.com", "http://www.facebook.com",
                "http://www.apple.com",  "http://www.oracle.com",  "a_bad_url"};
    }
    pending = urls.size();
    for (const std::string& url : urls) {
        requestPage(url);
    }
    braid::reactor().run();
}
