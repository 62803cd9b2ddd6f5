# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wrong-attempt journal: each change of an entry's count, on disk as it happens, and each PIN on its way.

The store learns a run's wrong attempts only when the run saves; a run killed before that would leave
them unrecorded, and the next run would spend the budget again. So the modules append a line per
change of a count (a refusal, or a success after refusals), sync each refusal before they go on, and the
next load of the store takes the last count of each entry in.

A PIN the PABX counts as it arrives and answers later is counted before its answer: a run whose every
process is killed while it is out (a deleted pod, the OOM killer) would never write the refusal. So before
a PIN of an entry leaves, the module appends an "out" line: the count should the PIN be wrong, and which PIN
of the entry it is by its role (``current``, ``new``, ``sent:<i>``); the answer's line follows. An out line
that no line of the same module run follows (nor a count of 0: a PIN of the entry accepted since, which resets
the PABX's count in a row) is an attempt whose answer nobody saw (``unanswered``): the next
run starts from its count and tries that same PIN first, so that a good entry's count is back to 0 at its
first answer, and a wrong one is proven wrong by the PIN that was out. Out lines are not synced (a sync per
request would cost more than the request): a killed process's writes still reach the file, a power cut may
lose the last ones.

A line holds a kind, a number, a count, a role and the module run's random mark: never a password, nor
anything computed from one (a hash of a short PIN is the PIN).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import errno
import json
import math
import os
import re
import stat
import threading
from json.encoder import encode_basestring_ascii

KIND_OF = {False: 'devices', True: 'accounts'}
ROLES = re.compile(r'^(current|new|sent:[0-9]{1,2})$')
RUN_MARK = re.compile(r'^[0-9a-f]{1,16}$')
MAX_COUNT = 1000  # far past any PABX's lockout: a larger count is not one a module wrote
MAX_LINE = 1000  # characters; a module's line is about 120
MAX_BYTES = 256 << 20  # a journal of ten thousand entries' run is about 5 MiB, and a load compacts it
UNKNOWN = 'unknown'  # a role a line names that this version does not know: still counted, never tried first


def key(entry):
    """(kind, number) of the entry's target."""
    return KIND_OF[bool(entry.get('account'))], entry.get('account') or entry['device']


def run_mark():
    """A random mark for one module run's lines: which out line a later line answers."""
    return binascii.hexlify(os.urandom(4)).decode('ascii')


class Journal(object):
    """Appends count lines to ``path``; every method is thread-safe. A None path records nothing."""

    def __init__(self, path):
        self.path = path
        self.run = run_mark()
        self._lock = threading.Lock()
        self._descriptor = self._identity = None

    def record(self, kind, number, wrong_attempts, sync=True):
        """The entry's count; it answers the entry's last out line of this run. ``sync``: on disk before going on
        (a refusal); a count that falls may be lost to a power cut, which only errs high."""
        self._append({'kind': kind, 'number': number, 'wrong_attempts': int(wrong_attempts), 'run': self.run}, sync)

    def out(self, kind, number, wrong_attempts, role, sync=False):
        """A PIN of the entry is about to leave: the count should it be wrong, and its role (never the PIN)."""
        self._append({'kind': kind, 'number': number, 'wrong_attempts': int(wrong_attempts), 'out': role,
                      'run': self.run}, sync)

    def _append(self, item, sync):
        if not self.path:
            return
        line = encoded(item)
        with self._lock:
            try:
                # One write of one short line with O_APPEND: lines of concurrent writers never interleave.
                descriptor = self._open()
                os.write(descriptor, line)
                if sync:
                    os.fsync(descriptor)
            except OSError as exc:
                raise JournalUnwritable(self.path, exc)

    def _open(self):
        """The journal's descriptor, opened again by the journal's name whenever that name no longer leads to the open
        file: a later run has taken the journal away (``take`` removes it), and the lines after that must start a
        new journal, which the next module run reads once it holds the lock. Compared by the name's file, not by
        the open file's links, which a network file system keeps while the file is open on the same machine.
        Opening the journal once per line, as before, cost twice the system calls (two lines per PIN sent)."""
        try:
            named = os.stat(self.path)
            current = (named.st_dev, named.st_ino) == self._identity
        except OSError:  # gone: opened (created) again below
            current = False
        if not current:
            if self._descriptor is not None:
                descriptor, self._descriptor, self._identity = self._descriptor, None, None
                os.close(descriptor)  # forgotten first: should the open below fail, no later line closes it again
            # O_NONBLOCK: a FIFO put there fails at once instead of blocking the batch
            self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, 'O_NONBLOCK', 0),
                                       0o600)
            opened = os.fstat(self._descriptor)
            self._identity = (opened.st_dev, opened.st_ino)
        return self._descriptor

    def close(self):
        """Let the descriptor go (a later line opens the journal again); a journal dropped lets it go too."""
        with self._lock:
            descriptor, self._descriptor, self._identity = self._descriptor, None, None
            if descriptor is not None:
                os.close(descriptor)

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit, or a descriptor already gone: nothing is left to let go
            pass

    def counts(self):
        """The last count of each (kind, number) in the journal, or {} when there is none."""
        return read_counts(self.path)


