"""Rotation throughput: the naive uri loop, the collection's playbook, and the physical bound N x 3 x L / C.

    .venv/bin/python benchmarks/run.py [--sizes 1000 10000] [--naive-size 1000] [--latency 0.02] [--concurrency 16]

Prints a table and writes benchmarks/results/latest.json. Not part of the test suite.
"""
import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from emulator.process import Emulator  # noqa: E402
from emulator.seed import make_site, write_csv  # noqa: E402

BIN = os.path.dirname(sys.executable)
# Issue 8's target for the collection: wall time at most 1.25 x the bound plus a fixed start-up under 10 s.
TARGET_FACTOR, TARGET_STARTUP_S = 1.25, 10.0
CTI_OPERATIONS = ('verifica-senha', 'altera-senha')
RESULTS = os.path.join(REPO_ROOT, 'benchmarks', 'results')


def tree_rss_kib(root):
    """Resident memory of a process and all its descendants, from /proc."""
    children = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/stat' % name) as handle:
                    ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(name))
            except (OSError, IndexError, ValueError):
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open('/proc/%d/status' % pid) as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith('VmRSS:'))
        except (OSError, StopIteration):
            continue
    return total


def run_measured(command, cwd, env):
    """Wall seconds, peak tree RSS (MiB), exit code and start (epoch seconds) of a command."""
    started, started_at = time.monotonic(), time.time()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_kib(process.pid))
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.communicate()[1]
    sampler.join()
    if process.returncode:
        sys.stderr.write(stderr.decode()[-2000:])
    return time.monotonic() - started, peak[0] / 1024.0, process.returncode, started_at


class Bench:
    def __init__(self, size, latency, concurrency, workdir, chunk_size=None):
        self.size, self.latency, self.concurrency, self.chunk_size = size, latency, concurrency, chunk_size
        self.workdir = workdir
        self.site = make_site(size, 0, 0, random_seed=size)
        seed = os.path.join(workdir, 'seed.json')
        with open(seed, 'w') as handle:
            json.dump(self.site, handle)
        self.api_key, self.secret = secrets.token_hex(16), secrets.token_hex(16)
        self.emulator = Emulator(workdir, seed=seed, api_key=self.api_key, latency=latency,
                                 max_concurrent=concurrency).start()
        collections = os.path.join(REPO_ROOT, '.venv', 'collections')
        self.env = dict(os.environ, DIGITRO_URL=self.emulator.url, DIGITRO_API_KEY=self.api_key,
                        DIGITRO_STORE_SECRET=self.secret, ANSIBLE_COLLECTIONS_PATH=collections)

    def requests(self):
        stats = self.emulator.state()['stats']
        return sum(v for k, v in stats.items() if k.startswith('op_'))

    def phases(self, started_at, wall):
        """From the emulator's request log: seconds before the first CTI request, from the first to the last,
        and after the last one."""
        with open(self.emulator.log_file) as handle:
            times = [entry['ts'] for entry in map(json.loads, handle)
                     if entry['ts'] >= started_at and entry.get('op') in CTI_OPERATIONS]
        if not times:
            return {}
        return dict(startup_s=round(min(times) - started_at, 2), requests_s=round(max(times) - min(times), 2),
                    winddown_s=round(started_at + wall - max(times), 2))

    def row(self, name, measured, requests):
        wall, peak, code, started_at = measured
        bound = self.size * 3 * self.latency / self.concurrency
        phases = self.phases(started_at, wall)
        return dict(method=name, extensions=self.size, latency_ms=self.latency * 1000, concurrency=self.concurrency,
                    wall_s=round(wall, 2), extensions_per_s=round(self.size / wall, 1),
                    requests_per_s=round(requests / wall, 1), requests_per_extension=round(requests / self.size, 2),
                    peak_rss_mib=round(peak, 1), bound_s=round(bound, 2), wall_over_bound=round(wall / bound, 2),
                    throughput_of_bound=round(bound / wall, 3),
                    target_s=round(TARGET_FACTOR * bound + TARGET_STARTUP_S, 2),
                    requests_of_bound=round(bound / phases['requests_s'], 3) if phases.get('requests_s') else None,
                    ok=code == 0, **phases)

    def collection(self):
        csv_path = os.path.join(self.workdir, 'initial.csv')
        write_csv(self.site, csv_path)
        inventory = os.path.join(self.workdir, 'inventory.ini')
        with open(inventory, 'w') as handle:
            handle.write('[pabx]\nbench credential_store_import_csv=%s password_rotation_concurrency=%d%s\n'
                         % (csv_path, self.concurrency, ' password_rotation_chunk_size=%d' % self.chunk_size
                            if self.chunk_size else ''))
        playbook = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory]
        subprocess.run(playbook + [os.path.join(REPO_ROOT, 'playbooks', 'import_passwords.yml')], cwd=self.workdir,
                       env=self.env, check=True, stdout=subprocess.DEVNULL)
        before = self.requests()
        measured = run_measured(playbook + [os.path.join(REPO_ROOT, 'playbooks', 'rotate_passwords.yml')],
                                self.workdir, self.env)
        return self.row('collection', measured, self.requests() - before)

    def naive(self):
        from emulator.process import open_channel  # noqa: E402  (only the naive run needs a channel of its own)
        channel_id, stream = open_channel(self.emulator.url, self.api_key)
        entries = [dict(device=n, current=spec['password'], new='%06d' % (135790 + i))
                   for i, (n, spec) in enumerate(self.site['devices'].items())]
        variables = os.path.join(self.workdir, 'naive-vars.json')
        with open(variables, 'w') as handle:
            json.dump(dict(naive_url=self.emulator.url, naive_api_key=self.api_key, naive_channel=channel_id,
                           naive_entries=entries), handle)
        before = self.requests()
        measured = run_measured([os.path.join(BIN, 'ansible-playbook'),
                                 os.path.join(REPO_ROOT, 'benchmarks', 'naive_rotation.yml'),
                                 '-e', '@' + variables], self.workdir, self.env)
        stream.close()
        return self.row('naive uri loop', measured, self.requests() - before)

    def close(self):
        self.emulator.stop()


