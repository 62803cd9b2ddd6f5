# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A batch's counts while it runs, in a small file the controller reads to show progress.

A module's output reaches Ansible only when it ends, and a batch of ten thousand entries runs for a
minute or more. The file holds counts and nothing else (never a number or a PIN), is rewritten whole
by an atomic rename, and is readable by its owner only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import tempfile
import threading

WRITE_EVERY_SECONDS = 1.0


def read_progress(path):
    """{done, total, failed} from a progress file, or None while there is none (or half of one)."""
    try:
        with open(path) as handle:
            counts = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(counts, dict) or not all(isinstance(counts.get(k), int) for k in ('done', 'total', 'failed')):
        return None
    return counts


class ProgressFile(object):
    """Counts the entries of a batch as they finish, and rewrites ``path`` with them every second."""

    def __init__(self, path, total, every=WRITE_EVERY_SECONDS):
        self.path, self.total, self.every = path, total, every
        self.done = self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def count(self, result):
        """One entry finished, with ``result`` (failed when its ``failed`` is true)."""
        with self._lock:
            self.done += 1
            self.failed += bool(result.get('failed'))

    def __enter__(self):
        self._write()
        self._thread = threading.Thread(target=self._rewrite, name='digitro-progress')
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self._write()

    def _rewrite(self):
        while not self._stop.wait(self.every):
            self._write()

    def _write(self):
        with self._lock:
            counts = {'done': self.done, 'total': self.total, 'failed': self.failed}
        try:
            # a new file of our own (never one a link planted beside the path points to), renamed over the path: the
            # rename replaces a link there instead of writing through it
            descriptor, partial = tempfile.mkstemp(prefix='.progress-', dir=os.path.dirname(self.path) or '.')
            with os.fdopen(descriptor, 'w') as handle:
                json.dump(counts, handle)
            os.rename(partial, self.path)
        except (IOError, OSError):
            pass  # progress is a courtesy: a full disk or a removed directory must not fail the batch
