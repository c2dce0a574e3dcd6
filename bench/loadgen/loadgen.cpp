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
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("loadgen: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(1);
}

std::uint64_t nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

// --- histogram ---------------------------------------------------------------------------

// Log-bucket histogram of nanoseconds: values below 128 exactly, above that 64 buckets per
// power of two (each bucket at most 1/64 = 1.6% wide). Fixed size, no allocation per value.
class Histogram {
public:
    static constexpr int subBits = 6;
    static constexpr int sub = 1 << subBits; // 64
    static constexpr int buckets = 2 * sub + (63 - subBits) * sub;

    void record(std::uint64_t v) {
        ++counts_[index(v)];
        ++total_;
        sum_ += v;
        max_ = std::max(max_, v);
    }
    void merge(const Histogram& o) {
        for (int i = 0; i < buckets; ++i) {
            counts_[i] += o.counts_[i];
        }
        total_ += o.total_;
        sum_ += o.sum_;
        max_ = std::max(max_, o.max_);
    }
    void reset() { *this = Histogram{}; }
    std::uint64_t total() const { return total_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return total_ != 0 ? double(sum_) / double(total_) : 0.0; }

    // The value at quantile q (0..1): the midpoint of the bucket holding it.
    double quantile(double q) const {
        if (total_ == 0) {
            return 0;
        }
        auto rank = std::uint64_t(q * double(total_));
        if (rank >= total_) {
            rank = total_ - 1;
        }
        std::uint64_t seen = 0;
        for (int i = 0; i < buckets; ++i) {
            seen += counts_[i];
            if (seen > rank) {
                double lo = double(lowest(i));
                double hi = double(lowest(i + 1));
                return std::min((lo + hi - 1) / 2, double(max_));
            }
        }
        return double(max_);
    }

private:
    static int index(std::uint64_t v) {
        if (v < 2 * sub) {
            return int(v);
        }
        int e = 63 - std::countl_zero(v); // >= subBits + 1
        int shift = e - subBits;
        return (e - subBits) * sub + int(v >> shift);
    }
    static std::uint64_t lowest(int i) {
        if (i < 2 * sub) {
            return std::uint64_t(i);
        }
        int e = i / sub + subBits - 1;
        int shift = e - subBits;
        return std::uint64_t(i - (e - subBits) * sub) << shift;
    }

    std::uint64_t counts_[buckets] = {};
    std::uint64_t total_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t max_ = 0;
};

// --- options -----------------------------------------------------------------------------

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    int connections = 50;
    int depth = 16;
    int size = 64;
    double seconds = 10;
    double warmup = 1;
    int threads = 1;
    double connectTimeout = 5;
    int serverPid = 0;
    std::string label;
};

void usage(FILE* out) {
    std::fputs("usage: loadgen --port PORT [options]\n"
               "  --host HOST           server address (default 127.0.0.1)\n"
               "  --port PORT           server port (required)\n"
               "  -c, --connections N   connections (default 50)\n"
               "  -d, --depth D         messages in flight per connection (default 16; 0 = idle)\n"
               "  -s, --size S          message size in bytes (default 64)\n"
               "  -t, --seconds T       measured duration (default 10)\n"
               "  -w, --warmup W        warm-up before measuring, seconds (default 1)\n"
               "  --threads K           client threads, one epoll each (default 1)\n"
               "  --connect-timeout C   seconds to get every connection up (default 5)\n"
               "  --server-pid PID      report PID's CPU time (utime+stime) per message\n"
               "  --label TEXT          name for the human line and the JSON\n",
               out);
}

