// epoll_echo: the hand-written baseline for braid's echo benchmark (bench/echo_bench.py).
//
// Single-threaded, level-triggered epoll, non-blocking sockets. One read() per readiness
// event into one shared 64 KiB buffer, written straight back; only what write() does not
// take is copied into a per-connection buffer, and while that drains the connection waits
// for EPOLLOUT and is not read (so a client that stops reading cannot grow the server).
// A connection holds no memory of its own unless it has such leftovers.
//
// usage: epoll_echo PORT   (binds 127.0.0.1:PORT)
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct pending {
    size_t off, len;
    char data[];
};

static struct pending** pendings; // indexed by fd, NULL when nothing is waiting
static size_t npendings;
static int ep;
static char buf[64 * 1024];

static void set_events(int fd, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void drop(int fd) {
    if ((size_t)fd < npendings && pendings[fd] != NULL) {
        free(pendings[fd]);
        pendings[fd] = NULL;
    }
    close(fd); // also removes it from the epoll set
}

// Keeps data[0..len) for later and switches fd to EPOLLOUT.
static void keep(int fd, const char* data, size_t len) {
    if ((size_t)fd >= npendings) {
        size_t n = npendings ? npendings : 1024;
        while (n <= (size_t)fd)
            n *= 2;
        pendings = realloc(pendings, n * sizeof *pendings);
        if (pendings == NULL)
            abort();
        memset(pendings + npendings, 0, (n - npendings) * sizeof *pendings);
        npendings = n;
    }
    struct pending* p = malloc(sizeof *p + len);
    if (p == NULL)
        abort();
    p->off = 0;
    p->len = len;
    memcpy(p->data, data, len);
    pendings[fd] = p;
    set_events(fd, EPOLLOUT);
}

static void on_readable(int fd) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        drop(fd);
        return;
    }
    ssize_t w = write(fd, buf, (size_t)n);
    if (w == n)
        return;
    if (w < 0) {
        if (errno != EAGAIN) {
            drop(fd);
            return;
        }
        w = 0;
    }
    keep(fd, buf + w, (size_t)(n - w));
}

static void on_writable(int fd) {
    struct pending* p = pendings[fd];
    ssize_t w = write(fd, p->data + p->off, p->len - p->off);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            drop(fd);
        return;
    }
    p->off += (size_t)w;
    if (p->off == p->len) {
        free(p);
        pendings[fd] = NULL;
        set_events(fd, EPOLLIN);
    }
}

static void on_accept(int lfd) {
    for (int i = 0; i < 256; i++) { // a batch per event; level-triggered brings us back
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                perror("epoll_echo: accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((unsigned short)atoi(argv[1])),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(lfd, SOMAXCONN) != 0) {
        perror("epoll_echo: bind/listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("epoll_echo: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            unsigned e = evs[i].events;
            if (fd == lfd) {
                on_accept(lfd);
            } else if (e & EPOLLOUT) {
                on_writable(fd);
            } else if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                on_readable(fd);
            }
        }
    }
}
