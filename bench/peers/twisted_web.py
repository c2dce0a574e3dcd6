#!/usr/bin/python3
"""Twisted's web server for bench/web_bench.py: twisted.web.static.File serving ROOT's files
(the 13-byte hello.txt and the 1 MiB file) on 127.0.0.1:PORT, no access log (as nginx's
access_log off). Usage: /usr/bin/python3 twisted_web.py PORT ROOT"""

import sys

from twisted.internet import reactor
from twisted.web import server, static


class QuietSite(server.Site):
    def log(self, request):
        pass  # no access log


def main():
    port, root = int(sys.argv[1]), sys.argv[2]
    reactor.listenTCP(port, QuietSite(static.File(root)), interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
