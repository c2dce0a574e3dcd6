"""`braid memcached` against the real memcached and real memcached clients.

Differential: each case's requests go to Debian's memcached (1.6) and to braid, whole, one
byte at a time and in random chunks, and the replies must be the same bytes, except what
legitimately differs (CAS values are renumbered in order of appearance; the version string).
Clients: libmemcached's memccapable (its ASCII compliance suite), memccp / memccat / memcrm
/ memctouch / memcstat / memcslap, and pymemcache.

Run by ctest as: /usr/bin/python3 test_memcached.py <path of the braid runner>
"""
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from loopback import free_port, wait_for_port

BRAID = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/apps/braid/braid"
MEMCACHED = shutil.which("memcached") or "/usr/bin/memcached"
TIMEOUT = 10
# Sent after each case: a miss answered "EN Ofinish", which no case asks for.
SENTINEL = b"mg __end__ Ofinish\r\n"
FINISHED = b"EN Ofinish\r\n"


class ServerProcess:
    """A memcached-compatible server on a free loopback port, stopped at exit."""

    def __init__(self, command, env=None):
        self.port = free_port()
        argv = [part.format(port=self.port) for part in command]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        env=env)
        wait_for_port(self.port, self.process)

    def rss(self):
        """Resident memory in bytes (VmRSS)."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_memcached(*extra):
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    return ServerProcess([MEMCACHED, *user, "-p", "{port}", "-l", "127.0.0.1", "-U", "0",
                          "-t", "1", *extra])


def start_braid(*extra, env=None):
    return ServerProcess([BRAID, "memcached", "-p", "{port}", "-l", "127.0.0.1", "-U", "0",
                          *extra], env=env)


def exchange(port, data, chunking, seed=0):
    """Sends data (then the sentinel) in the given pieces; returns every reply byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = data + SENTINEL
        rng = random.Random(seed)
        at = 0
        while at < len(payload):
            if chunking == "whole":
                size = len(payload)
            elif chunking == "bytes":
                size = 1
            else:
                size = rng.randint(1, 7)
            s.sendall(payload[at:at + size])
            at += size
        reply = b""
        while not reply.endswith(FINISHED):
            piece = s.recv(65536)
            if not piece:
                break  # closed (quit, or a line with no end)
            reply += piece
        return reply


def normalize(reply):
    """Renumbers CAS values in order of appearance and hides the version string."""
    seen = {}

    def number(value):
        return seen.setdefault(value, str(len(seen) + 1)).encode()

    def gets_line(m):
        return m.group(1) + b"#" + number(m.group(2)) + b"\r\n"

    reply = re.sub(rb"(VALUE \S+ \d+ \d+ )(\d+)\r\n", gets_line, reply)
    reply = re.sub(rb"(?<= c)(\d+)", lambda m: b"#" + number(m.group(1)), reply)
    reply = re.sub(rb"VERSION [^\r]*", b"VERSION x", reply)
    return reply


K251 = "k" * 251
BIG = 2 * 1024 * 1024

