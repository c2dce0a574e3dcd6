"""What the load-test drivers share (bench/echo_bench.py, bench/memcache_bench.py,
bench/web_bench.py): starting pinned servers on free ports and stopping them whatever
happens, bounded runs of the load generators, whether braid's runner has a subcommand,
medians of repeated runs, number formatting."""

import atexit
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

running = []  # processes started and not yet reaped: killed at exit whatever happens


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile():
    """In the server's child process, before exec: room for the idle-connection test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, 65536), max(hard, 65536)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pinned(cpus, realtime):
    """The command prefix that runs a program on the given CPUs (an int or a list), as
    SCHED_FIFO with realtime."""
    cpu_list = ",".join(str(c) for c in cpus) if isinstance(cpus, (list, tuple)) else str(cpus)
    return (["chrt", "-f", "10"] if realtime else []) + ["taskset", "-c", cpu_list]


def proc_stat_cpu(pid):
    """(utime + stime in seconds, parent pid) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[1])


class Server:
    """A server started with prefix + argv ({port} in argv replaced by a free port), its
    output in logdir/name.log, once it accepts connections. prepare(port), when given, runs
    first (nginx's config file takes the port)."""

    def __init__(self, name, argv, prefix, logdir, prepare=None):
        self.name, self.argv = name, argv
        self.port = free_port()
        if prepare:
            prepare(self.port)
        self.logpath = os.path.join(logdir, f"{name}.log")
        cmd = prefix + [a.replace("{port}", str(self.port)) for a in argv]
        with open(self.logpath, "w") as logfile:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                preexec_fn=raise_nofile, cwd=ROOT)
        running.append(self.proc)
        self.pid = self.proc.pid  # chrt and taskset exec the server: same pid
        self.wait_accepting(timeout=15)

    def log_tail(self):
        try:
            with open(self.logpath) as f:
                return "".join(f.readlines()[-10:]).strip()
        except OSError:
            return ""

    def wait_accepting(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode} "
                                   f"before accepting: {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                time.sleep(0.2)  # let it notice that connection close
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} does not accept on 127.0.0.1:{self.port} "
                           f"after {timeout} s: {self.log_tail()}")

    def status(self, field):
        """A field of /proc/PID/status, in kB for VmRSS."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/{self.pid}/status")

    def cpu_seconds(self):
        """utime + stime of all its threads, from /proc/PID/stat."""
        return proc_stat_cpu(self.pid)[0]

    def tree_cpu_seconds(self):
        """cpu_seconds() plus that of its child processes (nginx's workers)."""
        total = 0.0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    cpu, ppid = proc_stat_cpu(int(entry))
                except (OSError, IndexError, ValueError):
                    continue  # gone meanwhile
                if ppid == self.pid:
                    total += cpu
        return total + self.cpu_seconds()

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def check_alive(self, label):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{label}: the server died (status {self.proc.returncode}): "
                               f"{self.log_tail()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=3)
        if self.proc in running:
            running.remove(self.proc)


def kill_all():
    """SIGTERM first, so that a server with worker processes (nginx) stops them too; SIGKILL
    for what does not exit within 2 s."""
    for proc in list(running):
        try:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
        except Exception:  # best effort at exit
            pass
        running.remove(proc)


def run_bounded(cmd, timeout):
    """Runs cmd (killed at exit like the servers); returns (status, stdout, stderr)."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    running.append(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError(f"{' '.join(cmd)}: still running after {timeout} s: killed")
    finally:
        if proc in running:
            running.remove(proc)
    return proc.returncode, out, err


def run_loadgen(cmd, server, label, timeout):
    """Runs a load generator (loadgen, mcload) against server, logging its human line;
    returns its JSON result, or raises RuntimeError when it or the server failed."""
    status, out, err = run_bounded(cmd, timeout)
    log("  " + (err.strip() or f"{label}: (no output)").replace("\n", "\n  "))
    server.check_alive(label)
    if status != 0:
        raise RuntimeError(f"{label}: load generator failed (status {status})")
    return json.loads(out.strip().splitlines()[-1])


def with_server(name, argv, prefix, logdir, failures, measure, prepare=None):
    """Starts the server (Server's prepare), returns measure(server) and stops it; on
    failure logs it, adds it to failures and returns None."""
    server = None
    try:
        server = Server(name, argv, prefix, logdir, prepare)
        return measure(server)
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        log(f"  FAILED: {e}")
        failures.append(str(e))
        return None
    finally:
        if server:
            server.stop()


def has_subcommand(argv):
    """For a runner command (`braid memcached ...`): whether `braid --help` lists the
    subcommand; true for other commands, which are not checked."""
    if (os.path.basename(argv[0]) != "braid" or len(argv) < 2 or argv[1].startswith("-")
            or "{" in argv[1]):
        return True
    try:
        status, out, _ = run_bounded([argv[0], "--help"], timeout=10)
    except RuntimeError:
        return False
    return status == 0 and re.search(rf"^\s+{re.escape(argv[1])}\b", out, re.M) is not None


def braid_ready(argv, peers):
    """Whether braid's server command (argv[0] absolute) can run: its program exists and,
    for the runner, has the subcommand; if not, says "braid: not built yet" and that the
    run measures peers alone."""
    if not os.access(argv[0], os.X_OK):
        log(f"braid: not built yet ({argv[0]} missing); measuring {peers} alone. "
            "Build it with ./dev build release, or point --braid at it.")
        return False
    if not has_subcommand(argv):
        log(f"braid: not built yet ({argv[0]} has no `{argv[1]}` subcommand); measuring "
            f"{peers} alone.")
        return False
    return True


def add_run_options(ap, build_default="build/bench-echo"):
    """The options every driver takes: --seconds, --warmup, --repeat, --realtime, --build,
    --json."""
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--build", default=build_default)
    ap.add_argument("--json")
    ap.add_argument("--realtime", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)


def check_run_options(ap, a, json_name):
    """Checks add_run_options' options and makes --build absolute, --json defaulting to
    json_name in it."""
    sys.stdout.reconfigure(line_buffering=True)  # the table and stderr's progress in order
    a.build = os.path.join(ROOT, a.build)
    a.json = a.json or os.path.join(a.build, json_name)
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    if not 0 < a.seconds <= 600 or not 0 <= a.warmup <= 60:
        ap.error("--seconds must be in (0, 600] and --warmup in [0, 60]")


def finish(program, path, data, failures):
    """Writes the results file, lists the failures; returns the exit status."""
    with open(path, "w") as f:
        json.dump(dict(data, failures=failures), f, indent=1)
    print(f"\n(results also in {os.path.relpath(path, ROOT)})")
    if failures:
        print(f"\n{program}: {len(failures)} run(s) failed:", file=sys.stderr)
        for failure in failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


def stop_servers_on_exit(program):
    """Kills every server started here at exit, and on SIGTERM, SIGINT and SIGHUP."""

    def on_signal(signum, _frame):
        kill_all()
        print(f"\n{program}: interrupted by signal {signum}; servers stopped", file=sys.stderr)
        os._exit(128 + signum)  # not sys.exit: no `finally` may catch it and carry on

    atexit.register(kill_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)


def median_result(rs, rate_key, cpu_key):
    """One result from repeated runs: the median of each figure (None if any run failed),
    with the range of server CPU per message (cpu_key)."""
    if any(r is None for r in rs):
        return None
    if len(rs) == 1:
        return rs[0]

    def med(get):
        return statistics.median(get(r) for r in rs)

    cpu = [r[cpu_key] for r in rs]
    return {"runs": len(rs), rate_key: med(lambda r: r[rate_key]),
            "lat_us": {q: med(lambda r, q=q: r["lat_us"][q]) for q in ("p50", "p99", "p999")},
            cpu_key: statistics.median(cpu), "cpu_range": [min(cpu), max(cpu)],
            "server_cpu_util": med(lambda r: r["server_cpu_util"]),
            "client_cpu_util": med(lambda r: r["client_cpu_util"]), "all": rs}


def fmt(v, digits=0):
    return "—" if v is None else f"{v:,.{digits}f}"


def cpu_range(r, digits=3):
    lo_hi = r.get("cpu_range")
    return f" ({lo_hi[0]:.{digits}f}–{lo_hi[1]:.{digits}f})" if lo_hi else ""
