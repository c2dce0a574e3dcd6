// common.hpp: what braid's load generators share (bench/loadgen/loadgen.cpp, the echo load
// generator, and bench/loadgen/mcload.cpp, the memcached one): error exits, the latency
// histogram, option parsing, /proc CPU accounting, connecting many sockets, the epoll loop
// that keeps requests in flight on them, the measured window and the summary it prints.
//
// Header-only, built with plain g++ -O2 by bench/Makefile (not the library's CMake).
#pragma once

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

namespace loadgen {

// The program's name, for messages ("loadgen", "mcload").
inline const char* programName = "loadgen";

[[noreturn]] inline void die(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "%s: ", programName);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::exit(1);
}

inline std::uint64_t nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

// Bytes that do not repeat with a short period (xorshift), for payloads a reply is checked
// against.
inline std::vector<char> makePattern(size_t n) {
    std::vector<char> pattern(n);
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    for (char& ch : pattern) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ch = char(x >> 56);
    }
    return pattern;
}

// Offsets into a pattern repeat with this period.
constexpr std::uint64_t patternSpan = 251;

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

// The options every load generator takes; each program sets its own defaults first.
struct CommonOptions {
    std::string host = "127.0.0.1";
    int port = 0;
    int connections = 50;
    int depth = 16;
    double seconds = 10;
    double warmup = 1;
    int threads = 1;
    double connectTimeout = 5;
    int serverPid = 0;
    std::string label;
};

// Prints the usage text: the common options around the program's own lines (`specific`,
// which go after --connections), with the common defaults filled in.
// `unit` names what the server's CPU time is divided by ("message", "operation").
inline void printUsage(FILE* out, const CommonOptions& d, const char* specific, const char* unit) {
    std::fprintf(out,
                 "usage: %s --port PORT [options]\n"
                 "  --host HOST           server address (default %s)\n"
                 "  --port PORT           server port (required)\n"
                 "  -c, --connections N   connections (default %d)\n"
                 "%s"
                 "  -t, --seconds T       measured duration (default %g)\n"
                 "  -w, --warmup W        warm-up before measuring, seconds (default %g)\n"
                 "  --threads K           client threads, one epoll each (default %d)\n"
                 "  --connect-timeout C   seconds to get every connection up (default %g)\n"
                 "  --server-pid PID      report PID's CPU time (utime+stime) per %s\n"
                 "  --label TEXT          name for the human line and the JSON\n",
                 programName, d.host.c_str(), d.connections, specific, d.seconds, d.warmup,
                 d.threads, d.connectTimeout, unit);
}

// Walks argv: each program asks it for the value of its own options, and hands it the
// common ones (parseCommon). Usage errors exit with status 2.
class ArgReader {
public:
    ArgReader(int argc, char** argv, const CommonOptions& defaults, const char* specificUsage,
              const char* unit)
        : argc_(argc), argv_(argv), defaults_(defaults), specific_(specificUsage), unit_(unit) {}

    bool next() { return ++i_ < argc_; }
    std::string arg() const { return argv_[i_]; }

    const char* value() {
        if (i_ + 1 >= argc_) {
            std::fprintf(stderr, "%s: %s needs a value\n", programName, argv_[i_]);
            usage(stderr);
            std::exit(2);
        }
        return argv_[++i_];
    }
    // The option's value as a number in [lo, hi].
    double number(const char* name, double lo, double hi) {
        const char* s = value();
        char* end = nullptr;
        double v = std::strtod(s, &end);
        if (end == s || *end != '\0' || v < lo || v > hi) {
            std::fprintf(stderr, "%s: %s: '%s' is not a number in [%g, %g]\n", programName, name, s,
                         lo, hi);
            std::exit(2);
        }
        return v;
    }

