#!/usr/bin/env python3
"""Builds diff cases from real applications' migration histories (diesel's
migrations/<version>_<name>/up.sql or sqlx's migrations/<version>_<name>.sql): apply each migration in order, pg_dump -s after each, write
cases <app>_step_NNN (i-1 -> i), <app>_ten_NNN (i-10 -> i), <app>_create (empty -> final),
<app>_drop (final -> empty). Usage: history.py [--dump-with-strata STRATA] [--setup FILE] [--from N]
<app> <migrations dir> <out dir> <socket dir> <port> (a server you started; the cases are scored with
DIFF_CASES_DIR=<out dir> cargo test --test diff corpus).
  --dump-with-strata STRATA  take each step's schema with `STRATA dump` (strata's own SDL) instead
                             of pg_dump: for a server newer than the installed pg_dump can dump.
  --setup FILE               SQL run before the first migration (e.g. the migration tool's own
                             table, when a migration refers to it).
  --from N                   write step and ten cases from step N on only (schemas are taken from
                             step N-10 on; create and drop are written as always)."""
import argparse, os, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument('--dump-with-strata', metavar='STRATA')
ap.add_argument('--setup')
ap.add_argument('--from', dest='first', type=int, default=1)
ap.add_argument('app')
ap.add_argument('mdir')
ap.add_argument('out')
ap.add_argument('host')
ap.add_argument('port')
args = ap.parse_args()
app, mdir, out, host, port = args.app, args.mdir, args.out, args.host, args.port
db = re.sub(r'\W', '_', app.lower()) + '_hist'
base = ['-h', host, '-p', port, '-U', 'postgres']

def psql(args, **kw):
    return subprocess.run(['psql', '-X', '-q', *base, *args], capture_output=True, text=True, **kw)

psql(['-d', 'postgres', '-c', f'DROP DATABASE IF EXISTS {db}'])
psql(['-d', 'postgres', '-c', f'CREATE DATABASE {db}'])

if args.setup:
    psql(['-d', db, '-v', 'ON_ERROR_STOP=1', '-f', args.setup], check=True)

def clean(dump):
    keep = []
    for line in dump.splitlines():
        if line.startswith('\\') or line.startswith('--') or line.startswith('SET '):
            continue
        if line.startswith('SELECT pg_catalog.set_config'):
            continue
        keep.append(line)
    text = '\n'.join(keep)
    return re.sub(r'\n{3,}', '\n\n', text).strip() + '\n'

def dump():
    if args.dump_with_strata:
        url = f'postgresql://postgres@/{db}?host={host}&port={port}'
        r = subprocess.run([args.dump_with_strata, 'dump', '--database-url', url],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f'strata dump failed: {r.stderr.strip()[:500]}')
        return clean(r.stdout)
    r = subprocess.run(['pg_dump', '-s', '--no-owner', '--no-privileges', *base, db],
                       capture_output=True, text=True, check=True)
    return clean(r.stdout)

def script(entry):
    """A migration's SQL: diesel's <version>_<name>/up.sql, or sqlx's <version>_<name>.sql."""
    path = os.path.join(mdir, entry)
    return os.path.join(path, 'up.sql') if os.path.isdir(path) else path

entries = [e for e in os.listdir(mdir)
           if os.path.isfile(os.path.join(mdir, e, 'up.sql'))
           or (e.endswith('.sql') and not e.endswith('.down.sql') and os.path.isfile(os.path.join(mdir, e)))]
steps = sorted(entries, key=lambda e: e.split('_')[0].replace('-', ''))  # the tools' version order
dumps = [('empty', '')]
for i, s in enumerate(steps, 1):
    meta = os.path.join(mdir, s, 'metadata.toml')
    text = open(script(s)).read()
    one = not ((os.path.exists(meta) and 'run_in_transaction = false' in open(meta).read())
               or text.startswith('-- no-transaction'))
    r = psql(['-d', db, '-v', 'ON_ERROR_STOP=1', *(['-1'] if one else []), '-f', script(s)])
    if r.returncode != 0:
        print(f'{s}: failed, stopping: {r.stderr.strip()[:300]}')
        break
    # Before --from's window, only the last schema counts (create, drop): not taken.
    dumps.append((s, dump() if i >= args.first - 10 or i == len(steps) else None))
print(f'{app}: {len(dumps) - 1} migrations applied')

def case(name, a, b, note):
    if a is None or b is None:
        sys.exit(f'{name}: no schema taken for it (--from)')
    if a == b:
        return
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'from.sql'), 'w').write(a)
    open(os.path.join(d, 'to.sql'), 'w').write(b)
    open(os.path.join(d, 'source'), 'w').write(note + '\n')

n = len(dumps)
if dumps[-1][1] is None:  # stopped early: the last applied step's schema
    dumps[-1] = (dumps[-1][0], dump())
for i in range(max(1, args.first), n):
    case(f'{app}_step_{i:03}', dumps[i-1][1], dumps[i][1], dumps[i][0])
    if i % 10 == 0 or i == n - 1:
        j = max(0, i - 10)
        case(f'{app}_ten_{i:03}', dumps[j][1], dumps[i][1], f'{dumps[j][0]} .. {dumps[i][0]}')
case(f'{app}_create', '', dumps[-1][1], 'empty -> final')
case(f'{app}_drop', dumps[-1][1], '', 'final -> empty')
