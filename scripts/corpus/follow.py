#!/usr/bin/env python3
"""Follows a real application's migration history with `strata diff`: each migration is applied
to <app>_real; then `strata diff --from <app>_follow --to <app>_real` is applied to <app>_follow,
a second diff must be empty, and the pg_dumps must agree (where they differ, the real side's
dump is taken again after a dump-and-load round trip, so both print expressions as they read
back). history.py's cases hold pg_dump text on both sides; this also covers DDL as the
application wrote it.

Usage: follow.py [--setup FILE] --strata STRATA <app> <migrations dir> <log dir> <socket dir> <port>
(a server you started; migrations in diesel's or sqlx's layout, as history.py reads them). A
failing step writes <log dir>/<app>_NNN.fail (the SQL and the problem), the follow database is
reset from the real one, and the walk goes on. Prints one line per failure and a summary."""
import argparse, difflib, os, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument('--setup')
ap.add_argument('--strata', required=True)
ap.add_argument('app')
ap.add_argument('mdir')
ap.add_argument('logdir')
ap.add_argument('host')
ap.add_argument('port')
args = ap.parse_args()
base = ['-h', args.host, '-p', args.port, '-U', 'postgres']
url = 'postgresql://postgres@' + args.host.replace('/', '%2F') + ':' + args.port + '/'
real, follow, settled = (f'{args.app}_{s}' for s in ('real', 'follow', 'settled'))


def psql(db, *extra, text=None):
    return subprocess.run(['psql', '-X', '-q', *base, '-d', db, *extra],
                          capture_output=True, text=True, input=text)


def recreate(db):
    psql('postgres', '-c', f'DROP DATABASE IF EXISTS {db}')
    psql('postgres', '-c', f'CREATE DATABASE {db}')


def pg_dump(db):
    return subprocess.run(['pg_dump', '-s', '--no-owner', '--no-privileges', *base, db],
                          capture_output=True, text=True, check=True).stdout


def normalised(dump):
    """Comments, SET lines and blank lines out; each table's column lines sorted, and each run
    of COMMENT ON COLUMN lines (they follow the column order)."""
    lines, columns, comments = [], None, []
    for line in dump.splitlines():
        if (line.startswith(('--', 'SET ', 'SELECT pg_catalog.set_config', '\\'))
                or not line.strip()):
            continue
        if line.startswith('COMMENT ON COLUMN '):
            comments.append(line)
            continue
        lines += sorted(comments)
        comments = []
        if columns is not None:
            if line.startswith(')'):
                lines += sorted(columns) + [line]
                columns = None
            else:
                columns.append(line.rstrip(','))
            continue
        lines.append(line)
        if line.startswith('CREATE TABLE') and line.endswith('('):
            columns = []
    return '\n'.join(lines + sorted(comments)) + '\n'


def round_tripped(db):
    """The dump of `db` loaded into a fresh database and dumped again, and the first error of
    that load (pg_dump's order does not always load: a function an index predicate calls)."""
    recreate(settled)
    loaded = psql(settled, text=pg_dump(db))
    errors = [l for l in loaded.stderr.splitlines() if 'ERROR' in l]
    return normalised(pg_dump(settled)), (errors[0] if errors else None)


def diff():
    return subprocess.run([args.strata, 'diff', '--from', url + follow, '--to', url + real],
                          capture_output=True, text=True, cwd=args.logdir)


def steps():
    """Migration scripts in the migration tool's order: (name, path, in one transaction)."""
    out = []
    for entry in os.listdir(args.mdir):
        path = os.path.join(args.mdir, entry)
        if os.path.isfile(os.path.join(path, 'up.sql')):
            meta = os.path.join(path, 'metadata.toml')
            single = not (os.path.exists(meta)
                          and 'run_in_transaction = false' in open(meta).read())
            out.append((entry, os.path.join(path, 'up.sql'), single))
        elif entry.endswith('.sql') and not entry.endswith('.down.sql') and os.path.isfile(path):
            single = not open(path).read().startswith('-- no-transaction')
            out.append((entry, path, single))
    return sorted(out, key=lambda s: s[0].split('_')[0].replace('-', ''))


def problem_after():
    first = diff()
    if first.returncode:
        return first.stdout, f'diff failed (exit {first.returncode}): {first.stderr}'
    applied = psql(follow, '-v', 'ON_ERROR_STOP=1', text=first.stdout)
    if applied.returncode:
        return first.stdout, f'applying the diff failed: {applied.stderr}'
    second = diff()
    if second.stdout.strip():
        return first.stdout, f'second diff not empty:\n{second.stdout}'
    got = normalised(pg_dump(follow))
    want = normalised(pg_dump(real))
    if want == got:
        return first.stdout, None
    settled_want, load_error = round_tripped(real)
    if load_error is None:
        want = settled_want
    if want != got:
        lines = difflib.unified_diff(want.splitlines(True), got.splitlines(True), 'real', 'follow')
        why = f' (the real dump does not load for a round trip: {load_error})' if load_error else ''
        return first.stdout, f'pg_dump differs{why}:\n' + ''.join(lines)
    return first.stdout, None


os.makedirs(args.logdir, exist_ok=True)
recreate(real)
recreate(follow)
if args.setup:
    psql(real, '-v', 'ON_ERROR_STOP=1', '-f', args.setup)
    psql(follow, '-v', 'ON_ERROR_STOP=1', '-f', args.setup)
failures, done = 0, 0
for number, (name, path, single) in enumerate(steps(), 1):
    ran = psql(real, '-v', 'ON_ERROR_STOP=1', *(['-1'] if single else []), '-f', path)
    if ran.returncode:
        print(f'{name}: the migration itself fails, stopping: {ran.stderr[:300]}')
        break
    done = number
    sql, problem = problem_after()
    if problem:
        failures += 1
        with open(os.path.join(args.logdir, f'{args.app}_{number:03}.fail'), 'w') as f:
            f.write(f'{name}\n--- SQL ---\n{sql}\n--- problem ---\n{problem}\n')
        print(f'{args.app} step {number} ({name}): {problem.splitlines()[0][:200]}')
        recreate(follow)
        psql(follow, text=pg_dump(real))
print(f'{args.app}: {done} steps followed, {failures} failures')
sys.exit(1 if failures else 0)