    // Takes the current argument if it is a common option; false if it is not one.
    bool parseCommon(CommonOptions& o) {
        std::string a = arg();
        if (a == "--host") {
            o.host = value();
        } else if (a == "--port" || a == "-p") {
            o.port = int(number("--port", 1, 65535));
        } else if (a == "-c" || a == "--connections") {
            o.connections = int(number("--connections", 1, 1'000'000));
        } else if (a == "-t" || a == "--seconds") {
            o.seconds = number("--seconds", 0.1, 3600);
        } else if (a == "-w" || a == "--warmup") {
            o.warmup = number("--warmup", 0, 600);
        } else if (a == "--threads") {
            o.threads = int(number("--threads", 1, 256));
        } else if (a == "--connect-timeout") {
            o.connectTimeout = number("--connect-timeout", 0.1, 600);
        } else if (a == "--server-pid") {
            o.serverPid = int(number("--server-pid", 1, 1 << 30));
        } else if (a == "--label") {
            o.label = value();
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        } else {
            return false;
        }
        return true;
    }

    [[noreturn]] void unknown() {
        std::fprintf(stderr, "%s: unknown option '%s'\n", programName, argv_[i_]);
        usage(stderr);
        std::exit(2);
    }

    // Checks what every program needs once all arguments are read.
    void finish(CommonOptions& o) {
        if (o.port == 0) {
            std::fprintf(stderr, "%s: --port is required\n", programName);
            usage(stderr);
            std::exit(2);
        }
        o.threads = std::min(o.threads, o.connections);
    }

private:
    void usage(FILE* out) const { printUsage(out, defaults_, specific_, unit_); }

    int argc_;
    char** argv_;
    int i_ = 0;
    CommonOptions defaults_;
    const char* specific_;
    const char* unit_;
};

// --- process CPU time ----------------------------------------------------------------------

// utime + stime of pid in seconds, from /proc/PID/stat; negative when it cannot be read.
inline double processCpuSeconds(int pid) {
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
inline CpuTimes selfCpu() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return {double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6,
            double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6};
}

// --- connecting --------------------------------------------------------------------------

