// mcload: memcached load generator for braid's memcached benchmark (bench/memcache_bench.py).
//
// Speaks memcached's text protocol to HOST:PORT over N connections, each with D requests in
// flight (closed loop: a new request goes out as soon as a reply comes back; with D > 1 the
// first D leave in one write, and every read's replies are answered by one write). Each
// request is a get (with probability --get-ratio) or a set of --value-size bytes, on a key
// drawn uniformly from --keys keys ("k00000000", "k00000001", ...).
//
// Before anything is measured it prefills the key space (a set of every key, pipelined 64
// deep), so gets hit. A key's value and flags are a function of the key, the same for every
// set, so every reply is checked whatever the interleaving: a set must get "STORED", a get
// "VALUE <key> <flags> <bytes>" with exactly the bytes set and "END" (or a bare "END", a
// miss, counted). Anything else (ERROR, CLIENT_ERROR, SERVER_ERROR, another key, other
// bytes, a reply nobody asked for) is a protocol error: the connection is closed, and the
// run fails.
//
// After the prefill and a warm-up, it counts operations for T seconds and records each
// one's latency (from the write that sent it to the arrival of the reply's last byte) in
// the same histogram as loadgen; --server-pid PID reads utime+stime of PID from
// /proc/PID/stat at the window's edges and reports the server's CPU time per operation.
//
// Output: one JSON line on stdout, one human line on stderr. Exit status 0 when all went
// well, 1 on any error, 2 on a usage error, 3 when the hard deadline (connect timeout +
// prefill limit + warm-up + T + 10 s) passes.
//
// Built with plain g++ -O2 by bench/Makefile (not the library's CMake).
#include "common.hpp"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace loadgen;

constexpr double prefillLimitSeconds = 60;
constexpr int prefillDepth = 64;
constexpr size_t keyLen = 9; // "k" and 8 digits

struct Options : CommonOptions {
    double getRatio = 0.9;
    int keys = 100'000;
    int valueSize = 100;
    Options() { depth = 1; }
};

