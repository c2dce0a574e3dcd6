#!/usr/bin/python3
"""Echo load test: braid's echo server against hand-written epoll, libuv, Asio and Twisted.

Usage (normally through ./dev, which builds everything first):

    ./dev bench echo [options]             build the peers and the load generator, then run
    /usr/bin/python3 bench/echo_bench.py [options]      run only (expects the build)

Options:
    --seconds T         measured seconds per run (default 10), after --warmup (default 1)
    --servers a,b,...   subset of: braid, epoll_echo, uv_echo, asio_echo, twisted_echo
    --scenario N,D,S    run only this scenario (repeatable); default: the three below
    --braid CMD         braid's echo server: a path (the port is appended) or a command with
                        {port} in it; default build/release/examples/echoserver
    --idle-connections K  idle-connection memory test size (default 10000; 0 skips it)
    --repeat K          run every (server, scenario) K times, interleaved (round-robin over the
                        servers, so drift on a shared machine hits each alike), and report the
                        median of each figure, with the range of CPU/msg (default 1)
    --realtime          run servers and load generator as SCHED_FIFO (chrt -f 10; root), so
                        other work on a shared machine does not preempt them (the kernel
                        still leaves it 5% of each core)
    --build DIR         where bench/Makefile put the binaries (default build/bench-echo)
    --json FILE         results file (default DIR/results.json)

For each server and scenario (connections N, pipeline depth D, message size S):
    N=50 D=16 S=64, N=50 D=1 S=4096  server pinned to CPU 0, load generator to CPU 1
    N=1  D=1  S=64                   both on CPU 0 (no cross-core wake-up hides the cost)
a fresh server starts on a free loopback port, the load generator (bench/loadgen) runs a
warm-up and then T measured seconds, reading the server's utime+stime from /proc/PID/stat
at the start and the end of the measured window, and the server is stopped. The table gives
messages/s, p50/p99 latency, the server's CPU time per message, and both ratios to braid
(to epoll_echo when braid is not built). Then each server gets K idle connections and the
growth of its VmRSS (/proc/PID/status) per connection is reported (each connection echoes
one byte, which proves the server accepted it, then stays silent).

On a 2-core machine the load generator competes with the server, so CPU per message is
the figure to compare; the server CPU % column says how close to saturated the server ran.
Every server is killed on exit, on failure and on Ctrl-C. Exit status 1 if a run failed.
"""

import argparse
import os
import shlex
import subprocess
import sys
import time

from benchlib import (ROOT, add_run_options, check_run_options, cpu_range, finish, fmt, log,
                      median_result, pinned, run_loadgen, running, stop_servers_on_exit,
                      with_server)

TWISTED_PYTHON = "/usr/bin/python3"  # Debian's, which has python3-twisted

DEFAULT_SCENARIOS = [(50, 16, 64), (50, 1, 4096), (1, 1, 64)]
SERVER_NAMES = ["braid", "epoll_echo", "uv_echo", "asio_echo", "twisted_echo"]


# --- runs --------------------------------------------------------------------------------


def scenario_name(n, d, s):
    return f"N={n} D={d} S={s}"


def run_load(args, server, n, d, s, cpu):
    """Runs the load generator; returns its JSON result or raises RuntimeError."""
    label = f"{server.name} {scenario_name(n, d, s)}"
    cmd = pinned(cpu, args.realtime) + [
        args.loadgen, "--port", str(server.port), "-c", str(n), "-d", str(d), "-s", str(s),
        "-t", str(args.seconds), "-w", str(args.warmup), "--server-pid", str(server.pid),
        "--label", server.name]
    return run_loadgen(cmd, server, label, timeout=args.seconds + args.warmup + 30)


def idle_memory(args, server, cpu):
    """RSS growth of the server per idle connection, in bytes."""
    k = args.idle_connections
    time.sleep(0.5)
    rss0, fds0 = server.status("VmRSS"), server.open_fds()
    cmd = pinned(cpu, args.realtime) + [args.loadgen, "--port", str(server.port), "-c", str(k),
                                        "-d", "0", "-t", "60", "--connect-timeout", "30"]
    gen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    running.append(gen)
    try:
        line = gen.stdout.readline()  # bounded: loadgen's own deadline
        if not line.startswith("{"):
            gen.wait(timeout=5)
            raise RuntimeError(f"{server.name}: idle connections failed: {gen.stderr.read()}")
        deadline = time.monotonic() + 30
        while server.open_fds() < fds0 + k:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.name}: accepted only {server.open_fds() - fds0} "
                                   f"of {k} connections in 30 s")
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} died with {k} idle connections: "
                                   f"{server.log_tail()}")
            time.sleep(0.1)
        time.sleep(1)  # let it finish setting them up
        rss1 = server.status("VmRSS")
    finally:
        gen.terminate()
        gen.wait(timeout=5)
        if gen in running:
            running.remove(gen)
    per_conn = (rss1 - rss0) * 1024 / k
    log(f"  {server.name}: VmRSS {rss0} kB -> {rss1} kB with {k} idle connections: "
        f"{per_conn:.0f} B per connection")
    return {"server": server.name, "connections": k, "rss_before_kb": rss0,
            "rss_after_kb": rss1, "bytes_per_connection": per_conn}