inline sockaddr_storage resolve(const CommonOptions& o, socklen_t& len) {
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

inline void raiseFdLimit(int needed) {
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
// With ping (echo servers only), each new connection also sends one byte and waits for its
// echo before it counts: that proves the server accepted it (a client sees its handshake
// done as soon as the server's kernel answers, before the server calls accept), and with
// inflight below the server's listen backlog the accept queue never overflows, which would
// otherwise leave connections hanging in SYN-RECV for tens of seconds (Twisted's backlog is
// 50).
inline std::vector<int> connectAll(const CommonOptions& o, int inflight, bool ping) {
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

// --- the load loop -----------------------------------------------------------------------

// What one connection of an EpollWorker holds: its socket and the bytes queued for it.
struct ConnBase {
    int fd = -1;
    std::uint32_t id = 0;
    bool wantOut = false;
    std::uint64_t sent = 0;  // requests queued
    std::uint64_t recvd = 0; // replies complete
    std::uint32_t outOff = 0, outLen = 0;
    char* out = nullptr; // capacity bytes: queued, not yet written

    // Room for n more bytes at out + outLen in a buffer of `capacity` bytes, moving what
    // is still unwritten to the front when the tail is too short.
    char* reserve(size_t n, size_t capacity) {
        if (outOff != 0 && outLen + n > capacity) {
            std::memmove(out, out + outOff, outLen - outOff);
            outLen -= outOff;
            outOff = 0;
        }
        return out + outLen;
    }
};

// The measured window, CLOCK_MONOTONIC ns; a worker stops at `end`.
struct Window {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
};

struct WorkerResult {
    Histogram hist;
    std::uint64_t messages = 0; // replies in the measured window
    std::uint64_t errors = 0;
    std::uint64_t mismatches = 0;
    std::string firstError;

    void merge(const WorkerResult& r) {
        hist.merge(r.hist);
        messages += r.messages;
        errors += r.errors;
        mismatches += r.mismatches;
        if (firstError.empty()) {
            firstError = r.firstError;
        }
    }
};

// One epoll over some connections, level-triggered, one read() per readiness event and one
// write() per event for all that it queued. Derived (CRTP) provides:
//   void prime(Conn&, std::uint64_t now)          queue the first requests
//   void onReadable(Conn&)                        read and handle replies, queue more, flush
//   bool finished() const                         stop before the window's end (or false)
// Conn derives from ConnBase; the derived class fills conns_ before calling loop().
template <class Derived, class Conn>
class EpollWorker {
protected:
    EpollWorker(const Window& w, std::vector<int> fds) : window_(w), fds_(std::move(fds)) {}

    // Registers the connections, primes them and serves events until the window's end
    // (or finished()).
    void loop(WorkerResult& res) {
        res_ = &res;
        ep_ = epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            die("epoll_create1: %s", std::strerror(errno));
        }
        for (size_t i = 0; i < conns_.size(); ++i) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            if (epoll_ctl(ep_, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) {
                die("epoll_ctl: %s", std::strerror(errno));
            }
        }
        std::uint64_t now = nowNs();
        for (Conn& c : conns_) {
            self().prime(c, now);
            flush(c);
        }
        std::vector<epoll_event> evs(512);
        bool measuring = false;
        while (!self().finished()) {
            now = nowNs();
            if (now >= window_.end) {
                break;
            }
            if (!measuring && now >= window_.start) {
                measuring_ = measuring = true;
            }
            std::uint64_t next = measuring ? window_.end : window_.start;
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
                    self().onReadable(c);
                }
            }
        }
        close(ep_);
    }

    void closeAll() {
        for (Conn& c : conns_) {
            if (c.fd >= 0) {
                close(c.fd);
            }
        }
    }

    void fail(Conn& c, const char* what, int err) {
        ++res_->errors;
        if (res_->firstError.empty()) {
            char buf[512];
            std::snprintf(buf, sizeof buf, "connection (fd %u): %s%s%s", c.id, what,
                          err != 0 ? ": " : "", err != 0 ? std::strerror(err) : "");
            res_->firstError = buf;
        }
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
    }

    // One read() into buf: the bytes read, or 0 when there are none yet or the connection
    // failed (closed by the server, read error; it is then failed).
    size_t readSome(Conn& c, char* buf, size_t len) {
        ssize_t n = read(c.fd, buf, len);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                fail(c, n == 0 ? "closed by the server" : "read", n == 0 ? 0 : errno);
            }
            return 0;
        }
        return size_t(n);
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

    // Fills conns_ from fds_, ids from the fds.
    void makeConns() {
        conns_.resize(fds_.size());
        for (size_t i = 0; i < fds_.size(); ++i) {
            conns_[i].fd = fds_[i];
            conns_[i].id = std::uint32_t(fds_[i]);
        }
    }

    Derived& self() { return static_cast<Derived&>(*this); }

    const Window& window_;
    std::vector<int> fds_;
    std::vector<Conn> conns_;
    WorkerResult* res_ = nullptr;
    bool measuring_ = false;
    int ep_ = -1;
};

// --- the measured run --------------------------------------------------------------------

inline void onAlarm(int /*sig*/) {
    static const char msg[] = ": hard deadline passed, giving up\n";
    (void)!write(2, programName, std::strlen(programName)); // both async-signal-safe
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

// SIGPIPE ignored, and the hard deadline: exit status 3 after `seconds`.
inline void armDeadline(double seconds) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, onAlarm);
    alarm(unsigned(seconds));
}

// CPU times at the window's edges: this process's, and the server's when pid is not 0.
struct CpuSamples {
    double serverCpu0 = -1, serverCpu1 = -1;
    CpuTimes self0, self1;
};