Options parseOptions(int argc, char** argv) {
    Options o;
    auto need = [&](int& i) -> const char* {
        if (i + 1 >= argc) {
            std::fprintf(stderr, "loadgen: %s needs a value\n", argv[i]);
            usage(stderr);
            std::exit(2);
        }
        return argv[++i];
    };
    auto num = [&](const char* name, const char* s, double lo, double hi) {
        char* end = nullptr;
        double v = std::strtod(s, &end);
        if (end == s || *end != '\0' || v < lo || v > hi) {
            std::fprintf(stderr, "loadgen: %s: '%s' is not a number in [%g, %g]\n", name, s, lo,
                         hi);
            std::exit(2);
        }
        return v;
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--host") {
            o.host = need(i);
        } else if (a == "--port" || a == "-p") {
            o.port = int(num("--port", need(i), 1, 65535));
        } else if (a == "-c" || a == "--connections") {
            o.connections = int(num("--connections", need(i), 1, 1'000'000));
        } else if (a == "-d" || a == "--depth") {
            o.depth = int(num("--depth", need(i), 0, 100'000));
        } else if (a == "-s" || a == "--size") {
            o.size = int(num("--size", need(i), 1, 16 << 20));
        } else if (a == "-t" || a == "--seconds") {
            o.seconds = num("--seconds", need(i), 0.1, 3600);
        } else if (a == "-w" || a == "--warmup") {
            o.warmup = num("--warmup", need(i), 0, 600);
        } else if (a == "--threads") {
            o.threads = int(num("--threads", need(i), 1, 256));
        } else if (a == "--connect-timeout") {
            o.connectTimeout = num("--connect-timeout", need(i), 0.1, 600);
        } else if (a == "--server-pid") {
            o.serverPid = int(num("--server-pid", need(i), 1, 1 << 30));
        } else if (a == "--label") {
            o.label = need(i);
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "loadgen: unknown option '%s'\n", argv[i]);
            usage(stderr);
            std::exit(2);
        }
    }
    if (o.port == 0) {
        std::fputs("loadgen: --port is required\n", stderr);
        usage(stderr);
        std::exit(2);
    }
    o.threads = std::min(o.threads, o.connections);
    return o;
}

// --- process CPU time ----------------------------------------------------------------------

// utime + stime of pid in seconds, from /proc/PID/stat; negative when it cannot be read.
double processCpuSeconds(int pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) {
        return -1;
    }
    char buf[4096];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) {
        return -1;
    }
    unsigned long long utime = 0, stime = 0;
    // After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    // utime(14) stime(15).
    if (std::sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2) {
        return -1;
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// This process's user and system CPU seconds.
struct CpuTimes {
    double user = 0, sys = 0;
};
CpuTimes selfCpu() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return {double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6,
            double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6};
}

// --- connecting --------------------------------------------------------------------------

sockaddr_storage resolve(const Options& o, socklen_t& len) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    std::string port = std::to_string(o.port);
    int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
        die("cannot resolve %s: %s", o.host.c_str(), gai_strerror(rc));
    }
    sockaddr_storage ss{};
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    freeaddrinfo(res);
    return ss;
}

void raiseFdLimit(int needed) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur >= rlim_t(needed)) {
        return;
    }
    if (rl.rlim_max < rlim_t(needed)) {
        rl.rlim_max = rlim_t(needed); // works as root
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < rlim_t(needed)) {
            die("need %d file descriptors, RLIMIT_NOFILE allows %llu (raise it: ulimit -n)", needed,
                (unsigned long long)rl.rlim_cur);
        }
    }
}

// Opens o.connections non-blocking TCP connections, all within o.connectTimeout seconds;
// dies loudly otherwise. TCP_NODELAY on each. At most `inflight` handshakes at a time.
//
// With ping, each new connection also sends one byte and waits for its echo before it
// counts: that proves the server accepted it (a client sees its handshake done as soon as
// the server's kernel answers, before the server calls accept), and with inflight below
// the server's listen backlog the accept queue never overflows, which would otherwise
// leave connections hanging in SYN-RECV for tens of seconds (Twisted's backlog is 50).
std::vector<int> connectAll(const Options& o, int inflight, bool ping) {
    socklen_t alen = 0;
    sockaddr_storage addr = resolve(o, alen);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        die("epoll_create1: %s", std::strerror(errno));
    }
    std::vector<int> fds;
    fds.reserve(size_t(o.connections));
    const std::uint64_t deadline = nowNs() + std::uint64_t(o.connectTimeout * 1e9);
    constexpr std::uint64_t pinging = 1ull << 32; // in epoll data: fd | state
    int pending = 0;
    int started = 0;
    epoll_event evs[256];
    while (int(fds.size()) < o.connections) {
        while (pending < inflight && started < o.connections) {
            int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                die("socket: %s (connection %d)", std::strerror(errno), started + 1);
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(fd, reinterpret_cast<sockaddr*>(&addr), alen) != 0 &&
                errno != EINPROGRESS) {
                die("connect to %s:%d: %s", o.host.c_str(), o.port, std::strerror(errno));
            }
            epoll_event ev{};
            ev.events = EPOLLOUT;
            ev.data.u64 = std::uint64_t(fd);
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            ++pending;
            ++started;
        }
        std::uint64_t now = nowNs();
        if (now >= deadline) {
            die("connect timeout: %zu of %d connections up after %.1f s", fds.size(), o.connections,
                o.connectTimeout);
        }
        int n = epoll_wait(ep, evs, 256, int((deadline - now) / 1'000'000 + 1));
        if (n < 0 && errno != EINTR) {
            die("epoll_wait: %s", std::strerror(errno));
        }
        for (int i = 0; i < n; ++i) {
            int fd = int(evs[i].data.u64 & 0xffffffffu);
            if ((evs[i].data.u64 & pinging) != 0) {
                char c = 0;
                ssize_t r = read(fd, &c, 1);
                if (r < 0 && errno == EAGAIN) {
                    continue;
                }
                if (r != 1 || c != 'p') {
                    die("connection %zu: the server %s", fds.size() + 1,
                        r == 0  ? "closed it before echoing one byte"
                        : r < 0 ? "failed it (read error)"
                                : "echoed a wrong byte");
                }
            } else {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err != 0) {
                    die("connect to %s:%d: %s", o.host.c_str(), o.port, std::strerror(err));
                }
                if (ping) {
                    if (write(fd, "p", 1) != 1) {
                        die("connection %zu: write: %s", fds.size() + 1, std::strerror(errno));
                    }
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.u64 = std::uint64_t(fd) | pinging;
                    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                    continue;
                }
            }
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
            fds.push_back(fd);
            --pending;
        }
    }
    close(ep);
    return fds;
}

