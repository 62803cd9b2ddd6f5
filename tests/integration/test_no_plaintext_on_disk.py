"""No PIN reaches the disk in plain text, not even in Ansible's module files, when rotation jobs are killed.

Without pipelining Ansible writes each module, its arguments embedded, to ``ansible-tmp-*/AnsiballZ_*.py``
and a job killed with SIGKILL leaves that file behind with the chunk's current and new PINs. The modules
that carry passwords run only pipelined (their action plugins); these tests kill rotations at random
moments and then read every file under the temporary directories the run used, looking for any PIN.
"""
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import become_loader, connection_loader

from pabx_site import Site

MODULES = ('digitro_password', 'digitro_user_validate', 'digitro_dac_session')
REFUSAL = 'carries passwords and runs only pipelined, so that no password is written to a temporary file'
QUOTED_SIX_DIGITS = re.compile(rb'\\?["\'](\d{6})\\?["\']')   # a PIN as a JSON (or Python) string value
ROTATE = {'password_rotation_concurrency': 4}


def rotation_site(start_emulator, tmp_path, accounts=0):
    """A site of 150 extensions whose Ansible temporary directories all lie inside tmp_path."""
    emulator = start_emulator(devices=150, accounts=accounts, dac_devices=0, latency=0.05, random_seed=4242)
    site = Site(emulator, tmp_path)
    temp = {'HOME': tmp_path / 'home', 'ANSIBLE_REMOTE_TMP': tmp_path / 'home' / '.ansible' / 'tmp',
            'ANSIBLE_LOCAL_TEMP': tmp_path / 'local-tmp', 'TMPDIR': tmp_path / 'tmp'}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    site.env.update(dict((name, str(path)) for name, path in temp.items()))
    site.temp_dirs = [str(path) for path in temp.values()]
    return site


def run_until_done(site, playbook, variables=None):
    """A run that must succeed, re-run once when it fails for a reason other than the refusal (a flake)."""
    run = site.run(playbook, variables)
    if run.returncode != 0 and REFUSAL not in run.stdout + run.stderr:
        run = site.run(playbook, variables)
    assert run.returncode == 0, run.stdout[-3000:]
    return run


# --- processes: a job is killed as AWX cancels one, by the ids of what it started ------------------------

