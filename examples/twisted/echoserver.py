# The seed's echoserver.py (seeds/002, "Getting started with Python's Twisted Framework"),
# the Twisted peer of braid's examples/echoserver.cpp in the interop tests and the echo
# benchmark, with two changes: the port comes from the command line and it binds
# 127.0.0.1 only. The epoll reactor is installed explicitly (Twisted's default on Linux).
#
# usage: /usr/bin/python3 echoserver.py PORT
import sys

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import protocol, reactor  # noqa: E402


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class EchoFactory(protocol.Factory):
    def buildProtocol(self, addr):
        return Echo()


if len(sys.argv) != 2:
    sys.exit("usage: echoserver.py PORT")
reactor.listenTCP(int(sys.argv[1]), EchoFactory(), interface="127.0.0.1")
reactor.run()
