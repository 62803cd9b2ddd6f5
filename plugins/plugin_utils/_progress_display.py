# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress of a batch in the job output while its module runs.

Ansible shows a module's result only when it ends: ten thousand extensions are a minute of silence,
and a large site's AWX job log shows nothing for minutes. The module counts its finished entries in
a progress file (module_utils/_progress.py); while it runs, a thread of the action plugin reads the
file and displays the counts every ``digitro_progress_interval`` seconds. It works where the file is
readable: when the module runs on the controller, as the roles run it (``delegate_to: localhost``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import stat
import tempfile
import time

from ansible.utils.display import Display

from ansible_collections.digitro.pabx.plugins.module_utils._progress import read_progress
from ansible_collections.digitro.pabx.plugins.plugin_utils._periodic import Periodic

INTERVAL_VARIABLE = 'digitro_progress_interval'
DEFAULT_INTERVAL = 5.0
MIN_INTERVAL, MAX_INTERVAL = 1.0, 3600.0  # a line a second at most; beyond an hour, a thread cannot wait that long
LOCAL_CONNECTIONS = ('local', 'ansible.builtin.local', 'ansible.legacy.local')
PREFIX = 'digitro-progress-'

display = Display()


def progress_line(host, module, counts, seconds):
    """'pabx-sp: digitro_password 3,412 of 10,000 entries done, 2 failed (25 s)'."""
    return '%s: %s %s of %s entries done, %s failed (%d s)' % (
        host, module, format(counts['done'], ','), format(counts['total'], ','), format(counts['failed'], ','),
        seconds)


def interval_of(value):
    """``digitro_progress_interval`` as seconds: 0 (no progress) or 1 to 3600, or ValueError."""
    if isinstance(value, bool):
        raise ValueError(value)
    seconds = float(DEFAULT_INTERVAL if value is None or value == '' else value)
    if not (seconds == 0 or MIN_INTERVAL <= seconds <= MAX_INTERVAL):  # NaN fails this too
        raise ValueError(value)
    return seconds


class ProgressWatch(Periodic):
    """While a module runs a batch on the controller, show its progress file's counts every ``interval`` seconds.

    ``with ProgressWatch(args, connection_name, host, module, interval):`` adds ``progress_file`` to ``args``
    (when the module can write it where this process reads it) and removes the file's private directory after.
    """

    thread_name = 'digitro-progress-display'

    def __init__(self, args, connection_name, host, module, interval):
        super(ProgressWatch, self).__init__(interval)
        self.args, self.host, self.module = args, host, module
        self.wanted = (interval > 0 and connection_name in LOCAL_CONNECTIONS and 'progress_file' not in args
                       and len(args.get('batch') or ()) > 1)
        self._directory = None
        self._started = time.monotonic()

    def __enter__(self):
        if self.wanted:
            sweep_stale(tempfile.gettempdir())
            # 0700: only this user reads the counts; the pid in the name lets a later run remove it if we are killed
            self._directory = tempfile.mkdtemp(prefix='%s%d-' % (PREFIX, os.getpid()))
            self.args['progress_file'] = os.path.join(self._directory, 'progress.json')
            self._started = time.monotonic()
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def tick(self):
        counts = read_progress(self.args['progress_file'])
        if counts is not None and counts['done'] < counts['total']:
            display.display(progress_line(self.host, self.module, counts, time.monotonic() - self._started))


def sweep_stale(parent):
    """Remove the progress directories of workers that are gone (a killed job cannot remove its own).

    Only this user's directories named by our prefix and a pid that no longer runs: a pid reused since is
    taken for alive, which leaves a directory of counts behind, never removes one in use.
    """
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid = name[len(PREFIX):].split('-', 1)[0] if name.startswith(PREFIX) else ''
        if not pid.isdigit() or _running(int(pid)):
            continue
        path = os.path.join(parent, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():  # never a link, never another user's
            shutil.rmtree(path, ignore_errors=True)


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: it runs
    return True