def _parents():
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as handle:
                    parents[int(entry)] = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def descendants(pid):
    parents, found, todo = _parents(), [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return found


def _signal(pid, number):
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def kill_job(job):
    """SIGKILL the job's process group and every process it started, as a cancelled job's container dies.

    Ansible's workers run in sessions of their own, so killpg alone misses them and their modules: they
    are found by parent id, frozen first so that nothing new starts while they are listed.
    """
    os.killpg(job.pid, signal.SIGSTOP)
    tree = set()
    for _kill in range(3):
        for pid in set(descendants(job.pid)) - tree:
            _signal(pid, signal.SIGSTOP)
            tree.add(pid)
    os.killpg(job.pid, signal.SIGKILL)
    for pid in tree:
        _signal(pid, signal.SIGKILL)
    job.wait()


def start_job(site, number, variables=None):
    """site.start, but with the job's output kept (in the workdir, so the scan reads it too)."""
    log = os.path.join(site.workdir, 'job-%d.log' % number)
    with open(log, 'w') as output:
        job = subprocess.Popen(site.command('rotate_passwords.yml', variables), cwd=site.workdir, env=site.env,
                               stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    job.log = log
    return job


def tail(path, size=3000):
    with open(path) as handle:
        return handle.read()[-size:]


def changes(site):
    return site.emulator.state()['stats'].get('op_altera-senha', 0)


# --- the scan ----------------------------------------------------------------------------------------

def every_pin(site):
    """Every PIN this site has had: the seed's, the PABX's current ones and the store's (current, pending,
    history), less those that are also extension or account numbers (those are everywhere, legitimately).

    Reading the store also checks that it is vault-encrypted, which is why the scan may skip it.
    """
    state = site.emulator.state()
    pins, numbers = set(), set()
    for kind in ('devices', 'accounts', 'dac_devices'):
        for number, spec in site.emulator.site.get(kind, {}).items():
            numbers.add(number)
            pins.add(spec.get('password'))
        for number, record in state.get(kind, {}).items():
            numbers.add(number)
            pins.add(record.get('password'))
    store = site.store()
    for kind in ('devices', 'accounts'):
        for number, entry in store.get(kind, {}).items():
            numbers.add(number)
            pins.update([entry.get('current'), entry.get('pending')] + list(entry.get('history') or []))
    pins = set(pin for pin in pins if isinstance(pin, str) and pin) - numbers
    assert len(pins) >= 150
    return pins


def files_to_scan(site, started):
    """The files of every temporary directory the run used, its workdir but for the test's own inputs,
    and what Ansible may have put in the system's temporary directories since the test started."""
    workdir = site.workdir
    skipped = (os.path.join(workdir, 'emulator-'), site.csv_path, os.path.join(workdir, 'extra-vars.json'))
    seen = set()
    for top in [workdir] + site.temp_dirs:   # the temporary directories lie inside the workdir: once each
        for directory, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(directory, name)
                if not path.startswith(skipped) and path not in seen:
                    seen.add(path)
                    yield path
    for system in ('/tmp', '/var/tmp'):   # only Ansible's own names: other people's files are not ours to read
        try:
            tops = [os.path.join(system, name) for name in os.listdir(system) if 'ansible' in name.lower()]
        except OSError:
            continue
        for top in tops:
            for directory, _dirs, names in os.walk(top):
                for name in names:
                    path = os.path.join(directory, name)
                    try:
                        if os.lstat(path).st_mtime >= started:
                            yield path
                    except OSError:
                        continue


def assert_no_pin_on_disk(site, started):
    pins = every_pin(site)
    hits, module_files, scanned = {}, [], 0
    for path in files_to_scan(site, started):
        if os.path.basename(path).startswith('AnsiballZ_'):
            module_files.append(path)
        try:
            with open(path, 'rb') as handle:
                data = handle.read()
        except OSError:
            continue
        if data.startswith(b'$ANSIBLE_VAULT;'):
            continue   # the credential store (and any copy of it): encrypted
        scanned += 1
        found = sum(1 for match in QUOTED_SIX_DIGITS.finditer(data) if match.group(1).decode() in pins)
        if found:
            hits[path] = found
    assert scanned > 0
    # the file and how many PINs it holds, never a PIN
    assert hits == {}, 'PINs in plain text on disk (file: hits): %s' % hits
    assert module_files == [], 'module files left on disk: %s' % module_files


def assert_journal_names_no_pin(site):
    """The wrong-attempt journal killed runs leave: per line a kind, a number, a count, the role of a PIN that was
    out and a run's mark, nothing else (a hash of a six-digit PIN, which the scan would miss, is the PIN)."""
    lines = []
    for path in (site.store_path + '.journal.taken', site.store_path + '.journal'):
        if os.path.exists(path):
            with open(path) as handle:
                lines += [json.loads(line) for line in handle if line.strip()]
    assert any('out' in line for line in lines)
    for line in lines:
        assert set(line) <= {'kind', 'number', 'wrong_attempts', 'out', 'run'} and line['kind'] in ('devices', 'accounts')
        assert isinstance(line['wrong_attempts'], int) and re.match(r'^[0-9a-f]{8}$', line['run'])
        assert 'out' not in line or re.match(r'^(current|new|sent:[0-9]+)$', line['out'])


# --- the tests ---------------------------------------------------------------------------------------

def test_killed_rotations_leave_no_pin_on_disk(start_emulator, tmp_path):
    site = rotation_site(start_emulator, tmp_path)
    started = time.time()
    run_until_done(site, 'import_passwords.yml')
    rng = random.Random(20261201)
    kills, logs = 0, []
    for number in range(6):
        # a random moment while the module changes passwords, with the chunk's PINs in its arguments
        before, after = changes(site), rng.randint(3, 25)
        job = start_job(site, number, ROTATE)
        logs.append(job.log)
        try:
            deadline = time.monotonic() + 120
            while changes(site) < before + after and job.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.3))
            if job.poll() is None:
                kill_job(job)
                kills += 1
        finally:
            if job.poll() is None:
                kill_job(job)
        if kills == 3:
            break
    assert kills == 3, tail(logs[-1])
    assert_journal_names_no_pin(site)
    run_until_done(site, 'rotate_passwords.yml', ROTATE)
    assert site.mismatched() == []
    assert_no_pin_on_disk(site, started)


def test_keep_remote_files_is_refused_before_any_pin_is_written(start_emulator, tmp_path):
    site = rotation_site(start_emulator, tmp_path)
    started = time.time()
    run_until_done(site, 'import_passwords.yml')
    site.env['ANSIBLE_KEEP_REMOTE_FILES'] = '1'
    run = site.run('rotate_passwords.yml', ROTATE)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert 'digitro.pabx.digitro_password ' + REFUSAL in output, output[-3000:]
    assert 'ANSIBLE_KEEP_REMOTE_FILES is set: unset it' in output
    assert 'op_altera-senha' not in site.emulator.state()['stats']   # the PABX was not touched
    assert_no_pin_on_disk(site, started)