// --- the load loop ---------------------------------------------------------------------

// Message k of connection c is pattern[offset(c, k) .. + S): consecutive messages differ,
// and so do connections, so a reply that is misplaced, repeated or from another connection
// does not match. Checking it is a memcmp against the pattern, with nothing stored.
constexpr std::uint64_t patternSpan = 251;

struct Conn {
    int fd = -1;
    std::uint32_t id = 0;
    bool wantOut = false;
    bool badMessage = false;
    std::uint32_t rxOff = 0; // bytes of the current reply received so far
    std::uint64_t sent = 0;  // messages queued
    std::uint64_t recvd = 0; // replies complete
    std::uint32_t outOff = 0, outLen = 0;
    char* out = nullptr;             // D*S bytes: queued, not yet written
    std::uint64_t* stamps = nullptr; // D send times, ring indexed by message number
};

struct Shared {
    Options opt;
    std::vector<char> pattern;
    std::uint64_t measureStart = 0; // ns, CLOCK_MONOTONIC
    std::uint64_t measureEnd = 0;
};

struct WorkerResult {
    Histogram hist;
    std::uint64_t messages = 0;
    std::uint64_t errors = 0;
    std::uint64_t mismatches = 0;
    std::string firstError;
};

class Worker {
public:
    Worker(const Shared& sh, std::vector<int> fds) : sh_(sh), fds_(std::move(fds)) {}

    void run(WorkerResult& res) {
        res_ = &res;
        const Options& o = sh_.opt;
        const size_t S = size_t(o.size), D = size_t(o.depth);
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            die("epoll_create1: %s", std::strerror(errno));
        }
        conns_.resize(fds_.size());
        outMem_ = std::make_unique<char[]>(fds_.size() * S * D);
        stampMem_ = std::make_unique<std::uint64_t[]>(fds_.size() * D);
        rbufSize_ = std::max<size_t>(64 * 1024, std::min<size_t>(S * D, 4 << 20));
        rbuf_ = std::make_unique<char[]>(rbufSize_);
        for (size_t i = 0; i < fds_.size(); ++i) {
            Conn& c = conns_[i];
            c.fd = fds_[i];
            c.id = std::uint32_t(c.fd);
            c.out = outMem_.get() + i * S * D;
            c.stamps = stampMem_.get() + i * D;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
                die("epoll_ctl: %s", std::strerror(errno));
            }
        }
        // Prime every connection with D messages.
        std::uint64_t now = nowNs();
        for (Conn& c : conns_) {
            for (size_t k = 0; k < D; ++k) {
                queue(c, now);
            }
            flush(c);
        }
        std::vector<epoll_event> evs(512);
        bool measuring = false;
        while (true) {
            now = nowNs();
            if (now >= sh_.measureEnd) {
                break;
            }
            if (!measuring && now >= sh_.measureStart) {
                measuring_ = measuring = true;
            }
            std::uint64_t next = measuring ? sh_.measureEnd : sh_.measureStart;
            int timeoutMs = int(std::min<std::uint64_t>((next - now) / 1'000'000 + 1, 100));
            int n = epoll_wait(ep_, evs.data(), int(evs.size()), timeoutMs);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                die("epoll_wait: %s", std::strerror(errno));
            }
            for (int i = 0; i < n; ++i) {
                Conn& c = conns_[evs[i].data.u64];
                if (c.fd < 0) {
                    continue;
                }
                if ((evs[i].events & EPOLLOUT) != 0) {
                    flush(c);
                }
                if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
                    onReadable(c);
                }
            }
        }
        for (Conn& c : conns_) {
            if (c.fd >= 0) {
                close(c.fd);
            }
        }
        close(ep_);
    }

