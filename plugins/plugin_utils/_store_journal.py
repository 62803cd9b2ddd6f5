# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Taking the wrong-attempt journal into a run, and letting it go once the store holds it.

``take`` moves the journal aside (``<journal>.taken``) before reading it, so that lines a module adds later
(this run's, or a killed run's module still finishing) start a new journal instead of being dropped with
the old one; ``clear`` deletes the taken file once a save has written its counts into the store. A run that
never saves leaves the taken file, and the next ``take`` adds the new lines after it: the last count of an
entry is always its newest.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.digitro.pabx.plugins.module_utils._journal import read_counts


def taken_path(path):
    return path + '.taken'


def take(path):
    """The last count of each entry in the journal at ``path`` and the one taken before; {(kind, number): n}."""
    taken = taken_path(path)
    if os.path.exists(path):
        with open(path, 'rb') as handle:
            fresh = handle.read()
        with open(taken, 'ab') as handle:
            handle.write(fresh)
            handle.flush()
            os.fsync(handle.fileno())
        os.remove(path)  # a module writing now opens the journal by its name: it starts a new one
    return read_counts(taken)


def clear(path):
    """Forget the taken journal: a save has written its counts into the store."""
    taken = taken_path(path)
    if os.path.exists(taken):
        os.remove(taken)
        return True
    return False


def apply(store, counts):
    """The store with each entry's count raised to the journal's last one, where that is higher (entries it no
    longer has are left out).

    Never lowered: a run that finished saved counts the journal's lines may not hold (a count a reset claim the
    PABX disproved added back, a requesting device charged for its accounts), and a PIN that verified in a run
    killed before its save is verified again by the next run. Erring high costs budget; erring low, a lockout.
    """
    if not counts:
        return store
    store, copied = dict(store), set()
    for (kind, number), wrong_attempts in counts.items():
        entries = store.get(kind)
        if not isinstance(entries, dict) or number not in entries:
            continue
        if int(entries[number].get('wrong_attempts') or 0) >= wrong_attempts:
            continue
        if kind not in copied:  # the loaded store is shared: copy what changes
            entries = store[kind] = dict(entries)
            copied.add(kind)
        entries[number] = dict(entries[number], wrong_attempts=wrong_attempts)
    return store
