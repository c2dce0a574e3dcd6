// loadgen: echo load generator for braid's echo benchmark (bench/echo_bench.py).
//
// N connections to HOST:PORT, each with D messages of S bytes in flight (closed loop: a
// new message goes out as soon as one comes back). Every reply must be exactly the bytes
// sent; a mismatch counts as an error. After a warm-up, it counts messages for T seconds
// and records each message's latency (from the write that sent it to the arrival of its
// last echoed byte, CLOCK_MONOTONIC) in a log-bucket histogram (HDR-style, ~1.6% bucket
// width, no allocation per message).
//
// Single-threaded epoll client by default (--threads K splits the connections over K
// threads, one epoll each). Level-triggered, one read() per readiness event, one write()
// per event for all the messages it frees: the same system calls per message as the
// epoll_echo baseline server, so it can keep that server busy from another core.
//
// With --depth 0 it only opens the connections and holds them idle for T seconds (the
// idle-connection memory test): each sends one byte and waits for its echo (proof that the
// server accepted it; 32 at a time, below any listen backlog), then stays silent. It
// prints {"connected":N,...} once all are up.
//
// Output: one JSON line on stdout, one human line on stderr. Exit status 0 when all went
// well, 1 on any error (mismatch, connection closed or failed, nothing measured), 2 on a
// usage error, 3 when the hard deadline (connect timeout + warm-up + T + 10 s) passes.
//
// --server-pid PID reads utime+stime of PID from /proc/PID/stat at the start and the end
// of the measured window, and reports the server's CPU time per message.
//
// Built with plain g++ -O2 by bench/Makefile (not the library's CMake).
#include "common.hpp"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace loadgen;

struct Options : CommonOptions {
    int size = 64;
};

