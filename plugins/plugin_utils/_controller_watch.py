# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End a password module's task once the ansible-playbook process that runs the job is gone.

ansible-core 2.19 and later start each worker in a session of its own, and the worker starts the
module in its session. A job killed by its process group (an AWX cancel that escalates, ``kill -9
-PGID``) therefore loses only the ansible-playbook process: the worker and its module go on, and a
task looping over chunks starts a module run for each of them, racing the next job, which takes the
store once the run lock sees the job gone. The module stops sending when nobody reads its output
(``module_utils/_client.stop_when_orphaned``), but its reader is the worker, which lives on.

So the action plugin, in the worker, refuses to start a module once the controller is gone, and
while a module runs a thread ends the worker when it goes: the module's output pipe then reports the
hang-up, the module lets its requests in flight finish (their attempts journaled), sends nothing
more and releases its lock. Only the worker is killed, never its session: a module killed in the
middle of a request would lose the journal entry of a PIN it had just sent.

The controller is the process the worker was forked from (``multiprocessing``'s fork context, as
ansible-core 2.16 to 2.20 start workers); it is gone once the worker has another parent. Not the
parent's sentinel pipe: every worker forked after this one holds its write end too.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import multiprocessing
import os
import signal

from ansible_collections.digitro.pabx.plugins.plugin_utils._periodic import Periodic

CHECK_INTERVAL = 0.5  # seconds: the module's own orphan watch polls as often


def controller_pid():
    """The pid of the ansible-playbook process this worker was forked from, or None where this process is not such a
    worker (the controller itself, an action built by hand in a test, a start method other than fork)."""
    parent = multiprocessing.parent_process()
    # a forkserver's or spawn's child has another parent from the start: its getppid() would say "gone" at once
    if parent is None or getattr(multiprocessing.current_process(), '_start_method', None) != 'fork':
        return None
    return parent.pid


def controller_gone(controller):
    """True once this process no longer has ``controller`` (a pid, or None: never) as its parent: the controller
    died and this process was handed to init or a subreaper."""
    return controller is not None and os.getppid() != controller


def gone_message(module):
    return ('%s did not run: the ansible-playbook process that ran this task is gone (the job was cancelled or '
            'killed), so nothing was sent to the PABX; the next run resumes from the store' % module)


def end_this_process():
    """SIGKILL this process alone: nobody reads its results any more, and its module must see its output closed."""
    os.kill(os.getpid(), signal.SIGKILL)


class ControllerWatch(Periodic):
    """``with ControllerWatch(controller):`` checks every ``interval`` seconds, while the block runs, whether the
    controller (``controller_pid()``) is gone, and then calls ``end`` (by default: end this process)."""

    thread_name = 'digitro-controller-watch'

    def __init__(self, controller, interval=CHECK_INTERVAL, end=end_this_process):
        super(ControllerWatch, self).__init__(interval)
        self.controller, self.end = controller, end

    def __enter__(self):
        if self.controller is not None:
            self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def tick(self):
        if controller_gone(self.controller):
            self.end()
            return True
        return False