Options parseOptions(int argc, char** argv) {
    Options o;
    ArgReader args(argc, argv, o,
                   "  -d, --depth D         requests in flight per connection (default 1)\n"
                   "  -g, --get-ratio R     share of gets, the rest are sets (default 0.9)\n"
                   "  -k, --keys K          key space, prefilled before the run (default 100000)\n"
                   "  -v, --value-size V    value bytes (default 100)\n",
                   "operation");
    while (args.next()) {
        std::string a = args.arg();
        if (a == "-d" || a == "--depth") {
            o.depth = int(args.number("--depth", 1, 10'000));
        } else if (a == "-g" || a == "--get-ratio") {
            o.getRatio = args.number("--get-ratio", 0, 1);
        } else if (a == "-k" || a == "--keys") {
            o.keys = int(args.number("--keys", 1, 99'999'999));
        } else if (a == "-v" || a == "--value-size") {
            o.valueSize = int(args.number("--value-size", 1, 1 << 20));
        } else if (!args.parseCommon(o)) {
            args.unknown();
        }
    }
    args.finish(o);
    return o;
}

// --- requests and replies ----------------------------------------------------------------

// Writes v in decimal at p; returns the end.
char* putUint(char* p, std::uint32_t v) {
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = char('0' + (v % 10));
        v /= 10;
    } while (v != 0);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

char* putKey(char* p, std::uint32_t key) {
    *p++ = 'k';
    for (int i = int(keyLen) - 1; i >= 1; --i) {
        p[i - 1] = char('0' + (key % 10));
        key /= 10;
    }
    return p + keyLen - 1;
}

char* put(char* p, std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    return p + s.size();
}

// What a key's value and flags are: the same for every set of it.
class Values {
public:
    explicit Values(int size)
        : size_(std::uint32_t(size)), pattern_(makePattern(size_t(size) + patternSpan)) {}

    std::uint32_t size() const { return size_; }
    const char* data(std::uint32_t key) const {
        return pattern_.data() + (std::uint64_t(key) * 7 % patternSpan);
    }
    static std::uint32_t flags(std::uint32_t key) { return key & 0xffff; }

    // The longest request: "set <key> <flags> 0 <bytes>\r\n<data>\r\n".
    size_t maxRequest() const { return 48 + keyLen + size_; }

    char* putSet(char* p, std::uint32_t key) const {
        p = putKey(put(p, "set "), key);
        p = putUint(put(p, " "), flags(key));
        p = putUint(put(p, " 0 "), size_);
        p = put(put(p, "\r\n"), {data(key), size_});
        return put(p, "\r\n");
    }
    static char* putGet(char* p, std::uint32_t key) {
        return put(putKey(put(p, "get "), key), "\r\n");
    }
    // The first line of a hit: "VALUE <key> <flags> <bytes>" (no CRLF); returns the end.
    char* putValueLine(char* p, std::uint32_t key) const {
        p = putKey(put(p, "VALUE "), key);
        p = putUint(put(p, " "), flags(key));
        return putUint(put(p, " "), size_);
    }

private:
    std::uint32_t size_;
    std::vector<char> pattern_;
};

struct Pending {
    std::uint64_t stamp = 0; // when it was queued
    std::uint32_t key = 0;
    bool get = false;
};

struct Conn : ConnBase {
    Pending* pending = nullptr; // depth entries, ring indexed by request number
    char* in = nullptr;         // received bytes not yet parsed
    size_t inLen = 0;
};

struct Result : WorkerResult {
    std::uint64_t gets = 0, sets = 0, misses = 0;
    std::uint64_t prefilled = 0; // sets acknowledged in the prefill

    void merge(const Result& r) {
        WorkerResult::merge(r);
        gets += r.gets;
        sets += r.sets;
        misses += r.misses;
        prefilled += r.prefilled;
    }
};

// xorshift64*: cheap, good enough to pick keys and operations.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : x_(seed | 1) {}
    std::uint64_t next() {
        x_ ^= x_ >> 12;
        x_ ^= x_ << 25;
        x_ ^= x_ >> 27;
        return (x_ * 0x2545F4914F6CDD1Dull) >> 11; // 53 bits
    }

private:
    std::uint64_t x_;
};

// One epoll over some connections. In the prefill it sets keys 0..K-1 in order and stops
// when all are stored; in the run it sends random gets and sets until the window's end.
class Worker : public EpollWorker<Worker, Conn> {
public:
    Worker(const Options& o, const Values& v, const Window& w, std::vector<int> fds, bool prefill)
        : EpollWorker(w, std::move(fds)),
          opt_(o),
          values_(v),
          prefill_(prefill),
          depth_(prefill ? prefillDepth : o.depth),
          rng_(0x9E3779B97F4A7C15ull + fds_.at(0)),
          getBelow_(std::uint64_t(o.getRatio * double(1ull << 53))) {}

    void run(Result& res) {
        result_ = &res;
        makeConns();
        outCap_ = size_t(depth_) * values_.maxRequest();
        inCap_ =
            std::max<size_t>(size_t(64) << 10, 2 * size_t(depth_) * (values_.maxRequest() + 64));
        outMem_ = std::make_unique<char[]>(conns_.size() * outCap_);
        inMem_ = std::make_unique<char[]>(conns_.size() * inCap_);
        pendingMem_ = std::make_unique<Pending[]>(conns_.size() * size_t(depth_));
        for (size_t i = 0; i < conns_.size(); ++i) {
            conns_[i].out = outMem_.get() + i * outCap_;
            conns_[i].in = inMem_.get() + i * inCap_;
            conns_[i].pending = pendingMem_.get() + i * size_t(depth_);
        }
        loop(res);
        if (!prefill_) {
            closeAll();
        }
    }

    void prime(Conn& c, std::uint64_t now) {
        for (int k = 0; k < depth_; ++k) {
            queue(c, now);
        }
    }

    bool finished() const {
        return prefill_ && (result_->prefilled == std::uint64_t(opt_.keys) || res_->errors != 0);
    }

    void onReadable(Conn& c) {
        const size_t n = readSome(c, c.in + c.inLen, inCap_ - c.inLen);
        if (n == 0) {
            return;
        }
        c.inLen += n;
        const std::uint64_t now = nowNs();
        size_t pos = 0;
        bool queued = false;
        while (pos < c.inLen) {
            if (c.recvd == c.sent) {
                protocolError(c, "a reply nobody asked for", c.in + pos, c.inLen - pos);
                return;
            }
            const Pending& p = c.pending[c.recvd % std::uint64_t(depth_)];
            long used = parseReply(c, p, c.in + pos, c.inLen - pos);
            if (used < 0) {
                return; // failed
            }
            if (used == 0) {
                break; // incomplete
            }
            pos += size_t(used);
            count(p, now);
            ++c.recvd;
            queued = queue(c, now) || queued;
        }
        if (pos == 0 && c.inLen == inCap_) {
            protocolError(c, "a reply longer than the read buffer", c.in, c.inLen);
            return;
        }
        std::memmove(c.in, c.in + pos, c.inLen - pos);
        c.inLen -= pos;
        if (queued) {
            flush(c);
        }
    }

private:
    // Queues the connection's next request; false when the prefill has none left.
    bool queue(Conn& c, std::uint64_t now) {
        Pending p{.stamp = now, .key = 0, .get = false};
        if (prefill_) {
            if (nextKey_ == std::uint32_t(opt_.keys)) {
                return false;
            }
            p.key = nextKey_++;
        } else {
            p.key = std::uint32_t(rng_.next() % std::uint64_t(opt_.keys));
            p.get = rng_.next() < getBelow_;
        }
        char* at = c.reserve(values_.maxRequest(), outCap_);
        char* end = p.get ? Values::putGet(at, p.key) : values_.putSet(at, p.key);
        c.outLen += std::uint32_t(end - at);
        c.pending[c.sent % std::uint64_t(depth_)] = p;
        ++c.sent;
        return true;
    }

    void count(const Pending& p, std::uint64_t now) {
        if (prefill_) {
            ++result_->prefilled;
        } else if (measuring_) {
            res_->hist.record(now - p.stamp);
            ++res_->messages;
            ++(p.get ? result_->gets : result_->sets);
        }
    }

    // Parses the reply to p at the front of buf: its length, 0 when incomplete, -1 when it is
    // wrong (the connection is then failed).
    long parseReply(Conn& c, const Pending& p, const char* buf, size_t len) {
        const char* nl = static_cast<const char*>(std::memchr(buf, '\n', len));
        if (nl == nullptr) {
            return 0;
        }
        if (nl == buf || nl[-1] != '\r') {
            return protocolError(c, "a line not ended by CRLF", buf, size_t(nl - buf + 1));
        }
        const std::string_view line(buf, size_t(nl - 1 - buf));
        const long lineLen = long(line.size()) + 2;
        if (!p.get) {
            return line == "STORED" ? lineLen : protocolError(c, "set: ", buf, line.size());
        }
        if (line == "END") {
            if (measuring_) {
                ++result_->misses;
            }
            return lineLen;
        }
        char want[64];
        const std::string_view header(want, size_t(values_.putValueLine(want, p.key) - want));
        if (line != header) {
            if (line.starts_with("VALUE ")) {
                ++res_->mismatches;
            }
            return protocolError(c, "get: ", buf, line.size());
        }
        const size_t total = size_t(lineLen) + values_.size() + 7; // data, CRLF, "END\r\n"
        if (len < total) {
            return 0;
        }
        const char* data = buf + lineLen;
        if (std::memcmp(data, values_.data(p.key), values_.size()) != 0) {
            ++res_->mismatches;
            return protocolError(c, "get: other bytes than were set, after ", buf, line.size());
        }
        if (std::memcmp(data + values_.size(), "\r\nEND\r\n", 7) != 0) {
            return protocolError(c, "get: no CRLF END CRLF after the data of ", buf, line.size());
        }
        return long(total);
    }

    // Fails the connection, quoting (the start of) what it received.
    long protocolError(Conn& c, const char* what, const char* got, size_t len) {
        std::string msg = std::string("protocol error: ") + what + "'";
        for (size_t i = 0; i < std::min<size_t>(len, 80); ++i) {
            const char ch = got[i];
            if (ch >= ' ' && ch < 127) {
                msg += ch;
            } else {
                msg += ch == '\r' ? "\\r" : ch == '\n' ? "\\n" : "?";
            }
        }
        msg += len > 80 ? "...'" : "'";
        fail(c, msg.c_str(), 0);
        return -1;
    }

    const Options& opt_;
    const Values& values_;
    const bool prefill_;
    const int depth_;
    Rng rng_;
    const std::uint64_t getBelow_; // a draw below this is a get
    std::uint32_t nextKey_ = 0;    // the prefill's next key
    Result* result_ = nullptr;
    size_t outCap_ = 0, inCap_ = 0;
    std::unique_ptr<char[]> outMem_, inMem_;
    std::unique_ptr<Pending[]> pendingMem_;
};

// Sets every key once, on all the connections from this thread; dies if that fails.
double prefill(const Options& o, const Values& values, const std::vector<int>& fds) {
    const std::uint64_t t0 = nowNs();
    const Window w{.start = ~0ull, .end = t0 + std::uint64_t(prefillLimitSeconds * 1e9)};
    Result res;
    Worker(o, values, w, fds, true).run(res);
    if (res.errors != 0) {
        die("prefill failed: %s", res.firstError.c_str());
    }
    if (res.prefilled != std::uint64_t(o.keys)) {
        die("prefill: only %" PRIu64 " of %d keys stored in %g s", res.prefilled, o.keys,
            prefillLimitSeconds);
    }
    return double(nowNs() - t0) / 1e9;
}

} // namespace