def encoded(item):
    """One journal line, as bytes: the compact JSON of ``item`` (json.dumps would give the same text).

    Written field by field: a module writes two lines per PIN it sends, and json.dumps was about a tenth of its CPU.
    """
    fields = []
    for name, value in item.items():
        if isinstance(value, str):
            fields.append('"%s":%s' % (name, encode_basestring_ascii(value)))
        elif isinstance(value, int) and not isinstance(value, bool):
            fields.append('"%s":%d' % (name, value))
        else:
            fields.append('"%s":%s' % (name, json.dumps(value, separators=(',', ':'))))
    return ('{%s}\n' % ','.join(fields)).encode('ascii')


def compacted(counts, unanswered):
    """The lines that read back as ``counts`` (those above 0) and ``unanswered``: what many runs' lines come to.

    An entry's out lines, each with its run's mark (a later line of that run still answers it) and the entry's
    last count; an entry without one, its count on a line of no run, which answers no out line.
    """
    lines = []
    for kind, number in list(counts) + [entry for entry in unanswered if entry not in counts]:
        count, outs = counts.get((kind, number), 1), unanswered.get((kind, number))
        if outs:
            lines.extend(encoded({'kind': kind, 'number': number, 'wrong_attempts': count, 'out': role, 'run': run})
                         for run, role in outs)
        elif count > 0:
            lines.append(encoded({'kind': kind, 'number': number, 'wrong_attempts': count}))
    return b''.join(lines)


def read_counts(path):
    """The last count recorded for each (kind, number) in the journal at ``path`` ({} when none)."""
    return read(path)[0]


def read(path):
    """(counts, unanswered) of the journal at ``path``, both {} when there is none.

    ``counts``: the last count of each (kind, number), out lines included. ``unanswered``: per (kind, number),
    the [(run, role)] of the out lines no later line of the same module run answered, oldest first, and that no
    later count of 0 (a PIN of the entry accepted, by any run) made moot. JournalUnreadable when a line is not a count.
    """
    try:
        data = contents(path)
    except (IOError, OSError):
        data = None
    if data is None:
        return {}, {}
    try:
        return parse(data.split(b'\n'))
    except UnreadableLine as exc:
        raise JournalUnreadable(path, exc.line, exc.reason)


