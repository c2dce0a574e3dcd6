# Seed 002's echoserver.py, taking the port as an argument.
import sys

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class EchoFactory(protocol.Factory):
    def buildProtocol(self, addr):
        return Echo()


port = reactor.listenTCP(int(sys.argv[1]), EchoFactory(), interface="127.0.0.1")
print("listening", port.getHost().port, flush=True)
reactor.run()