int main(int argc, char** argv) {
    programName = "mcload";
    Options o = parseOptions(argc, argv);
    armDeadline(o.connectTimeout + prefillLimitSeconds + o.warmup + o.seconds + 10);
    raiseFdLimit(o.connections + 64);
    const Values values(o.valueSize);

    std::vector<int> fds = connectAll(o, 256, false);
    const double prefillSeconds = prefill(o, values, fds);
    Window w;
    w.start = nowNs() + std::uint64_t(o.warmup * 1e9);
    w.end = w.start + std::uint64_t(o.seconds * 1e9);
    CpuSamples cpu;
    Result total = runWorkers<Result>(fds, o.threads, w, o.serverPid, cpu, [&](std::vector<int> p) {
        return std::make_unique<Worker>(o, values, w, std::move(p), false);
    });

    const Summary sum(total, w, cpu);
    const std::uint64_t errors = total.errors; // a mismatch fails its connection: an error
    std::printf("{\"label\":\"%s\",\"connections\":%d,\"depth\":%d,\"get_ratio\":%.3f,"
                "\"keys\":%d,\"value_size\":%d,\"threads\":%d,\"prefill_s\":%.3f,"
                "\"seconds\":%.3f,\"ops\":%" PRIu64 ",\"ops_per_s\":%.1f,\"gets\":%" PRIu64
                ",\"sets\":%" PRIu64 ",\"get_misses\":%" PRIu64 ",",
                o.label.c_str(), o.connections, o.depth, o.getRatio, o.keys, o.valueSize, o.threads,
                prefillSeconds, sum.secs, total.messages, sum.rate, total.gets, total.sets,
                total.misses);
    sum.printLatency(stdout);
    std::printf(",\"errors\":%" PRIu64 ",\"mismatches\":%" PRIu64 ",", errors, total.mismatches);
    sum.printCpu(stdout, "op");
    std::printf("}\n");
    std::fflush(stdout);
    std::fprintf(stderr,
                 "%s%sN=%d D=%d get=%.2f V=%d: %.0f ops/s  p50 %.1f us  p99 %.1f us  "
                 "p999 %.1f us  errors %" PRIu64 "  misses %" PRIu64,
                 o.label.c_str(), o.label.empty() ? "" : " ", o.connections, o.depth, o.getRatio,
                 o.valueSize, sum.rate, sum.us(0.50), sum.us(0.99), sum.us(0.999), errors,
                 total.misses);
    sum.printCpuHuman(stderr, "op");
    return finalStatus(total, errors, "reply");
}