def contents(path):
    """The bytes of the file at ``path``, or None when there is none (IOError/OSError when it cannot be read).

    Only a regular file of at most MAX_BYTES: a path that leads to a FIFO would block the run for good, and one
    that leads to a device or an endless file would fill the memory."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0))
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, 'it is not a regular file')
        chunks, size = [], 0
        while True:
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                return b''.join(chunks)
            size += len(chunk)
            if size > MAX_BYTES:
                raise OSError(errno.EFBIG, 'it is larger than %d MiB, far beyond what runs write' % (MAX_BYTES >> 20))
            chunks.append(chunk)
    finally:
        os.close(descriptor)


class UnreadableLine(ValueError):
    """A line that is not a count a module wrote (a hand edit, damage); ``line`` counts from 1."""

    def __init__(self, line, reason):
        super(UnreadableLine, self).__init__('line %d is %s' % (line, reason))
        self.line, self.reason = line, reason


class JournalUnwritable(Exception):
    """A line could not be written to the journal: the entry stops there, since no PIN leaves without its line."""

    def __init__(self, path, exc):
        super(JournalUnwritable, self).__init__(
            'the wrong-attempt journal %s (credential_store_journal_file) cannot be written (%s): nothing more was sent '
            'for this entry. Make that path a regular file this controller can write, or remove what is there, and run '
            'again' % (path, getattr(exc, 'strerror', None) or type(exc).__name__))


class JournalUnreadable(ValueError):
    """The journal file ``path`` holds a line that is not a count; ``journal`` is the file it was taken from, if it was.

    Its text is the whole message for the person: never the line itself (a hand edit could hold anything).
    """

    def __init__(self, path, line, reason, journal=None):
        where = ('the wrong-attempt journal %s (credential_store_journal_file)' % path if journal is None else
                 'the wrong-attempt journal %s, which a load took from %s (credential_store_journal_file),'
                 % (path, journal))
        super(JournalUnreadable, self).__init__(
            '%s cannot be read: line %d is %s. Nothing is sent to the PABX while it cannot be read. Correct that '
            'line (one JSON object a line, as {"kind": "devices", "number": "1000", "wrong_attempts": 1}) or delete '
            'that line alone, then run again. Deleting the line or the file loses the wrong-attempt counts they hold, '
            'and a run could then send wrong PINs the PABX has already counted and lock the target out: each '
            "target's count can be read at the PABX's console." % (where, line, reason))
        self.path, self.line = path, line


def _whole(value):
    """``value`` as a count when it is a JSON number that is a whole one from 0 to MAX_COUNT, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None  # Infinity, NaN, 1e400, 1.5
    return int(value) if 0 <= value <= MAX_COUNT else None


def _item(line):
    """(entry, count, item) of one line, or raises UnreadableLine's reason as a ValueError."""
    if isinstance(line, bytes):
        try:
            line = line.decode('utf-8')
        except UnicodeDecodeError:
            raise ValueError('not UTF-8 text')
    if len(line) > MAX_LINE:
        raise ValueError('longer than %d characters' % MAX_LINE)
    try:
        item = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: brackets nested past Python's stack
        raise ValueError('not JSON')
    if not isinstance(item, dict):
        raise ValueError('not a JSON object')
    kind, number = item.get('kind'), item.get('number')
    if kind not in KIND_OF.values() or isinstance(number, bool) or not isinstance(number, (str, int)):
        raise ValueError('without a kind ("devices" or "accounts") and a number')
    count = _whole(item.get('wrong_attempts'))
    if count is None:
        raise ValueError('without a wrong_attempts count that is a whole number from 0 to %d' % MAX_COUNT)
    return (kind, str(number)), count, item


def parse(lines):
    """``read``, of the journal's lines (text or bytes); UnreadableLine at the first that is not a count.

    None is skipped: a line that cannot be read may be a refusal the PABX counted, and a count lost may be a
    lockout. Blank lines hold nothing and are passed over (a hand edit that emptied a line).
    """
    counts, open_outs = {}, {}
    for position, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry, count, item = _item(line)
        except ValueError as exc:
            raise UnreadableLine(position + 1, str(exc))
        counts[entry] = count
        run = item.get('run')
        run = run if isinstance(run, str) and RUN_MARK.match(run) else None
        if count == 0 and 'out' not in item:
            # the PABX accepted a PIN of the entry: its count of wrong ones in a row, those out before, is 0 again
            open_outs = dict((mark, value) for mark, value in open_outs.items() if mark[1] != entry)
        open_outs.pop((run, entry), None)  # answered (or superseded: one PIN of an entry at a time per run)
        if 'out' in item and run is not None:
            role = item['out']
            open_outs[(run, entry)] = (position, role if isinstance(role, str) and ROLES.match(role) else UNKNOWN)
    unanswered = {}
    for (run, entry), (position, role) in sorted(open_outs.items(), key=lambda item: item[1][0]):
        unanswered.setdefault(entry, []).append((run, role))
    return counts, unanswered