USER_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    ansible_pipelining: false   # the user's setting; the modules pipeline all the same
  module_defaults:
    group/digitro.pabx.all:
      url: "{{ lookup('env', 'DIGITRO_URL') }}"
      api_key: "{{ lookup('env', 'DIGITRO_API_KEY') }}"
  tasks:
    - digitro.pabx.digitro_user_validate:
        device: "{{ device }}"
        device_password: "{{ device_pin }}"
        account: "{{ account }}"
        account_password: "{{ account_pin }}"
      async: "{{ task_async | int }}"
      poll: 1
"""


@pytest.mark.parametrize('task_async', [0, 30])
def test_a_users_playbook_runs_pipelined_and_async_is_refused(start_emulator, tmp_path, task_async):
    site = rotation_site(start_emulator, tmp_path, accounts=1)
    device, spec = sorted(site.emulator.site['devices'].items())[0]
    account, account_spec = sorted(site.emulator.site['accounts'].items())[0]
    playbook = tmp_path / 'user.yml'
    playbook.write_text(USER_PLAYBOOK)
    extra = tmp_path / 'user-vars.json'
    extra.write_text(json.dumps({'device': device, 'device_pin': spec['password'], 'account': account,
                                 'account_pin': account_spec['password'], 'task_async': task_async}))
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook), '-e', '@' + str(extra),
               '-vvv']
    run = subprocess.run(command, cwd=str(tmp_path), env=site.env, capture_output=True, text=True, timeout=300,
                         check=False)
    output = run.stdout + run.stderr
    if task_async:
        assert run.returncode != 0
        assert 'digitro.pabx.digitro_user_validate ' + REFUSAL in output
        assert 'remove async and poll from the task' in output
        assert 'Pipelining is enabled' not in output
    else:
        assert run.returncode == 0, output[-3000:]
        assert 'Pipelining is enabled' in output
        assert 'AnsiballZ_digitro_user_validate' not in output
    assert spec['password'] not in output and account_spec['password'] not in output
    module_files = [os.path.join(d, n) for top in site.temp_dirs for d, _dirs, names in os.walk(top) for n in names
                    if n.startswith('AnsiballZ_')]
    assert module_files == []


# --- the action plugins on their own -----------------------------------------------------------------

class _Task:
    def __init__(self, name, async_val=0):
        self.action = self.resolved_action = 'digitro.pabx.' + name
        self.async_val = async_val
        self.check_mode = False
        self.diff = False
        self.args = {'device': '1000', 'device_password': 'not-a-pin'}
        self.environment = []


def _action(name, async_val=0, become=None):
    import importlib
    plugin = importlib.import_module('ansible_collections.digitro.pabx.plugins.action.' + name)
    play_context = PlayContext()
    connection = connection_loader.get('local', play_context, '/dev/null')
    connection.set_options()
    if become:
        connection.set_become_plugin(become_loader.get(become))
    action = plugin.ActionModule(_Task(name, async_val), connection, play_context, loader=None, templar=None)
    calls = []

    def execute_module(**kwargs):
        calls.append(connection.is_pipelining_enabled(kwargs.get('wrap_async', False)))
        return {'changed': False}
    action._execute_module = execute_module
    return action, connection, calls


@pytest.mark.parametrize('name', MODULES)
def test_action_forces_pipelining_for_the_task_only(name):
    action, connection, calls = _action(name)
    assert connection.get_option('pipelining') is False
    assert action.run(task_vars={}) == {'changed': False}
    assert calls == [True]                               # pipelined while the module ran
    assert connection.get_option('pipelining') is False  # and the setting is back afterwards


@pytest.mark.parametrize('name', MODULES)
def test_action_refuses_async_before_running_anything(name):
    action, _connection, calls = _action(name, async_val=30)
    with pytest.raises(AnsibleActionFail) as failure:
        action.run(task_vars={})
    assert str(failure.value).startswith('digitro.pabx.%s %s; the task uses async' % (name, REFUSAL))
    assert calls == []


def test_action_refuses_keep_remote_files_and_become_su(monkeypatch):
    action, _connection, calls = _action('digitro_password', become='su')
    with pytest.raises(AnsibleActionFail) as failure:
        action.run(task_vars={})
    assert 'become method su cannot pipeline' in str(failure.value)
    monkeypatch.setattr(C, 'DEFAULT_KEEP_REMOTE_FILES', True)
    action, _connection, calls = _action('digitro_password')
    with pytest.raises(AnsibleActionFail) as failure:
        action.run(task_vars={})
    assert 'ANSIBLE_KEEP_REMOTE_FILES is set: unset it' in str(failure.value)
    assert calls == []


def test_action_never_transfers_a_module_file():
    action, _connection, _calls = _action('digitro_password')
    with pytest.raises(AnsibleActionFail) as failure:
        action._transfer_data('/somewhere/AnsiballZ_digitro_password.py', b'{"device_password": "x"}')
    assert 'nothing was written' in str(failure.value)
