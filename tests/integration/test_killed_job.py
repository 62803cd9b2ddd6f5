"""A job killed by its process group, as AWX kills a cancelled job: nothing of it goes on changing PINs.

ansible-core 2.19 and later start each worker in a session of its own, so killing the job's process group
ends only ansible-playbook; the worker running the password module, and the module, must end by themselves
(plugin_utils/_controller_watch.py, module_utils/_client.stop_when_orphaned) before the next job takes the
store, or that job's settled PINs go stale behind the orphan's changes."""
import os
import signal
import subprocess
import time

import pytest

from pabx_site import Site
from test_across_runs import descendants

ENDS_WITHIN = 8.0  # seconds: the worker looks at its parent every 0.5 s, the module at its output as often; CI is slow


def running(pid):
    """True while ``pid`` runs (a zombie, killed and not reaped by init, does not)."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (IOError, OSError, IndexError):
        return False


def survivors(pids):
    """Those of ``pids`` that still run, with what they have started since (a module for the next chunk)."""
    return sorted(pid for pid in set(p for root in pids for p in descendants(root)) if running(pid))


def kill_mid_rotation(site):
    """Start a rotation in chunks of 5 and SIGKILL its process group once a few PINs have been changed; the
    processes of the job, as they were just before the kill."""
    job = site.start('rotate_passwords.yml', {'password_rotation_chunk_size': 5})
    deadline = time.monotonic() + 60
    while site.emulator.state()['stats'].get('op_altera-senha', 0) < 7 and job.poll() is None:
        assert time.monotonic() < deadline, 'the rotation changed no PIN within 60 s'
        time.sleep(0.1)
    assert job.poll() is None, 'the rotation ended before it could be killed'
    tree = descendants(job.pid)
    os.killpg(job.pid, signal.SIGKILL)  # as AWX cancels a job: the group, not the workers' sessions
    job.wait()
    return tree


def lingering(tree):
    """Those processes of the killed job that still run ENDS_WITHIN seconds after the kill."""
    deadline = time.monotonic() + ENDS_WITHIN
    while survivors(tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    return survivors(tree)


def stale_entries(site):
    """Numbers whose current PIN in the store is not the one the PABX holds, or that are still in doubt."""
    store, state = site.store(), site.emulator.state()
    return [number for kind in ('devices', 'accounts') for number, record in state[kind].items()
            if store[kind][number]['current'] != record['password'] or store[kind][number]['pending']]


@pytest.mark.parametrize('next_job', ['once_the_job_is_gone', 'right_after_the_kill'])
def test_a_killed_job_leaves_nothing_that_changes_pins(start_emulator, tmp_path, next_job):
    emulator = start_emulator(devices=40, accounts=5, dac_devices=5, latency=0.05)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    tree = kill_mid_rotation(site)
    gone = 'processes of the killed job still ran %g s after the kill' % ENDS_WITHIN
    try:
        if next_job == 'once_the_job_is_gone':
            assert lingering(tree) == [], gone
        # right after the kill, it takes the store as soon as the run lock sees the killed job gone, and its module
        # waits for the killed job's module (the lock file): what it settles must be what the PABX holds
        second = subprocess.Popen(site.command('rotate_passwords.yml'), cwd=site.workdir, env=site.env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        assert lingering(tree) == [], gone
        output = second.communicate(timeout=120)[0]
        assert second.returncode == 0, output[-3000:]
        assert stale_entries(site) == []
    finally:
        for pid in survivors(tree):  # so that a failure leaves nothing behind to change PINs later
            os.kill(pid, signal.SIGKILL)
    # the audit finds nothing out of sync; its only findings are the seed's PINs of the entries the killed job had
    # staged and not sent, which the next run verified (never rotated yet: a weak PIN, no age)
    site.run('audit_passwords.yml')
    report = site.latest_report(prefix='pabx1-audit-')
    assert report['counts']['checked'] == 45
    assert [name for name in ('out_of_sync', 'unresolved', 'error', 'quarantined') if report['counts'][name]] == []
    assert all('age_unknown' in [f['finding'] for f in row['findings']] for row in report['entries'] if row['findings'])
