#!/usr/bin/env python3
"""strata's benchmark driver, side by side with peers (`make bench`, see docs/benchmarks.md).

For each size N: a throwaway PostgreSQL cluster, databases from_N (base schema) and to_N
(changed schema) from strata-gen-schema, then for every tool and operation: the median wall
time of BENCH_RUNS runs, the peak RSS of the client process (wait4), the number of statements
the server logged during the run (log_statement = 'all'), and for diff tools whether applying
the output to a copy of from_N makes a second diff against to_N empty.

Environment:
  BENCH_SIZES         sizes to run (default "100 1000 10000")
  BENCH_MIXES         generator mixes (`strata-gen-schema --mix`, default "base wide"); the
                      full set of rows runs on the first, the diff rows, their floor and
                      `plan` on the others
  BENCH_RUNS          timed runs per row (default 3; a row whose first run takes longer than
                      BENCH_SLOW seconds, default 600, is timed once, and so is one that fails
                      or times out: for quick runs, e.g. BENCH_SLOW=30)
  BENCH_TIMEOUT       seconds before a run is killed and recorded as "timeout" (default 240)
  BENCH_PEERS_DIR     reuse a directory holding venv/ and node_modules/ (default: a fresh
                      install into the temporary directory)
  BENCH_NO_PEERS=1    skip the peer tools (recorded as "skipped")
  BENCH_PEERS         the peers to run (default "migra @pgkit/migra"; the others are recorded as
                      "skipped")
  BENCH_TIMINGS=0     skip the untimed STRATA_TIMINGS run of `diff from → SDL files` per size
                      and mix (at 10,000 tables it takes minutes: one statement per round trip)
  BENCH_OUT           where benchmarks.md and the plot go (default docs/)
  BENCH_STRATA        the strata binary (default target/release/strata)
  BENCH_GEN           the generator binary (default target/release/strata-gen-schema)
  BENCH_DIFF          the in-memory diff harness (default target/release/strata-bench-diff)
  BENCH_SCALING_SIZES sizes at which the `diff from → SDL files` and `plan` rows run again with
                      the cluster and strata pinned to one core (`taskset`), against both
                      (default: every size from 1000 up; "" for none)
  BENCH_DATA_PARENT   where the cluster's data directory goes (default /dev/shm when it is a
                      tmpfs with 8 GB free, else the temporary directory; see data_parent())
"""

import atexit
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402

MIGRA_PIP = [
    "migra==3.0.1663481299",
    "schemainspect==3.1.1663587362",
    "sqlalchemy<2",
    "psycopg2-binary",
]
PGKIT_NPM = "@pgkit/migra@0.6.1"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def env_int(name, default):
    return int(os.environ.get(name, default))


SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100 1000 10000").split()]
MIXES = os.environ.get("BENCH_MIXES", "base wide").split()
RUNS = env_int("BENCH_RUNS", 3)
SLOW = env_int("BENCH_SLOW", 600)
TIMEOUT = env_int("BENCH_TIMEOUT", 240)
PEERS = os.environ.get("BENCH_PEERS", "migra @pgkit/migra").split()
TIMINGS_ON = os.environ.get("BENCH_TIMINGS", "1") != "0"
SCALING_SIZES = [int(s) for s in os.environ.get(
    "BENCH_SCALING_SIZES", " ".join(str(n) for n in SIZES if n >= 1000)).split()]
ONE_CORE = ["taskset", "-c", "0"]
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "docs"))
STRATA = Path(os.environ.get("BENCH_STRATA", ROOT / "target/release/strata"))
GEN = Path(os.environ.get("BENCH_GEN", ROOT / "target/release/strata-gen-schema"))
BENCH_DIFF = Path(os.environ.get("BENCH_DIFF", ROOT / "target/release/strata-bench-diff"))


# ---------------------------------------------------------------------------------------------
# The throwaway cluster


def pg_bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        d = Path(out.stdout.strip())
        if out.returncode == 0 and (d / "initdb").exists():
            return d
    except FileNotFoundError:
        pass
    versions = sorted(
        (int(p.name), p / "bin")
        for p in Path("/usr/lib/postgresql").glob("*")
        if p.name.isdigit() and (p / "bin/initdb").exists()
    )
    if not versions:
        sys.exit("bench: no PostgreSQL server binaries (initdb); run `make setup`")
    return versions[-1][1]


def data_parent(workdir):
    """A tmpfs when there is room: on a disk, CREATE DATABASE (strata plan makes two shadow
    databases) took 0.1 to 0.4 s in the kernel's inode allocator after the run's own churn of
    created and dropped databases, noise that belongs to no tool."""
    chosen = os.environ.get("BENCH_DATA_PARENT")
    if chosen:
        return Path(chosen)
    shm = Path("/dev/shm")
    try:
        st = os.statvfs(shm)
        if st.f_bavail * st.f_frsize >= 8 << 30:
            return shm
    except OSError:
        pass
    return workdir