# name -> requests (one string; \r\n written out). Each case starts on an empty cache.
CASES = {
    "set_get": "set a 0 0 1\r\nx\r\nget a b\r\ngets a\r\n",
    "multi_get": "set a 1 0 1\r\nx\r\nset b 2 0 2\r\nyy\r\nget a b c a\r\ngets b a\r\n",
    "many_keys": "get " + " ".join(f"k{i}" for i in range(60)) + "\r\n",
    "add_replace": "add a 0 0 1\r\n1\r\nadd a 0 0 1\r\n2\r\nreplace a 0 0 1\r\n3\r\n"
                   "replace zz 0 0 1\r\n4\r\nget a zz\r\n",
    "append_prepend": "append a 0 0 1\r\nx\r\nset a 5 0 2\r\nmm\r\nappend a 9 0 2\r\nzz\r\n"
                      "prepend a 9 0 2\r\naa\r\nget a\r\n",
    "noreply": "set a 0 0 1 noreply\r\nx\r\nadd a 0 0 1 noreply\r\ny\r\nget a\r\n"
               "incr a 1 noreply\r\ndelete a noreply\r\nget a\r\n",
    "cas_miss": "cas a 0 0 1 1\r\nx\r\ngets a\r\n",
    "cas_badval": "set a 0 0 1\r\nx\r\ncas a 0 0 1 999999\r\ny\r\nget a\r\n",
    "incr_decr": "set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 3\r\ndecr n 100\r\nget n\r\n"
                 "incr n 18446744073709551615\r\nincr zz 1\r\ndecr zz 1\r\n",
    "incr_wrap": "set n 0 0 20\r\n18446744073709551615\r\nincr n 2\r\nget n\r\n",
    "incr_padding": "set n 0 0 3\r\n100\r\ndecr n 1\r\nget n\r\nincr n 1000\r\nget n\r\n"
                    "set s 0 0 3\r\n  9\r\nincr s 1\r\nget s\r\n",
    "incr_errors": "set a 0 0 2\r\nab\r\nincr a 1\r\nincr a x\r\nincr a -1\r\n"
                   "incr a 99999999999999999999\r\nincr a\r\nset e 0 0 0\r\n\r\nincr e 1\r\n",
    "delete": "set a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\ndelete a 0\r\ndelete a 5\r\n"
              "delete a 0 noreply\r\ndelete a x y\r\n",
    "touch_gat": "set a 0 0 1\r\nx\r\ntouch a 100\r\ntouch zz 100\r\ngat 100 a zz\r\n"
                 "gats 0 a\r\ngat a\r\ngat 10\r\ntouch a\r\n",
    "expired": "set a 0 -1 1\r\nx\r\nget a\r\nset b 0 1000 1\r\ny\r\nget b\r\n"
               "set c 0 2147483648 1\r\nz\r\nget c\r\n",
    "flush_all": "set a 0 0 1\r\nx\r\nflush_all\r\nget a\r\nset a 0 0 1\r\ny\r\nget a\r\n"
                 "flush_all 0\r\nflush_all noreply\r\nflush_all x\r\nget a\r\n",
    "flush_later": "set a 0 0 1\r\nx\r\nflush_all 100\r\nget a\r\n",
    "version_verbosity": "version\r\nverbosity 1\r\nverbosity\r\nverbosity 1 noreply\r\n"
                         "verbosity x\r\nverbosity 1 2 3\r\n",
    "unknown": "foo\r\n\r\nGET a\r\nget\r\nset a\r\nsets a 0 0 1\r\nx\r\nshutdown\r\nmz k\r\n",
    "bad_formats": "set a b c d\r\nset a 0 0 -1\r\nset a 0 abc 1\r\nx\r\n"
                   "set a 0 0 1 noreply extra\r\nz\r\ncas a 0 0 1\r\nx\r\ncas a 0 0 1 abc\r\nx\r\n",
    "numbers": "set a 4294967296 0 1\r\nz\r\nset b +5 0 1\r\nx\r\nset c -0 0 1\r\nx\r\n"
               "set d 5\t 0 1\r\nx\r\nset e 0 0 4294967297\r\nx\r\nget a b c d e\r\n",
    "spaces": "set  a  0 0 1\r\nq\r\nget  a \r\nset a 0 0 1 \r\nz\r\nget a\r\n",
    "key_too_long_get": f"get {K251}\r\nversion\r\n",
    "key_too_long_set": f"set {K251} 0 0 1\r\nx\r\nversion\r\n",
    "key_too_long_multiget": f"get a {K251}\r\nversion\r\n",
    "control_key": "set a\x01b 0 0 1\r\nx\r\nget a\x01b\r\nget a\tb\r\n",
    "bad_data_chunk": "set a 0 0 2\r\nxyz\r\nget a\r\nset b 0 0 1 noreply\r\nxy\r\nget b\r\n",
    "newline_only": "set a 0 0 1\nx\nget a\n",
    "too_large": f"set a 0 0 1\r\nx\r\nset a 0 0 {BIG}\r\n" + "v" * BIG + "\r\nget a\r\n",
    "too_large_noreply": f"set a 0 0 {BIG} noreply\r\n" + "v" * BIG + "\r\nget a\r\n",
    "large_value": "set a 0 0 500000\r\n" + "w" * 500000 + "\r\nget a\r\n",
    "meta_get": "set k 3 0 2\r\nhi\r\nmg k v\r\nmg k\r\nmg zz v\r\nmg zz k Oabc\r\n"
                "mg k s v f k Oxy\r\nmg zz q v\r\nmg k q k\r\n",
    "meta_set": "ms k 2\r\nhi\r\nms k 2 T0 F5 c k Oab\r\nhi\r\nmg k v f t\r\nms k 2 q\r\nho\r\n"
                "mg k v\r\n",
    "meta_set_modes": "ms kk 2 ME\r\nhi\r\nms kk 2 ME\r\nhi\r\nms kk 2 MA\r\n!!\r\n"
                      "ms kk 2 MP\r\n<<\r\nms zz 2 MR\r\nhi\r\nmg kk v\r\nms kk 2 MX\r\nhi\r\n"
                      "ms kk 2 MEE\r\nhi\r\n",
    "meta_set_cas": "ms k 2 c\r\nhi\r\nms k 2 C1\r\nho\r\nmg k v\r\nms zz 2 C1\r\nho\r\n",
    "meta_errors": "mg k v v\r\nmg k x\r\nmg k Oabcdefghijabcdefghijabcdefghijabc\r\n"
                   "mg k a b\r\nms k x\r\nhi\r\nms k 2 Z\r\nhi\r\nms k\r\nms k -1\r\nmg\r\n"
                   "mg k 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\r\n",
    "meta_base64": "ms Zm9v 2 b k\r\nhi\r\nmg Zm9v b k v\r\nget foo\r\nms b64 2 b\r\nhi\r\n",
    "meta_delete": "md k q\r\nmd k\r\nset k 0 0 1\r\nx\r\nmd k C1\r\nmd k Oq k\r\nmg k\r\n"
                   "set j 0 0 1\r\nx\r\nmd j q\r\nmg j\r\n",
    "meta_arithmetic": "ma n\r\nma n N0 J10 v\r\nma n v MD D3\r\nma n q\r\nma n v t\r\n"
                       "ma n MX\r\nset s 0 0 1\r\nx\r\nma s\r\nma n D-1\r\n",
    "meta_vivify": "mg new1 N30 v c t\r\nmg new1 v\r\n",
    "meta_ttl": "ms k 2 T-1\r\nhi\r\nmg k v\r\nms j 2 T100\r\nhi\r\nmg j t v\r\n",
    "meta_noop": "mn\r\nmn\r\n",
}