// Deals the connections round-robin to `threads` workers made by make(fds), runs worker 0
// on this thread and the others on their own, sampling the CPU times at the window's
// edges from a helper thread that sleeps until them. Returns the merged result (a
// WorkerResult, or a class derived from it with its own merge()).
template <class Result = WorkerResult, class Make>
Result runWorkers(const std::vector<int>& fds, int threads, const Window& w, int serverPid,
                  CpuSamples& cpu, Make make) {
    std::vector<std::vector<int>> parts(static_cast<size_t>(threads));
    for (size_t i = 0; i < fds.size(); ++i) {
        parts[i % parts.size()].push_back(fds[i]);
    }
    std::vector<decltype(make(std::vector<int>{}))> workers;
    std::vector<Result> results(parts.size());
    for (auto& p : parts) {
        workers.push_back(make(std::move(p)));
    }
    std::vector<std::thread> others;
    for (size_t i = 1; i < workers.size(); ++i) {
        others.emplace_back([&, i] { workers[i]->run(results[i]); });
    }
    std::thread sampler([&] {
        auto sleepUntil = [](std::uint64_t t) {
            timespec ts{time_t(t / 1'000'000'000u), long(t % 1'000'000'000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
            }
        };
        sleepUntil(w.start);
        cpu.self0 = selfCpu();
        if (serverPid != 0) {
            cpu.serverCpu0 = processCpuSeconds(serverPid);
        }
        sleepUntil(w.end);
        cpu.self1 = selfCpu();
        if (serverPid != 0) {
            cpu.serverCpu1 = processCpuSeconds(serverPid);
        }
    });
    workers[0]->run(results[0]);
    for (auto& t : others) {
        t.join();
    }
    sampler.join();
    Result total;
    for (auto& r : results) {
        total.merge(r);
    }
    return total;
}

// The figures derived from a run: rate, latency quantiles, client and server CPU.
struct Summary {
    double secs = 0, rate = 0;
    double clientUser = 0, clientSys = 0, clientUtil = 0;
    double serverCpu = -1, serverUtil = -1, serverPerOp = -1; // per op in µs
    const Histogram* hist = nullptr;

    Summary(const WorkerResult& r, const Window& w, const CpuSamples& c) : hist(&r.hist) {
        secs = double(w.end - w.start) / 1e9;
        rate = double(r.messages) / secs;
        clientUser = c.self1.user - c.self0.user;
        clientSys = c.self1.sys - c.self0.sys;
        clientUtil = (clientUser + clientSys) / secs;
        if (c.serverCpu0 >= 0 && c.serverCpu1 >= 0) {
            serverCpu = c.serverCpu1 - c.serverCpu0;
            serverUtil = serverCpu / secs;
            if (r.messages > 0) {
                serverPerOp = serverCpu / double(r.messages) * 1e6;
            }
        }
    }
    double us(double q) const { return hist->quantile(q) / 1e3; }

    // The JSON fields for latency: "lat_us":{...}
    void printLatency(FILE* out) const {
        std::fprintf(out,
                     "\"lat_us\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"p999\":%.2f,"
                     "\"max\":%.2f,\"mean\":%.2f}",
                     us(0.50), us(0.90), us(0.99), us(0.999), double(hist->max()) / 1e3,
                     hist->mean() / 1e3);
    }
    // The JSON fields for CPU, "server_cpu_us_per_<unit>" last.
    void printCpu(FILE* out, const char* unit) const {
        std::fprintf(out,
                     "\"client_cpu_util\":%.3f,\"client_cpu_user_s\":%.3f,"
                     "\"client_cpu_sys_s\":%.3f,\"server_cpu_s\":%.3f,"
                     "\"server_cpu_util\":%.3f,\"server_cpu_us_per_%s\":%.4f",
                     clientUtil, clientUser, clientSys, serverCpu, serverUtil, unit, serverPerOp);
    }
    // The end of the human line: the client's CPU, and the server's per unit.
    void printCpuHuman(FILE* out, const char* unit) const {
        std::fprintf(out, "  client cpu %.0f%%", clientUtil * 100);
        if (serverPerOp >= 0) {
            std::fprintf(out, "  server %.3f us/%s (cpu %.0f%%)", serverPerOp, unit,
                         serverUtil * 100);
        }
        std::fputc('\n', out);
    }
};

// Exit status for a finished run: 1 with a message on errors or when nothing was measured.
inline int finalStatus(const WorkerResult& total, std::uint64_t errors, const char* what) {
    if (errors != 0) {
        std::fprintf(stderr, "%s: %" PRIu64 " errors (%" PRIu64 " mismatched replies)%s%s\n",
                     programName, errors, total.mismatches,
                     total.firstError.empty() ? "" : "; first: ", total.firstError.c_str());
        return 1;
    }
    if (total.messages == 0) {
        std::fprintf(stderr, "%s: no %s came back during the measured window\n", programName, what);
        return 1;
    }
    return 0;
}

} // namespace loadgen
