#!/usr/bin/python3
"""memcached load test: braid's memcached server against the real memcached (Debian's 1.6.18).

Usage (normally through ./dev, which builds everything first):

    ./dev bench memcached [options]             build braid and the load generator, then run
    /usr/bin/python3 bench/memcache_bench.py [options]      run only (expects the build)

Options:
    --seconds T         measured seconds per run (default 10), after --warmup (default 1)
    --threads 1,2       server thread counts: memcached -t N against braid --threads N
    --servers a,b       subset of: braid, memcached
    --scenario R,D      get ratio R (0..1, the rest are sets) with D requests in flight per
                        connection (repeatable); default 0.9,1  0,1  0.9,16  0,16
    --connections N     connections (default 50)
    --value-size V      value bytes (default 100)
    --keys K            key space, prefilled before each run (default 100000)
    --braid CMD         braid's server command, with {port} and {threads} in it; default
                        build/release/apps/braid/braid memcached -p {port} -l 127.0.0.1 -U 0
                        -m 64 --threads {threads}
    --memcached CMD     the same for memcached (default /usr/bin/memcached ... -t {threads};
                        -u nobody is added when run as root)
    --no-memcaslap      skip the cross-check with libmemcached's memcaslap
    --repeat K          run every (threads, scenario, server) K times, interleaved, and report
                        medians with the range of CPU/op (default 1)
    --realtime          servers and load generator as SCHED_FIFO (chrt -f 10; root);
                        memcaslap still runs as a normal process (it hangs as SCHED_FIFO)
    --build DIR         where bench/Makefile put mcload (default build/bench-echo)
    --json FILE         results file (default DIR/memcached.json)

Each run starts a fresh server on a free loopback port, and bench/loadgen/mcload opens the
connections, sets every key once (prefill, so gets hit), runs a warm-up and then T measured
seconds, reading the server's utime+stime (all its threads) from /proc/PID/stat at the
window's edges, checking every reply (a protocol error fails the run). The table gives
operations/s, p50/p99 latency, the server's CPU time per operation, and for braid the
ratios braid/memcached at the same thread count.

Pinning: with t server threads and at least t + 1 CPUs, the server gets CPUs 0..t-1 and the
load generator CPU t. With fewer (t = 2 on a 2-core machine) the server and the load
generator share CPUs 0..t-1, the scheduler placing them: throughput is then bounded by
the client's share of the machine, and CPU per operation is the figure to compare.

memcaslap (libmemcached-tools) then runs against each server for T seconds (-T 1 -c N,
the same get ratio and value size, 1 request in flight per connection) as a cross-check of
the 90/10 D=1 figures with a load generator that is not ours; its CPU/op is the server's
CPU over the whole memcaslap run divided by its operations.

Every server is killed on exit, on failure and on Ctrl-C. Exit status 1 if a run failed.
"""

import argparse
import os
import re
import shlex
import sys
import tempfile

from benchlib import (ROOT, add_run_options, braid_ready, check_run_options, cpu_range, finish,
                      fmt, log, median_result, pinned, run_bounded, run_loadgen,
                      stop_servers_on_exit, with_server)

DEFAULT_SCENARIOS = [(0.9, 1), (0.0, 1), (0.9, 16), (0.0, 16)]
SERVER_NAMES = ["memcached", "braid"]  # the reference first
BRAID_DEFAULT = ("build/release/apps/braid/braid memcached -p {port} -l 127.0.0.1 -U 0 -m 64 "
                 "--threads {threads}")
MEMCACHED_DEFAULT = "/usr/bin/memcached -p {port} -l 127.0.0.1 -U 0 -m 64 -t {threads}"
MEMCASLAP = "/usr/bin/memcaslap"

# The goals: braid / memcached at the same thread count, by requests in flight.
GOALS = {1: 1.2, 16: 2.5}


def scenario_name(sc):
    ratio, depth = sc
    mix = "set only" if ratio == 0 else f"{ratio * 100:g}/{100 - ratio * 100:g} get/set"
    return f"{mix} D={depth}"


