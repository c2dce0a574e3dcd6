"""Integration tests: the seeds' programs in C++ (examples/) run as real processes, and
talk to the seeds' own Twisted programs over loopback.

Run by ctest as: /usr/bin/python3 test_examples.py <directory with the example binaries>
"""
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

from loopback import free_port, wait_for_port

EXAMPLES = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/examples"
HERE = os.path.dirname(os.path.abspath(__file__))
TWISTED = os.path.join(HERE, "..", "..", "examples", "twisted")  # the seeds' own programs
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-twisted
TIMEOUT = 20


def example(name):
    return os.path.join(EXAMPLES, name)


class Server:
    """A server process started for one test and always stopped after it."""

    def __init__(self, argv, port):
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.port = port
        wait_for_port(port)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            out, err = self.process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err


def exchange(port, payload, shutdown=True):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as s:
        s.sendall(payload)
        if shutdown:
            s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


class Examples(unittest.TestCase):
    def test_hello_server_says_hello_and_closes(self):
        port = free_port()
        server = Server([example("hello_server"), str(port)], port)
        try:
            self.assertEqual(exchange(port, b"GET / HTTP/1.0\r\n\r\n", shutdown=False), b"Hello Twisted")
        finally:
            code, out, _ = server.stop()
        self.assertEqual(code, 0)
        self.assertIn("New Connection", out)
        self.assertIn("127.0.0.1:", out)

    def test_hello_server_with_curl(self):
        port = free_port()
        server = Server([example("hello_server"), str(port)], port)
        try:
            # The reply is not HTTP: curl 7.88 accepts it with --http0.9.
            result = subprocess.run(["curl", "-s", "--http0.9", f"http://127.0.0.1:{port}/"],
                                    capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(result.stdout, "Hello Twisted")
        finally:
            server.stop()

    def test_echoserver_echoes_everything_even_after_half_close(self):
        port = free_port()
        server = Server([example("echoserver"), str(port)], port)
        try:
            payload = os.urandom(3 * 1024 * 1024)
            self.assertEqual(exchange(port, payload), payload)
        finally:
            code, _, err = server.stop()
        self.assertEqual(code, 0, err)

    def test_upperserver(self):
        port = free_port()
        server = Server([example("upperserver"), str(port)], port)
        try:
            self.assertEqual(exchange(port, b"shout this"), b"SHOUT THIS")
        finally:
            server.stop()

    def test_memcached1_get_and_set(self):
        port = free_port()
        server = Server([example("memcached1"), str(port)], port)
        try:
            requests = b"set a 0 0 5\r\nhello\r\nset b 0 0 4\r\nb\r\nc\r\nget a b c\r\nbogus\r\n"
            self.assertEqual(exchange(port, requests),
                             b"STORED\r\nSTORED\r\nVALUE a 0 5\r\nhello\r\n"
                             b"VALUE b 0 4\r\nb\r\nc\r\nEND\r\nERROR\r\n")
        finally:
            server.stop()

    def test_memcached2_expires_and_cancels_on_overwrite(self):
        port = free_port()
        server = Server([example("memcached2"), str(port)], port)
        try:
            self.assertEqual(exchange(port, b"set a 0 1 1\r\nx\r\nset b 0 1 1\r\ny\r\n"
                                            b"set b 0 0 1\r\nz\r\nget a b\r\n"),
                             b"STORED\r\nSTORED\r\nSTORED\r\nVALUE a 0 1\r\nx\r\n"
                             b"VALUE b 0 1\r\nz\r\nEND\r\n")
            time.sleep(1.5)  # a's expiry fires; b's was cancelled by the second set
            self.assertEqual(exchange(port, b"get a b\r\n"), b"VALUE b 0 1\r\nz\r\nEND\r\n")
        finally:
            server.stop()

    def test_helloworld_prints_what_arrives(self):
        port = free_port()
        server = Server([example("helloworld"), str(port)], port)
        try:
            exchange(port, b"one ")
            exchange(port, b"two\n")
            time.sleep(0.2)
        finally:
            _, out, _ = server.stop()
        self.assertEqual(out, "one two\n")

    def test_call_later(self):
        result = subprocess.run([example("call_later"), "0.02"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "5 seconds passed\n10 seconds passed\n")

    def test_cancel_call(self):
        result = subprocess.run([example("cancel_call"), "0.02"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "CANCELLING\n")

    def test_print_later(self):
        result = subprocess.run([example("print_later"), "0.05"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.stdout, "The future is now!\n")

    def test_print_later_twice(self):
        result = subprocess.run([example("print_later_twice"), "0.05"], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.stdout, "The future is now!\nThe future is now!\n")

    def test_threads(self):
        result = subprocess.run([example("threads")], capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = sorted(result.stdout.splitlines())
        self.assertEqual(lines, ["callInThread: ran in a pool thread",
                                 "deferToThread: doSomethingWithTheResult(144)"])

    def test_echoclient_against_braid_echoserver(self):
        result = client_against_server([example("echoclient"), "127.0.0.1"], [example("echoserver")])
        self.assertEqual(result.stdout, "Server said: Hello, world!\nConnection lost.\n")

    def test_echoclient_connection_failed(self):
        result = subprocess.run([example("echoclient"), "127.0.0.1", str(free_port())],
                                capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.stdout, "Connection failed.\n")


TWISTED_ECHOSERVER = [PYTHON, os.path.join(TWISTED, "echoserver.py")]
TWISTED_ECHOCLIENT = [PYTHON, os.path.join(TWISTED, "echoclient.py")]


def client_against_server(client, server):
    """Starts server (argv without the port), runs client (argv without the port)."""
    port = free_port()
    running = Server(server + [str(port)], port)
    try:
        return subprocess.run(client + [str(port)], capture_output=True, text=True, timeout=TIMEOUT)
    finally:
        running.stop()


class TwistedInterop(unittest.TestCase):
    def test_braid_echoclient_against_twisted_echoserver(self):
        result = client_against_server([example("echoclient"), "127.0.0.1"], TWISTED_ECHOSERVER)
        self.assertEqual(result.stdout, "Server said: Hello, world!\nConnection lost.\n")

    def test_twisted_echoclient_against_braid_echoserver(self):
        result = client_against_server(TWISTED_ECHOCLIENT, [example("echoserver")])
        self.assertEqual(result.stdout, "Server said: b'Hello, world!'\nConnection lost.\n", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
