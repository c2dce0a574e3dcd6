#!/usr/bin/python3
"""Paired A/B of two memcached servers: both run at the same time, on the same CPUs, each
with its own load generator, so that both see the same machine (on a shared VM whose speed
moves by 2x within minutes, runs one after the other cannot tell 5 % apart; the same binary
run against itself this way agrees within about 1 %).

Usage (after ./dev bench memcached has built the runner and bench/loadgen/mcload):

    /usr/bin/python3 bench/memcache_ab.py --a CMD --b CMD [options]

    --a CMD, --b CMD    the two servers' commands, with {port} and {threads} in them, e.g.
                        "build/release/apps/braid/braid memcached -p {port} -l 127.0.0.1
                        -U 0 -m 64 --threads {threads}" and the same from another build
    --scenario R,D      get ratio and requests in flight per connection (default 0,16)
    --threads T         server threads (default 1)
    --keys K            key space (default 100000); --keys-a overrides it for A alone
                        (e.g. 1000 against 100000 shows what the store's cache misses cost)
    --rounds N          pairs of runs (default 3); A and B swap roles every round
    --seconds S         measured seconds per run (default 6)

With 1 server thread both servers share CPU 0 and both load generators CPU 1; with more,
everything shares every CPU. Prints each round's server CPU per operation and ops/s, then
the median of B/A: below 1 means B needs less CPU per operation.
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

from benchlib import ROOT, Server, log, pinned, stop_servers_on_exit

MCLOAD = os.path.join(ROOT, "build/bench-echo/mcload")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--scenario", default="0,16")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--keys-a", type=int)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=6)
    a = ap.parse_args()
    ratio, depth = a.scenario.split(",")
    a.ratio, a.depth = float(ratio), int(depth)
    if not 0 < a.threads <= 16 or not 0 < a.rounds <= 100 or not 0 < a.seconds <= 600:
        ap.error("--threads, --rounds and --seconds must be positive (and sensible)")
    if not os.access(MCLOAD, os.X_OK):
        sys.exit(f"memcache_ab: {MCLOAD} is missing: run ./dev bench memcached first")
    return a


def load(args, server, keys, cpus):
    """Starts mcload against server; returns the process (its JSON on stdout)."""
    cmd = pinned(cpus, False) + [
        MCLOAD, "--port", str(server.port), "-d", str(args.depth), "-g", str(args.ratio),
        "-k", str(keys), "-t", str(args.seconds), "-w", "1", "--server-pid", str(server.pid),
        "--label", server.name]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(proc, timeout):
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"mcload failed ({proc.returncode}): {err.strip()[-300:]}")
    return json.loads(next(line for line in out.splitlines() if line.startswith("{")))


def round_of(args, first, second, logdir):
    """One pair of runs; returns {name: figures}."""
    threads = args.threads
    server_cpus = [0] if threads == 1 else list(range(os.cpu_count()))
    client_cpus = [1 % os.cpu_count()] if threads == 1 else server_cpus
    servers = []
    try:
        for name, cmd in (first, second):
            argv = [x.replace("{threads}", str(threads)) for x in shlex.split(cmd)]
            servers.append(Server(name, argv, pinned(server_cpus, False), logdir))
        runs = [load(args, s, args.keys_a if s.name == "A" and args.keys_a else args.keys,
                     client_cpus) for s in servers]
        return {s.name: result(p, args.seconds + 60) for s, p in zip(servers, runs)}
    finally:
        for s in servers:
            s.stop()


def main():
    args = parse_args()
    stop_servers_on_exit("memcache_ab")
    logdir = os.path.join(ROOT, "build/bench-echo/logs")
    os.makedirs(logdir, exist_ok=True)
    ratios = []
    for i in range(args.rounds):
        order = [("A", args.a), ("B", args.b)]
        figures = round_of(args, *(order if i % 2 == 0 else order[::-1]), logdir)
        a, b = figures["A"], figures["B"]
        ratios.append(b["server_cpu_us_per_op"] / a["server_cpu_us_per_op"])
        log(f"round {i + 1}: A {a['server_cpu_us_per_op']:.3f} µs/op {a['ops_per_s']:,.0f} ops/s"
            f"   B {b['server_cpu_us_per_op']:.3f} µs/op {b['ops_per_s']:,.0f} ops/s"
            f"   B/A {ratios[-1]:.3f}")
    print(f"CPU per operation, B/A: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {len(ratios)} rounds")


if __name__ == "__main__":
    main()
