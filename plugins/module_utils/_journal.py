# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wrong-attempt journal: each change of an entry's count, on disk as it happens.

The store learns a run's wrong attempts only when the run saves; a run killed before that would leave
them unrecorded, and the next run would spend the budget again. So the modules append a line per
change of a count (a refusal, or a success after refusals) and sync it before they go on, and the next
load of the store takes the last count of each entry in. A line holds a kind, a number and a count:
never a password.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import threading

KIND_OF = {False: 'devices', True: 'accounts'}


def key(entry):
    """(kind, number) of the entry's target."""
    return KIND_OF[bool(entry.get('account'))], entry.get('account') or entry['device']


class Journal(object):
    """Appends count lines to ``path``; every method is thread-safe. A None path records nothing."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()

    def record(self, kind, number, wrong_attempts):
        if not self.path:
            return
        line = json.dumps({'kind': kind, 'number': number, 'wrong_attempts': int(wrong_attempts)}) + '\n'
        with self._lock:
            # opened per line, by path: a journal a later run has taken away is started anew, not written into
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode('utf-8'))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def counts(self):
        """The last count of each (kind, number) in the journal, or {} when there is none."""
        return read_counts(self.path)


def read_counts(path):
    """The last count recorded for each (kind, number) in the journal at ``path`` ({} when none)."""
    found = {}
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError):
        return found
    for line in lines:
        try:
            item = json.loads(line)
            found[(item['kind'], str(item['number']))] = int(item['wrong_attempts'])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash: the lines before it still count
    return found
