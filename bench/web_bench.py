#!/usr/bin/python3
"""Web load test: braid's HTTP/1.1 server against nginx and Twisted web, with wrk.

Usage (normally through ./dev, which builds braid's runner first):

    ./dev bench web [options]                       build the runner, then run
    /usr/bin/python3 bench/web_bench.py [options]   run only

Options:
    --seconds T         measured seconds per run (default 10), after --warmup (default 1);
                        wrk rounds both to whole seconds (at least 1)
    --servers a,b       subset of: braid, nginx, twisted
    --tests a,b         subset of: hello (13 bytes), file (1 MiB)
    --connections N     keep-alive connections (default 50)
    --braid CMD         braid's server command, with {port} and {root} in it; default
                        build/release/apps/braid/braid web --listen
                        tcp:{port}:interface=127.0.0.1 --path {root} --no-access-log
                        (nginx logs nothing either)
    --repeat K          run every (test, server) K times, interleaved, and report medians
                        with the range of CPU/request (default 1)
    --realtime          servers and wrk as SCHED_FIFO (chrt -f 10; root); wrk runs as a
                        normal process for the 1 MiB file (as SCHED_FIFO it hangs there)
    --build DIR         the document root, configs, logs and results (default build/bench-web)
    --json FILE         results file (default DIR/web.json)

Each server serves DIR/root/ (generated here): hello.txt ("Hello, world!", 13 bytes) and
1MiB.bin (1 MiB of pseudo-random bytes). nginx is Debian's, one worker, access log off
(bench/nginx/nginx.conf); Twisted is twisted.web.static.File (bench/peers/twisted_web.py);
braid is `braid web --path`, or what --braid says. Each run starts a fresh server on a free
loopback port, checks that GET of the test's file answers 200 with exactly its bytes, runs
wrk for the warm-up, then wrk for T seconds with one thread and N keep-alive connections
(bench/wrk/report.lua prints its figures as JSON), reading the server's utime+stime (its
threads and its child processes: nginx's worker) from /proc at the edges of that run. Any
wrk error (connect, read, write, timeout, non-2xx status) fails the run.

Pinning: the server on CPU 0, wrk on CPU 1 (taskset), as in the echo test; wrk needs about
as much CPU per request as a fast server does, so CPU per request is the figure to compare
first, and the client CPU % column says when wrk was the limit.

The table gives requests/s, p50/p99 latency, the server's CPU per request, and both ratios
to braid (to nginx when braid is not built). Every server is killed on exit, on failure and
on Ctrl-C. Exit status 1 if a run failed.
"""

import argparse
import http.client
import json
import os
import random
import resource
import shlex
import sys

from benchlib import (ROOT, add_run_options, braid_ready, check_run_options, cpu_range, finish,
                      fmt, log, median_result, pinned, run_bounded, stop_servers_on_exit,
                      with_server)

TWISTED_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-twisted
NGINX = "/usr/sbin/nginx"
WRK = "/usr/bin/wrk"
SERVER_NAMES = ["braid", "nginx", "twisted"]
BRAID_DEFAULT = ("build/release/apps/braid/braid web --listen tcp:{port}:interface=127.0.0.1 "
                 "--path {root} --no-access-log")
HELLO = b"Hello, world!"
FILE_SIZE = 1 << 20
# test name -> (file in the root, what the table calls it)
TESTS = {"hello": ("hello.txt", "13 B hello"), "file": ("1MiB.bin", "1 MiB file")}

# The goals: braid / peer, for requests/s and CPU efficiency alike.
GOALS = {"nginx": 1.0, "twisted": 30.0}


# --- the document root and the servers ---------------------------------------------------


def make_root(build):
    """build/root with hello.txt and 1MiB.bin (the same bytes every time); returns its path
    and name -> contents."""
    root = os.path.join(build, "root")
    os.makedirs(root, exist_ok=True)
    contents = {"hello.txt": HELLO, "1MiB.bin": random.Random(6).randbytes(FILE_SIZE)}
    for name, data in contents.items():
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except OSError:
            pass
        with open(path, "wb") as f:
            f.write(data)
    return root, contents


def nginx_command(build, root):
    """nginx's command line, and the prepare(port) that writes its config for that port
    from bench/nginx/nginx.conf."""
    prefix = os.path.join(build, "nginx")
    for sub in ("logs", "tmp"):
        os.makedirs(os.path.join(prefix, sub), exist_ok=True)
    with open(os.path.join(ROOT, "bench/nginx/nginx.conf")) as f:
        template = f.read()
    user = "user root;" if os.geteuid() == 0 else ""
    template = template.replace("{user}", user).replace("{prefix}", prefix)
    template = template.replace("{root}", root)
    conf = os.path.join(prefix, "nginx.conf")

    def prepare(port):  # the runs are one after another: one config file will do
        with open(conf, "w") as f:
            f.write(template.replace("{port}", str(port)))

    return [NGINX, "-p", prefix, "-e", os.path.join(prefix, "logs/nginx-error.log"), "-c", conf,
            "-g", "daemon off;"], prepare