# --- report ------------------------------------------------------------------------------


def print_table(results, scenarios, ref_name, seconds, repeat):
    print()
    if repeat > 1:
        print(f"Medians of {repeat} interleaved runs per row; CPU/msg gives (min–max).")
    fallback = " (×epoll_echo where braid has no figure)" if ref_name == "braid" else ""
    print(f"Echo load test ({seconds:g} s per run; ratios are ×{ref_name}{fallback}: for "
          f"msgs/s higher is better, for CPU/msg lower is better)")
    print()
    print("| server | scenario | msgs/s | p50 µs | p99 µs | server CPU µs/msg | server CPU % "
          "| client CPU % | msgs/s ratio | CPU/msg ratio |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for sc in scenarios:
        ref = results.get((ref_name, sc)) or results.get(("epoll_echo", sc))
        for name in SERVER_NAMES:
            r = results.get((name, sc), "absent")
            if r == "absent":
                continue
            if r is None:
                print(f"| {name} | {scenario_name(*sc)} | FAILED | | | | | | | |")
                continue
            rate, cpu = r["msgs_per_s"], r["server_cpu_us_per_msg"]
            rate_ratio = cpu_ratio = None
            if ref:
                rate_ratio = rate / ref["msgs_per_s"]
                if cpu > 0 and ref["server_cpu_us_per_msg"] > 0:
                    cpu_ratio = cpu / ref["server_cpu_us_per_msg"]
            print(f"| {name} | {scenario_name(*sc)} | {fmt(rate)} | {fmt(r['lat_us']['p50'], 1)} "
                  f"| {fmt(r['lat_us']['p99'], 1)} | {fmt(cpu, 3)}{cpu_range(r)} "
                  f"| {fmt(r['server_cpu_util'] * 100)} | {fmt(r['client_cpu_util'] * 100)} "
                  f"| {fmt(rate_ratio, 2)} | {fmt(cpu_ratio, 2)} |")


def print_idle(idle):
    if not idle:
        return
    print()
    print("| server | idle connections | VmRSS before kB | VmRSS after kB | bytes/connection |")
    print("|---|--:|--:|--:|--:|")
    for r in idle:
        print(f"| {r['server']} | {r['connections']:,} | {r['rss_before_kb']:,} "
              f"| {r['rss_after_kb']:,} | {r['bytes_per_connection']:,.0f} |")


def print_goals(results, idle, scenarios):
    """The issue's goals for braid, checked on this run's figures."""
    lines = []
    for sc in scenarios:
        b = results.get(("braid", sc))
        if not b:
            continue
        for peer, need in (("epoll_echo", 0.95), ("uv_echo", 1.0), ("asio_echo", 1.0)):
            p = results.get((peer, sc))
            if not p:
                continue
            rate = b["msgs_per_s"] / p["msgs_per_s"]
            eff = p["server_cpu_us_per_msg"] / b["server_cpu_us_per_msg"]
            p99 = b["lat_us"]["p99"] <= p["lat_us"]["p99"]
            ok = rate >= need and eff >= need and p99
            lines.append(f"{'met ' if ok else 'MISS'}  {scenario_name(*sc)} vs {peer}: "
                         f"msgs/s {rate:.2f}×, CPU efficiency {eff:.2f}× (need ≥ {need}), "
                         f"p99 {b['lat_us']['p99']:.0f} vs {p['lat_us']['p99']:.0f} µs")
    for r in idle:
        if r["server"] == "braid":
            ok = r["bytes_per_connection"] < 1024
            lines.append(f"{'met ' if ok else 'MISS'}  idle connections: "
                         f"{r['bytes_per_connection']:.0f} B per connection (need < 1024)")
    if lines:
        print()
        print("Goals (issue 3, Speed):")
        for line in lines:
            print("  " + line)


# --- main --------------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(
        description="Echo load test: braid vs raw epoll, libuv, Asio and Twisted.",
        epilog="See the top of bench/echo_bench.py and docs/benchmarks.md.")
    add_run_options(ap)
    ap.add_argument("--servers", default=",".join(SERVER_NAMES))
    ap.add_argument("--scenario", action="append", metavar="N,D,S")
    ap.add_argument("--braid", default="build/release/examples/echoserver")
    ap.add_argument("--idle-connections", type=int, default=10000)
    a = ap.parse_args()
    check_run_options(ap, a, "results.json")
    a.loadgen = os.path.join(a.build, "loadgen")
    a.servers = [s.strip() for s in a.servers.split(",") if s.strip()]
    for s in a.servers:
        if s not in SERVER_NAMES:
            ap.error(f"unknown server '{s}' (known: {', '.join(SERVER_NAMES)})")
    if a.scenario:
        try:
            a.scenarios = [tuple(int(x) for x in sc.split(",")) for sc in a.scenario]
            assert all(len(sc) == 3 and min(sc) > 0 for sc in a.scenarios)
        except (ValueError, AssertionError):
            ap.error("--scenario takes N,D,S: three positive whole numbers")
    else:
        a.scenarios = DEFAULT_SCENARIOS
    if not 0 <= a.idle_connections <= 50000:
        ap.error("--idle-connections must be in [0, 50000]")
    return a


