# twisted_echo: the seed's echoserver.py (seeds/002, "Getting started with Python's Twisted
# Framework") for braid's echo benchmark (bench/echo_bench.py), with two changes: the port
# comes from the command line and it binds 127.0.0.1 only. The epoll reactor is installed
# explicitly (it is Twisted's default on Linux anyway).
#
# usage: /usr/bin/python3 twisted_echo.py PORT
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
    sys.exit("usage: twisted_echo.py PORT")
reactor.listenTCP(int(sys.argv[1]), EchoFactory(), interface="127.0.0.1")
reactor.run()
