# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make compat`: the collection on every ansible-core it supports (meta/runtime.yml: >=2.16), not only the dev venv's.

For each minor version, in build/compat/<version>: a virtual environment with that ansible-core and requests;
the tarball (built once, by the dev venv) installed with that version's ansible-galaxy; ansible-doc of every
module, action, filter and role; the modules, then import + rotate_passwords.yml + audit_passwords.yml of a small
site on an emulator (checking on the PABX that every password changed); and the input mistakes that must reach
the user: on 2.16-2.18 a no_log task's error is replaced by "censored", so each must be caught outside one.

ansible-test sanity also runs with the oldest and newest version (SANITY_VERSIONS), as `make sanity` does with the
dev venv's; COMPAT_SANITY=0 leaves it out. Usage: compat_smoke.py [2.16 2.17 ...] (default: all)
"""
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests'))

from conftest import API_KEY, ansible_env, write_json  # noqa: E402  (conftest puts the emulator on the path)
from emulator.process import Emulator  # noqa: E402
from emulator.seed import make_site  # noqa: E402
from pabx_site import Site  # noqa: E402

VERSIONS = ('2.16', '2.17', '2.18', '2.19', '2.20')
SANITY_VERSIONS = ('2.16', '2.20')
PYTHON_312 = ('2.20',)  # ansible-core 2.20 needs Python 3.12 or later
WORK = os.path.join(REPO_ROOT, 'build', 'compat')
JOBS = int(os.environ.get('COMPAT_JOBS', '2'))  # ansible-playbook is CPU-bound: one per core
BAD_PIN = '739251'  # in the bad inputs: it must not be shown


class StepFailed(Exception):
    def __init__(self, step, detail):
        super(StepFailed, self).__init__('%s: %s' % (step, detail))


def python_for(version):
    if version not in PYTHON_312:
        return shutil.which('python3.11') or sys.executable
    try:
        root = subprocess.run(['pyenv', 'root'], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = '/root/.pyenv'
    found = sorted(glob.glob(os.path.join(root, 'versions', '3.12*', 'bin', 'python3.12'))) + [shutil.which('python3.12')]
    if not found[0]:
        raise StepFailed('python', 'ansible-core %s needs Python 3.12, found neither in `pyenv root`/versions/3.12* nor '
                                   'on PATH: install it (pyenv install 3.12) or leave %s out' % (version, version))
    return found[0]


def run(step, command, log, env=None, cwd=None, expect=0, timeout=900, hide=()):
    """Run a command, keep its output in the version's directory; fail the step on an unexpected exit code
    (quoting the output's end, with the strings in ``hide`` masked: a PIN must not reach the CI log)."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)
    with open(log, 'a') as handle:
        handle.write('$ %s\n%s%s\n' % (' '.join(command), done.stdout, done.stderr))
    output = done.stdout + done.stderr
    if (expect == 0) != (done.returncode == 0):
        tail = last_lines(output)
        for secret in hide:
            tail = tail.replace(secret, '******')
        raise StepFailed(step, 'exit code %d (see %s): %s' % (done.returncode, log, tail))
    return output


def last_lines(text, count=6):
    return ' | '.join(line.strip() for line in text.strip().splitlines()[-count:])


class Version:
    def __init__(self, version):
        self.version = version
        self.root = os.path.join(WORK, version)
        self.bin = os.path.join(self.root, 'venv', 'bin')
        self.collections = os.path.join(self.root, 'collections')
        self.log = os.path.join(self.root, 'output.log')
        self.times = {}

    def timed(self, step, function, *args):
        start = time.monotonic()
        try:
            return function(*args)
        finally:
            self.times[step] = time.monotonic() - start

    def env(self, extra=None):
        return ansible_env(dict({'ANSIBLE_COLLECTIONS_PATH': self.collections,
                                 'PATH': self.bin + os.pathsep + os.environ['PATH']}, **(extra or {})))

    def setup(self, tarball):
        """A venv with this ansible-core (kept between runs while the stamp matches), and the collection."""
        spec = 'ansible-core==%s.*' % self.version
        stamp = os.path.join(self.root, 'venv', '.installed')
        if not (os.path.exists(stamp) and open(stamp).read() == spec):
            shutil.rmtree(os.path.join(self.root, 'venv'), ignore_errors=True)
            run('venv', [python_for(self.version), '-m', 'venv', os.path.join(self.root, 'venv')], self.log)
            run('venv', [os.path.join(self.bin, 'pip'), 'install', '-q', spec, 'requests'], self.log)
            with open(stamp, 'w') as handle:
                handle.write(spec)
        shutil.rmtree(self.collections, ignore_errors=True)
        run('install', [os.path.join(self.bin, 'ansible-galaxy'), 'collection', 'install', '--force', tarball,
                        '-p', self.collections], self.log, env=self.env())
        self.full_version = run('venv', [os.path.join(self.bin, 'python'), '-c',
                                         'import ansible.release as r; print(r.__version__)'], self.log).strip()

    def docs(self):
        """ansible-doc renders every plugin and role: one call per type, each name must have its section."""
        def names(folder, pattern):
            return sorted(os.path.splitext(os.path.basename(p))[0]
                          for p in glob.glob(os.path.join(REPO_ROOT, folder, pattern)) if '__init__' not in p)
        modules = sorted(set(names('plugins/modules', '*.py')) | set(names('plugins/action', '*.py')))
        kinds = (('module', modules), ('filter', names('plugins/filter', '*.yml')), ('role', names('roles', '*')))
        for kind, plugins in kinds:
            output = run('ansible-doc -t ' + kind, [os.path.join(self.bin, 'ansible-doc'), '-t', kind] +
                         ['digitro.pabx.' + name for name in plugins], self.log, env=self.env())
            headers = [line.lower().replace('*', '') for line in output.splitlines() if line.startswith('>')]
            missing = [name for name in plugins if not any(' digitro.pabx.%s ' % name in h + ' ' for h in headers)]
            if missing or re.search(r'^(\[ERROR\]|ERROR!)', output, re.M):
                raise StepFailed('ansible-doc -t ' + kind, 'not rendered: %s' % ', '.join(missing or ['(an error)']))

    def start_site(self):
        workdir = os.path.join(self.root, 'site')
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir)
        spec = make_site(6, 2, 2, random_seed=16)
        emulator = Emulator(workdir, seed=write_json(os.path.join(workdir, 'seed.json'), spec), api_key=API_KEY)
        emulator.site = spec
        emulator.start()
        site = Site(emulator, workdir)
        site.bin_dir = self.bin
        site.env.update(ANSIBLE_COLLECTIONS_PATH=self.collections, PATH=self.bin + os.pathsep + os.environ['PATH'])
        return site

    def playbook(self, step, site, playbook, variables=None, check=False, expect=0, env=None):
        secrets = self.pins(site) + [site.secret]
        output = run(step, site.command(playbook, variables, check), self.log, env=dict(site.env, **(env or {})),
                     cwd=site.workdir, expect=expect, hide=secrets)
        leaked = [secret for secret in secrets + self.pins(site) if secret in output]
        if leaked:
            raise StepFailed(step, 'a PIN is in the output (see %s)' % self.log)
        return output

    @staticmethod
    def pins(site):
        state = site.emulator.state()
        return [BAD_PIN] + [r['password'] for kind in ('devices', 'accounts') for r in state[kind].values()] + \
            [r['password'] for kind in ('devices', 'accounts') for r in site.emulator.site[kind].values()]

    def rotation(self, site):
        self.playbook('import', site, 'import_passwords.yml')
        # a progress line a second from the action plugin's thread in a worker, on every version: a slow PABX, so
        # that the module runs for a few seconds
        site.emulator.control(settings={'latency': 0.3})
        output = self.playbook('rotate', site, 'rotate_passwords.yml',
                               {'digitro_progress_interval': 1, 'password_rotation_concurrency': 2})
        site.emulator.control(settings={'latency': 0.0})
        if 'entries done' not in output:
            raise StepFailed('rotate', 'no progress line in the output (see %s)' % self.log)
        seeded = site.emulator.site
        unchanged = [n for kind in ('devices', 'accounts') for n, pin in site.emulator.passwords(kind).items()
                     if pin == seeded[kind][n]['password']]
        if unchanged or site.mismatched():
            raise StepFailed('rotate', 'passwords not changed on the PABX: %s; not as the store says: %s'
                             % (unchanged, site.mismatched()))
        output = self.playbook('audit', site, 'audit_passwords.yml')
        if 'failed=0' not in output:
            raise StepFailed('audit', 'a task failed (see %s)' % self.log)

    def modules(self, site):
        """digitro_password in check mode, then for real, on one device; digitro_user_validate on one account."""
        devices, accounts = site.emulator.passwords('devices'), site.emulator.passwords('accounts')
        device, account = sorted(devices)[0], sorted(accounts)[0]
        variables = dict(device=device, old=devices[device], new='582914', account=account, account_pin=accounts[account])
        path = os.path.join(site.workdir, 'modules.yml')
        with open(path, 'w') as handle:
            handle.write(MODULES_PLAYBOOK)
        command = [os.path.join(self.bin, 'ansible-playbook'), path, '-e',
                   '@' + write_json(os.path.join(site.workdir, 'modules-vars.json'), variables)]
        output = run('modules', command, self.log, env=site.env, cwd=site.workdir, hide=self.pins(site) + ['582914'])
        if site.emulator.passwords('devices')[device] != '582914' or 'changed=2' not in output:
            raise StepFailed('modules', 'the device password was not set (see %s)' % self.log)

    def input_errors(self, site):
        """Each mistake fails the run with its own message shown, and no PIN, on every version."""
        bad_csv = os.path.join(site.workdir, 'bad.csv')
        with open(bad_csv, 'w') as handle:
            handle.write('kind,number,password\ndevice,100000,%s\nphone,12x,%s\n' % (BAD_PIN, BAD_PIN))
        roster = [{'device': '100000', 'account': '500000', 'state': 'sideways', 'device_password': BAD_PIN,
                   'account_password': BAD_PIN}]
        cases = (
            ('wrong store secret', 'rotate_passwords.yml', None, 'the secret (credential_store_secret or '
             'DIGITRO_STORE_SECRET) does not decrypt it'),
            ('bad CSV', 'import_passwords.yml', {'credential_store_import_csv': bad_csv},
             'line 3: the kind is neither device (ramal, dispositivo) nor account (conta)'),
            ('bad roster', 'dac_sessions.yml', {'dac_sessions_roster': roster},
             'roster row 1: state must be logged_in or logged_out'),
            ('bad digitro_pin_policy', 'rotate_passwords.yml', {'digitro_pin_policy': {'length': 3}},
             'invalid digitro_pin_policy: length must be 4 to 12'),
            ('unknown password_rotation_targets', 'rotate_passwords.yml', {'password_rotation_targets': '999999'},
             'password_rotation_targets names 1 number(s) the credential store does not have: its 1st item'))
        for name, playbook, variables, message in cases:
            env = {'DIGITRO_STORE_SECRET': 'not-the-secret'} if name == 'wrong store secret' else None
            output = self.playbook(name, site, playbook, variables, expect=1, env=env)
            if message not in output:
                raise StepFailed(name, 'the message %r is not in the output (see %s): %s'
                                 % (message, self.log, last_lines(output, 3)))

    def smoke(self):
        with open(self.log, 'w'):
            pass
        self.timed('doc', self.docs)
        site = self.start_site()
        try:
            self.timed('rotation', self.rotation, site)
            self.timed('modules', self.modules, site)
            self.timed('errors', self.input_errors, site)
        finally:
            site.emulator.stop()

    def sanity(self):
        """ansible-test sanity from a copy of the tree laid out as ansible_collections/digitro/pabx, as `make sanity`."""
        python = '3.12' if self.version in PYTHON_312 else '3.11'
        run('sanity', [os.path.join(self.bin, 'python'), os.path.join(REPO_ROOT, 'scripts', 'prepare_ansible_test.py')],
            self.log)
        tree = os.path.join(self.root, 'sanity')
        shutil.rmtree(tree, ignore_errors=True)
        copy = os.path.join(tree, 'ansible_collections', 'digitro', 'pabx')
        os.makedirs(copy)
        files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=REPO_ROOT,
                               capture_output=True, check=True).stdout.decode().split('\0')
        for name in filter(None, files):
            if os.path.isfile(os.path.join(REPO_ROOT, name)):
                os.makedirs(os.path.dirname(os.path.join(copy, name)), exist_ok=True)
                shutil.copy2(os.path.join(REPO_ROOT, name), os.path.join(copy, name))
        # A repository of its own: ansible-test lists files with git, and build/ is ignored by ours.
        subprocess.run('git init -q && git add -A', shell=True, cwd=copy, check=True)
        run('sanity', [os.path.join(self.bin, 'ansible-test'), 'sanity', '--venv', '--python', python, '--color', 'no'],
            self.log, env=self.env(), cwd=copy, timeout=3600)


