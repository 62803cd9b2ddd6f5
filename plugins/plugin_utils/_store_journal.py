# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Taking the wrong-attempt journal into a run, and letting it go once the store holds it.

``take`` moves the journal aside (``<journal>.taken``) before reading it, so that lines a module adds later
(this run's, or a killed run's module still finishing) start a new journal instead of being dropped with
the old one; ``clear`` deletes the taken file once a save has written its counts into the store. A run that
never saves leaves the taken file, and the next ``take`` adds the new lines after it: the last count of an
entry is always its newest. ``take`` keeps the taken file down to what its lines mean (the counts above 0, the
PINs left out): the modules write two lines per PIN they send, and runs that save nothing (check mode, a dry run
or an audit with nothing to record) would otherwise pile them up.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.digitro.pabx.plugins.module_utils._journal import (
    UNKNOWN, JournalUnreadable, UnreadableLine, compacted, contents, parse)

UNANSWERED_KEPT = 10  # per entry; the modules send nothing past the budget, so a store never holds that many


def taken_path(path):
    return path + '.taken'


def take(path):
    """(counts, unanswered) of the journal at ``path`` and the one taken before.

    ``counts``: {(kind, number): n} of each entry whose last count is above 0 (a 0 raises no store's count);
    ``unanswered``: {(kind, number): [(run, role)]}, the PINs that were out when their module run was killed
    (see _journal). JournalUnreadable, with both files as they were, when a line of either is not a count: the
    person corrects the line in the file the message names, and no copy of it is left behind to fail again.
    """
    taken = taken_path(path)
    kept, fresh = contents(taken), contents(path)
    kept_lines = (kept or b'').split(b'\n')
    try:
        counts, unanswered = parse(kept_lines + (fresh or b'').split(b'\n'))
    except UnreadableLine as exc:
        if exc.line <= len(kept_lines):
            raise JournalUnreadable(taken, exc.line, exc.reason, journal=path)
        raise JournalUnreadable(path, exc.line - len(kept_lines), exc.reason)
    if fresh is not None:
        with open(taken, 'ab') as handle:
            # a hand-edited taken file may end without a newline: its last line and the first taken stay apart
            handle.write((b'\n' if kept and not kept.endswith(b'\n') else b'') + fresh)
            handle.flush()
            os.fsync(handle.fileno())
        os.remove(path)  # a module writing now finds the journal's name gone and opens it again: a new one
    counts = dict((entry, count) for entry, count in counts.items() if count > 0)
    if kept is not None or fresh is not None:
        _replace(taken, compacted(counts, unanswered))
    return counts, unanswered


def _replace(path, data):
    """Write ``data`` to ``path`` whole or not at all (a kill in between leaves the file as it was)."""
    temporary = '%s.%d.tmp' % (path, os.getpid())
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'wb') as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, path)


def clear(path):
    """Forget the taken journal: a save has written its counts into the store."""
    taken = taken_path(path)
    if os.path.exists(taken):
        os.remove(taken)
        return True
    return False


def store_role(entry, role):
    """The store's name for the PIN a module named ``role``: the new PIN of a change is the entry's pending one."""
    if role == 'new':
        return 'pending' if entry.get('pending') else UNKNOWN
    return role


def apply(store, counts, unanswered=None):
    """The store with each entry's count raised to the journal's last one, where that is higher, and the PINs that
    were out when a run was killed added to its ``unanswered`` (entries it no longer has are left out).

    Never lowered: a run that finished saved counts the journal's lines may not hold (a count a reset claim the
    PABX disproved added back, a requesting device charged for its accounts), and a PIN that verified in a run
    killed before its save is verified again by the next run. Erring high costs budget; erring low, a lockout.

    An out line's count already holds its PIN as wrong; ``unanswered`` only says which of the count's attempts
    nobody saw answered, and by which role (an entry already holding a module run's is not given it twice: a
    journal taken again after a save that a kill kept from clearing it). A role whose PIN the store no longer
    has is kept and counted all the same: only a PIN the PABX accepts, which resets its count, proves it harmless.
    """
    if not counts and not unanswered:
        return store
    store, copied = dict(store), set()

    def writable(kind, number):
        if kind not in copied:  # the loaded store is shared: copy what changes
            store[kind] = dict(store[kind])
            copied.add(kind)
        entry = store[kind][number] = dict(store[kind][number])
        return entry

    for (kind, number), wrong_attempts in counts.items():
        entries = store.get(kind)
        if not isinstance(entries, dict) or number not in entries:
            continue
        if int(entries[number].get('wrong_attempts') or 0) >= wrong_attempts:
            continue
        writable(kind, number)['wrong_attempts'] = wrong_attempts
    for (kind, number), outs in (unanswered or {}).items():
        entries = store.get(kind)
        if not isinstance(entries, dict) or number not in entries:
            continue
        listed = list(entries[number].get('unanswered') or [])
        marks = set(record.get('run') for record in listed)
        added = [{'role': store_role(entries[number], role), 'run': run} for run, role in outs if run not in marks]
        if added:
            writable(kind, number)['unanswered'] = (listed + added)[-UNANSWERED_KEPT:]
    return store