def placement(threads):
    """(server CPUs, client CPUs) for a server with this many threads; see the docstring."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > threads:
        return cpus[:threads], cpus[threads:threads + 1]
    shared = cpus[:max(threads, 1)]
    return shared, shared


# --- runs --------------------------------------------------------------------------------


def run_mcload(args, server, sc, client_cpus):
    """Runs the load generator; returns its JSON result or raises RuntimeError."""
    ratio, depth = sc
    label = f"{server.name} {scenario_name(sc)}"
    cmd = pinned(client_cpus, args.realtime) + [
        args.mcload, "--port", str(server.port), "-c", str(args.connections), "-d", str(depth),
        "-g", str(ratio), "-k", str(args.keys), "-v", str(args.value_size),
        "-t", str(args.seconds), "-w", str(args.warmup), "--server-pid", str(server.pid),
        "--label", server.name]
    result = run_loadgen(cmd, server, label, timeout=args.seconds + args.warmup + 90)
    if result["get_misses"] > 0:
        log(f"  warning: {result['get_misses']} gets missed although every key was set "
            "(evictions? raise the server's -m or lower --keys)")
    return result


def memcaslap_config(args):
    """A memcaslap configuration: fixed key and value sizes, the get/set proportions."""
    fd, path = tempfile.mkstemp(prefix="memcaslap-", suffix=".cfg", dir=args.build)
    with os.fdopen(fd, "w") as f:
        f.write(f"key\n16 16 1\nvalue\n{args.value_size} {args.value_size} 1\n"
                f"cmd\n0 {1 - args.memcaslap_ratio:g}\n1 {args.memcaslap_ratio:g}\n")
    return path


def run_memcaslap(args, server, client_cpus, config):
    """memcaslap against the server for T seconds: its TPS, and the server's CPU per op."""
    label = f"{server.name} memcaslap"
    # Never SCHED_FIFO: memcaslap's threads hang when they share one CPU at the same
    # real-time priority.
    cmd = pinned(client_cpus, False) + [
        MEMCASLAP, "-s", f"127.0.0.1:{server.port}", "-t", f"{max(1, round(args.seconds))}s",
        "-T", "1", "-c", str(args.connections), "-F", config]
    cpu0 = server.cpu_seconds()
    status, out, err = run_bounded(cmd, timeout=args.seconds + 60)
    cpu = server.cpu_seconds() - cpu0
    server.check_alive(label)
    m = re.search(r"Run time: ([\d.]+)s Ops: (\d+) TPS: (\d+)", out)
    if status != 0 or not m:
        raise RuntimeError(f"{label}: memcaslap failed (status {status}): "
                           f"{(out + err).strip()[-500:]}")
    ops, tps = int(m.group(2)), int(m.group(3))
    result = {"ops": ops, "ops_per_s": tps, "server_cpu_us_per_op": cpu / ops * 1e6 if ops else -1,
              "server_cpu_util": cpu / float(m.group(1))}
    log(f"  {label}: {tps} ops/s ({ops} ops), server {result['server_cpu_us_per_op']:.3f} us/op")
    return result


# --- report ------------------------------------------------------------------------------


def ratios(b, m):
    """(throughput ratio, CPU/op ratio) braid / memcached, None where a figure is missing."""
    if not b or not m:
        return None, None
    rate = b["ops_per_s"] / m["ops_per_s"] if m["ops_per_s"] > 0 else None
    cpu = None
    if b["server_cpu_us_per_op"] > 0 and m["server_cpu_us_per_op"] > 0:
        cpu = b["server_cpu_us_per_op"] / m["server_cpu_us_per_op"]
    return rate, cpu


