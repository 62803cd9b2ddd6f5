"""The run lock's holder: it waits, times out naming the holder, releases, and ends with its run."""
import os
import signal
import time

import pytest

from ansible_collections.digitro.pabx.plugins.plugin_utils import _run_lock
from ansible_collections.digitro.pabx.plugins.plugin_utils._run_lock import (
    LockError, LockTimeout, acquire, alive, read_holder, release)


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def holders():
    """Holders a test started, ended when it ends whatever happened."""
    started = []
    yield started
    for pid in started:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def test_second_holder_waits_then_times_out_naming_the_first(tmp_path, holders):
    path = str(tmp_path / 'locks' / 'pabx1.store.run.lock')
    first = acquire(path, 5, 'pabx1', watch_pid=os.getpid())
    holders.append(first['pid'])
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == '0o700'
    assert read_holder(path)['pid'] == first['pid'] and read_holder(path)['started_at'] == first['started_at']
    began = time.monotonic()
    with pytest.raises(LockTimeout) as caught:
        acquire(path, 1.5, 'pabx1', watch_pid=os.getppid())  # another run: another ansible-playbook
    assert time.monotonic() - began >= 1.4
    message = str(caught.value)
    assert "another run of pabx1's credential store (pid %d, started at %s) still holds %s after 1.5s" % (
        first['pid'], first['started_at'], path) in message
    assert 'leave concurrent jobs off' in message


def test_release_lets_the_waiter_in_and_is_idempotent(tmp_path, holders):
    path = str(tmp_path / 'pabx1.store.run.lock')
    first = acquire(path, 5, 'pabx1', watch_pid=os.getpid())
    holders.append(first['pid'])
    assert release(path, token='not-the-token', watch_pid=os.getpid()) is False  # another run's token
    assert alive(first['pid'])
    assert release(path, token=first['token'], watch_pid=os.getpid()) is True
    assert not alive(first['pid']) and read_holder(path) == {}
    assert release(path, token=first['token'], watch_pid=os.getpid()) is False  # already released
    second = acquire(path, 0, 'pabx1', watch_pid=os.getpid())
    holders.append(second['pid'])
    assert second['pid'] != first['pid'] and second['waited'] < 2
    assert release(path, watch_pid=os.getppid()) is False  # without a token, only the run's own lock
    assert release(path, watch_pid=os.getpid()) is True


def test_waiter_gets_the_lock_when_the_holder_releases(tmp_path, holders):
    path = str(tmp_path / 'pabx1.store.run.lock')
    first = acquire(path, 5, 'pabx1', watch_pid=os.getpid())
    holders.append(first['pid'])
    child = os.fork()
    if child == 0:  # the other run: releases the first lock after a second
        time.sleep(1)
        release(path, token=first['token'], watch_pid=os.getpid())
        os._exit(0)
    second = acquire(path, 10, 'pabx1', watch_pid=os.getppid())  # another run: another ansible-playbook
    holders.append(second['pid'])
    os.waitpid(child, 0)
    assert second['waited'] >= 0.8 and read_holder(path)['pid'] == second['pid']


def test_the_same_run_taking_it_twice_fails_at_once(tmp_path, holders):
    path = str(tmp_path / 'pabx1.store.run.lock')
    holders.append(acquire(path, 5, 'pabx1', watch_pid=os.getpid())['pid'])
    began = time.monotonic()
    with pytest.raises(LockError, match='already holds'):
        acquire(path, 5, 'pabx1', watch_pid=os.getpid())
    assert time.monotonic() - began < 1


def test_holder_ends_when_its_run_is_killed(tmp_path, holders):
    """The holder watches the process that started the run: SIGKILLed (and not yet reaped), it is gone."""
    path = str(tmp_path / 'pabx1.store.run.lock')
    report = tmp_path / 'holder'
    child = os.fork()
    if child == 0:  # stands for ansible-playbook: takes the lock for itself, then is killed
        try:
            holder = acquire(path, 5, 'pabx1', watch_pid=os.getpid())
            report.write_text(str(holder['pid']))
            time.sleep(60)
        finally:
            os._exit(1)
    assert wait_until(report.exists, 10) and wait_until(report.read_text, 2)
    pid = int(report.read_text())
    holders.append(pid)
    assert alive(pid) and _run_lock._is_locked(path)
    os.kill(child, signal.SIGKILL)  # a zombie until we reap it below: the holder must not wait for that
    assert wait_until(lambda: not alive(pid), 3), 'the holder outlived its run'
    assert not _run_lock._is_locked(path)
    os.waitpid(child, 0)
    again = acquire(path, 0, 'pabx1', watch_pid=os.getpid())
    holders.append(again['pid'])
    assert release(path, token=again['token'], watch_pid=os.getpid())


def test_a_waiter_whose_run_ends_stops_waiting(tmp_path, holders):
    path = str(tmp_path / 'pabx1.store.run.lock')
    holders.append(acquire(path, 5, 'pabx1', watch_pid=os.getpid())['pid'])
    child = os.fork()
    if child == 0:
        try:
            acquire(path, 60, 'pabx1', watch_pid=os.getpid())
        finally:
            os._exit(1)
    time.sleep(1)
    waiting = [p for p in _children_holding(path) if p not in holders]
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert waiting and wait_until(lambda: not any(alive(p) for p in waiting), 3)


def _children_holding(path):
    """Pids of holder processes started for ``path`` (from /proc)."""
    found = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/cmdline' % name, 'rb') as handle:
                    argv = handle.read().split(b'\0')
            except OSError:
                continue
            if b'hold' in argv and path.encode() in argv:
                found.append(int(name))
    return found