Options parseOptions(int argc, char** argv) {
    Options o;
    ArgReader args(argc, argv, o,
                   "  -d, --depth D         messages in flight per connection (default 16; 0 = "
                   "idle)\n"
                   "  -s, --size S          message size in bytes (default 64)\n",
                   "message");
    while (args.next()) {
        std::string a = args.arg();
        if (a == "-d" || a == "--depth") {
            o.depth = int(args.number("--depth", 0, 100'000));
        } else if (a == "-s" || a == "--size") {
            o.size = int(args.number("--size", 1, 16 << 20));
        } else if (!args.parseCommon(o)) {
            args.unknown();
        }
    }
    args.finish(o);
    return o;
}

// --- the load loop ---------------------------------------------------------------------

// Message k of connection c is pattern[offset(c, k) .. + S): consecutive messages differ,
// and so do connections, so a reply that is misplaced, repeated or from another connection
// does not match. Checking it is a memcmp against the pattern, with nothing stored.
struct Conn : ConnBase {
    bool badMessage = false;
    std::uint32_t rxOff = 0;         // bytes of the current reply received so far
    std::uint64_t* stamps = nullptr; // D send times, ring indexed by message number
};

class Worker : public EpollWorker<Worker, Conn> {
public:
    Worker(const Options& o, const std::vector<char>& pattern, const Window& w,
           std::vector<int> fds)
        : EpollWorker(w, std::move(fds)), opt_(o), pattern_(pattern) {}

    void run(WorkerResult& res) {
        const size_t S = size_t(opt_.size), D = size_t(opt_.depth);
        makeConns();
        outMem_ = std::make_unique<char[]>(conns_.size() * S * D);
        stampMem_ = std::make_unique<std::uint64_t[]>(conns_.size() * D);
        rbufSize_ = std::max<size_t>(64 * 1024, std::min<size_t>(S * D, 4 << 20));
        rbuf_ = std::make_unique<char[]>(rbufSize_);
        for (size_t i = 0; i < conns_.size(); ++i) {
            conns_[i].out = outMem_.get() + i * S * D;
            conns_[i].stamps = stampMem_.get() + i * D;
        }
        loop(res);
        closeAll();
    }

    // Primes a connection with D messages.
    void prime(Conn& c, std::uint64_t now) {
        for (int k = 0; k < opt_.depth; ++k) {
            queue(c, now);
        }
    }

    bool finished() const { return false; }

    void onReadable(Conn& c) {
        const size_t n = readSome(c, rbuf_.get(), rbufSize_);
        if (n == 0) {
            return;
        }
        const std::uint64_t now = nowNs();
        const std::uint32_t S = std::uint32_t(opt_.size);
        const std::uint64_t D = std::uint64_t(opt_.depth);
        const char* p = rbuf_.get();
        size_t left = n;
        bool queued = false;
        while (left > 0) {
            if (c.recvd == c.sent) {
                fail(c, "received more bytes than were sent", 0);
                return;
            }
            size_t take = std::min<size_t>(left, S - c.rxOff);
            if (std::memcmp(p, expected(c, c.recvd) + c.rxOff, take) != 0) {
                c.badMessage = true;
            }
            p += take;
            left -= take;
            c.rxOff += std::uint32_t(take);
            if (c.rxOff == S) {
                if (c.badMessage) {
                    ++res_->mismatches;
                    c.badMessage = false;
                }
                if (measuring_) {
                    res_->hist.record(now - c.stamps[c.recvd % D]);
                    ++res_->messages;
                }
                ++c.recvd;
                c.rxOff = 0;
                queue(c, now);
                queued = true;
            }
        }
        if (queued) {
            flush(c);
        }
    }

private:
    const char* expected(const Conn& c, std::uint64_t k) const {
        return pattern_.data() + (k + std::uint64_t(c.id) * 7) % patternSpan;
    }

    void queue(Conn& c, std::uint64_t now) {
        const size_t S = size_t(opt_.size);
        std::memcpy(c.reserve(S, size_t(opt_.depth) * S), expected(c, c.sent), S);
        c.outLen += std::uint32_t(S);
        c.stamps[c.sent % std::uint64_t(opt_.depth)] = now;
        ++c.sent;
    }

    const Options& opt_;
    const std::vector<char>& pattern_;
    std::unique_ptr<char[]> outMem_;
    std::unique_ptr<std::uint64_t[]> stampMem_;
    std::unique_ptr<char[]> rbuf_;
    size_t rbufSize_ = 0;
};

// --depth 0: open the connections (one byte echoed on each), say so, hold them for T
// seconds; fail if any closes.
int runIdle(const Options& o) {
    std::vector<int> fds = connectAll(o, 32, true);
    std::printf("{\"connected\":%zu,\"idle\":true}\n", fds.size());
    std::fflush(stdout);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : fds) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    const std::uint64_t end = nowNs() + std::uint64_t(o.seconds * 1e9);
    int closed = 0;
    epoll_event evs[256];
    for (std::uint64_t now = nowNs(); now < end; now = nowNs()) {
        int n = epoll_wait(ep, evs, 256, int((end - now) / 1'000'000 + 1));
        for (int i = 0; i < n; ++i) {
            epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, nullptr);
            ++closed;
        }
    }
    std::fprintf(stderr, "loadgen: held %zu idle connections for %.1f s, %d closed by the server\n",
                 fds.size(), o.seconds, closed);
    return closed == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    Options o = parseOptions(argc, argv);
    armDeadline(o.connectTimeout + o.warmup + o.seconds + 10);
    raiseFdLimit(o.connections + 64);

    if (o.depth == 0) {
        return runIdle(o);
    }
    if (std::uint64_t(o.size) * std::uint64_t(o.depth) > (64u << 20)) {
        std::fputs("loadgen: depth * size must stay under 64 MiB per connection\n", stderr);
        return 2;
    }
    std::vector<char> pattern = makePattern(size_t(o.size) + patternSpan);

    std::vector<int> fds = connectAll(o, 256, false);
    Window w;
    w.start = nowNs() + std::uint64_t(o.warmup * 1e9);
    w.end = w.start + std::uint64_t(o.seconds * 1e9);
    CpuSamples cpu;
    WorkerResult total = runWorkers(fds, o.threads, w, o.serverPid, cpu, [&](std::vector<int> p) {
        return std::make_unique<Worker>(o, pattern, w, std::move(p));
    });

    const Summary sum(total, w, cpu);
    const std::uint64_t errors = total.errors + total.mismatches;
    std::printf("{\"label\":\"%s\",\"connections\":%d,\"depth\":%d,\"size\":%d,\"threads\":%d,"
                "\"seconds\":%.3f,\"messages\":%" PRIu64 ",\"msgs_per_s\":%.1f,"
                "\"bytes_per_s\":%.1f,",
                o.label.c_str(), o.connections, o.depth, o.size, o.threads, sum.secs,
                total.messages, sum.rate, sum.rate * o.size * 2);
    sum.printLatency(stdout);
    std::printf(",\"errors\":%" PRIu64 ",\"mismatches\":%" PRIu64 ",", errors, total.mismatches);
    sum.printCpu(stdout, "msg");
    std::printf("}\n");
    std::fflush(stdout);
    std::fprintf(stderr,
                 "%s%sN=%d D=%d S=%d: %.0f msg/s  p50 %.1f us  p99 %.1f us  p999 %.1f us  "
                 "errors %" PRIu64,
                 o.label.c_str(), o.label.empty() ? "" : " ", o.connections, o.depth, o.size,
                 sum.rate, sum.us(0.50), sum.us(0.99), sum.us(0.999), errors);
    sum.printCpuHuman(stderr, "msg");
    return finalStatus(total, errors, "message");
}
