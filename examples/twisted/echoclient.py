# Seed 002's echoclient.py, taking the port as an argument (connects to 127.0.0.1).
import sys

from twisted.internet import protocol, reactor


class EchoClient(protocol.Protocol):
    def connectionMade(self):
        self.transport.write("Hello, world!".encode("utf-8"))

    def dataReceived(self, data):
        print("Server said:", data, flush=True)
        self.transport.loseConnection()


class EchoFactory(protocol.ClientFactory):
    def buildProtocol(self, addr):
        return EchoClient()

    def clientConnectionFailed(self, connector, reason):
        print("Connection failed.", flush=True)
        reactor.stop()

    def clientConnectionLost(self, connector, reason):
        print("Connection lost.", flush=True)
        reactor.stop()


reactor.connectTCP("127.0.0.1", int(sys.argv[1]), EchoFactory())
reactor.run()