def print_table(args, results, slap):
    print()
    if args.repeat > 1:
        print(f"Medians of {args.repeat} interleaved runs per row; CPU/op gives (min–max).")
    print(f"memcached load test ({args.seconds:g} s per run, N={args.connections} connections, "
          f"{args.value_size}-byte values, {args.keys:,} keys; ratios are braid/memcached at "
          "the same thread count: for ops/s higher is better, for CPU/op lower is better)")
    print()
    print("| threads | scenario | server | ops/s | p50 µs | p99 µs | server CPU µs/op "
          "| server CPU % | client CPU % | ops/s ratio | CPU/op ratio |")
    print("|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for t in args.threads:
        for sc in args.scenarios:
            for name in args.servers:
                r = results.get((t, sc, name), "absent")
                if r == "absent":
                    continue
                if r is None:
                    print(f"| {t} | {scenario_name(sc)} | {name} | FAILED | | | | | | | |")
                    continue
                rate, cpu = (ratios(r, results.get((t, sc, "memcached")))
                             if name == "braid" else (None, None))
                print(f"| {t} | {scenario_name(sc)} | {name} | {fmt(r['ops_per_s'])} "
                      f"| {fmt(r['lat_us']['p50'], 1)} | {fmt(r['lat_us']['p99'], 1)} "
                      f"| {fmt(r['server_cpu_us_per_op'], 3)}{cpu_range(r)} "
                      f"| {fmt(r['server_cpu_util'] * 100)} | {fmt(r['client_cpu_util'] * 100)} "
                      f"| {fmt(rate, 2)} | {fmt(cpu, 2)} |")
        for name in args.servers:
            r = slap.get((t, name), "absent")
            if r == "absent":
                continue
            label = f"memcaslap {args.memcaslap_ratio * 100:g}% get D=1"
            if r is None:
                print(f"| {t} | {label} | {name} | FAILED | | | | | | | |")
                continue
            rate, cpu = (ratios(r, slap.get((t, "memcached"))) if name == "braid"
                         else (None, None))
            print(f"| {t} | {label} | {name} | {fmt(r['ops_per_s'])} | — | — "
                  f"| {fmt(r['server_cpu_us_per_op'], 3)} | {fmt(r['server_cpu_util'] * 100)} "
                  f"| — | {fmt(rate, 2)} | {fmt(cpu, 2)} |")


def print_goals(args, results):
    """The issue's goals, checked on this run's figures (D=1: 1.2×, D=16: 2.5×)."""
    lines = []
    for t in args.threads:
        for sc in args.scenarios:
            b, m = results.get((t, sc, "braid")), results.get((t, sc, "memcached"))
            if not b or not m:
                continue
            need = GOALS.get(sc[1])
            if need is None:
                continue
            rate, cpu = ratios(b, m)
            eff = 1 / cpu if cpu else 0
            p99 = b["lat_us"]["p99"] <= m["lat_us"]["p99"]
            ok = (rate or 0) >= need and eff >= need and p99
            lines.append(f"{'met ' if ok else 'MISS'}  {t} thread(s), {scenario_name(sc)}: "
                         f"ops/s {fmt(rate, 2)}×, CPU efficiency {eff:.2f}× (need ≥ {need}), "
                         f"p99 {b['lat_us']['p99']:.0f} vs {m['lat_us']['p99']:.0f} µs")
    if lines:
        print()
        print("Goals (braid vs memcached at the same thread count):")
        for line in lines:
            print("  " + line)


# --- main --------------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(
        description="memcached load test: braid's memcached server vs memcached 1.6.",
        epilog="See the top of bench/memcache_bench.py and docs/benchmarks.md.")
    add_run_options(ap)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--servers", default=",".join(SERVER_NAMES))
    ap.add_argument("--scenario", action="append", metavar="R,D")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--braid", default=BRAID_DEFAULT)
    ap.add_argument("--memcached", default=MEMCACHED_DEFAULT)
    ap.add_argument("--no-memcaslap", dest="memcaslap", action="store_false")
    a = ap.parse_args()
    check_run_options(ap, a, "memcached.json")
    a.mcload = os.path.join(a.build, "mcload")
    try:
        a.threads = [int(t) for t in a.threads.split(",") if t.strip()]
        assert a.threads and all(0 < t <= 64 for t in a.threads)
    except (ValueError, AssertionError):
        ap.error("--threads takes thread counts: 1,2")
    a.servers = [s for s in SERVER_NAMES if s in a.servers.split(",")]
    if not a.servers:
        ap.error(f"--servers: none of {', '.join(SERVER_NAMES)}")
    if a.scenario:
        try:
            a.scenarios = [(float(r), int(d)) for r, d in (sc.split(",") for sc in a.scenario)]
            assert all(0 <= r <= 1 and d > 0 for r, d in a.scenarios)
        except (ValueError, AssertionError):
            ap.error("--scenario takes R,D: a get ratio in [0, 1] and a positive depth")
    else:
        a.scenarios = DEFAULT_SCENARIOS
    # memcaslap cross-checks the first scenario with a get mix (90/10 by default).
    a.memcaslap_ratio = next((r for r, _ in a.scenarios if r > 0), 0.9)
    if not 0 < a.connections <= 10000 or not 0 < a.value_size <= 1 << 20 or a.keys < 1:
        ap.error("--connections, --value-size and --keys must be positive (and sensible)")
    for name in ("braid", "memcached"):
        if "{port}" not in getattr(a, name) or "{threads}" not in getattr(a, name):
            ap.error(f"--{name} needs {{port}} and {{threads}} in the command")
    return a