# Cases whose replies differ from memcached on purpose (see docs/memcached.md).
KNOWN_DIFFERENCES = set()

# Cases left out of the all-in-one pipeline: a get refused for a long key makes memcached
# 1.6.18 drop every reply of the same read not sent yet, other commands' included (its
# bug, not a rule). The cases start with that get, so nothing before it is lost.
NOT_PIPELINED = {"key_too_long_get", "key_too_long_set", "key_too_long_multiget"}


class TwoServers:
    """memcached and braid side by side, started once per test class."""

    @classmethod
    def setUpClass(cls):
        cls.reference = start_memcached("-m", "64", "-I", "1m")
        cls.braid = start_braid("-m", "64", "-I", "1m")

    @classmethod
    def tearDownClass(cls):
        cls.reference.stop()
        cls.braid.stop()

    def compare(self, name, requests, chunking, seed=0):
        data = requests.encode("latin-1")
        replies = []
        for server in (self.reference, self.braid):
            exchange(server.port, b"flush_all\r\n", "whole")
            replies.append(normalize(exchange(server.port, data, chunking, seed)))
        expected, got = replies
        self.assertEqual(expected, got, f"{name} ({chunking}): memcached vs braid")


class Differential(TwoServers, unittest.TestCase):
    def test_cases_whole(self):
        for name, requests in CASES.items():
            if name not in KNOWN_DIFFERENCES:
                with self.subTest(name):
                    self.compare(name, requests, "whole")

    def test_cases_byte_at_a_time(self):
        for name, requests in CASES.items():
            if name not in KNOWN_DIFFERENCES and len(requests) < 5000:
                with self.subTest(name):
                    self.compare(name, requests, "bytes")

    def test_cases_random_chunks(self):
        for name, requests in CASES.items():
            if name not in KNOWN_DIFFERENCES and len(requests) < 5000:
                for seed in (1, 2):
                    with self.subTest(name, seed=seed):
                        self.compare(name, requests, "random", seed)

    def test_line_with_no_end_closes(self):
        # Over 2048 bytes and no newline: memcached closes the connection; so does braid.
        for server in (self.reference, self.braid):
            with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as s:
                s.sendall(b"set " + b"x" * 5000)
                self.assertEqual(b"", s.recv(100))

    def test_stats_fields(self):
        wanted = {"pid", "uptime", "time", "version", "curr_connections", "total_connections",
                  "cmd_get", "cmd_set", "get_hits", "get_misses", "curr_items", "total_items",
                  "evictions", "bytes", "limit_maxbytes", "threads"}
        reply = exchange(self.braid.port, b"stats\r\n", "whole")
        names = set(re.findall(rb"STAT (\S+) ", reply))
        self.assertTrue({n.encode() for n in wanted} <= names, reply)
        for sub in (b"settings", b"items", b"slabs"):
            reply = exchange(self.braid.port, b"stats " + sub + b"\r\n", "whole")
            self.assertIn(b"END\r\n", reply)