def server_commands(args, root):
    """name -> the command as a list ({port} in it, but for nginx); nginx's prepare(port)."""
    nginx, prepare = nginx_command(args.build, root)
    braid = [a.replace("{root}", root) for a in shlex.split(args.braid)]
    braid[0] = os.path.join(ROOT, braid[0])
    cmds = {"braid": braid, "nginx": nginx,
            "twisted": [TWISTED_PYTHON, os.path.join(ROOT, "bench/peers/twisted_web.py"),
                        "{port}", root]}
    if "braid" in args.servers and not braid_ready(braid, "nginx and Twisted"):
        del cmds["braid"]
    return {name: cmds[name] for name in args.servers if name in cmds}, prepare


# --- runs --------------------------------------------------------------------------------


def check_response(server, name, data):
    """GET /name must answer 200 with exactly data."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/" + name)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200 or body != data:
        raise RuntimeError(f"{server.name}: GET /{name} answered {response.status} with "
                           f"{len(body)} bytes, not 200 with the file's {len(data)}")


def wrk(args, server, test, seconds, client_cpu):
    """Runs wrk for seconds (whole seconds: wrk takes no fractions); returns its JSON figures
    and its CPU seconds."""
    path = "/" + TESTS[test][0]
    label = f"{server.name} {path}"
    seconds = max(1, round(seconds))
    # As SCHED_FIFO, wrk reading 1 MiB responses from nginx as fast as it can hangs (past
    # its deadline, every time): it runs as a normal process for that test.
    realtime = args.realtime and test != "file"
    cmd = pinned(client_cpu, realtime) + [
        WRK, "-t", "1", "-c", str(args.connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", os.path.join(ROOT, "bench/wrk/report.lua"),
        f"http://127.0.0.1:{server.port}{path}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    status, out, err = run_bounded(cmd, timeout=seconds + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server.check_alive(label)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if status != 0 or not lines:
        raise RuntimeError(f"{label}: wrk failed (status {status}): {(out + err).strip()[-500:]}")
    figures = json.loads(lines[-1])
    errors = {k: v for k, v in figures["errors"].items() if v}
    if errors:
        raise RuntimeError(f"{label}: wrk saw errors: {errors}")
    client_cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return figures, client_cpu_s


def run_test(args, server, test, contents, client_cpu):
    """Warm-up, then the measured wrk run; returns the row's figures."""
    name = TESTS[test][0]
    check_response(server, name, contents[name])
    if args.warmup > 0:
        wrk(args, server, test, args.warmup, client_cpu)
    cpu0 = server.tree_cpu_seconds()
    figures, client_cpu_s = wrk(args, server, test, args.seconds, client_cpu)
    cpu = server.tree_cpu_seconds() - cpu0
    n, wall = figures["requests"], figures["duration_us"] / 1e6
    if n == 0:
        raise RuntimeError(f"{server.name} /{name}: no request completed")
    body = len(contents[name])
    if figures["bytes"] < n * body:
        raise RuntimeError(f"{server.name} /{name}: {figures['bytes']} bytes read for {n} "
                           f"responses of {body}-byte bodies")
    result = {"requests": n, "req_per_s": n / wall, "lat_us": figures["lat_us"],
              "bytes_per_req": figures["bytes"] / n, "server_cpu_us_per_req": cpu / n * 1e6,
              "server_cpu_util": cpu / wall, "client_cpu_util": client_cpu_s / wall}
    log(f"  {server.name} {TESTS[test][1]}: {result['req_per_s']:,.0f} req/s, p50 "
        f"{result['lat_us']['p50']} µs, p99 {result['lat_us']['p99']} µs, server "
        f"{result['server_cpu_us_per_req']:.2f} µs/req ({result['server_cpu_util'] * 100:.0f}%"
        f" CPU), wrk {result['client_cpu_util'] * 100:.0f}% CPU")
    return result


# --- report ------------------------------------------------------------------------------


def ratios(r, ref):
    """(requests/s ratio, CPU/request ratio) r / ref, None where a figure is missing."""
    if not r or not ref:
        return None, None
    rate = r["req_per_s"] / ref["req_per_s"] if ref["req_per_s"] > 0 else None
    cpu = None
    if r["server_cpu_us_per_req"] > 0 and ref["server_cpu_us_per_req"] > 0:
        cpu = r["server_cpu_us_per_req"] / ref["server_cpu_us_per_req"]
    return rate, cpu


