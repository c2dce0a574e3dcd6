"""Integration tests: braid's web client (tests/integration/web_fetch.cpp and
examples/blocking_input.cpp) against Twisted's web server (web_server.py, and
`twisted web --path`), Python's http.server and nginx, over loopback. No internet needed.

Run by ctest as:
    /usr/bin/python3 test_web_client.py <web_fetch> <blocking_input> <braid runner>
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from loopback import free_port, wait_for_port

BRAID = sys.argv.pop(3) if len(sys.argv) > 3 else "build/debug-asan/apps/braid/braid"
BLOCKING_INPUT = sys.argv.pop(2) if len(sys.argv) > 2 else "build/debug-asan/examples/blocking_input"
WEB_FETCH = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/tests/integration/web_fetch"
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-twisted
TIMEOUT = 30


class ServerProcess:
    """A server started for one test class and always stopped after it."""

    def __init__(self, argv, cwd=None):
        self.process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)

    def stop(self):
        self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        self.process.stdout.close()


def fetch(*args):
    result = subprocess.run([WEB_FETCH, *args], capture_output=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    # Bytes, not text: text mode would read a \r in a body as a line end.
    return result.stdout.decode().rstrip("\n").split("\n")


class AgainstTwistedWeb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerProcess([PYTHON, os.path.join(HERE, "web_server.py"), "200"])
        cls.port = int(cls.server.process.stdout.readline())
        cls.base = f"http://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_bodies_methods_and_redirects(self):
        b = self.base
        lines = fetch("GET", f"{b}/hello", "-", "GET", f"{b}/chunked", "-",
                      "POST", f"{b}/echo", "posted data", "PUT", f"{b}/echo", "x" * 100000,
                      "GET", f"{b}/redirect", "-", "POST", f"{b}/see", "form",
                      "HEAD", f"{b}/hello", "-", "GET", f"{b}/missing", "-")
        self.assertEqual(lines[0], "200 18 hello from twisted")
        self.assertEqual(lines[1], "200 20 chunk one, chunk two")
        self.assertEqual(lines[2], "200 11 posted data")
        self.assertTrue(lines[3].startswith("200 100000 xxx"))
        self.assertEqual(lines[4], "200 18 hello from twisted")
        self.assertEqual(lines[5], "200 18 hello from twisted")
        self.assertEqual(lines[6], "200 0 ")
        self.assertTrue(lines[7].startswith("404 "))
        # A redirect is followed before its body is drained, so it may take a second connection.
        self.assertIn(lines[8], ("cached 1", "cached 2"))

    def test_keep_alive_reuses_the_connection(self):
        lines = fetch(*(["GET", f"{self.base}/port", "-"] * 3))
        ports = {line.split()[2] for line in lines[:3]}
        self.assertEqual(len(ports), 1, lines)

    def test_timeout_and_connect_failures(self):
        lines = fetch("--timeout", "0.5", "GET", f"{self.base}/slow", "-",
                      "GET", f"http://127.0.0.1:{free_port()}/", "-",
                      "GET", "https://127.0.0.1/", "-",
                      "GET", "http://no-such-host.invalid/", "-")
        self.assertTrue(lines[0].startswith("FAIL braid::TimeoutError"), lines)
        self.assertTrue(lines[1].startswith("FAIL braid::ConnectionRefusedError"), lines)
        self.assertIn("TLS not supported yet", lines[2])
        self.assertTrue(lines[3].startswith("FAIL braid::DNSLookupError"), lines)


class AgainstStaticServers(unittest.TestCase):
    """Files served by `twisted web --path` and by `python3 -m http.server`."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        for name, content in [("a.txt", "page a\n"), ("b.txt", "page b\n"),
                              ("big.bin", "0123456789" * 100000)]:
            with open(os.path.join(cls.directory.name, name), "w") as f:
                f.write(content)
        cls.twisted_port = free_port()
        cls.twisted = ServerProcess([PYTHON, "-m", "twisted", "web", "--listen",
                                     f"tcp:{cls.twisted_port}:interface=127.0.0.1",
                                     "--path", cls.directory.name])
        cls.python_port = free_port()
        cls.python = ServerProcess([PYTHON, "-m", "http.server", str(cls.python_port),
                                    "--bind", "127.0.0.1"], cwd=cls.directory.name)
        wait_for_port(cls.twisted_port)
        wait_for_port(cls.python_port)

    @classmethod
    def tearDownClass(cls):
        cls.twisted.stop()
        cls.python.stop()
        cls.directory.cleanup()

    def test_static_files(self):
        for port in (self.twisted_port, self.python_port):
            base = f"http://127.0.0.1:{port}"
            lines = fetch("GET", f"{base}/a.txt", "-", "GET", f"{base}/big.bin", "-",
                          "GET", f"{base}/nope", "-")
            self.assertEqual(lines[0], "200 7 page a\\n", port)
            self.assertTrue(lines[1].startswith("200 1000000 0123456789"), port)
            self.assertTrue(lines[2].startswith("404 "), port)

    def test_ipv6_literal(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
                port = s.getsockname()[1]
        except OSError:
            self.skipTest("no IPv6 loopback")
        server = ServerProcess([PYTHON, "-m", "http.server", str(port), "--bind", "::1"],
                               cwd=self.directory.name)
        try:
            end = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("::1", port), timeout=0.5).close()
                    break
                except OSError:
                    self.assertLess(time.monotonic(), end, "http.server on ::1 did not start")
                    time.sleep(0.05)
            self.assertEqual(fetch("GET", f"http://[::1]:{port}/b.txt", "-")[0], "200 7 page b\\n")
        finally:
            server.stop()

    def test_blocking_input_seed(self):
        """Seed 001: several getPage downloads at once from a local `braid web`, and a bad
        URL and a missing page that fail."""
        braid = subprocess.Popen([BRAID, "web", "--listen", "tcp:0:interface=127.0.0.1",
                                  "--path", self.directory.name, "--no-access-log"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            port = int(braid.stdout.readline().rsplit(":", 1)[1])  # "... listening on H:P"
            base = f"http://127.0.0.1:{port}"
            good = [f"{base}/a.txt", f"{base}/b.txt", f"{base}/big.bin"]
            urls = [*good, f"{base}/missing.txt", "a_bad_url"]
            result = subprocess.run([BLOCKING_INPUT, *urls], capture_output=True, text=True,
                                    timeout=TIMEOUT)
        finally:
            braid.terminate()
            braid.communicate(timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(sorted(lines), sorted(
            [f"Successfully downloaded `{url}`." for url in good] +
            [f"Failed to download `{url}`." for url in urls[3:]]))
        # The bad URL fails at once, before any download completes.
        self.assertEqual(lines[0], "Failed to download `a_bad_url`.")


NGINX_CONF = """daemon off;
master_process off;
pid {d}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {d}/root;
        location = /moved {{ return 302 /a.txt; }}
        location = /chunked {{ default_type text/plain; return 200 "from nginx"; }}
    }}
}}
"""


class AgainstNginx(unittest.TestCase):
    """Debian's nginx (one process, in the foreground) serving a directory."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.TemporaryDirectory()
        d = cls.directory.name
        os.makedirs(os.path.join(d, "root", "sub"))
        for name, content in [("a.txt", "page a\n"), ("sub/index.html", "<p>sub</p>"),
                              ("big.bin", "0123456789" * 300000)]:
            with open(os.path.join(d, "root", name), "w") as f:
                f.write(content)
        cls.port = free_port()
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(d=d, port=cls.port))
        cls.nginx = ServerProcess(["/usr/sbin/nginx", "-c", os.path.join(d, "nginx.conf"),
                                   "-p", d])
        wait_for_port(cls.port)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        cls.directory.cleanup()

    def test_files_redirects_and_errors(self):
        b = f"http://127.0.0.1:{self.port}"
        lines = fetch("GET", f"{b}/a.txt", "-", "GET", f"{b}/big.bin", "-",
                      "GET", f"{b}/sub", "-", "GET", f"{b}/moved", "-",
                      "HEAD", f"{b}/a.txt", "-", "GET", f"{b}/nope", "-",
                      "POST", f"{b}/a.txt", "x" * 70000, *(["GET", f"{b}/a.txt", "-"] * 20))
        self.assertEqual(lines[0], "200 7 page a\\n")
        self.assertTrue(lines[1].startswith("200 3000000 0123456789"), lines[1])
        self.assertEqual(lines[2], "200 10 <p>sub</p>")  # 301 to /sub/, then its index
        self.assertEqual(lines[3], "200 7 page a\\n")   # 302 followed
        self.assertEqual(lines[4], "200 0 ")
        self.assertTrue(lines[5].startswith("404 "), lines[5])
        self.assertTrue(lines[6].startswith("405 "), lines[6])  # nginx: no POST to a file
        self.assertEqual(lines[7:-1], ["200 7 page a\\n"] * 20)
        # Kept-alive: one connection, or two when a redirect is followed before its body ends.
        self.assertIn(lines[-1], ("cached 1", "cached 2"))

if __name__ == "__main__":
    unittest.main(verbosity=2)