class PipelinedDifferential(TwoServers, unittest.TestCase):
    """Every case in one write, on servers of its own, so that the stream cannot meet what
    earlier tests left behind: once (a CI run, 2026-12-04; not reproduced since) memcached
    answered the stream's first `mg new1 N30` with Z, "already won", for an item an
    earlier test had made and then flushed, where braid answered W."""

    def test_pipelined_everything(self):
        everything = "".join(CASES[name] for name in sorted(CASES)
                             if name not in KNOWN_DIFFERENCES | NOT_PIPELINED
                             and len(CASES[name]) < 5000)
        self.compare("pipelined", everything, "whole")


class Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.braid = start_braid("-m", "64")

    @classmethod
    def tearDownClass(cls):
        cls.braid.stop()

    def run_tool(self, *argv):
        return subprocess.run(list(argv), capture_output=True, timeout=120, text=True)

    def test_memccapable_ascii(self):
        result = self.run_tool("memccapable", "-h", "127.0.0.1", "-p", str(self.braid.port), "-a")
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        self.assertIn("All tests passed", result.stdout)

    def test_libmemcached_tools(self):
        servers = f"--servers=127.0.0.1:{self.braid.port}"
        with tempfile.TemporaryDirectory() as scratch:
            path = os.path.join(scratch, "greeting.txt")
            with open(path, "w") as f:
                f.write("hello from memccp\n")
            self.assertEqual(0, self.run_tool("memccp", servers, path).returncode)
            cat = self.run_tool("memccat", servers, "greeting.txt")
            self.assertEqual("hello from memccp", cat.stdout.rstrip("\n"))
            self.assertEqual(0, self.run_tool("memctouch", servers, "--expire=100",
                                              "greeting.txt").returncode)
            self.assertEqual(0, self.run_tool("memcrm", servers, "greeting.txt").returncode)
            self.assertNotIn("hello", self.run_tool("memccat", servers, "greeting.txt").stdout)
        stat = self.run_tool("memcstat", servers)
        self.assertEqual(0, stat.returncode, stat.stderr)
        self.assertIn("curr_items", stat.stdout)

    def test_memcslap(self):
        result = self.run_tool("memcslap", f"--servers=127.0.0.1:{self.braid.port}",
                               "--concurrency=4", "--execute-number=500")
        self.assertEqual(0, result.returncode, result.stdout + result.stderr)

    def test_pymemcache(self):
        from pymemcache.client.base import Client
        client = Client(("127.0.0.1", self.braid.port), connect_timeout=5, timeout=5,
                        default_noreply=False)
        client.set("py", "value", expire=100)
        self.assertEqual(b"value", client.get("py"))
        self.assertTrue(client.add("py2", "2"))
        self.assertFalse(client.add("py2", "3"))
        self.assertEqual(12, client.incr("py2", 10))
        self.assertEqual(2, client.decr("py2", 10))
        value, cas = client.gets("py")
        self.assertTrue(client.cas("py", "new", cas))
        self.assertFalse(client.cas("py", "newer", cas))
        # decr pads a shorter number with spaces, as memcached does
        self.assertEqual({"py": b"new", "py2": b"2 "}, client.get_many(["py", "py2", "none"]))
        self.assertTrue(client.append("py", "!"))
        self.assertTrue(client.prepend("py", "<"))
        self.assertEqual(b"<new!", client.get("py"))
        self.assertTrue(client.touch("py", 50))
        self.assertTrue(client.delete("py"))
        self.assertIsNone(client.get("py"))
        self.assertIn(b"curr_items", client.stats().keys())
        self.assertTrue(client.version())
        client.flush_all()
        self.assertIsNone(client.get("py2"))
        client.close()

    def test_many_connections(self):
        sockets = []
        try:
            for i in range(500):
                s = socket.create_connection(("127.0.0.1", self.braid.port), timeout=TIMEOUT)
                sockets.append(s)
            for i, s in enumerate(sockets):
                s.sendall(f"set c{i} 0 0 {len(str(i))}\r\n{i}\r\n".encode())
            for s in sockets:
                self.assertEqual(b"STORED\r\n", s.recv(100))
            for i, s in enumerate(sockets):
                s.sendall(f"get c{i}\r\n".encode())
                expected = f"VALUE c{i} 0 {len(str(i))}\r\n{i}\r\nEND\r\n".encode()
                got = b""
                while len(got) < len(expected):
                    got += s.recv(100)
                self.assertEqual(expected, got)
        finally:
            for s in sockets:
                s.close()

    def test_two_reactor_threads(self):
        pair = start_braid("-t", "2")
        try:
            sockets = [socket.create_connection(("127.0.0.1", pair.port), timeout=TIMEOUT)
                       for _ in range(40)]
            for i, s in enumerate(sockets):  # connections spread over both reactors
                s.sendall(b"set t%d 0 0 1\r\n%d\r\n" % (i, i % 10))
                self.assertEqual(b"STORED\r\n", s.recv(100))
            for i, s in enumerate(sockets):  # every thread sees every other's items
                key = (i + 1) % len(sockets)
                s.sendall(b"get t%d\r\n" % key)
                expected = b"VALUE t%d 0 1\r\n%d\r\nEND\r\n" % (key, key % 10)
                got = b""
                while len(got) < len(expected):
                    got += s.recv(100)
                self.assertEqual(expected, got)
            for s in sockets:
                s.close()
            stats = exchange(pair.port, b"stats\r\n", "whole")
            self.assertIn(b"STAT threads 2\r\n", stats)
            self.assertIn(b"STAT curr_items 40\r\n", stats)
            result = self.run_tool("memcslap", f"--servers=127.0.0.1:{pair.port}",
                                   "--concurrency=8", "--execute-number=500")
            self.assertEqual(0, result.returncode, result.stdout + result.stderr)
        finally:
            pair.stop()

    def test_rss_stays_near_the_limit(self):
        # AddressSanitizer keeps freed memory in quarantine; keep that small here, so RSS
        # shows what the store holds.
        env = dict(os.environ, ASAN_OPTIONS="quarantine_size_mb=1:detect_leaks=0")
        limited = start_braid("-m", "8", env=env)
        try:
            with socket.create_connection(("127.0.0.1", limited.port), timeout=TIMEOUT) as s:
                def fill(start, count, size):
                    value = b"r" * size
                    for i in range(start, start + count):
                        s.sendall(b"set r%d 0 0 %d noreply\r\n" % (i, size) + value + b"\r\n")
                    s.sendall(SENTINEL)
                    reply = b""
                    while not reply.endswith(FINISHED):
                        reply += s.recv(100)
                fill(0, 16 * 1024, 1000)  # twice the limit, in two sizes
                fill(10 ** 6, 2 * 1024, 9000)
                settled = limited.rss()
                for round in range(3):  # then thirty times the limit more
                    fill((round + 2) * 10 ** 6, 64 * 1024, 1000)
                    fill((round + 2) * 10 ** 6 + 500000, 8 * 1024, 9000)
                after = limited.rss()
            # Memory does not grow with what is written: within 2 MiB of where it settled
            # (which is within the limit plus the allocator's and the sanitizer's share).
            self.assertLess(after - settled, 2 * 1024 * 1024, (settled, after))
        finally:
            limited.stop()

    def test_memory_limit_evicts(self):
        small = start_braid("-m", "2")
        try:
            with socket.create_connection(("127.0.0.1", small.port), timeout=TIMEOUT) as s:
                value = b"e" * 1000
                for i in range(10000):  # ~10 MB into 2 MB
                    s.sendall(b"set e%d 0 0 1000 noreply\r\n" % i + value + b"\r\n")
                s.sendall(SENTINEL)
                reply = b""
                while not reply.endswith(FINISHED):
                    reply += s.recv(100)
                stats = exchange(small.port, b"stats\r\n", "whole")
                evictions = int(re.search(rb"STAT evictions (\d+)", stats).group(1))
                used = int(re.search(rb"STAT bytes (\d+)", stats).group(1))
                self.assertGreater(evictions, 5000)
                self.assertLessEqual(used, 2 * 1024 * 1024)
                recent = exchange(small.port, b"get e9999\r\n", "whole")
                self.assertIn(b"VALUE e9999 0 1000", recent)
        finally:
            small.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
