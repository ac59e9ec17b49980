"""Writes docs/benchmarks.md and docs/bench-time.svg from the benchmark results (bench.py)."""

import re
import math
from pathlib import Path

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#17becf"]
DASHED = ("floor",)


def fmt_s(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_mb(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.0f}"


def series(rows, status="ok"):
    """{(tool, operation): [(n, seconds)]} for the rows with this status."""
    out = {}
    for r in rows:
        if r["status"] == status:
            out.setdefault((r["tool"], r["operation"]), []).append((r["n"], r["seconds"]))
    return {k: sorted(v) for k, v in out.items()}


def svg_plot(rows):
    data = series(rows)
    timeouts = series(rows, "timeout")
    for key in timeouts:
        data.setdefault(key, [])
    width, height = 820, 470
    left, right, top, bottom = 70, 290, 30, 50
    pw, ph = width - left - right, height - top - bottom
    ns = sorted({n for pts in data.values() for n, _ in pts}) or [100, 1000]
    ts = [t for pts in list(data.values()) + list(timeouts.values()) for _, t in pts] or [0.01, 1]
    x0, x1 = math.log10(min(ns)), math.log10(max(ns))
    if x1 == x0:
        x0, x1 = x0 - 0.5, x1 + 0.5
    y0 = math.floor(math.log10(max(min(ts), 1e-3)))
    y1 = math.ceil(math.log10(max(ts)))
    if y1 == y0:
        y1 += 1

    def px(n):
        return left + (math.log10(n) - x0) / (x1 - x0) * pw

    def py(t):
        return top + ph - (math.log10(max(t, 10 ** y0)) - y0) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left + pw / 2}" y="18" text-anchor="middle" font-size="14">'
           'Wall time (median) against the number of tables, log-log</text>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        label = f"{10 ** e:g} s"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for n in ns:
        x = px(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle">tables (N)</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    for i, ((tool, op), pts) in enumerate(sorted(data.items())):
        colour = COLOURS[i % len(COLOURS)]
        dash = ' stroke-dasharray="5,4"' if any(d in tool for d in DASHED) else ""
        path = " ".join(f"{px(n):.1f},{py(t):.1f}" for n, t in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for n, t in pts:
            out.append(f'<circle cx="{px(n):.1f}" cy="{py(t):.1f}" r="3" fill="{colour}"/>')
        for n, t in timeouts.get((tool, op), []):
            x, y = px(n), py(t)
            out.append(f'<path d="M{x - 5:.1f},{y - 5:.1f}L{x + 5:.1f},{y + 5:.1f}M{x - 5:.1f},'
                       f'{y + 5:.1f}L{x + 5:.1f},{y - 5:.1f}" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<text x="{x - 8:.1f}" y="{y + 4:.1f}" text-anchor="end" fill="{colour}" '
                       f'font-size="10">timeout ({t:.0f} s)</text>')
        ly = top + 10 + i * 36
        lx = left + pw + 12
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 28}" y="{ly + 4}">{esc(tool)}</text>')
        out.append(f'<text x="{lx + 28}" y="{ly + 18}" fill="#555" font-size="10">{esc(op)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def find(rows, n, tool, operation_prefix):
    for r in rows:
        if r["n"] == n and r["tool"] == tool and r["operation"].startswith(operation_prefix):
            return r
    return None


def targets(rows, sizes):
    lines = []
    s = find(rows, 1000, "strata", "diff")
    m = find(rows, 1000, "migra", "diff")
    if s and m and s["status"] == "ok" and m["status"] == "ok":
        ratio = m["seconds"] / s["seconds"]
        verdict = "met" if ratio >= 10 else "**not met**"
        lines.append(f"- strata's diff at least 10× faster than migra at 1,000 tables: "
                     f"{ratio:.1f}× ({fmt_s(s['seconds'])} s against {fmt_s(m['seconds'])} s) — {verdict}.")
    else:
        why = []
        for name, r in (("strata diff", s), ("migra", m)):
            if r is None:
                why.append(f"{name} not measured at N=1,000")
            elif r["status"] != "ok":
                why.append(f"{name}: {r['status']}")
        lines.append("- strata's diff at least 10× faster than migra at 1,000 tables: "
                     f"not measurable ({'; '.join(why)}).")
    conv = []
    for n in sizes:
        r = find(rows, n, "strata", "diff")
        conv.append(f"N={n:,}: {r.get('converges', r['status']) if r else 'not measured'}")
    diffs = [find(rows, n, "strata", "diff") for n in sizes]
    if all(d and d["status"] == "ok" for d in diffs):
        verdict = "met" if all(d.get("converges") == "yes" for d in diffs) else "**not met**"
    else:
        verdict = "not measured everywhere"
    lines.append(f"- strata's diff converging at every N: {'; '.join(conv)} — {verdict}.")
    plan_bits = []
    plan_ok = True
    plan_measured = True
    for n in sizes:
        p = find(rows, n, "strata", "plan")
        load = find(rows, n, "psql (floor)", "load")
        dump = find(rows, n, "pg_dump (floor)", "pg_dump")
        if p and p["status"] == "ok" and load and dump and load["status"] == dump["status"] == "ok":
            floor = load["seconds"] + dump["seconds"]
            ratio = p["seconds"] / floor
            plan_ok &= ratio <= 2
            plan_bits.append(f"N={n:,}: {ratio:.2f}× ({fmt_s(p['seconds'])} s against "
                             f"{fmt_s(floor)} s)")
        else:
            plan_measured = False
            plan_bits.append(f"N={n:,}: {p['status'] if p else 'not measured'}")
    mem = find(rows, 10000, "strata", "in-memory diff")
    if mem and mem["status"] == "ok":
        verdict = "met" if mem["seconds"] < 1 else "**not met**"
        lines.append("- the in-memory diff + order + render of two 10,000-table schemas under 1 s "
                     f"(issue 4): {fmt_s(mem['seconds'])} s, peak RSS {fmt_mb(mem['rss_mb'])} MB "
                     f"with both models held — {verdict}.")
    else:
        lines.append("- the in-memory diff + order + render of two 10,000-table schemas under 1 s "
                     "(issue 4): "
                     f"{mem['status'] if mem else 'not measured: N=10,000 is not in this run'}.")
    lines.append("- `plan` within 2× of the floors (pg_dump of the target + psql load of the "
                 f"SDL): {'; '.join(plan_bits)} — "
                 f"{'not measured everywhere' if not plan_measured else 'met' if plan_ok else '**not met**'}.")
    lines.extend(speed_targets(rows, sizes))
    return "\n".join(lines)


def exact(rows, n, tool, operation, mix="base"):
    """The row of `operation` on `mix` (rows of other mixes than base say `[mix M]`)."""
    wanted = operation if mix == "base" else f"{operation} [mix {mix}]"
    return next((r for r in rows if r["n"] == n and r["tool"] == tool
                 and r["operation"] == wanted), None)


def mixes_of(rows):
    found = ["base"]
    for r in rows:
        m = re.search(r"\[mix (\w+)\]$", r["operation"])
        if m and m.group(1) not in found:
            found.append(m.group(1))
    return found


def ratio_line(title, bits, verdicts):
    if not bits:
        return f"- {title}: not measured in this run."
    verdict = "not measured everywhere" if None in verdicts else \
        "met" if all(verdicts) else "**not met**"
    return f"- {title}: {'; '.join(bits)} — {verdict}."


def speed_targets(rows, sizes):
    """Issue 22's targets, each a ratio taken within this run."""
    LOAD, SDL, PLAN, DIFF = ("load schema SQL into an empty database", "diff from → SDL files",
                             "plan (end to end)", "diff from → to")
    out = []
    ok = lambda r: r is not None and r["status"] == "ok"  # noqa: E731

    bits, verdicts = [], []
    for n, most in ((1000, 1.0), (10000, 0.75)):
        p, load = exact(rows, n, "strata", PLAN), exact(rows, n, "psql (floor)", LOAD)
        if n not in sizes:
            continue
        if ok(p) and ok(load):
            r = p["seconds"] / load["seconds"]
            bits.append(f"N={n:,}: {r:.2f}× ({fmt_s(p['seconds'])} s against "
                        f"{fmt_s(load['seconds'])} s; target ≤ {most}×)")
            verdicts.append(r <= most)
        else:
            bits.append(f"N={n:,}: {(p or load or {}).get('status', 'not measured')}")
            verdicts.append(None)
    out.append(ratio_line("`plan` against the single-stream psql load of the same schema "
                          "(issue 22)", bits, verdicts))

    bits, verdicts = [], []
    for mix in mixes_of(rows):
        d, load = exact(rows, 1000, "strata", SDL, mix), exact(rows, 1000, "psql (floor)", LOAD, mix)
        if ok(d) and ok(load):
            r = d["seconds"] / load["seconds"]
            bits.append(f"mix {mix}: {r:.2f}× ({fmt_s(d['seconds'])} s against "
                        f"{fmt_s(load['seconds'])} s)")
            verdicts.append(r <= 0.6)
        elif 1000 in sizes:
            bits.append(f"mix {mix}: not measured")
            verdicts.append(None)
    out.append(ratio_line("`diff` DB→SDL files at 1,000 tables ≤ 0.6× the psql load of the same "
                          "SQL, on every mix (issue 22)", bits, verdicts))

    speed, speed_ok, mem, mem_ok = [], [], [], []
    for mix in mixes_of(rows):
        s, m = exact(rows, 10000, "strata", DIFF, mix), exact(rows, 10000, "migra", DIFF, mix)
        sdl = exact(rows, 10000, "strata", SDL, mix)
        if 10000 not in sizes:
            continue
        if ok(s) and ok(m):
            r = m["seconds"] / s["seconds"]
            speed.append(f"mix {mix}: {r:.1f}× ({fmt_s(s['seconds'])} s against "
                         f"{fmt_s(m['seconds'])} s)")
            speed_ok.append(r >= 10)
        else:
            speed.append(f"mix {mix}: not measured")
            speed_ok.append(None)
        if s and m and sdl and m.get("rss_mb"):
            mem.append(f"mix {mix}: DB→DB {fmt_mb(s['rss_mb'])} MB, DB→SDL "
                       f"{fmt_mb(sdl['rss_mb'])} MB against migra's {fmt_mb(m['rss_mb'])} MB")
            mem_ok.append(max(s["rss_mb"], sdl["rss_mb"]) <= m["rss_mb"])
        else:
            mem.append(f"mix {mix}: not measured")
            mem_ok.append(None)
    out.append(ratio_line("`diff` at least 10× migra at 10,000 tables, on every mix (issue 22)",
                          speed, speed_ok))
    out.append(ratio_line("`diff` peak RSS at 10,000 tables at most migra's, on every mix "
                          "(issue 22)", mem, mem_ok))
    plans = [(mix, exact(rows, 10000, "strata", PLAN, mix)) for mix in mixes_of(rows)]
    plans = [(mix, p) for mix, p in plans if p]
    if 10000 in sizes and plans:
        out.append(ratio_line("`plan` peak RSS at 10,000 tables ≤ 600 MB, on every mix (issue 22)",
                              [f"mix {mix}: {fmt_mb(p['rss_mb'])} MB" for mix, p in plans],
                              [p["rss_mb"] <= 600 for _, p in plans]))

    cores = []
    for n in sizes:
        load = exact(rows, n, "psql (floor)", LOAD)
        if not ok(load):
            continue
        for op, most in ((SDL, 0.6 if n == 1000 else None), (PLAN, 1.0 if n == 1000 else
                                                             0.75 if n == 10000 else None)):
            r = exact(rows, n, "strata", op)
            if not ok(r) or work(r) is None or most is None:
                continue
            needed = work(r) / (most * load["seconds"])
            cores.append(f"N={n:,} {op.split(' (')[0]}: {fmt_s(work(r))} CPU-s of work against "
                         f"the floor's {fmt_s(load['seconds'])} s of wall time: ≤ {most}× needs "
                         f"at least {math.ceil(needed)} cores even if every second of it ran "
                         "in parallel")
    if cores:
        out.append("- What the time targets need, from the work done (CPU seconds of strata and "
                   "the server; on c cores the wall time is at least work / c): "
                   f"{'; '.join(cores)}.")

    scaling = []
    for n in sizes:
        for op in (SDL, PLAN):
            both = exact(rows, n, "strata", op)
            one = next((r for r in rows if r["n"] == n and r["tool"] == "strata"
                        and r["operation"].startswith(f"{op}, one core")), None)
            if ok(both) and ok(one):
                scaling.append(f"N={n:,} {op.split(' (')[0]}: one core {fmt_s(one['seconds'])} s, "
                               f"both {fmt_s(both['seconds'])} s "
                               f"({one['seconds'] / both['seconds']:.2f}×)")
    if scaling:
        out.append("- Scaling over cores (the same rows with the server and strata under "
                   f"`taskset -c 0`; no target, issue 22 asks for the figures): {'; '.join(scaling)}.")
    return out


def table(rows, n):
    out = ["| tool | operation | status | runs | median s | CPU s client + server | peak RSS MB "
           "| statements | converges |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["n"] != n:
            continue
        conv = r.get("converges", "")
        if conv and conv != "yes" and r.get("convergence_detail"):
            conv = f"{conv}: {r['convergence_detail']}"
        statements = "–" if r["statements"] is None else str(r["statements"])
        seconds = f"> {r['seconds']:.0f}" if r["status"] == "timeout" else fmt_s(r["seconds"])
        out.append(f"| {r['tool']} | {r['operation']} | {esc_md(r['status'])} | {r['runs']} | "
                   f"{seconds} | {fmt_cpu(r)} | {fmt_mb(r['rss_mb'])} | {statements} | "
                   f"{esc_md(conv)} |")
    return "\n".join(out)


def fmt_cpu(r):
    if r.get("client_cpu") is None or r.get("server_cpu") is None:
        return "–"
    return f"{fmt_s(r['client_cpu'])} + {fmt_s(r['server_cpu'])}"


def work(r):
    """CPU seconds a row made the machine do (client and server)."""
    if r is None or r.get("client_cpu") is None or r.get("server_cpu") is None:
        return None
    return r["client_cpu"] + r["server_cpu"]


def tick_free(s):
    return s.replace("`", "'")


def esc_md(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def timings(recorded):
    """Where `strata diff` DB→SDL spends its time, per size and mix (`STRATA_TIMINGS=1`)."""
    if not recorded:
        return ""
    blocks = "\n\n".join(f"**N = {t['n']:,}, mix {t['mix']}**\n\n```\n{t['text']}\n```"
                         for t in recorded)
    return f"""
### Where `strata diff` DB→SDL spends its time, per object kind

One more run of the `diff from → SDL files` row per size and mix, with `STRATA_TIMINGS=1`
(`src/timings.rs`): `load` is the shadow load per statement kind (each statement in its own
round trip while timed, summed over the `[shadow] jobs` connections), `read` the catalog
queries of both databases (a query's time runs from the previous query's last row on its
connection to its own), `build` turning rows into the two models, `diff` the comparison per
object kind and the ordering.

{blocks}
"""


def write(results, out_dir: Path):
    m = results["machine"]
    rows = results["rows"]
    sizes = m["sizes"]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench-time.svg").write_text(svg_plot(rows))
    peers = "; ".join(f"{k}: {v}" for k, v in sorted(m.get("peers", {}).items())) or "none"
    sections = "\n\n".join(f"### N = {n:,} tables\n\n{table(rows, n)}" for n in sizes)
    failures = [f"- {r['tool']} {r['operation']}, N={r['n']:,}: {r['status']}: "
                f"`{tick_free(' / '.join(r['error'])[:400])}`"
                for r in rows if r.get("error") and r["status"] != "timeout"]
    if failures:
        sections += "\n\n### What the failures said\n\n" + "\n".join(failures)
    sizes_env = " ".join(str(n) for n in sizes)
    text = f"""# Benchmarks

strata side by side with the floors (what PostgreSQL's own tools need for the same work) and with
its peers, on the same databases in the same run. Generated by `make bench`
(`scripts/bench/run.sh` → `scripts/bench/bench.py` → `scripts/bench/report.py`); do not edit the
figures by hand, run it again.

## The command

```sh
{m.get('command') or f'BENCH_SIZES="{sizes_env}" make bench'}
```

`make bench` builds strata in release mode, starts a throwaway cluster in a temp directory (removed
on exit), installs the peers into a throwaway virtualenv and `node_modules`, and writes this page,
the plot (`docs/bench-time.svg`) and the raw figures (`scripts/bench/results.json`).
`BENCH_SIZES="100 1000"` gives a quick run; `BENCH_RUNS`, `BENCH_TIMEOUT`, `BENCH_NO_PEERS=1` and
`BENCH_PEERS_DIR` are described at the top of `scripts/bench/bench.py`.

## The machine

| | |
|---|---|
| CPU | {m['cpu']} |
| nproc | {m['nproc']} |
| memory | {m['memory_gb']} GB |
| kernel | {m['kernel']} |
| PostgreSQL | {m['postgres']} |
| rustc | {m['rustc']} |
| strata | {m['strata']} (release build) |
| Python / Node | {m['python']} / {m['node']} |
| peers | {peers} |
| cluster data directory | {m.get('data_dir', 'disk')} |
| whole run | {m['total_seconds']} s |

## The schemas

`strata-gen-schema --tables N [--variant changed]` (`src/bin/strata-gen-schema.rs`) writes N
tables in two schemas (`app`, `billing`) with identity, sequence-backed and uuid keys; text,
varchar, numeric, enum, jsonb, array, boolean and timestamptz columns with defaults; check
constraints, composite unique keys, foreign keys to parent tables; partial and expression indexes;
comments; a view, a trigger function and a trigger on every tenth table, a SQL function on others;
one enum and one sequence per 50 tables. The `changed` variant changes about 5% of the objects:
added and dropped tables, added columns, dropped and added indexes, changed defaults, types,
nullability and comments, added check constraints, dropped and redefined views, rewritten function
bodies, new enum values, altered sequences. Output is deterministic (no randomness).

`from_N` is loaded from the base variant, `to_N` from the changed one. A second mix of objects
per table, `--mix wide` (six more columns of other types, two more CHECK constraints, a composite
and a partial index and a SQL function per table, a view on every third), gives
`from_wide_N`/`to_wide_N`: the diff rows and their psql floor run on every mix in
`BENCH_MIXES` (default `base wide`), marked `[mix wide]`, so that no single mix decides a ratio.
`diff from → SDL files` and `plan` load the shadow database over `[shadow] jobs` connections
(default: the cores); the rows marked `one stream (jobs = 1)` are the same with one.

## How each figure is taken

- **median s**: median wall time of {m['runs']} runs (a row whose first run takes more than
  {m['slow']} s is timed once; a run is killed after {m['timeout']} s and recorded as `timeout`;
  a run that fails or times out is not repeated). The `runs` column says how many were timed.
- **peak RSS MB**: the client process's peak resident set (`wait4` rusage, which covers the
  process and the children it waited for), in MB of 1,048,576 bytes (`ru_maxrss` / 1024, as
  every MB figure of the bench). The server's memory is not included.
- **CPU s client + server**: the median CPU time (user + system) of the client process and the
  children it waited for (`wait4` rusage), and of the server: the postmaster's own, that of the
  backends it reaped and of its processes still running, from `/proc` before and after the
  run. Their sum is the work a row makes the machine do; on c cores its wall time cannot be
  below work / c, which is how a time target is projected onto a runner with more cores.
- **one core** rows: the same command with the server (the postmaster and every process it
  has started; later backends inherit it) and strata pinned to CPU 0 with `taskset`; strata's
  default `[shadow] jobs` follows the cores it may use, so it is 1 there. Against the row
  without the mark, how much spreading work over connections gives on this machine.
- **statements**: the statements the server logged during the run (`log_statement = 'all'`,
  simple-protocol queries and extended-protocol executions; nothing else uses the cluster then).
  It counts query messages: psql sends each statement of a file separately, so its count is the
  size of the schema, while one simple-protocol message may carry many statements (strata loads
  SDL into a shadow database in batches).
- **converges**: for a diff, its output is applied with `psql -v ON_ERROR_STOP=1` (no
  single transaction: a diff may hold `CONCURRENTLY` statements) to `CREATE DATABASE copy
  TEMPLATE from_N`, then the same tool diffs the copy against `to_N`: `yes` when that second diff
  is empty. For `strata dump`, the column says whether the dump, loaded with `psql -1` into an
  empty database, gives a database with from_N's `strata fingerprint`.
- **floors**: `pg_dump --schema-only from_N` (reading a schema) and `psql -1 -f base.sql` into an
  empty database (loading one). A plan must at least read the target and load the desired schema
  into a shadow database, so its floor is the sum of the two.
- The cluster runs with `fsync`, `synchronous_commit` and `full_page_writes` off (as strata's
  embedded cluster), socket only, on the same machine as the clients, its data directory on a
  tmpfs when `/dev/shm` has room: on this machine's ext4 disk, `CREATE DATABASE` took 0.1 to
  0.4 s in the kernel's inode allocator once the run had created and dropped a few hundred
  databases, noise that belongs to no tool (`strata plan` creates two shadow databases).
- **in-memory diff + order + render**: both databases are read once into the model JSON
  (`strata --format json dump`, not timed), then `strata-bench-diff` (`src/bin/`) times
  `diff::diff` (comparison and ordering) plus `diff::render`, median of {m['runs']} runs in one
  process, no database involved; its peak RSS holds both models. The models' fingerprints must
  equal `strata fingerprint` of the databases.
- A tool that fails, times out or is not available is recorded as such, never left out.

## Targets

{targets(rows, sizes)}

## Time against N

![wall time against N](bench-time.svg)

## Results

{sections}
{timings(results.get("timings", []))}"""
    notes = Path(__file__).with_name("notes.md")
    if notes.exists():
        text += "\n## Notes (hand-written, `scripts/bench/notes.md`)\n\n" + notes.read_text()
    # Online schema changes under load (`make bench-online`, `scripts/bench/online.sh`).
    online = Path(__file__).with_name("online.md")
    if online.exists():
        text += "\n" + online.read_text()
    # Fleets (`make bench-fleet`, `scripts/bench/fleet.sh`).
    fleet = Path(__file__).with_name("fleet.md")
    if fleet.exists():
        text += "\n" + fleet.read_text()
    (out_dir / "benchmarks.md").write_text(text)
