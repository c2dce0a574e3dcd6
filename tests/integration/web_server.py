"""A small twisted.web server for test_web_client.py: prints its port, then serves

/hello     a fixed body with Content-Length
/chunked   a body written in pieces (Twisted sends it chunked)
/port      the client's port (so the test can see connection reuse)
/echo      POST/PUT: the request body back
/redirect  302 to /hello          /see  303 to /hello (answers POST)
/slow      never answers           /missing: 404 (Twisted's default)
"""
import sys

from twisted.internet import reactor
from twisted.web import resource, server


class Leaf(resource.Resource):
    isLeaf = True


class Hello(Leaf):
    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"hello from twisted"


class Chunked(Leaf):
    def render_GET(self, request):
        request.write(b"chunk one, ")
        reactor.callLater(0.01, self.finish, request)
        return server.NOT_DONE_YET

    def finish(self, request):
        request.write(b"chunk two")
        request.finish()


class Port(Leaf):
    def render_GET(self, request):
        return str(request.getClientAddress().port).encode()


class Echo(Leaf):
    def render_POST(self, request):
        return request.content.read()

    render_PUT = render_POST


class Redirect(Leaf):
    def render_GET(self, request):
        request.redirect(b"/hello")
        return b""


class See(Leaf):
    def render_POST(self, request):
        request.setResponseCode(303)
        request.setHeader(b"location", b"/hello")
        return b""


class Slow(Leaf):
    def render_GET(self, request):
        return server.NOT_DONE_YET


root = resource.Resource()
for name, child in [(b"hello", Hello()), (b"chunked", Chunked()), (b"port", Port()),
                    (b"echo", Echo()), (b"redirect", Redirect()), (b"see", See()),
                    (b"slow", Slow())]:
    root.putChild(name, child)
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.callLater(float(sys.argv[1]) if len(sys.argv) > 1 else 120, reactor.stop)
reactor.run()
