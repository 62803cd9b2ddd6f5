"""Attacks on the wrong-attempt budget across runs, each timed on the PABX's request log: kills right after a
wrong PIN reached the PABX, kills of every process while a PIN is out, and a requesting device changed at the
console in the middle of a run."""
import json
import os
import signal
import subprocess
import time

from pabx_site import Site


class RequestLog:
    """The emulator's request log, read as it grows."""

    def __init__(self, emulator):
        self.path, self.position = emulator.log_file, 0

    def skip(self):
        self.wait(lambda line: False, 0)

    def wait(self, wanted, seconds, job=None):
        deadline = time.monotonic() + seconds
        while True:
            with open(self.path) as handle:
                handle.seek(self.position)
                lines = handle.readlines()
                self.position = handle.tell()
            if any(wanted(json.loads(line)) for line in lines if line.strip()):
                return True
            if time.monotonic() > deadline or (job is not None and job.poll() is not None):
                return False
            time.sleep(0.05)


def end_run(site, job):
    """SIGKILL the job's process group, then the workers and modules that outlive it (theirs, by inventory)."""
    try:
        os.killpg(job.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended by itself: once the entry is quarantined, nothing is sent for it
    job.wait()
    subprocess.run(['pkill', '-9', '-f', site.inventory], check=False)
    time.sleep(0.5)


def test_kills_right_after_a_wrong_pin_never_add_up_to_a_lockout(start_emulator, tmp_path):
    emulator = start_emulator(devices=6, accounts=0, dac_devices=0, latency=0.3)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    device = sorted(emulator.site['devices'])[1]
    emulator.control(set_passwords=[['devices', device, '583016']])
    log = RequestLog(emulator)
    for playbook in ('rotate_passwords.yml', 'audit_passwords.yml', 'rotate_passwords.yml', 'audit_passwords.yml'):
        log.skip()
        job = site.start(playbook, {'password_rotation_targets': device} if playbook.startswith('rotate') else None)
        log.wait(lambda e: e.get('device') == device and e.get('status') == 403, 90, job)
        end_run(site, job)
    final = site.run('rotate_passwords.yml')
    assert final.returncode != 0 and 'quarantined' in final.stdout
    record = emulator.state()['devices'][device]
    assert record['most_in_a_row'] <= 2 and not record['locked']
    assert site.store()['devices'][device]['quarantined']


def test_a_requesting_device_changed_during_an_audit_is_charged_not_its_accounts(start_emulator, tmp_path):
    emulator = start_emulator(devices=4, accounts=6, dac_devices=0, latency=0.5)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    device = sorted(emulator.site['devices'])[0]   # every account's changes are requested from the lowest device
    log = RequestLog(emulator)
    log.skip()
    job = site.start('audit_passwords.yml', {'password_audit_concurrency': 16})
    assert log.wait(lambda e: e.get('op') == 'verifica-senha' and e.get('device') == device
                    and e.get('status') == 200 and not e.get('account'), 90, job)
    emulator.control(set_passwords=[['devices', device, '690418']])
    assert job.wait(300) != 0
    record = emulator.state()['devices'][device]
    assert record['most_in_a_row'] <= 2 and not record['locked']
    store = site.store()
    assert store['devices'][device]['quarantined']
    assert not any(entry.get('quarantined') for entry in store['accounts'].values())


def test_a_dac_request_refused_mid_run_is_counted_for_the_next_run(start_emulator, tmp_path):
    emulator = start_emulator(devices=4, accounts=4, dac_devices=4, latency=0.4)
    site = Site(emulator, tmp_path, host_vars={'digitro_max_wrong_attempts': 1})
    assert site.run('import_passwords.yml').returncode == 0
    devices, agents = sorted(emulator.site['devices']), sorted(emulator.site['accounts'])
    roster = {'dac_sessions_roster': [{'device': d, 'account': a} for d, a in zip(devices, agents)],
              'dac_sessions_max_fail_percent': 100, 'dac_sessions_concurrency': 1}
    log = RequestLog(emulator)
    log.skip()
    job = site.start('dac_sessions.yml', roster)
    # the stored PINs were just proven good; the device's changes before the DAC module sends its requests
    assert log.wait(lambda e: e.get('op') == 'valida-usuario' and e.get('account') == agents[0]
                    and e.get('status') == 200, 90, job)
    emulator.control(set_passwords=[['devices', devices[0], '417392']])
    job.wait(300)
    for shift in ('logged_out', 'logged_in', 'logged_out'):
        site.run('dac_sessions.yml', dict(roster, dac_sessions_state=shift))
    record = emulator.state()['devices'][devices[0]]
    assert record['most_in_a_row'] <= 1 and not record['locked']
    assert site.store()['devices'][devices[0]]['quarantined']


def descendants(pid):
    """A process and all it started, from ps: the workers and modules of a job, which run in sessions of their own."""
    children = {}
    for line in subprocess.run(['ps', '-e', '-o', 'pid=,ppid='], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo.extend(children.get(found[-1], []))
    return found


def kill_every_process(job):
    """A deleted AWX pod: the job, its workers and its modules, at once."""
    for pid in descendants(job.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    job.wait()


def journal_lines(site):
    """The wrong-attempt journal's lines, the one taken by a load included (the store file plus .journal)."""
    lines = []
    for path in (site.store_path + '.journal.taken', site.store_path + '.journal'):
        if os.path.exists(path):
            with open(path) as handle:
                lines.extend(json.loads(line) for line in handle.read().splitlines())
    return lines


def test_runs_killed_with_every_process_while_a_wrong_pin_is_out_never_add_up_to_a_lockout(start_emulator, tmp_path):
    emulator = start_emulator(devices=3, accounts=0, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    device = sorted(emulator.site['devices'])[0]
    stored = site.store()['devices'][device]['current']
    emulator.control(set_passwords=[['devices', device, '583920']])   # changed at the console
    emulator.control(settings={'latency': 4.0})  # the PABX counts a PIN as it arrives and answers 4 s later
    for run in range(5):  # a deleted AWX pod: the job, its workers and its module, while the PIN is out
        before = emulator.state()['devices'][device]['in_a_row']
        job = site.start('rotate_passwords.yml', {'password_rotation_targets': device})
        deadline = time.monotonic() + 60
        while (emulator.state()['devices'][device]['in_a_row'] == before and job.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.1)
        kill_every_process(job)
        if run == 1:
            # the journal names the PIN that was out by its role, with the count should it be wrong: never a PIN
            lines = journal_lines(site)
            assert [(line['wrong_attempts'], line['out']) for line in lines if 'out' in line] == [
                (1, 'current'), (2, 'current')]
            for line in lines:
                assert set(line) <= {'kind', 'number', 'wrong_attempts', 'out', 'run'}
                assert not {stored, '583920'} & {str(value) for value in line.values()}
    emulator.control(settings={'latency': 0.0})
    record = emulator.state()['devices'][device]
    # two runs sent the stored PIN and died with it out; the third found the budget (2) spent by them and sent
    # nothing: the PABX never counted more than the budget, as if the answers had come
    assert not record['locked'] and record['most_in_a_row'] == 2
    entry = site.store()['devices'][device]
    assert entry['quarantined'] and '2 of them out when a run was killed' in entry['quarantined']['reason']
    assert entry['wrong_attempts'] == 2 and [r['role'] for r in entry['unanswered']] == ['current', 'current']
    final = site.run('rotate_passwords.yml')
    assert final.returncode != 0 and 'quarantined' in final.stdout
    assert emulator.state()['devices'][device]['most_in_a_row'] == 2


def test_a_good_entry_whose_new_pin_was_out_when_every_process_died_is_settled_by_the_next_run(
        start_emulator, tmp_path):
    emulator = start_emulator(devices=3, accounts=0, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    device = sorted(emulator.site['devices'])[0]
    emulator.control(settings={'latency': 2.0})
    stats = emulator.state()['stats']
    verified, changed = stats.get('op_verifica-senha', 0), stats.get('op_altera-senha', 0)
    job = site.start('rotate_passwords.yml', {'password_rotation_targets': device})
    deadline = time.monotonic() + 60
    while job.poll() is None and time.monotonic() < deadline:
        stats = emulator.state()['stats']
        # the change applied, and the new PIN's confirmation is out (the PABX has it; its answer is 2 s away)
        if stats.get('op_altera-senha', 0) > changed and stats.get('op_verifica-senha', 0) >= verified + 2:
            break
        time.sleep(0.05)
    assert job.poll() is None, 'the run ended before its confirmation was out'
    kill_every_process(job)
    emulator.control(settings={'latency': 0.0})
    entry = site.store()['devices'][device]
    assert entry['pending'] == emulator.state()['devices'][device]['password']
    # the next run asks the PIN that was out first: the stored (old) one first would be refused, and with the
    # killed run's attempt counted the budget would be spent before the new one was asked
    rerun = site.run('rotate_passwords.yml')
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    entry, record = site.store()['devices'][device], emulator.state()['devices'][device]
    assert entry['current'] == record['password'] and not entry.get('pending') and not entry.get('quarantined')
    assert entry['wrong_attempts'] == 0 and 'unanswered' not in entry and record['most_in_a_row'] == 0


def test_an_unreadable_journal_line_stops_the_run_before_any_request_and_names_the_file(start_emulator, tmp_path):
    emulator = start_emulator(devices=2, accounts=0, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    device = sorted(emulator.site['devices'])[0]
    journal = site.store_path + '.journal'
    good = '{"kind":"devices","number":"%s","wrong_attempts":1}\n' % device
    with open(journal, 'w') as handle:   # a hand edit: a count no module writes
        handle.write(good + '{"kind":"devices","number":"%s","wrong_attempts":Infinity}\n' % device)
    log = RequestLog(emulator)
    log.skip()
    failed = site.run('rotate_passwords.yml', {'password_rotation_targets': device})
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0 and journal in output and 'line 2 ' in output
    assert 'Traceback' not in output and 'Infinity' not in output
    assert not log.wait(lambda e: True, 0)   # nothing reached the PABX
    with open(journal, 'w') as handle:   # the person removed the line
        handle.write(good)
    assert site.run('rotate_passwords.yml', {'password_rotation_targets': device}).returncode == 0
    assert not os.path.exists(journal + '.taken')   # the save holds its count: nothing is left to fail again