class Cluster:
    """A cluster in a temp dir, socket only, logging every statement with its application."""

    def __init__(self, base: Path, data_parent: Path):
        self.base = base
        self.bin = pg_bindir()
        self.data = Path(tempfile.mkdtemp(prefix="strata-bench-data-", dir=data_parent))
        self.log = base / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self.running = False

    def _run(self, args, **kw):
        kw.setdefault("check", True)
        kw.setdefault("capture_output", True)
        if self.as_postgres:
            kw["user"] = "postgres"
            kw["group"] = "postgres"
            kw["cwd"] = str(self.base)
            kw["env"] = {**os.environ, "HOME": "/tmp", "USER": "postgres"}
        return subprocess.run(args, **kw)

    def start(self):
        if self.as_postgres:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.data, "postgres", "postgres")
        self._run([
            self.bin / "initdb", "-D", self.data, "-U", "bench", "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync",
        ])
        with open(self.data / "postgresql.conf", "a") as f:
            f.write(f"""
# strata benchmark cluster (same durability trade-offs as strata's embedded cluster)
listen_addresses = ''
port = {self.port}
unix_socket_directories = '{self.base}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
max_locks_per_transaction = 1024
shared_buffers = 128MB
log_statement = 'all'
log_line_prefix = '%a|'
log_min_messages = warning
""")
        self._run([self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"])
        self.running = True

    def stop(self):
        if self.running:
            self._run([self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"],
                      check=False)
            self.running = False

    def pin(self, cpus):
        """Sets the CPU affinity of the postmaster and every server process it has started
        (backends started later inherit the postmaster's): `cpus` as taskset takes it."""
        postmaster = (self.data / "postmaster.pid").read_text().split()[0]
        children = subprocess.run(["pgrep", "-P", postmaster], capture_output=True,
                                  text=True).stdout.split()
        # The postmaster's pin must take (backends started later inherit it, else "one
        # core" rows would run on every core); a child may exit meanwhile.
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, postmaster], capture_output=True,
                       check=True)
        for pid in children:
            subprocess.run(["taskset", "-a", "-p", "-c", cpus, pid], capture_output=True)

    def cpu_seconds(self):
        """CPU time the server has used so far: the postmaster's own, that of the processes it
        has reaped (every backend that has exited) and that of those still running."""
        tick = os.sysconf("SC_CLK_TCK")

        def stat(pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return 0, 0
            # After the name: utime, stime, cutime, cstime are fields 12..15 (0-based 11..14).
            return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])

        postmaster = (self.data / "postmaster.pid").read_text().split()[0]
        own, reaped = stat(postmaster)
        children = subprocess.run(["pgrep", "-P", postmaster], capture_output=True,
                                  text=True).stdout.split()
        return (own + reaped + sum(stat(pid)[0] for pid in children)) / tick

    def version(self):
        return subprocess.run([self.bin / "postgres", "--version"], capture_output=True,
                              text=True).stdout.strip()

    def url(self, db):
        return f"postgresql://bench@/{db}?host={self.base}&port={self.port}&sslmode=disable"

    def psql(self, db, *args, check=True):
        return subprocess.run(
            ["psql", self.url(db), "-Xq", "-v", "ON_ERROR_STOP=1", *args],
            capture_output=True, text=True, check=check,
            env={**os.environ, "PGAPPNAME": "bench_setup"},
        )

    def sql(self, db, statement):
        return self.psql(db, "-Atc", statement).stdout.strip()

    def log_size(self):
        return self.log.stat().st_size

    def statements_since(self, offset):
        """Statements the server logged after `offset`: simple queries and extended-protocol
        executions, whatever the application (nothing else uses this cluster during a run)."""
        with open(self.log, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        return sum(
            1
            for line in text.splitlines()
            if "|LOG:  statement: " in line or re.search(r"\|LOG:  execute [^:]*: ", line)
        )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Measuring one command


RUNNING = set()  # process groups of the measured commands running now


class Result:
    def __init__(self, status, seconds, rss_kb, statements, stdout, stderr, cpu=(None, None)):
        self.status = status  # "ok", "failed (exit N)", "timeout"
        self.seconds = seconds
        self.client_cpu, self.server_cpu = cpu
        self.rss_kb = rss_kb
        self.statements = statements
        self.stdout = stdout
        self.stderr = stderr


def run_once(cluster, argv, workdir, label, env=None, ok_codes=(0,), cwd=None):
    """Runs argv, returning wall time, peak RSS (the process and its waited-for children, from
    wait4) and the statements the server logged meanwhile."""
    out_path = workdir / f"{label}.out"
    err_path = workdir / f"{label}.err"
    offset = cluster.log_size()
    server_before = cluster.cpu_seconds()
    full_env = {**os.environ, "PGAPPNAME": label[:60], **(env or {})}
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                env=full_env, cwd=cwd, start_new_session=True)
        RUNNING.add(proc.pid)
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(TIMEOUT, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        RUNNING.discard(proc.pid)
        seconds = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    statements = cluster.statements_since(offset)
    server_cpu = server_cpu_since(cluster, server_before)
    client_cpu = usage.ru_utime + usage.ru_stime
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    if timed_out.is_set():
        state = "timeout"
    elif proc.returncode in ok_codes:
        state = "ok"
    else:
        state = f"failed (exit {proc.returncode})"
    return Result(state, seconds, usage.ru_maxrss, statements, stdout, stderr,
                  (client_cpu, server_cpu))


def server_cpu_since(cluster, before):
    """The server's CPU time since `before`, once the run's backends have exited (a backend
    ends a moment after its client; its time counts when the postmaster has reaped it)."""
    time.sleep(0.2)
    return cluster.cpu_seconds() - before


def measure(cluster, argv_for_run, workdir, label, prepare=None, cleanup=None, **kw):
    """Median of RUNS runs (one when the first is slower than SLOW seconds or fails)."""
    results = []
    for i in range(RUNS):
        if prepare:
            prepare(i)
        r = run_once(cluster, argv_for_run(i), workdir, f"{label}_{i}", **kw)
        if cleanup:
            cleanup(i)
        results.append(r)
        if r.status != "ok" or r.seconds > SLOW:
            break
    first = results[0]
    row = {
        "status": first.status if all(r.status == "ok" for r in results) else
        next(r.status for r in results if r.status != "ok"),
        "runs": len(results),
        "seconds": statistics.median(r.seconds for r in results),
        "rss_mb": max(r.rss_kb for r in results) / 1024,
        "statements": first.statements,
        "client_cpu": statistics.median(r.client_cpu for r in results),
        "server_cpu": statistics.median(r.server_cpu for r in results),
    }
    if row["status"] != "ok":
        row["error"] = (first.stderr or first.stdout).strip().splitlines()[-5:]
    return row, first


# ---------------------------------------------------------------------------------------------
# Tools


def strata_commands():
    out = subprocess.run([STRATA, "--help"], capture_output=True, text=True).stdout
    commands = set()
    in_commands = False
    for line in out.splitlines():
        if line.startswith("Commands:"):
            in_commands = True
            continue
        if in_commands:
            m = re.match(r"\s+(\S+)\s", line)
            if not m:
                break
            commands.add(m.group(1))
    return commands


def install_peers(workdir):
    """Installs migra (PyPI) into a venv and @pgkit/migra (npm) into node_modules. Returns
    {tool: argv prefix or error string}."""
    if os.environ.get("BENCH_NO_PEERS") == "1":
        return {"migra": "skipped (BENCH_NO_PEERS=1)", "@pgkit/migra": "skipped (BENCH_NO_PEERS=1)"}
    peers_dir = Path(os.environ.get("BENCH_PEERS_DIR") or workdir / "peers")
    peers_dir.mkdir(parents=True, exist_ok=True)
    tools = {}
    venv = peers_dir / "venv"
    try:
        if not (venv / "bin/migra").exists():
            log("installing migra into a virtualenv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
            subprocess.run([venv / "bin/pip", "install", "-q", *MIGRA_PIP], check=True,
                           capture_output=True, text=True)
        tools["migra"] = [str(venv / "bin/migra"), "--unsafe"]
        if "migra" not in PEERS:
            tools["migra"] = "skipped (BENCH_PEERS)"
    except subprocess.CalledProcessError as e:
        tools["migra"] = f"unavailable: pip install failed: {(e.stderr or '')[-300:]}"
    node_bin = peers_dir / "node_modules/.bin/migra"
    if "@pgkit/migra" not in PEERS:
        tools["@pgkit/migra"] = "skipped (BENCH_PEERS)"
        return tools
    try:
        if not node_bin.exists():
            log("installing @pgkit/migra into node_modules")
            subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund",
                            "--prefix", peers_dir, PGKIT_NPM],
                           check=True, capture_output=True, text=True)
        tools["@pgkit/migra"] = [str(node_bin), "run", "--unsafe", "true"]
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        tools["@pgkit/migra"] = f"unavailable: npm install failed: {str(e)[-300:]}"
    return tools