def server_commands(args):
    """name -> the command as a list, before {port} and {threads} are filled in."""
    memcached = shlex.split(args.memcached)
    if os.geteuid() == 0 and "-u" not in memcached:
        memcached += ["-u", "nobody"]  # memcached refuses to run as root without it
    braid = shlex.split(args.braid)
    braid[0] = os.path.join(ROOT, braid[0])
    cmds = {"memcached": memcached, "braid": braid}
    if "braid" in args.servers and not braid_ready(braid, "memcached"):
        del cmds["braid"]
    return {name: cmds[name] for name in args.servers if name in cmds}


def with_threads(argv, t):
    return [a.replace("{threads}", str(t)) for a in argv]


def main():
    if not os.access(args.mcload, os.X_OK):
        sys.exit(f"memcache_bench: {args.mcload} is missing: run ./dev bench memcached "
                 "(or make -C bench)")
    commands = server_commands(args)
    if not commands:
        sys.exit("memcache_bench: no server to measure")
    if args.memcaslap and not os.access(MEMCASLAP, os.X_OK):
        log(f"{MEMCASLAP} missing (Debian's libmemcached-tools): no cross-check")
        args.memcaslap = False
    logdir = os.path.join(args.build, "logs")
    os.makedirs(logdir, exist_ok=True)

    runs, slap, failures = {}, {}, []

    def attempt(what, t, name, measure):
        server_cpus, client_cpus = placement(t)
        log(f"{what}: server on CPUs "
            f"{','.join(map(str, server_cpus))}, client on "
            f"{','.join(map(str, client_cpus))}")
        return with_server(name, with_threads(commands[name], t),
                           pinned(server_cpus, args.realtime), logdir, failures,
                           lambda server: measure(server, client_cpus))

    for rep in range(args.repeat):
        for t in args.threads:
            for sc in args.scenarios:
                for name in commands:
                    r = attempt(f"{name} -t {t}, {scenario_name(sc)} (run {rep + 1}/"
                                f"{args.repeat})", t, name,
                                lambda s, c, sc=sc: run_mcload(args, s, sc, c))
                    runs.setdefault((t, sc, name), []).append(r)
    results = {k: median_result(rs, "ops_per_s", "server_cpu_us_per_op")
               for k, rs in runs.items()}
    if args.memcaslap:
        config = memcaslap_config(args)
        try:
            for t in args.threads:
                for name in commands:
                    slap[(t, name)] = attempt(f"memcaslap against {name} -t {t}", t, name,
                                              lambda s, c: run_memcaslap(args, s, c, config))
        finally:
            os.unlink(config)

    print_table(args, results, slap)
    print_goals(args, results)
    return finish("memcache_bench", args.json,
                  {"seconds": args.seconds, "warmup": args.warmup,
                   "connections": args.connections, "value_size": args.value_size,
                   "keys": args.keys,
                   "runs": [dict(threads=k[0], scenario=scenario_name(k[1]), server=k[2],
                                 result=v) for k, v in results.items()],
                   "memcaslap": [dict(threads=k[0], server=k[1], result=v)
                                 for k, v in slap.items()]}, failures)


if __name__ == "__main__":
    args = parse_args()
    stop_servers_on_exit("memcache_bench")
    sys.exit(main())
