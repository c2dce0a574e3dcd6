// uv_echo: libuv echo server for braid's echo benchmark (bench/echo_bench.py).
//
// Single-threaded, the fast libuv idiom: reads go into one shared 64 KiB buffer (the loop
// runs one read callback at a time), uv_try_write sends them straight back, and only what
// the socket does not take is copied into a uv_write_t request; while that is queued the
// connection stops reading (uv_read_stop), as epoll_echo does.
//
// usage: uv_echo PORT   (binds 127.0.0.1:PORT)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct write_req {
    uv_write_t req;
    char data[];
};

static uv_loop_t* loop;
static char slab[64 * 1024];

static void alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) {
    (void)handle;
    (void)suggested;
    *buf = uv_buf_init(slab, sizeof slab);
}

static void close_cb(uv_handle_t* handle) {
    free(handle);
}

static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

static void write_cb(uv_write_t* req, int status) {
    uv_stream_t* stream = req->handle;
    free(req);
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t*)stream))
            uv_close((uv_handle_t*)stream, close_cb);
        return;
    }
    if (stream->write_queue_size == 0 && !uv_is_closing((uv_handle_t*)stream))
        uv_read_start(stream, alloc_cb, read_cb);
}

static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    if (nread < 0) {
        uv_close((uv_handle_t*)stream, close_cb);
        return;
    }
    if (nread == 0)
        return;
    uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
    int w = uv_try_write(stream, &out, 1);
    if (w == UV_EAGAIN)
        w = 0;
    if (w < 0) {
        uv_close((uv_handle_t*)stream, close_cb);
        return;
    }
    if (w == nread)
        return;
    size_t rest = (size_t)(nread - w);
    struct write_req* r = malloc(sizeof *r + rest);
    if (r == NULL)
        abort();
    memcpy(r->data, buf->base + w, rest);
    uv_buf_t b = uv_buf_init(r->data, (unsigned)rest);
    if (uv_write(&r->req, stream, &b, 1, write_cb) != 0) {
        free(r);
        uv_close((uv_handle_t*)stream, close_cb);
        return;
    }
    uv_read_stop(stream);
}

static void on_connection(uv_stream_t* server, int status) {
    if (status < 0) {
        fprintf(stderr, "uv_echo: accept: %s\n", uv_strerror(status));
        return;
    }
    uv_tcp_t* client = malloc(sizeof *client);
    if (client == NULL)
        abort();
    uv_tcp_init(loop, client);
    if (uv_accept(server, (uv_stream_t*)client) != 0) {
        uv_close((uv_handle_t*)client, close_cb);
        return;
    }
    uv_tcp_nodelay(client, 1);
    uv_read_start((uv_stream_t*)client, alloc_cb, read_cb);
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    int rc = uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t*)&server, SOMAXCONN, on_connection);
    if (rc != 0) {
        fprintf(stderr, "uv_echo: listen on 127.0.0.1:%s: %s\n", argv[1], uv_strerror(rc));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
