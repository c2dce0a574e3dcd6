"""The `braid` runner as a user starts it: its services, its messages and exit codes.

Run by ctest as: /usr/bin/python3 test_runner.py <path of the braid runner>
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

BRAID = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/apps/braid/braid"
TIMEOUT = 20
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def rendered(url):
    """The DOM headless Chromium ends up with for `url`, scripts run."""
    result = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                             "--virtual-time-budget=5000", "--dump-dom", url],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"chromium failed: {result.stderr[-2000:]}")
    return result.stdout


def start(*argv):
    return subprocess.Popen([BRAID, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def listening(process, count):
    """Reads stdout until `count` "listening on HOST:PORT" lines; returns {service: port}."""
    ports = {}
    while len(ports) < count:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("the runner stopped: " + process.stderr.read())
        found = re.match(r"braid (\w+): listening on .*:(\d+)", line)
        if found:
            ports[found.group(1)] = int(found.group(2))
    return ports


def stop(process):
    """Stops the runner; returns its exit code. What it still printed is kept in .rest."""
    process.send_signal(signal.SIGTERM)
    try:
        process.rest, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.rest, _ = process.communicate()
    return process.returncode


def ask(port, data, expected_length):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(data)
        reply = b""
        while len(reply) < expected_length:
            piece = s.recv(65536)
            if not piece:
                break
            reply += piece
        return reply


class Runner(unittest.TestCase):
    def test_echo_on_a_free_port(self):
        process = start("echo", "--listen", "tcp:0:interface=127.0.0.1")
        try:
            port = listening(process, 1)["echo"]
            self.assertEqual(b"hello runner", ask(port, b"hello runner", 12))
        finally:
            self.assertEqual(0, stop(process))

    def test_memcached_on_a_free_port(self):
        process = start("memcached", "--listen", "tcp:0:interface=127.0.0.1")
        try:
            port = listening(process, 1)["memcached"]
            self.assertEqual(b"STORED\r\n", ask(port, b"set k 0 0 1\r\nv\r\n", 8))
        finally:
            self.assertEqual(0, stop(process))

    def test_demo_runs_every_service_on_one_reactor(self):
        process = start()
        try:
            ports = listening(process, 3)
            self.assertEqual({"echo": 8000, "memcached": 11211, "web": 8080}, ports)
            self.assertEqual(b"ping", ask(ports["echo"], b"ping", 4))
            self.assertEqual(b"VERSION ", ask(ports["memcached"], b"version\r\n", 8)[:8])
            with urllib.request.urlopen("http://127.0.0.1:8080/status.json", timeout=TIMEOUT) as r:
                status = json.load(r)
            self.assertEqual(["echo", "memcached", "web"],
                             [service["name"] for service in status["services"]])
            # A browser runs the page's script, which fills the table from /status.json.
            dom = rendered("http://127.0.0.1:8080/")
            self.assertIn("<td>memcached</td><td>tcp:11211</td>", dom)
            self.assertIn("<title>braid demo: 3 services</title>", dom)
        finally:
            self.assertEqual(0, stop(process))

    def test_web_serves_a_directory_a_browser_can_use(self):
        with tempfile.TemporaryDirectory() as root:
            os.mkdir(os.path.join(root, "app"))
            with open(os.path.join(root, "app", "index.html"), "w") as f:
                f.write('<!DOCTYPE html><html><head><link rel="stylesheet" href="style.css">'
                        '<script src="app.js" defer></script></head>'
                        '<body><p id="out">not run</p></body></html>')
            with open(os.path.join(root, "app", "app.js"), "w") as f:
                f.write('document.getElementById("out").textContent = "script ran: " + '
                        'getComputedStyle(document.body).color;')
            with open(os.path.join(root, "app", "style.css"), "w") as f:
                f.write("body { color: rgb(1, 2, 3); }")
            process = start("web", "--listen", "tcp:0:interface=127.0.0.1", "--path", root)
            try:
                port = listening(process, 1)["web"]
                dom = rendered(f"http://127.0.0.1:{port}/app")  # redirected to /app/
                self.assertIn('<p id="out">script ran: rgb(1, 2, 3)</p>', dom)
                listing = rendered(f"http://127.0.0.1:{port}/")
                self.assertIn('href="app/"', listing)
            finally:
                self.assertEqual(0, stop(process))

    def test_web_large_files_whole_ranged_and_abandoned(self):
        """Large files go by sendfile: whole, from an offset, and to clients that leave."""
        with tempfile.TemporaryDirectory() as root:
            big = os.urandom(3 * 1024 * 1024 + 123)
            with open(os.path.join(root, "big.bin"), "wb") as f:
                f.write(big)
            process = start("web", "--listen", "tcp:0:interface=127.0.0.1", "--path", root,
                            "--no-access-log")
            try:
                port = listening(process, 1)["web"]
                url = f"http://127.0.0.1:{port}/big.bin"
                got = subprocess.run(["curl", "-sf", url], capture_output=True, check=True,
                                     timeout=TIMEOUT).stdout
                self.assertEqual(big, got)
                ranged = subprocess.run(["curl", "-sf", "-r", "1000001-2500000", url],
                                        capture_output=True, check=True, timeout=TIMEOUT)
                self.assertEqual(big[1000001:2500001], ranged.stdout)
                request = b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                for _ in range(20):  # each reads a little and goes: EPIPE or ECONNRESET
                    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
                        s.sendall(request * 3)
                        s.recv(100000)
                with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                    self.assertEqual(big, response.read())
            finally:
                self.assertEqual(0, stop(process))

    def test_web_small_files_come_from_memory_while_unchanged(self):
        """A changed file shows at the next request by default, and only after
        --cache-check-interval when one is given."""
        with tempfile.TemporaryDirectory() as root:
            path = os.path.join(root, "page.txt")
            with open(path, "w") as f:
                f.write("first")
            time.sleep(1.2)  # web::File keeps files unchanged for a second (cacheSettled)
            default = start("web", "--listen", "tcp:0:interface=127.0.0.1", "--path", root,
                            "--no-access-log")
            lazy = start("web", "--listen", "tcp:0:interface=127.0.0.1", "--path", root,
                         "--no-access-log", "--cache-check-interval", "3600000")
            try:
                urls = [f"http://127.0.0.1:{listening(p, 1)['web']}/page.txt"
                        for p in (default, lazy)]
                for url in urls:  # kept in memory by both
                    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                        self.assertEqual(b"first", response.read())
                with open(path, "w") as f:
                    f.write("second")
                got = []
                for url in urls:
                    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                        got.append(response.read())
                self.assertEqual([b"second", b"first"], got)
            finally:
                self.assertEqual(0, stop(default))
                self.assertEqual(0, stop(lazy))

    def test_web_access_log_in_combined_format_unless_turned_off(self):
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, "a.txt"), "w") as f:
                f.write("twelve bytes")
            for logged in (True, False):
                process = start("web", "--listen", "tcp:0:interface=127.0.0.1", "--path", root,
                                *([] if logged else ["--no-access-log"]))
                try:
                    port = listening(process, 1)["web"]
                    request = urllib.request.Request(f"http://127.0.0.1:{port}/a.txt",
                                                     headers={"User-Agent": "tester/1",
                                                              "Referer": "http://ref/"})
                    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                        self.assertEqual(b"twelve bytes", response.read())
                    if logged:
                        line = process.stdout.readline()
                        self.assertRegex(line, r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:[\d:]{8} '
                                         r'\+0000\] "GET /a\.txt HTTP/1\.1" 200 12 '
                                         r'"http://ref/" "tester/1"\n$')
                finally:
                    self.assertEqual(0, stop(process))
                if not logged:
                    self.assertEqual("", process.rest)

    def test_a_bad_description_is_a_usage_error(self):
        process = start("echo", "--listen", "tcp:80:interfce=127.0.0.1")
        _, err = process.communicate(timeout=TIMEOUT)
        self.assertEqual(2, process.returncode)
        self.assertIn("unknown argument 'interfce'", err)

    def test_a_port_in_use_fails_with_1(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            process = start("echo", "--listen", f"tcp:{port}:interface=127.0.0.1")
            _, err = process.communicate(timeout=TIMEOUT)
        self.assertEqual(1, process.returncode)
        self.assertIn("cannot listen", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