def peer_versions(tools):
    versions = {}
    if isinstance(tools.get("migra"), list):
        pip = Path(tools["migra"][0]).parent / "pip"
        out = subprocess.run([pip, "list", "--format=json"], capture_output=True, text=True)
        try:
            pkgs = {p["name"].lower(): p["version"] for p in json.loads(out.stdout)}
            versions["migra"] = ", ".join(
                f"{n} {pkgs[n]}" for n in ("migra", "schemainspect", "sqlalchemy", "psycopg2-binary")
                if n in pkgs)
        except json.JSONDecodeError:
            pass
    if isinstance(tools.get("@pgkit/migra"), list):
        pkg = Path(tools["@pgkit/migra"][0]).parents[1] / "@pgkit/migra/package.json"
        try:
            versions["@pgkit/migra"] = "@pgkit/migra " + json.loads(pkg.read_text())["version"]
        except (OSError, KeyError, json.JSONDecodeError):
            pass
    return versions


# ---------------------------------------------------------------------------------------------
# One size


def generate(workdir, n, variant, mix="base"):
    path = workdir / f"{variant}_{mix}_{n}.sql"
    with open(path, "wb") as f:
        subprocess.run([GEN, "--tables", str(n), "--variant", variant, "--mix", mix], stdout=f,
                       check=True)
    os.chmod(path, 0o644)
    return path


