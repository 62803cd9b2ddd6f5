# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A thread that does something every few seconds while a module runs (its progress, the controller watch)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading


class Periodic(object):
    """Calls ``tick()`` every ``interval`` seconds, in a daemon thread, from ``start()`` until ``stop()`` or until a
    tick returns True. A subclass is a context manager that starts it when it is wanted."""

    thread_name = 'digitro-periodic'

    def __init__(self, interval):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None

    def tick(self):
        raise NotImplementedError

    def start(self):
        self._thread = threading.Thread(target=self._run, name=self.thread_name)
        self._thread.daemon = True
        self._thread.start()

    def stop(self):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()

    def _run(self):
        while not self._stop.wait(self.interval):
            if self.tick():
                return
