# The Twisted side of the framing interop test (test_framing.py): Twisted's own LineReceiver,
# Int32StringReceiver and NetstringReceiver, as a server or a client. framing_peer.cpp is
# braid's twin with the same command line, so each side can be checked against the other.
#
# usage: /usr/bin/python3 framing_peer.py server FRAMING PORT
#        /usr/bin/python3 framing_peer.py client FRAMING PORT COUNT SEED
#   FRAMING: line | int32 | netstring
#
# The server answers every message with the message reversed. The client sends COUNT
# messages made from SEED all at once, checks every answer, prints "ok COUNT" and exits 0
# (1 on a wrong answer or a lost connection).
import random
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402
from twisted.protocols import basic  # noqa: E402

# Largest message each framing gets: under each side's MAX_LENGTH (Twisted and braid agree:
# 16384 for lines, 99999 for the length-prefixed framings).
LARGEST = {"line": 16000, "int32": 99000, "netstring": 99000}


def messages(framing, count, seed):
    """COUNT messages for FRAMING: empty, tiny, large, and (except for lines) any byte."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        size = rng.choice([0, 1, 2, 10, 100, 1000, LARGEST[framing]]) if i else 0
        if framing == "line":
            out.append(bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 \t") for _ in range(size)))
        else:
            out.append(bytes(rng.getrandbits(8) for _ in range(size)))
    return out


def receiver(framing):
    if framing == "line":
        class Line(basic.LineReceiver):
            def lineReceived(self, line):
                self.received(line)

            def send(self, data):
                self.sendLine(data)

        return Line
    base = basic.Int32StringReceiver if framing == "int32" else basic.NetstringReceiver

    class Strings(base):
        def stringReceived(self, string):
            self.received(string)

        def send(self, data):
            self.sendString(data)

    return Strings


def server(framing, port):
    class Reverser(receiver(framing)):
        def received(self, message):
            self.send(message[::-1])

    reactor.listenTCP(port, protocol.Factory.forProtocol(Reverser), interface="127.0.0.1")
    reactor.run()


def client(framing, port, count, seed):
    sent = messages(framing, count, seed)
    outcome = {"code": 1}

    class Checker(receiver(framing)):
        MAX_LENGTH = 100000  # the default 16384 / 99999 too, but be explicit for int32

        def connectionMade(self):
            self.answers = 0
            for message in sent:
                self.send(message)

        def received(self, message):
            expected = sent[self.answers][::-1]
            if message != expected:
                print(f"answer {self.answers}: got {len(message)} bytes, expected {len(expected)}")
                self.transport.loseConnection()
                return
            self.answers += 1
            if self.answers == len(sent):
                print(f"ok {len(sent)}")
                outcome["code"] = 0
                self.transport.loseConnection()

        def connectionLost(self, reason):
            if outcome["code"]:
                print(f"connection lost after {self.answers} answers: {reason.getErrorMessage()}")
            reactor.stop()

    class Factory(protocol.ClientFactory):
        protocol = Checker

        def clientConnectionFailed(self, connector, reason):
            print(f"connect failed: {reason.getErrorMessage()}")
            reactor.stop()

    reactor.connectTCP("127.0.0.1", port, Factory())
    reactor.run()
    sys.stdout.flush()
    sys.exit(outcome["code"])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 6 and sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__ or "usage: framing_peer.py server|client FRAMING PORT [COUNT SEED]")