def server_commands(args):
    cmds = {
        "epoll_echo": [os.path.join(args.build, "epoll_echo"), "{port}"],
        "uv_echo": [os.path.join(args.build, "uv_echo"), "{port}"],
        "asio_echo": [os.path.join(args.build, "asio_echo"), "{port}"],
        "twisted_echo": [TWISTED_PYTHON, os.path.join(ROOT, "examples/twisted/echoserver.py"),
                         "{port}"],
    }
    braid = shlex.split(args.braid)
    if "{port}" not in args.braid:
        braid.append("{port}")
    braid[0] = os.path.join(ROOT, braid[0])
    cmds["braid"] = braid
    return {name: cmds[name] for name in SERVER_NAMES if name in args.servers}


def main():
    for name in ("loadgen", "epoll_echo", "uv_echo", "asio_echo"):
        if not os.access(os.path.join(args.build, name), os.X_OK):
            sys.exit(f"echo_bench: {args.build}/{name} is missing: run ./dev bench echo "
                     "(or make -C bench)")
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (cpus[0], cpus[0])
    if len(cpus) < 2:
        log("echo_bench: only one CPU available: server and load generator share it")

    commands = server_commands(args)
    if "braid" in commands and not os.access(commands["braid"][0], os.X_OK):
        log(f"braid: not built yet ({commands['braid'][0]} missing); skipped. "
            "Build it with ./dev build release, or point --braid at it.")
        del commands["braid"]
    ref_name = "braid" if "braid" in commands else "epoll_echo"
    logdir = os.path.join(args.build, "logs")
    os.makedirs(logdir, exist_ok=True)

    runs, idle, failures = {}, [], []
    for rep in range(args.repeat):
        for sc in args.scenarios:
            n, d, s = sc
            # N=1 D=1: the client shares the server's core (issue 3, Speed).
            cpu = server_cpu if (n, d) == (1, 1) else client_cpu
            for name, argv in commands.items():
                log(f"{name} {scenario_name(*sc)} (run {rep + 1}/{args.repeat}): server on CPU "
                    f"{server_cpu}, client on CPU {cpu}")
                r = with_server(name, argv, pinned(server_cpu, args.realtime), logdir, failures,
                                lambda server: run_load(args, server, n, d, s, cpu))
                runs.setdefault((name, sc), []).append(r)
    results = {key: median_result(rs, "msgs_per_s", "server_cpu_us_per_msg")
               for key, rs in runs.items()}
    if args.idle_connections > 0:
        log(f"idle-connection memory test: {args.idle_connections} connections per server")
        for name, argv in commands.items():
            r = with_server(name, argv, pinned(server_cpu, args.realtime), logdir, failures,
                            lambda server: idle_memory(args, server, client_cpu))
            if r:
                idle.append(r)

    print_table(results, args.scenarios, ref_name, args.seconds, args.repeat)
    print_idle(idle)
    print_goals(results, idle, args.scenarios)
    return finish("echo_bench", args.json,
                  {"seconds": args.seconds, "warmup": args.warmup, "reference": ref_name,
                   "runs": [dict(server=k[0], scenario=scenario_name(*k[1]), result=v)
                            for k, v in results.items()],
                   "idle": idle}, failures)


if __name__ == "__main__":
    args = parse_args()
    stop_servers_on_exit("echo_bench")
    sys.exit(main())