def bench_mix(cluster, workdir, n, tools, commands, mix):
    """The diff rows again on another mix of objects per table (`strata-gen-schema --mix`),
    each beside its own floor (psql -1 of the same SQL) and migra, in the same run."""
    rows = []
    base_sql, changed_sql = generate(workdir, n, "base", mix), generate(workdir, n, "changed", mix)
    frm, to = f"from_{mix}_{n}", f"to_{mix}_{n}"
    cluster.sql("postgres", f"CREATE DATABASE {to}")
    cluster.psql(to, "-1", "-f", changed_sql)

    def add(tool, operation, row):
        row.update(tool=tool, operation=f"{operation} [mix {mix}]", n=n)
        rows.append(row)
        log(f"N={n} mix {mix}: {tool} {operation}: {row['status']} {row['seconds']:.3f}s "
            f"{row['rss_mb']:.0f}MB")

    def load_db(i):
        return frm if i == 0 else f"load_{mix}_{n}_{i}"

    row, _ = measure(
        cluster,
        lambda i: ["psql", cluster.url(load_db(i)), "-Xq", "-1", "-v", "ON_ERROR_STOP=1",
                   "-f", str(base_sql)],
        workdir, f"psql_load_{mix}_{n}",
        prepare=lambda i: cluster.sql("postgres", f"CREATE DATABASE {load_db(i)}"),
        cleanup=lambda i: i > 0 and cluster.sql("postgres", f"DROP DATABASE {load_db(i)}"))
    add("psql (floor)", "load schema SQL into an empty database", row)
    settle(cluster, frm, to)
    if row["status"] != "ok":
        return rows
    diff_tools = {"strata": [*strata_bare(workdir), "diff", "--from", "{from}", "--to", "{to}"]}
    diff_tools.update({t: a for t, a in tools.items() if t == "migra" and isinstance(a, list)})
    for tool, argv in diff_tools.items():
        ok_codes = (0, 2) if tool == "migra" else (0,)
        full = [a.replace("{from}", cluster.url(frm)).replace("{to}", cluster.url(to))
                for a in argv] + ([] if "{from}" in " ".join(argv) else
                                  [cluster.url(frm), cluster.url(to)])
        slug = re.sub(r"\W+", "_", tool).strip("_")
        row, _ = measure(cluster, lambda i, full=full: full, workdir,
                         f"{slug}_diff_{mix}_{n}", ok_codes=ok_codes)
        add(tool, "diff from → to", row)
    project = make_project(cluster, workdir, n, changed_sql, frm)
    argv = [str(STRATA), "-C", str(project), "diff", "--from", cluster.url(frm),
            "--to", str(project / "schema")]
    row, _ = measure(cluster, lambda i: argv, workdir, f"strata_sdldiff_{mix}_{n}")
    add("strata", "diff from → SDL files", row)
    record_timings(argv, n, mix)
    if "plan" in commands:
        # Its peak memory is judged on every mix (issue 22).
        add("strata", "plan (end to end)",
            bench_plan(cluster, workdir, n, changed_sql, source=frm, tag=f"_{mix}"))
    return rows


