# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run lock of a PABX's credential store: one writer per PABX for a whole ansible-playbook run.

Ansible runs each task in a forked worker that ends with the task, and a flock dies with the process that
holds it. So a small detached holder process takes the flock and keeps it until it is told to release it
(SIGTERM) or the ansible-playbook process it watches is gone: a SIGKILLed job must not leave its PABX
locked. The holder runs this file as a script, so it needs nothing but the standard library.

The lock file holds, while it is locked, a JSON line naming its holder (pid, token, start time, watched
ansible-playbook pid), so that a waiter can say who holds it and a release can find its holder.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import datetime
import errno
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time

POLL = 0.2          # seconds between two attempts to take the lock, and between two checks while holding it
REPORT_MARGIN = 30  # seconds the caller waits for the holder's report beyond the lock timeout
RELEASE_WAIT = 5    # seconds a release waits for the holder to end before it kills it


class LockError(Exception):
    """The run lock could not be taken; the message says why, for the operator."""


class LockTimeout(LockError):
    """Another run held the lock for the whole timeout."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def _proc_available():
    return os.path.isdir('/proc/self')


def process_start(pid):
    """The start time of ``pid`` in clock ticks (from /proc), so that a reused pid is not taken for it; or None."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return None


def alive(pid, start=None):
    """Whether ``pid`` runs: a zombie does not (a SIGKILLed ansible-playbook may wait to be reaped), nor a
    process whose start time differs from ``start`` (its pid was reused)."""
    if not pid or pid <= 0:
        return False
    if _proc_available():
        try:
            with open('/proc/%d/stat' % pid) as handle:
                fields = handle.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            return False
        if fields[0] in ('Z', 'X', 'x'):
            return False
        return start is None or fields[19] == start
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def read_holder(path):
    """The holder written into the lock file, or {} (no file, nobody holds it, or being written)."""
    try:
        with open(path) as handle:
            holder = json.loads(handle.read() or '{}')
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _is_locked(path):
    """Whether some process holds the flock of ``path`` now."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a flock this probe took
    return False


def _is_our_holder(pid, token):
    """Whether ``pid`` is the holder started with ``token`` (its command line carries it), not a reused pid."""
    if not alive(pid):
        return False
    if not _proc_available():
        return True
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return token.encode() in handle.read().split(b'\0')
    except OSError:
        return False


def describe_timeout(label, path, timeout, holder):
    who = 'pid %s, started at %s' % (holder.get('pid', 'unknown'), holder.get('started_at', 'an unknown time'))
    return ("another run of %s's credential store (%s) still holds %s after %gs: wait for it to end; in AWX, leave "
            "concurrent jobs off on the job template" % (label, who, path, timeout))


def check_path(path):
    """Refuse a lock path that is not a lock file: taking the lock rewrites the file, and a store or an
    inventory pointed at by mistake would be emptied."""
    if not path or not os.path.isabs(path):
        raise LockError('the run lock file must be an absolute path, not %r: two runs started from different '
                        'directories would not exclude each other' % path)
    if os.path.basename(path).endswith('.save.lock'):
        raise LockError('the run lock file %s is the store\'s save lock: give the run lock a file of its own' % path)
    if os.path.exists(path):
        if not os.path.isfile(path):
            raise LockError('the run lock file %s exists and is not a regular file' % path)
        try:
            with open(path, 'rb') as handle:
                content = handle.read(4096)
        except OSError as exc:
            raise LockError('the run lock file %s cannot be read (%s)' % (path, exc.strerror))
        holder = read_holder(path) if content.strip() else {'token': ''}
        if 'token' not in holder:
            raise LockError('%s is not a run lock file (it holds other data, which taking the lock would erase): '
                            'point the lock at a file of its own' % path)


def acquire(path, timeout, label, watch_pid=None):
    """Start a holder of the run lock ``path`` and wait until it holds it; returns the holder.

    The holder keeps the lock until ``release`` or until ``watch_pid`` (default: our parent, the
    ansible-playbook process when called in a task worker) is gone. Raises LockTimeout after ``timeout``
    seconds, naming the other run's holder, and LockError when the lock cannot be taken at all.
    """
    watch_pid = watch_pid or os.getppid()
    check_path(path)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, 0o700)
        except OSError as exc:
            raise LockError('the run lock file %s cannot be made: its directory %s cannot be created (%s)'
                            % (path, directory, exc.strerror))
    holder = read_holder(path)
    if holder.get('watch_pid') == watch_pid and alive(holder.get('pid')) and _is_locked(path):
        raise LockError('this run (ansible-playbook pid %d) already holds %s: take it once per host and release it '
                        'once, or two hosts share one credential store' % (watch_pid, path))
    token = binascii.hexlify(os.urandom(16)).decode()
    command = [sys.executable, '-I', os.path.abspath(__file__), 'hold', path,
               repr(float(timeout)), str(watch_pid), process_start(watch_pid) or '-', token]
    started = time.monotonic()
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   close_fds=True, start_new_session=True, cwd='/')
    except OSError as exc:
        raise LockError('could not start the holder of the run lock %s: %s' % (path, exc.strerror))
    report = _read_report(process, timeout + REPORT_MARGIN)
    if report.get('state') == 'acquired':
        process.stdout.close()
        process.stderr.close()
        process.returncode = 0  # it outlives us on purpose: no "still running" warning
        return dict(pid=report['pid'], token=token, started_at=report['started_at'], path=path,
                    waited=round(time.monotonic() - started, 1))
    if process.poll() is None:
        process.kill()
    error = process.stderr.read().decode('utf-8', 'replace').strip().splitlines()
    process.wait()
    process.stdout.close()
    process.stderr.close()
    if report.get('state') == 'timeout':
        raise LockTimeout(describe_timeout(label, path, timeout, report.get('holder') or {}))
    if report.get('state') == 'same_run':
        raise LockError('this run (ansible-playbook pid %d) already holds %s for another host: two hosts share one '
                        'credential store; give each PABX its own credential_store_path' % (watch_pid, path))
    if report.get('state') == 'gone':
        raise LockError('the ansible-playbook process (pid %d) ended while waiting for %s' % (watch_pid, path))
    raise LockError('the holder of the run lock %s failed: %s' % (
        path, report.get('msg') or (error[-1] if error else 'it ended without a word')))


def _read_report(process, timeout):
    """The holder's one-line JSON report, or {} when it ends or stays silent."""
    deadline = time.monotonic() + timeout
    line = b''
    while not line.endswith(b'\n'):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return {}
        ready = select.select([process.stdout], [], [], min(remaining, 1.0))[0]
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        line += chunk
    try:
        return json.loads(line.decode())
    except ValueError:
        return {}