def table(rows):
    columns = ['method', 'extensions', 'wall_s', 'extensions_per_s', 'requests_per_s', 'requests_per_extension',
               'peak_rss_mib', 'bound_s', 'throughput_of_bound', 'target_s', 'startup_s', 'requests_s', 'winddown_s',
               'requests_of_bound']
    lines = [' | '.join(columns), ' | '.join('---' for _column in columns)]
    lines += [' | '.join(str(row.get(c, '')) for c in columns) for row in rows]
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000])
    parser.add_argument('--naive-size', type=int, default=1000, help='0 skips the naive run')
    parser.add_argument('--latency', type=float, default=0.02)
    parser.add_argument('--concurrency', type=int, default=16, help="the emulator's cap and the role's concurrency")
    parser.add_argument('--chunk-size', type=int, help="the role's password_rotation_chunk_size (default: the role's)")
    args = parser.parse_args()
    rows = []
    plan = [('naive', args.naive_size)] if args.naive_size else []
    plan += [('collection', size) for size in args.sizes]
    for method, size in plan:
        with tempfile.TemporaryDirectory(prefix='digitro-bench-') as workdir:
            bench = Bench(size, args.latency, args.concurrency, workdir, args.chunk_size)
            try:
                rows.append(getattr(bench, method)())
            finally:
                bench.close()
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, 'latest.json'), 'w') as handle:
        json.dump(dict(time=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), cpus=os.cpu_count(), rows=rows),
                  handle, indent=1)
    print('\n' + table(rows))
    naive = [r for r in rows if r['method'] != 'collection']
    same = [r for r in rows if r['method'] == 'collection' and naive and r['extensions'] == naive[0]['extensions']]
    if naive and same:
        speedup = naive[0]['wall_s'] / same[0]['wall_s']
        print('\ncollection vs naive at N=%d: %.1fx faster' % (naive[0]['extensions'], speedup))
    return 0 if all(r['ok'] for r in rows) else 1


if __name__ == '__main__':
    sys.exit(main())