private:
    void fail(Conn& c, const char* what, int err) {
        ++res_->errors;
        if (res_->firstError.empty()) {
            char buf[256];
            std::snprintf(buf, sizeof buf, "connection (fd %u): %s%s%s", c.id, what,
                          err != 0 ? ": " : "", err != 0 ? std::strerror(err) : "");
            res_->firstError = buf;
        }
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
    }

    const char* expected(const Conn& c, std::uint64_t k) const {
        return sh_.pattern.data() + (k + std::uint64_t(c.id) * 7) % patternSpan;
    }

    void queue(Conn& c, std::uint64_t now) {
        const size_t S = size_t(sh_.opt.size);
        if (c.outOff != 0 && c.outLen + S > size_t(sh_.opt.depth) * S) {
            std::memmove(c.out, c.out + c.outOff, c.outLen - c.outOff);
            c.outLen -= c.outOff;
            c.outOff = 0;
        }
        std::memcpy(c.out + c.outLen, expected(c, c.sent), S);
        c.outLen += std::uint32_t(S);
        c.stamps[c.sent % std::uint64_t(sh_.opt.depth)] = now;
        ++c.sent;
    }

    void flush(Conn& c) {
        while (c.outOff < c.outLen) {
            ssize_t w = write(c.fd, c.out + c.outOff, c.outLen - c.outOff);
            if (w < 0) {
                if (errno == EAGAIN) {
                    break;
                }
                if (errno == EINTR) {
                    continue;
                }
                fail(c, "write", errno);
                return;
            }
            c.outOff += std::uint32_t(w);
        }
        if (c.outOff == c.outLen) {
            c.outOff = c.outLen = 0;
        }
        bool want = c.outLen != 0;
        if (want != c.wantOut) {
            c.wantOut = want;
            epoll_event ev{};
            ev.events = EPOLLIN | (want ? std::uint32_t(EPOLLOUT) : 0u);
            ev.data.u64 = std::uint64_t(&c - conns_.data());
            epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        }
    }

    void onReadable(Conn& c) {
        ssize_t n = read(c.fd, rbuf_.get(), rbufSize_);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                return;
            }
            fail(c, n == 0 ? "closed by the server" : "read", n == 0 ? 0 : errno);
            return;
        }
        const std::uint64_t now = nowNs();
        const std::uint32_t S = std::uint32_t(sh_.opt.size);
        const std::uint64_t D = std::uint64_t(sh_.opt.depth);
        const char* p = rbuf_.get();
        size_t left = size_t(n);
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

    const Shared& sh_;
    std::vector<int> fds_;
    std::vector<Conn> conns_;
    std::unique_ptr<char[]> outMem_;
    std::unique_ptr<std::uint64_t[]> stampMem_;
    std::unique_ptr<char[]> rbuf_;
    size_t rbufSize_ = 0;
    WorkerResult* res_ = nullptr;
    bool measuring_ = false;
    int ep_ = -1;
};