def settle(cluster, *databases):
    """VACUUM ANALYZE of freshly loaded databases before anything is timed on them: else
    autovacuum works through their catalogs (hundreds of thousands of new rows at 10,000
    tables) during the next rows, and its CPU counts as the server's in those rows."""
    for db in databases:
        cluster.psql(db, "-c", "VACUUM ANALYZE", check=False)


def bench_size(cluster, workdir, n, tools, commands):
    rows = []
    base_sql = generate(workdir, n, "base")
    changed_sql = generate(workdir, n, "changed")
    log(f"N={n}: loading to_{n}")
    cluster.sql("postgres", f"CREATE DATABASE to_{n}")
    cluster.psql(f"to_{n}", "-1", "-f", changed_sql)
    from_url, to_url = cluster.url(f"from_{n}"), cluster.url(f"to_{n}")

    def add(tool, operation, row):
        row.update(tool=tool, operation=operation, n=n)
        rows.append(row)
        extra = f" ({row.get('converges')})" if "converges" in row else ""
        log(f"N={n}: {tool} {operation}: {row['status']} {row['seconds']:.3f}s "
            f"{row['rss_mb']:.0f}MB {row['statements']} statements{extra}")

    # Floors. The first timed load makes from_N; the others load into databases dropped after.
    def load_db(i):
        return f"from_{n}" if i == 0 else f"load_{n}_{i}"

    def create_load_db(i):
        cluster.sql("postgres", f"CREATE DATABASE {load_db(i)}")

    def drop_load_db(i):
        if i > 0:
            cluster.sql("postgres", f"DROP DATABASE {load_db(i)}")

    row, _ = measure(
        cluster,
        lambda i: ["psql", cluster.url(load_db(i)), "-Xq", "-1", "-v", "ON_ERROR_STOP=1",
                   "-f", str(base_sql)],
        workdir, f"psql_load_{n}", prepare=create_load_db, cleanup=drop_load_db)
    add("psql (floor)", "load schema SQL into an empty database", row)
    settle(cluster, f"from_{n}", f"to_{n}")
    if row["status"] != "ok":
        sys.exit(f"bench: loading the base schema failed: {row.get('error')}")
    row, _ = measure(cluster, lambda i: ["pg_dump", "--schema-only", from_url], workdir,
                     f"pg_dump_{n}")
    add("pg_dump (floor)", "pg_dump --schema-only", row)

    # strata's introspection.
    for cmd in ("fingerprint", "dump"):
        if cmd in commands:
            row, first = measure(cluster, lambda i, c=cmd: [*strata_bare(workdir), c,
                                                            "--database-url", from_url],
                                 workdir, f"strata_{cmd}_{n}")
            if cmd == "dump" and row["status"] == "ok" and "fingerprint" in commands:
                row["converges"], row["convergence_detail"] = dump_round_trips(
                    cluster, workdir, n, first.stdout)
            add("strata", f"{cmd} (introspection)", row)
        else:
            add("strata", f"{cmd} (introspection)", missing_row(f"`strata {cmd}` not built yet"))

    # Diffs, strata and peers alike.
    diff_tools = {}
    if "diff" in commands:
        diff_tools["strata"] = [*strata_bare(workdir), "diff", "--from", "{from}", "--to", "{to}"]
    else:
        diff_tools["strata"] = "`strata diff` not built yet"
    diff_tools.update(tools)
    for tool, argv in diff_tools.items():
        if isinstance(argv, str):
            add(tool, "diff from → to", missing_row(argv))
            continue
        # migra exits 2 when there are differences.
        ok_codes = (0, 2) if tool == "migra" else (0,)
        slug = re.sub(r"\W+", "_", tool).strip("_")

        def argv_for(frm, to, argv=argv):
            return [a.replace("{from}", frm).replace("{to}", to) for a in argv] + (
                [] if "{from}" in " ".join(argv) else [frm, to])

        row, first = measure(cluster, lambda i: argv_for(from_url, to_url), workdir,
                             f"{slug}_diff_{n}", ok_codes=ok_codes)
        if row["status"] == "ok":
            row["converges"], row["convergence_detail"] = converges(
                cluster, workdir, n, slug, first.stdout, argv_for, to_url, ok_codes)
            row["diff_lines"] = sum(1 for line in first.stdout.splitlines() if line.strip())
        add(tool, "diff from → to", row)

    # The in-memory part alone (issue 4): both models read once into JSON, then only
    # diff + order + render timed, by strata-bench-diff.
    if "diff" in commands and BENCH_DIFF.exists():
        add("strata", "in-memory diff + order + render (no database)",
            bench_in_memory(cluster, workdir, n, from_url, to_url))
    else:
        add("strata", "in-memory diff + order + render (no database)",
            missing_row(f"{BENCH_DIFF.name} not built"))

    # The desired side from SDL files, through a shadow database: loaded in parallel over
    # `[shadow] jobs` connections (default: one per core), and as one stream for comparison.
    if "diff" in commands:
        add("strata", "diff from → SDL files", bench_sdl_diff(cluster, workdir, n, changed_sql))
        add("strata", "diff from → SDL files, one stream (jobs = 1)",
            bench_sdl_diff(cluster, workdir, n, changed_sql, jobs=1))
    else:
        add("strata", "diff from → SDL files", missing_row("`strata diff` not built yet"))

    # plan, end to end.
    if "plan" in commands:
        add("strata", "plan (end to end)", bench_plan(cluster, workdir, n, changed_sql))
        add("strata", "plan (end to end), one stream (jobs = 1)",
            bench_plan(cluster, workdir, n, changed_sql, jobs=1))
    else:
        add("strata", "plan (end to end)", missing_row("`strata plan` not built yet"))

    if n in SCALING_SIZES and (os.cpu_count() or 1) > 1 and shutil.which("taskset"):
        rows_on_one_core(cluster, workdir, n, changed_sql, commands, add)
    return rows  # from_N and to_N stay: the cluster is thrown away at the end


