"""Chaos runs: the rotation under a seeded random schedule of faults, then re-runs until it converges.

    .venv/bin/python tests/chaos/chaos.py --scenarios 200 --seed 1

Each scenario draws from its seed: 500s, connections dropped after a change was applied, changes applied
late, latency spikes, event channels closed, the emulator restarted mid-run, and the job killed at a
random moment. After the faulted run it checks that every extension's real password is the store's
current or pending one; after convergence, that it is the current one; and that no extension received
more wrong passwords than --max-wrong. It ends with one line of figures; a failing scenario's seed
reproduces it (--seed SEED --scenarios 1).
"""
import argparse
import collections
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from conftest import API_KEY, write_json  # noqa: E402
from emulator.process import Emulator  # noqa: E402
from emulator.seed import make_site  # noqa: E402
from pabx_site import Site  # noqa: E402

QUIET = {'error_rate': 0, 'drop_after_apply_rate': 0, 'delayed_apply_rate': 0, 'spike_rate': 0,
         'channel_close_rate': 0}
BUDGET = 2  # digitro_max_wrong_attempts, its default
RUN_VARS = {'password_rotation_max_fail_percent': 100, 'password_rotation_confirm_timeout': 2,
            'password_rotation_concurrency': 8}


def draw_faults(rng):
    """The fault settings of one scenario: each kind is on in about half of them."""
    def maybe(rate):
        return rate if rng.random() < 0.5 else 0
    return {'error_rate': maybe(rng.uniform(0.02, 0.2)), 'drop_after_apply_rate': maybe(rng.uniform(0.05, 0.3)),
            'delayed_apply_rate': maybe(rng.uniform(0.05, 0.3)), 'apply_delay': rng.uniform(0.2, 4.0),
            'spike_rate': maybe(rng.uniform(0.02, 0.1)), 'spike_latency': rng.uniform(0.2, 1.5),
            'channel_close_rate': maybe(rng.uniform(0.005, 0.05))}


