"""Integration tests: braid::web's server (examples/hello_web.cpp, seed 000's page, and
examples/web_tree.cpp) against real HTTP clients over loopback: curl and Python's
http.client, plus raw sockets for pipelining, a bad request and a slow client.

Run by ctest as: /usr/bin/python3 test_web.py <path of the hello_web example>
"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import unittest

HELLO_WEB = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/examples/hello_web"
TIMEOUT = 20


class HelloWeb:
    """An example server on a port of its choosing, stopped with SIGTERM."""

    def __init__(self, program=HELLO_WEB):
        self.process = subprocess.Popen([program, "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r":(\d+)/", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"hello_web said {line!r}")
        self.port = int(match.group(1))

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err


def read_until_closed(sock):
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class Web(unittest.TestCase):
    def setUp(self):
        self.server = HelloWeb()
        self.url = f"http://127.0.0.1:{self.server.port}"

    def tearDown(self):
        code, err = self.server.stop()
        self.assertEqual(code, 0, err)

    def curl(self, *args):
        """curl's output, undecoded line ends kept (\r\n)."""
        result = subprocess.run(["curl", "-s", *args], capture_output=True, timeout=TIMEOUT)
        result.stdout = result.stdout.decode()
        result.stderr = result.stderr.decode()
        return result

    def test_curl_gets_the_page(self):
        result = self.curl("-i", self.url + "/")
        self.assertTrue(result.stdout.startswith("HTTP/1.1 200 OK\r\n"), result.stdout)
        self.assertIn("\r\nContent-Length: 13\r\n", result.stdout)
        self.assertIn("\r\nServer: braid\r\n", result.stdout)
        date = re.search(r"\r\nDate: \w{3}, \d\d \w{3} (\d{4}) \d\d:\d\d:\d\d GMT\r\n", result.stdout)
        self.assertTrue(date and int(date.group(1)) >= 2024, result.stdout)
        self.assertTrue(result.stdout.endswith("\r\n\r\nHello Twisted"))

    def test_curl_reuses_the_connection(self):
        result = self.curl("-v", self.url + "/a", self.url + "/b/c")
        self.assertEqual(result.stdout, "Hello TwistedHello Twisted")
        self.assertIn("Re-using existing connection", result.stderr)

    def test_curl_head_and_post(self):
        head = self.curl("-I", self.url + "/")
        self.assertTrue(head.stdout.startswith("HTTP/1.1 200 OK"), head.stdout)
        post = self.curl("-i", "-d", "a=1", self.url + "/")
        self.assertTrue(post.stdout.startswith("HTTP/1.1 405 Method Not Allowed"), post.stdout)
        self.assertIn("\r\nAllow: GET, HEAD\r\n", post.stdout)

    def test_http_client_keep_alive_head_and_errors(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=TIMEOUT)
        try:
            for path in ["/", "/x", "/x/y?z=1"]:
                connection.request("GET", path)
                response = connection.getresponse()
                self.assertEqual(response.status, 200)
                self.assertEqual(response.read(), b"Hello Twisted")
                self.assertIsNotNone(response.getheader("Date"))
            connection.request("HEAD", "/")
            response = connection.getresponse()
            self.assertEqual((response.status, response.read()), (200, b""))
            self.assertEqual(response.getheader("Content-Length"), "13")
            connection.request("PUT", "/", body=b"x" * 1000)
            response = connection.getresponse()
            self.assertEqual(response.status, 405)
            response.read()
            connection.request("GET", "/")
            self.assertEqual(connection.getresponse().read(), b"Hello Twisted")
        finally:
            connection.close()

    def test_pipelined_requests(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" * 5 +
                      b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            replies = read_until_closed(s)
        self.assertEqual(replies.count(b"HTTP/1.1 200 OK\r\n"), 6)
        self.assertEqual(replies.count(b"Hello Twisted"), 6)

    def test_bad_request_and_a_slow_client_affect_only_themselves(self):
        slow = socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT)
        try:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT) as s:
                s.sendall(b"GET / HTTP/1.1\r\n\r\n")  # no Host
                reply = read_until_closed(s)
            self.assertTrue(reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply)
            self.assertIn(b"\r\nConnection: close\r\n", reply)
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=TIMEOUT) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
                self.assertTrue(read_until_closed(s).startswith(b"HTTP/1.1 400 "))
            self.assertEqual(self.curl(self.url + "/").stdout, "Hello Twisted")
            slow.sendall(b"yes\r\n\r\n")
            self.assertTrue(slow.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n"))
        finally:
            slow.close()


class WebTree(unittest.TestCase):
    def setUp(self):
        self.server = HelloWeb(os.path.join(os.path.dirname(HELLO_WEB), "web_tree"))
        self.port = self.server.port

    def tearDown(self):
        code, err = self.server.stop()
        self.assertEqual(code, 0, err)

    def get(self, path):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def test_tree(self):
        self.assertEqual(self.get("/hello?name=%3Cb%3E"), (200, "<p>Hello, &lt;b&gt;!</p>"))
        self.assertEqual(self.get("/users/42"), (200, "<p>User 42</p>"))
        self.assertEqual(self.get("/users/")[0], 404)
        self.assertEqual(self.get("/slow"), (200, "<p>/slow took its time.</p>"))
        self.assertEqual(self.get("/count"), (200, "".join(f"{i}\n" for i in range(10))))

    def test_client_leaving_a_stream(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /count HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"Transfer-Encoding: chunked", s.recv(65536))
        self.assertEqual(self.get("/users/7"), (200, "<p>User 7</p>"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