void onAlarm(int /*sig*/) {
    static const char msg[] = "loadgen: hard deadline passed, giving up\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

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
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, onAlarm);
    alarm(unsigned(o.connectTimeout + o.warmup + o.seconds + 10));
    raiseFdLimit(o.connections + 64);

    if (o.depth == 0) {
        return runIdle(o);
    }
    if (std::uint64_t(o.size) * std::uint64_t(o.depth) > (64u << 20)) {
        std::fputs("loadgen: depth * size must stay under 64 MiB per connection\n", stderr);
        return 2;
    }

    Shared sh;
    sh.opt = o;
    sh.pattern.resize(size_t(o.size) + patternSpan);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (char& ch : sh.pattern) { // xorshift: bytes that do not repeat with a short period
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ch = char(x >> 56);
    }

    std::vector<int> fds = connectAll(o, 256, false);
    const std::uint64_t t0 = nowNs();
    sh.measureStart = t0 + std::uint64_t(o.warmup * 1e9);
    sh.measureEnd = sh.measureStart + std::uint64_t(o.seconds * 1e9);

    // Connections dealt round-robin to the threads.
    std::vector<std::vector<int>> parts(size_t(o.threads));
    for (size_t i = 0; i < fds.size(); ++i) {
        parts[i % parts.size()].push_back(fds[i]);
    }
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<WorkerResult> results(parts.size());
    for (auto& p : parts) {
        workers.push_back(std::make_unique<Worker>(sh, std::move(p)));
    }
    std::vector<std::thread> threads;
    for (size_t i = 1; i < workers.size(); ++i) {
        threads.emplace_back([&, i] { workers[i]->run(results[i]); });
    }
    // Worker 0 runs on this thread; the CPU samples are taken by a helper thread that
    // sleeps until the window's edges.
    double serverCpu0 = -1, serverCpu1 = -1;
    CpuTimes self0, self1;
    std::thread sampler([&] {
        auto sleepUntil = [](std::uint64_t t) {
            timespec ts{time_t(t / 1'000'000'000u), long(t % 1'000'000'000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            }
        };
        sleepUntil(sh.measureStart);
        self0 = selfCpu();
        if (o.serverPid != 0) {
            serverCpu0 = processCpuSeconds(o.serverPid);
        }
        sleepUntil(sh.measureEnd);
        self1 = selfCpu();
        if (o.serverPid != 0) {
            serverCpu1 = processCpuSeconds(o.serverPid);
        }
    });
    workers[0]->run(results[0]);
    for (auto& t : threads) {
        t.join();
    }
    sampler.join();

    WorkerResult total;
    for (auto& r : results) {
        total.hist.merge(r.hist);
        total.messages += r.messages;
        total.errors += r.errors;
        total.mismatches += r.mismatches;
        if (total.firstError.empty()) {
            total.firstError = r.firstError;
        }
    }
    const double secs = double(sh.measureEnd - sh.measureStart) / 1e9;
    const double rate = double(total.messages) / secs;
    auto us = [&](double q) { return total.hist.quantile(q) / 1e3; };
    const double clientUser = self1.user - self0.user, clientSys = self1.sys - self0.sys;
    const double clientUtil = (clientUser + clientSys) / secs;
    double serverCpu = -1, serverPerMsg = -1, serverUtil = -1;
    if (serverCpu0 >= 0 && serverCpu1 >= 0) {
        serverCpu = serverCpu1 - serverCpu0;
        serverUtil = serverCpu / secs;
        if (total.messages > 0) {
            serverPerMsg = serverCpu / double(total.messages) * 1e6;
        }
    }
    const std::uint64_t errors = total.errors + total.mismatches;

    std::printf("{\"label\":\"%s\",\"connections\":%d,\"depth\":%d,\"size\":%d,\"threads\":%d,"
                "\"seconds\":%.3f,\"messages\":%" PRIu64 ",\"msgs_per_s\":%.1f,"
                "\"bytes_per_s\":%.1f,\"lat_us\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
                "\"p999\":%.2f,\"max\":%.2f,\"mean\":%.2f},\"errors\":%" PRIu64
                ",\"mismatches\":%" PRIu64 ",\"client_cpu_util\":%.3f,\"client_cpu_user_s\":%.3f,"
                "\"client_cpu_sys_s\":%.3f,\"server_cpu_s\":%.3f,"
                "\"server_cpu_util\":%.3f,\"server_cpu_us_per_msg\":%.4f}\n",
                o.label.c_str(), o.connections, o.depth, o.size, o.threads, secs, total.messages,
                rate, rate * o.size * 2, us(0.50), us(0.90), us(0.99), us(0.999),
                double(total.hist.max()) / 1e3, total.hist.mean() / 1e3, errors, total.mismatches,
                clientUtil, clientUser, clientSys, serverCpu, serverUtil, serverPerMsg);
    std::fflush(stdout);
    std::fprintf(stderr,
                 "%s%sN=%d D=%d S=%d: %.0f msg/s  p50 %.1f us  p99 %.1f us  p999 %.1f us  "
                 "errors %" PRIu64 "  client cpu %.0f%%",
                 o.label.c_str(), o.label.empty() ? "" : " ", o.connections, o.depth, o.size, rate,
                 us(0.50), us(0.99), us(0.999), errors, clientUtil * 100);
    if (serverPerMsg >= 0) {
        std::fprintf(stderr, "  server %.3f us/msg (cpu %.0f%%)", serverPerMsg, serverUtil * 100);
    }
    std::fputc('\n', stderr);

    if (errors != 0) {
        std::fprintf(stderr, "loadgen: %" PRIu64 " errors (%" PRIu64 " mismatched replies)%s%s\n",
                     errors, total.mismatches,
                     total.firstError.empty() ? "" : "; first: ", total.firstError.c_str());
        return 1;
    }
    if (total.messages == 0) {
        std::fputs("loadgen: no message came back during the measured window\n", stderr);
        return 1;
    }
    return 0;
}