def rows_on_one_core(cluster, workdir, n, changed_sql, commands, add):
    """The rows that spread work over connections (shadow loads and shadow reads over
    `[shadow] jobs` connections sharing one snapshot), again with the server and strata on one
    core: against the same rows on every core, how much the parallelism gives. strata's
    default jobs follows the cores it may use, so it is 1 here, as on a one-core runner."""
    label = "one core (server and strata under taskset -c 0)"
    cluster.pin("0")
    try:
        if "diff" in commands:
            add("strata", f"diff from → SDL files, {label}",
                bench_sdl_diff(cluster, workdir, n, changed_sql, pin=ONE_CORE))
        if "plan" in commands:
            add("strata", f"plan (end to end), {label}",
                bench_plan(cluster, workdir, n, changed_sql, pin=ONE_CORE))
    finally:
        cluster.pin(f"0-{(os.cpu_count() or 1) - 1}")


def dump_round_trips(cluster, workdir, n, dump):
    """Loads strata's dump into an empty database: `yes` when it has from_N's fingerprint."""
    db = f"dump_{n}"
    path = workdir / f"{db}.sql"
    path.write_text(dump)
    os.chmod(path, 0o644)
    cluster.sql("postgres", f"CREATE DATABASE {db}")
    try:
        loaded = cluster.psql(db, "-1", "-f", str(path), check=False)
        if loaded.returncode != 0:
            errors = [line for line in loaded.stderr.splitlines() if "ERROR" in line]
            return "no", "loading the dump failed: " + " ".join(errors[:1])[:300]
        prints = []
        for d in (f"from_{n}", db):
            out = subprocess.run([*strata_bare(workdir), "fingerprint", "--database-url",
                                  cluster.url(d)], capture_output=True, text=True)
            prints.append(out.stdout.strip())
        if prints[0] and prints[0] == prints[1]:
            return "yes", ""
        return "no", f"fingerprints differ: {prints[0][:80]} vs {prints[1][:80]}"
    finally:
        cluster.sql("postgres", f"DROP DATABASE {db}")


def strata_bare(workdir):
    """strata in an empty project (no pipeline.toml: every default), so that whatever
    manifest the current directory holds plays no part."""
    bare = workdir / "bare-project"
    bare.mkdir(exist_ok=True)
    return [str(STRATA), "-C", str(bare)]


def missing_row(why):
    return {"status": f"unavailable: {why}", "runs": 0, "seconds": float("nan"),
            "rss_mb": float("nan"), "statements": None}


def converges(cluster, workdir, n, slug, script, argv_for, to_url, ok_codes):
    """Applies the diff to a copy of from_N, then diffs the copy against to_N: empty = yes."""
    copy = f"copy_{slug}_{n}"
    cluster.sql("postgres", f"CREATE DATABASE {copy} TEMPLATE from_{n}")
    try:
        path = workdir / f"{copy}.sql"
        path.write_text(script)
        os.chmod(path, 0o644)
        applied = cluster.psql(copy, "-f", str(path), check=False)
        if applied.returncode != 0:
            errors = [re.sub(r"^psql:[^:]*:(\d+): ", r"line \1: ", line)
                      for line in applied.stderr.splitlines()
                      if "ERROR" in line or "DETAIL" in line]
            return "no", "applying the diff failed: " + " ".join(errors[:2])[:300]
        again = run_once(cluster, argv_for(cluster.url(copy), to_url), workdir,
                         f"{slug}_rediff_{n}", ok_codes=ok_codes)
        if again.status != "ok":
            return "unknown", f"second diff {again.status}"
        left = [line for line in again.stdout.splitlines()
                if line.strip() and not line.lstrip().startswith("--")]
        if left:
            return "no", f"{len(left)} lines left, first: {left[0][:120]}"
        return "yes", ""
    finally:
        cluster.sql("postgres", f"DROP DATABASE {copy}")