MODULES_PLAYBOOK = '''\
- name: The modules against the emulator (DIGITRO_URL and DIGITRO_API_KEY in the environment)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan a device password change
      digitro.pabx.digitro_password: {device: "{{ device }}", device_password: "{{ old }}", new_password: "{{ new }}"}
      check_mode: true
      register: planned
    - name: Change it
      digitro.pabx.digitro_password: {device: "{{ device }}", device_password: "{{ old }}", new_password: "{{ new }}"}
      register: changed
    - name: Validate an account, requested from that device
      digitro.pabx.digitro_user_validate:
        {device: "{{ device }}", device_password: "{{ new }}", account: "{{ account }}", account_password: "{{ account_pin }}"}
      register: validated
    - name: Check the results
      ansible.builtin.assert:
        that: [planned is changed, changed is changed, validated.valid]
'''


def build_tarball():
    """Once, with the dev venv's ansible-galaxy: the same tarball is what every version installs."""
    dist = os.path.join(WORK, 'dist')
    shutil.rmtree(dist, ignore_errors=True)
    os.makedirs(dist)
    galaxy = os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy')
    run('build', [galaxy, 'collection', 'build', '--output-path', dist, REPO_ROOT], os.path.join(WORK, 'build.log'))
    return glob.glob(os.path.join(dist, 'digitro-pabx-*.tar.gz'))[0]