def release(path, token=None, watch_pid=None, wait=RELEASE_WAIT):
    """Release the run lock ``path`` held for ``token`` (without a token: for this run). Returns whether a
    holder was ended; a holder already gone, or a lock that has passed to another run, is left alone."""
    watch_pid = watch_pid or os.getppid()
    holder = read_holder(os.path.abspath(path))
    pid = holder.get('pid')
    if not pid or not holder.get('token'):
        return False
    if token is not None and holder['token'] != token:
        return False
    if token is None and holder.get('watch_pid') != watch_pid:
        return False
    if not _is_our_holder(pid, holder['token']):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return False
    deadline = time.monotonic() + wait
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)  # the kernel releases its flock
        except OSError:
            pass
    return True


class _Release(Exception):
    pass


def hold(path, timeout, watch_pid, watch_start, token, report):
    """The holder process: take the flock, report on ``report`` (a binary stream), keep it while needed."""
    state = {'holding': False, 'release': False}

    def on_term(_signum, _frame):
        state['release'] = True
        if state['holding']:
            raise _Release()

    signal.signal(signal.SIGTERM, on_term)
    for ignored in (signal.SIGINT, signal.SIGHUP):
        signal.signal(ignored, signal.SIG_IGN)

    def say(**message):
        report.write(json.dumps(message).encode() + b'\n')
        report.flush()

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    caller = os.getppid()  # the task's worker: if it is gone before the lock is ours, nobody wants it any more
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                say(state='error', msg='flock failed: %s' % exc.strerror)
                return 1
        if state['release'] or os.getppid() != caller or not alive(watch_pid, watch_start):
            say(state='gone')
            return 1
        if read_holder(path).get('watch_pid') == watch_pid:
            say(state='same_run')  # waiting for this run itself would last until the timeout
            return 1
        if time.monotonic() >= deadline:
            say(state='timeout', holder=read_holder(path))
            return 1
        time.sleep(POLL)
    started_at = _now()
    record = json.dumps(dict(pid=os.getpid(), token=token, started_at=started_at, watch_pid=watch_pid)) + '\n'
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        state['holding'] = True
        if state['release']:
            raise _Release()
        say(state='acquired', pid=os.getpid(), started_at=started_at)
        report.close()
        devnull = os.open(os.devnull, os.O_RDWR)
        for stdio in (1, 2):
            os.dup2(devnull, stdio)  # the caller stops listening once it has the answer
        os.close(devnull)
        while alive(watch_pid, watch_start):
            time.sleep(POLL)
    except _Release:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            os.ftruncate(fd, 0)  # nobody holds it: a waiter must not name a holder that is gone
        finally:
            os.close(fd)  # releases the flock
    return 0


def _main(argv):
    path, timeout, watch_pid, watch_start, token = argv[1:6]
    report = os.fdopen(os.dup(1), 'wb')
    try:
        return hold(path, float(timeout), int(watch_pid), None if watch_start == '-' else watch_start, token, report)
    finally:
        try:
            report.close()
        except OSError:
            pass


if __name__ == '__main__':
    sys.exit(_main(sys.argv[1:]) if sys.argv[1:2] == ['hold'] else 2)