def make_project(cluster, workdir, n, changed_sql, target, jobs=None, tag=""):
    """A strata project whose SDL is the changed schema, whose target is database `target` and
    whose shadow server is the benchmark cluster, committed in a fresh git repository."""
    project = workdir / f"project_{n}{tag}"
    if project.exists():
        shutil.rmtree(project)
    (project / "schema").mkdir(parents=True)
    (project / "migrations").mkdir()
    shutil.copy(changed_sql, project / "schema/schema.sql")
    (project / "pipeline.toml").write_text(
        f'[shadow]\nurl = "{cluster.url("postgres")}"\n'
        + (f"jobs = {jobs}\n" if jobs else "") + "\n"
        f'[targets.bench]\nurl = "{cluster.url(target)}"\nallow_destructive = true\n'
        'on_drift = "warn"\n')
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit",
                  "-qm", "schema"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)
    return project


def bench_in_memory(cluster, workdir, n, from_url, to_url):
    """strata-bench-diff on the two models as `strata --format json dump` writes them: the
    median of BENCH_RUNS diff (comparison and ordering) + render times, and the harness's peak
    RSS (both models held). The models must have the databases' fingerprints."""
    paths, prints = [], []
    for side, url in (("from", from_url), ("to", to_url)):
        path = workdir / f"model_{side}_{n}.json"
        with open(path, "wb") as f:
            subprocess.run([*strata_bare(workdir), "--format", "json", "dump", "--database-url",
                            url], stdout=f, stderr=subprocess.DEVNULL, check=True)
        paths.append(str(path))
        prints.append(subprocess.run([*strata_bare(workdir), "fingerprint", "--database-url", url],
                                     capture_output=True, text=True).stdout.strip())
    r = run_once(cluster, [str(BENCH_DIFF), *paths, "--runs", str(RUNS)], workdir,
                 f"strata_inmemory_{n}")
    row = {"status": r.status, "runs": RUNS, "seconds": float("nan"), "rss_mb": r.rss_kb / 1024,
           "statements": r.statements}
    if r.status != "ok":
        row["error"] = (r.stderr or r.stdout).strip().splitlines()[-5:]
        return row
    out = json.loads(r.stdout)
    row["seconds"] = out["diff_seconds"] + out["render_seconds"]
    row["rss_mb"] = out["peak_rss_mb"] if out.get("peak_rss_mb") else row["rss_mb"]
    row["models_rss_mb"] = out.get("peak_rss_mb_models")
    row["changes"] = out["changes"]
    if [out["from_fingerprint"], out["to_fingerprint"]] != prints:
        row["status"] = "failed (the JSON models do not have the databases' fingerprints)"
        row["error"] = [f"{out['from_fingerprint']} {out['to_fingerprint']} vs {prints}"]
    return row


def bench_sdl_diff(cluster, workdir, n, changed_sql, jobs=None, pin=()):
    """`strata diff --from from_N --to schema/`: the desired side is loaded into a shadow
    database on the benchmark cluster (over `jobs` connections, default one per core); `pin`
    prefixes the command (taskset)."""
    project = make_project(cluster, workdir, n, changed_sql, f"from_{n}", jobs)
    argv = [*pin, str(STRATA), "-C", str(project), "diff", "--from", cluster.url(f"from_{n}"),
            "--to", str(project / "schema")]
    label = f"strata_sdldiff_{n}_{jobs or 'auto'}{'_pinned' if pin else ''}"
    row, _ = measure(cluster, lambda i: argv, workdir, label)
    if jobs is None and not pin:
        record_timings(argv, n, "base")
    return row


# Per size and mix, where `strata diff` DB→SDL spends its time (STRATA_TIMINGS=1).
TIMINGS = []


def record_timings(argv, n, mix):
    """One more, untimed run with `STRATA_TIMINGS=1`: its per-phase, per-object-kind split
    (stderr; it sends each loaded statement in its own round trip, so its wall time is not
    the row's)."""
    if not TIMINGS_ON:
        return
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                           env={**os.environ, "STRATA_TIMINGS": "1"})
        at = r.stderr.find("strata timings")
        text = r.stderr[at:].strip() if r.returncode == 0 and at >= 0 else \
            f"failed (exit {r.returncode}): {r.stderr.strip()[-300:]}"
    except subprocess.TimeoutExpired:
        text = f"timed out after {TIMEOUT} s"
    TIMINGS.append({"n": n, "mix": mix, "text": text})
    log(f"N={n} mix {mix}: timings recorded")