def attempt(target, step, *args):
    """Run one phase of a version; returns the error message, or None."""
    try:
        target.timed(step, getattr(target, step), *args)
    except StepFailed as exc:
        return 'ansible-core %s: FAILED at %s' % (target.version, exc)
    except Exception as exc:  # an emulator that did not start, a timeout: still name the version and the step
        return 'ansible-core %s: FAILED at %s: %s: %s' % (target.version, step, type(exc).__name__, exc)
    return None


def main(argv):
    sanity = os.environ.get('COMPAT_SANITY', '1') != '0'
    versions = argv or list(VERSIONS)
    os.makedirs(WORK, exist_ok=True)
    start = time.monotonic()
    try:
        tarball = build_tarball()
    except StepFailed as exc:
        print('compat: FAILED at %s' % exc)
        return 1
    targets = [Version(v) for v in versions]
    for target in targets:
        os.makedirs(target.root, exist_ok=True)
        open(target.log, 'w').close()
    errors = {}
    with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:  # pip waits on the network: all at once
        for target, error in zip(targets, pool.map(lambda t: attempt(t, 'setup', tarball), targets)):
            errors[target.version] = error
    phases = ['smoke'] + (['sanity'] if sanity else [])
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        for phase in phases:
            ready = [t for t in targets if not errors[t.version] and (phase != 'sanity' or t.version in SANITY_VERSIONS)]
            for target, error in zip(ready, pool.map(lambda t: attempt(t, phase), ready)):
                errors[target.version] = error
    for target in targets:
        steps = ', '.join('%s %.0fs' % item for item in target.times.items() if item[0] != 'smoke')
        total = sum(seconds for step, seconds in target.times.items() if step in ('setup', 'smoke', 'sanity'))
        name = getattr(target, 'full_version', target.version)
        print(errors[target.version] or 'ansible-core %s: ok in %.0fs (%s)' % (name, total, steps))
    with_sanity = ', with sanity on %s' % ' and '.join(SANITY_VERSIONS) if sanity else ''
    passed = sum(1 for error in errors.values() if not error)
    print('compat: %d of %d versions ok in %.0fs%s' % (passed, len(targets), time.monotonic() - start, with_sanity))
    return 1 if any(errors.values()) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