def print_table(args, results, ref_name):
    print()
    if args.repeat > 1:
        print(f"Medians of {args.repeat} interleaved runs per row; CPU/req gives (min–max).")
    print(f"Web load test (wrk, {args.seconds:g} s per run, {args.connections} keep-alive "
          f"connections; ratios are ×{ref_name}: for req/s higher is better, for CPU/req "
          "lower is better)")
    print()
    print("| test | server | req/s | p50 µs | p99 µs | server CPU µs/req | server CPU % "
          "| client CPU % | req/s ratio | CPU/req ratio |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for test in args.tests:
        label = TESTS[test][1]
        for name in SERVER_NAMES:
            r = results.get((test, name), "absent")
            if r == "absent":
                continue
            if r is None:
                print(f"| {label} | {name} | FAILED | | | | | | | |")
                continue
            rate, cpu = ratios(r, results.get((test, ref_name)))
            print(f"| {label} | {name} | {fmt(r['req_per_s'])} | {fmt(r['lat_us']['p50'])} "
                  f"| {fmt(r['lat_us']['p99'])} | {fmt(r['server_cpu_us_per_req'], 2)}"
                  f"{cpu_range(r, 2)} | {fmt(r['server_cpu_util'] * 100)} "
                  f"| {fmt(r['client_cpu_util'] * 100)} | {fmt(rate, 2)} | {fmt(cpu, 2)} |")


def print_goals(args, results):
    """The issue's goals, checked on this run's figures: ≥ 1.0× nginx with p99 no worse,
    ≥ 30× Twisted, in requests/s and in CPU efficiency."""
    lines = []
    for test in args.tests:
        b = results.get((test, "braid"))
        for peer, need in GOALS.items():
            p = results.get((test, peer))
            if not b or not p:
                continue
            rate, cpu = ratios(b, p)
            eff = 1 / cpu if cpu else 0
            ok = (rate or 0) >= need and eff >= need
            p99 = ""
            if peer == "nginx":
                ok = ok and b["lat_us"]["p99"] <= p["lat_us"]["p99"]
                p99 = f", p99 {b['lat_us']['p99']:.0f} vs {p['lat_us']['p99']:.0f} µs"
            lines.append(f"{'met ' if ok else 'MISS'}  {TESTS[test][1]} vs {peer}: req/s "
                         f"{fmt(rate, 2)}×, CPU efficiency {eff:.2f}× (need ≥ {need:g}){p99}")
    if lines:
        print()
        print("Goals (issue 6, Speed):")
        for line in lines:
            print("  " + line)


# --- main --------------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(
        description="Web load test: braid's HTTP server vs nginx and Twisted web, with wrk.",
        epilog="See the top of bench/web_bench.py and docs/benchmarks.md.")
    add_run_options(ap, build_default="build/bench-web")
    ap.add_argument("--servers", default=",".join(SERVER_NAMES))
    ap.add_argument("--tests", default=",".join(TESTS))
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--braid", default=BRAID_DEFAULT)
    a = ap.parse_args()
    check_run_options(ap, a, "web.json")
    a.servers = [s.strip() for s in a.servers.split(",") if s.strip()]
    a.tests = [t.strip() for t in a.tests.split(",") if t.strip()]
    for s in a.servers:
        if s not in SERVER_NAMES:
            ap.error(f"unknown server '{s}' (known: {', '.join(SERVER_NAMES)})")
    for t in a.tests:
        if t not in TESTS:
            ap.error(f"unknown test '{t}' (known: {', '.join(TESTS)})")
    if not 0 < a.connections <= 10000:
        ap.error("--connections must be in (0, 10000]")
    if "{port}" not in a.braid:
        ap.error("--braid needs {port} in the command")
    return a


def main():
    for program, package in ((WRK, "wrk"), (NGINX, "nginx"), (TWISTED_PYTHON, "python3")):
        if not os.access(program, os.X_OK):
            sys.exit(f"web_bench: {program} is missing (Debian's {package}): run ./dev bench web")
    os.makedirs(args.build, exist_ok=True)
    root, contents = make_root(args.build)
    commands, nginx_prepare = server_commands(args, root)
    if not commands:
        sys.exit("web_bench: no server to measure")
    ref_name = "braid" if "braid" in commands else "nginx"
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (cpus[0], cpus[0])
    if len(cpus) < 2:
        log("web_bench: only one CPU available: servers and wrk share it")
    logdir = os.path.join(args.build, "logs")
    os.makedirs(logdir, exist_ok=True)

    runs, failures = {}, []
    for rep in range(args.repeat):
        for test in args.tests:
            for name in commands:
                log(f"{name} {TESTS[test][1]} (run {rep + 1}/{args.repeat}): server on CPU "
                    f"{server_cpu}, wrk on CPU {client_cpu}")
                r = with_server(name, commands[name], pinned(server_cpu, args.realtime), logdir,
                                failures,
                                lambda s, test=test: run_test(args, s, test, contents,
                                                              client_cpu),
                                nginx_prepare if name == "nginx" else None)
                runs.setdefault((test, name), []).append(r)
    results = {k: median_result(rs, "req_per_s", "server_cpu_us_per_req")
               for k, rs in runs.items()}

    print_table(args, results, ref_name)
    print_goals(args, results)
    return finish("web_bench", args.json,
                  {"seconds": args.seconds, "warmup": args.warmup,
                   "connections": args.connections, "reference": ref_name,
                   "runs": [dict(test=k[0], server=k[1], result=v) for k, v in results.items()]},
                  failures)


if __name__ == "__main__":
    args = parse_args()
    stop_servers_on_exit("web_bench")
    sys.exit(main())