class Chaos:
    def __init__(self, workdir, devices, accounts, max_wrong):
        self.workdir = workdir
        self.max_wrong = max_wrong
        site_doc = make_site(devices, accounts, 0, random_seed=1)
        seed = write_json(os.path.join(workdir, 'seed.json'), site_doc)
        self.emulator = Emulator(workdir, seed=seed, api_key=API_KEY).start()
        self.emulator.site = site_doc
        self.site = Site(self.emulator, workdir)
        self.totals = collections.Counter()
        self.max_wrong_seen = 0
        done = self.site.run('import_passwords.yml')
        if done.returncode:
            raise RuntimeError('import failed: ' + done.stdout[-2000:])

    def wrong_attempts(self):
        state = self.emulator.state()
        return dict(((kind, n), r['wrong_attempts']) for kind in ('devices', 'accounts') for n, r in state[kind].items())

    def faulted_run(self, rng):
        """One rotation under faults, maybe with a restart of the emulator or a kill of the job."""
        self.emulator.control(settings=draw_faults(rng))
        job = self.site.start('rotate_passwords.yml', RUN_VARS)
        restart_at = rng.uniform(0.5, 5) if rng.random() < 0.25 else None
        kill_at = rng.uniform(1, 8) if rng.random() < 0.25 else None
        started = time.monotonic()
        while job.poll() is None:
            elapsed = time.monotonic() - started
            if restart_at is not None and elapsed >= restart_at:
                restart_at = None
                faults = self.emulator.state()['settings']
                self.emulator.restart()   # a rebooted PABX: same state, every channel gone
                self.emulator.control(settings=dict((k, v) for k, v in faults.items() if k in QUIET or
                                                    k in ('apply_delay', 'spike_latency')))
                self.totals['restarts'] += 1
            if kill_at is not None and elapsed >= kill_at:
                os.killpg(job.pid, signal.SIGKILL)
                self.totals['kills'] += 1
                kill_at = None
            if elapsed > 300:
                os.killpg(job.pid, signal.SIGKILL)
                raise RuntimeError('a faulted run hung for 300 s')
            time.sleep(0.05)
        # Ansible's worker (a session of its own) may outlive a killed job until its module ends.
        self.wait_for_orphans()

    def wait_for_orphans(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = subprocess.run(['pgrep', '-f', self.site.inventory], capture_output=True, check=False)
            if found.returncode:
                return
            time.sleep(0.2)
        subprocess.run(['pkill', '-9', '-f', self.site.inventory], check=False)

    def converge(self):
        self.emulator.control(settings=QUIET)
        while self.emulator.state()['pending_applies']:
            time.sleep(0.1)
        for attempt in range(1, 5):
            if not self.site.mismatched():
                return attempt - 1
            started = time.time()
            done = self.site.run('rotate_passwords.yml', RUN_VARS)
            if done.returncode and not self.resolve_quarantined(done, started):
                raise RuntimeError('a convergence run failed: ' + done.stdout[-2000:])
        return None

    def resolve_quarantined(self, done, since):
        """A kill while a PIN is out counts it as wrong (only an answer could prove it was not), so a later refusal
        of a late change can quarantine a good entry: the run stops for a person, who reads the PABX's count and
        PIN at the console and re-imports it (docs/operations.md). The harness does the same, and counts it, only
        where the run failed for quarantined entries alone (its report counts them, its message says so), the PABX
        holds a PIN the store has for each (else it is lost: the scenario fails), and never had more wrong PINs in
        a row than the budget. Whether it did."""
        if not self.reported_since(since, 'quarantined') or 'entries are quarantined' not in done.stdout:
            return False
        store, state = self.site.store(), self.emulator.state()
        quarantined = {}
        for kind in ('devices', 'accounts'):
            for number, entry in store[kind].items():
                if entry.get('quarantined'):
                    record = state[kind][number]
                    known = [entry.get('current'), entry.get('pending')] + [s['password'] for s in entry.get('sent', [])]
                    if record['password'] not in known or record['most_in_a_row'] > BUDGET:
                        return False
                    quarantined[(kind, number)] = record['password']
        if not quarantined:
            return False
        self.totals['quarantined'] += len(quarantined)
        return self.site.reimport(quarantined) == 0

    def faults_logged(self):
        """Faults injected so far, by kind, from the request log (which, unlike the counters, survives restarts)."""
        counts = collections.Counter()
        with open(self.emulator.log_file) as handle:
            for line in handle:
                if '"faults"' in line:
                    counts.update(json.loads(line)['faults'])
        return counts

    def reported_since(self, started, status='rotated'):
        """Entries of ``status`` in the JSON reports of the runs since ``started`` (a killed run writes none)."""
        if not os.path.isdir(self.site.report_dir):
            return 0
        total = 0
        for name in os.listdir(self.site.report_dir):
            path = os.path.join(self.site.report_dir, name)
            if name.endswith('.json') and os.path.getmtime(path) >= started:
                with open(path) as handle:
                    total += json.load(handle)['counts'][status]
        return total

    def scenario(self, seed):
        started = time.time()
        rng = random.Random(seed)
        before = self.wrong_attempts()
        faults_before = self.faults_logged()
        self.faulted_run(rng)
        lost = self.site.unknown_to_store()
        runs = self.converge()
        after_state = self.emulator.state()
        for kind, count in (self.faults_logged() - faults_before).items():
            self.totals['fault_' + kind] += count
        wrong = max(count - before.get(key, 0) for key, count in self.wrong_attempts().items())
        self.max_wrong_seen = max(self.max_wrong_seen, wrong)
        self.totals['rotated'] += self.reported_since(started)
        problems = []
        if lost:
            problems.append('%d passwords unknown to the store after the faulted run: %s' % (len(lost), lost[:5]))
        if runs is None:
            problems.append('did not converge in 4 runs: %s' % self.site.mismatched()[:5])
        if wrong > self.max_wrong:
            problems.append('an extension received %d wrong passwords (bound %d)' % (wrong, self.max_wrong))
        if any(r['locked'] for kind in ('devices', 'accounts') for r in after_state[kind].values()):
            problems.append('an extension is locked out')
        self.totals['lost'] += len(lost)
        return problems


def figures(scenarios, totals, max_wrong):
    faults = ' '.join('%s=%d' % (k[6:], v) for k, v in sorted(totals.items()) if k.startswith('fault_'))
    return ('chaos: scenarios=%d faults: %s restarts=%d kills=%d rotated=%d lost=%d max_wrong_attempts=%d '
            'quarantined=%d' % (scenarios, faults, totals.get('restarts', 0), totals.get('kills', 0),
                                totals.get('rotated', 0), totals.get('lost', 0), max_wrong, totals.get('quarantined', 0)))


def run_parallel(args):
    """Split the scenarios over --jobs workers (each with its own emulator), then merge their figures."""
    share = [args.scenarios // args.jobs + (1 if i < args.scenarios % args.jobs else 0) for i in range(args.jobs)]
    workers, first = [], args.seed
    with tempfile.TemporaryDirectory(prefix='digitro-chaos-jobs-') as tmp:
        for index, count in enumerate(share):
            out = os.path.join(tmp, 'worker-%d.json' % index)
            command = [sys.executable, os.path.abspath(__file__), '--scenarios', str(count), '--seed', str(first),
                       '--devices', str(args.devices), '--accounts', str(args.accounts), '--max-wrong',
                       str(args.max_wrong), '--json', out]
            workers.append((subprocess.Popen(command), out))
            first += count
        codes = [process.wait() for process, _out in workers]
        results = []
        for _process, out in workers:
            with open(out) as handle:
                results.append(json.load(handle))
    totals = collections.Counter()
    for result in results:
        totals.update(result['totals'])
    failures = [f for result in results for f in result['failures']]
    return figures(args.scenarios, totals, max(r['max_wrong'] for r in results)), failures, any(codes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--scenarios', type=int, default=20)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--devices', type=int, default=20)
    parser.add_argument('--accounts', type=int, default=2)
    parser.add_argument('--max-wrong', type=int, default=4,
                        help='wrong passwords one extension may receive per scenario (the lockout threshold is 5)')
    parser.add_argument('--json', help='also write the figures here')
    parser.add_argument('--jobs', type=int, default=1, help='workers in parallel, each with its own emulator')
    args = parser.parse_args(argv)
    if args.jobs > 1:
        line, failures, failed = run_parallel(args)
        print(line)
        if args.json:
            write_json(args.json, {'figures': line, 'failures': failures})
        return 1 if failed or failures else 0
    failures = []
    with tempfile.TemporaryDirectory(prefix='digitro-chaos-') as workdir:
        chaos = Chaos(workdir, args.devices, args.accounts, args.max_wrong)
        try:
            for index in range(args.scenarios):
                seed = args.seed + index
                problems = chaos.scenario(seed)
                if problems:
                    failures.append((seed, problems))
                    print('scenario seed=%d FAILED: %s' % (seed, '; '.join(problems)), flush=True)
                elif (index + 1) % 10 == 0:
                    print('%d/%d scenarios passed so far' % (index + 1 - len(failures), index + 1), flush=True)
        finally:
            chaos.emulator.stop()
            subprocess.run(['pkill', '-9', '-f', chaos.site.inventory], check=False)
        line = figures(args.scenarios, chaos.totals, chaos.max_wrong_seen)
    print(line)
    if args.json:
        write_json(args.json, {'figures': line, 'failures': failures, 'totals': dict(chaos.totals),
                               'max_wrong': chaos.max_wrong_seen})
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
