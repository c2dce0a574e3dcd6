"""The `braid` runner as a user starts it: its services, its messages and exit codes.

Run by ctest as: /usr/bin/python3 test_runner.py <path of the braid runner>
"""
import re
import signal
import socket
import subprocess
import sys
import unittest

BRAID = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/apps/braid/braid"
TIMEOUT = 20


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
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
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
            ports = listening(process, 2)
            self.assertEqual({"echo": 8000, "memcached": 11211}, ports)
            self.assertEqual(b"ping", ask(ports["echo"], b"ping", 4))
            self.assertEqual(b"VERSION ", ask(ports["memcached"], b"version\r\n", 8)[:8])
        finally:
            self.assertEqual(0, stop(process))

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