def bench_plan(cluster, workdir, n, changed_sql, jobs=None, pin=(), source=None, tag=""):
    """`strata plan` on a fresh project and a fresh copy of `source` (default from_N) each
    run. Exit 1 (findings) counts as done when pending.sql was written."""
    target = f"plan_target_{n}{tag}"
    written = []
    project = workdir / f"project_{n}{tag}"

    def prepare(i):
        make_project(cluster, workdir, n, changed_sql, target, jobs, tag)
        cluster.sql("postgres", f"CREATE DATABASE {target} TEMPLATE {source or f'from_{n}'}")

    def cleanup(i):
        written.append((project / "pending.sql").exists() or branch_has_pending(project))
        cluster.sql("postgres", f"DROP DATABASE IF EXISTS {target}")

    label = f"strata_plan_{n}{tag}_{jobs or 'auto'}{'_pinned' if pin else ''}"
    row, first = measure(cluster, lambda i: [*pin, str(STRATA), "-C", str(project), "plan"],
                         workdir, label, prepare=prepare, cleanup=cleanup, ok_codes=(0, 1))
    if row["status"] == "ok" and not all(written):
        row["status"] = "failed (no pending.sql)"
        row["error"] = (first.stderr or first.stdout).strip().splitlines()[-5:]
    return row


def branch_has_pending(project):
    """Whether any branch's tip holds pending.sql (plan commits it on a new branch)."""
    out = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/heads"],
                         cwd=project, capture_output=True, text=True)
    for ref in out.stdout.split():
        probe = subprocess.run(["git", "cat-file", "-e", f"{ref}:pending.sql"], cwd=project,
                               capture_output=True)
        if probe.returncode == 0:
            return True
    return False


# ---------------------------------------------------------------------------------------------


def machine(cluster):
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"

    mem_kb = next((int(line.split()[1]) for line in open("/proc/meminfo")
                   if line.startswith("MemTotal:")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "postgres": cluster.version(),
        "rustc": first_line(["rustc", "--version"]),
        "python": platform.python_version(),
        "node": first_line(["node", "--version"]),
        "strata": first_line([str(STRATA), "--version"]),
    }


def main():
    workdir = Path(tempfile.mkdtemp(prefix="strata-bench-"))
    os.chmod(workdir, 0o755)
    cluster = Cluster(workdir / "cluster", data_parent(workdir))
    cluster.base.mkdir()
    state = os.environ.get("BENCH_STATE")
    if state:
        Path(state).write_text(f"{workdir}\n{cluster.data}\n")

    def cleanup():
        cluster.stop()
        shutil.rmtree(cluster.data, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)

    atexit.register(cleanup)

    def interrupted(*_):
        # Clean up here and leave at once: unwinding an exception through the subprocess
        # module's wait can hang (seen once with a child that had already exited).
        for child in list(RUNNING):
            try:
                os.killpg(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
        cleanup()
        os._exit(130)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)

    started = time.time()
    for binary in (STRATA, GEN):
        if not binary.exists():
            sys.exit(f"bench: {binary} is missing; run `cargo build --release` first")
    commands = strata_commands()
    log(f"strata commands: {', '.join(sorted(commands))}")
    tools = install_peers(workdir)
    cluster.start()
    info = machine(cluster)
    info["peers"] = peer_versions(tools)
    info["runs"] = RUNS
    info["command"] = os.environ.get("BENCH_COMMAND", "")  # how this run was started, if not make bench
    info["timeout"] = TIMEOUT
    info["data_dir"] = ("tmpfs (/dev/shm)" if str(cluster.data).startswith("/dev/shm")
                        else f"disk ({cluster.data.parent})")
    info["slow"] = SLOW
    rows = []
    for done, n in enumerate(SIZES, 1):
        rows.extend(bench_size(cluster, workdir, n, tools, commands))
        for mix in MIXES:
            if mix != "base":
                rows.extend(bench_mix(cluster, workdir, n, tools, commands, mix))
        # Written after every size, so an interrupted run still leaves what it measured.
        info["total_seconds"] = round(time.time() - started)
        info["sizes"] = SIZES[:done]
        results = {"machine": info, "rows": rows, "timings": TIMINGS}
        (ROOT / "scripts/bench/results.json").write_text(
            json.dumps(results, indent=2, allow_nan=True) + "\n")
        report.write(results, OUT)
    log(f"done in {info['total_seconds']}s: {OUT / 'benchmarks.md'}")


if __name__ == "__main__":
    main()
