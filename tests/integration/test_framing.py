"""Interop of braid's framing receivers (include/braid/basic.hpp) with Twisted's own
(twisted.protocols.basic): for lines, Int32 strings and netstrings, braid's client against a
Twisted server and Twisted's client against a braid server, over loopback.

Both peers have the same command line (framing_peer.cpp and framing_peer.py): the server
answers each message with it reversed, the client sends COUNT messages at once (empty, tiny,
near MAX_LENGTH, any byte where the framing allows it) and checks every answer.

Run by ctest as: /usr/bin/python3 test_framing.py <path of braid's framing_peer>
"""
import os
import subprocess
import sys
import unittest

from loopback import free_port, wait_for_port

BRAID_PEER = sys.argv.pop(1) if len(sys.argv) > 1 else "build/debug-asan/tests/integration/framing_peer"
TWISTED_PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "framing_peer.py")
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-twisted
TIMEOUT = 60
COUNT = 200


PEERS = {"braid": [BRAID_PEER], "twisted": [PYTHON, TWISTED_PEER]}


class Framing(unittest.TestCase):
    def exchange(self, server, client, framing, seed):
        port = free_port()
        process = subprocess.Popen(PEERS[server] + ["server", framing, str(port)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port(port, process)
            result = subprocess.run(PEERS[client] + ["client", framing, str(port), str(COUNT), str(seed)],
                                    capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(result.returncode, 0, f"{client} client: {result.stdout}{result.stderr}")
            self.assertEqual(result.stdout.strip(), f"ok {COUNT}")
        finally:
            process.terminate()
            try:
                process.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def add_cases():
    for framing in ("line", "int32", "netstring"):
        for server, client in (("twisted", "braid"), ("braid", "twisted")):
            def case(self, server=server, client=client, framing=framing):
                for seed in (1, 2, 3):
                    with self.subTest(seed=seed):
                        self.exchange(server, client, framing, seed)
            setattr(Framing, f"test_{framing}_{client}_client_{server}_server", case)


add_cases()

if __name__ == "__main__":
    unittest.main(verbosity=2)
