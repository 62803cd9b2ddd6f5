# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential store of one PABX and the rotation's plan and commit over it.

Store document (kept encrypted by the role)::

    {"schema": 1,
     "devices":  {"1000": {"current": PIN, "pending": PIN or null, "history": [PIN...], "changed_at": ISO or null}},
     "accounts": {"2000": {... same ..., "device": "1000"}}}

``pending`` is the write-ahead record: it is saved before the PABX is asked
to change anything, and an entry with a pending PIN is always due, so an
interrupted run is resolved by the next one (the module verifies the current
PIN first, else the pending one, and never guesses). Only a clear refusal by
the PABX drops a pending PIN; any doubt keeps it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import csv
import datetime
import io
import json
import re

from ansible_collections.digitro.pabx.plugins.module_utils._pin_policy import generate, policy_with_defaults

SCHEMA = 1
KINDS = ('devices', 'accounts')
HISTORY_KEPT = 24
STATUSES = ('rotated', 'unchanged', 'skipped', 'out_of_sync', 'failed', 'would_rotate')


class StoreError(ValueError):
    pass


def empty_store():
    return {'schema': SCHEMA, 'devices': {}, 'accounts': {}}


def check_store(store):
    """The store, if it is one this version understands."""
    if not isinstance(store, dict) or store.get('schema') != SCHEMA or not all(
            isinstance(store.get(kind), dict) for kind in KINDS):
        raise StoreError('the credential store is not a digitro.pabx store of schema %d' % SCHEMA)
    return store


def parse_time(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ') if text else None


def is_due(number, entry, selection, now):
    """Whether an entry is due: it has a pending PIN, or it is selected and old enough.

    ``only`` (a retry round) is exact: pending entries outside it wait for the next run, so that no
    password is tried twice in one run.
    """
    if selection.get('only') is not None:
        return number in selection['only']
    if entry.get('pending'):
        return True
    targets = selection.get('targets') or 'all'
    if targets != 'all' and number not in [str(t) for t in targets]:
        return False
    if selection.get('pattern') and not re.search(selection['pattern'], number):
        return False
    max_age = int(selection.get('max_age_days') or 0)
    changed = parse_time(entry.get('changed_at'))
    return not (max_age and changed and now - changed < datetime.timedelta(days=max_age))


def requesting_device(store, number, entry, default_device):
    """The device an account's change is requested from: the entry's, else the role's default, else the lowest."""
    device = entry.get('device') or default_device or (min(store['devices']) if store['devices'] else None)
    record = store['devices'].get(device) if device else None
    if record is None:
        return None, 'no device in the store to request the change from'
    if record.get('pending'):
        return None, 'requesting device %s has an unresolved password change' % device
    return device, None


def stage(store, kind, selection, policy, now, default_device=None, rng=None):
    """Give every due entry a pending PIN (keeping any pending one) and build the module batch.

    Returns {store, batch, skipped}; ``store`` is a new document, the input is untouched.
    """
    store = _writable(check_store(store), kind)
    policy = policy_with_defaults(policy)
    batch, skipped = [], []
    for number in sorted(store[kind]):
        entry = store[kind][number]
        if not is_due(number, entry, selection, now):
            skipped.append(dict(number=number, reason='not due'))
            continue
        request = {'device': number, 'device_password': entry['current']}
        if kind == 'accounts':
            device, problem = requesting_device(store, number, entry, default_device)
            if problem:
                skipped.append(dict(number=number, reason=problem))
                continue
            request = {'device': device, 'device_password': store['devices'][device]['current'],
                       'account': number, 'account_password': entry['current']}
        if not entry.get('pending'):
            entry = store[kind][number] = dict(entry)
            entry['pending'] = generate(number, [entry['current']] + entry.get('history', []), policy, rng)
        request['new_password'] = entry['pending']
        batch.append(request)
    return {'store': store, 'batch': batch, 'skipped': skipped}


def _writable(store, kind):
    """A new store document sharing the entries, which the caller copies before it changes one.

    A deep copy of ten thousand entries, twice per round, costs more than the round's own work.
    """
    store = dict(store)
    store[kind] = dict(store[kind])
    return store


def _settle(entry, now):
    entry['history'] = ([entry['current']] + entry.get('history', []))[:HISTORY_KEPT]
    entry['current'], entry['pending'], entry['changed_at'] = entry['pending'], None, now


MODULE_TO_ROTATION = {
    'changed': ('rotated', None),
    'unchanged': ('rotated', 'the PABX already had the staged PIN (an earlier run was interrupted)'),
    'would_change': ('would_rotate', None),
    'rejected': ('out_of_sync', None),
    'refused': ('failed', None),
    'unconfirmed': ('failed', None),
    'error': ('failed', None),
}


def commit(staged, kind, results, now, check_mode=False, previous_report=None):
    """Apply the module's per-entry results to a staged store: settle confirmed changes, drop refused ones.

    ``staged`` is what ``stage`` returned; ``results`` are the module's per-entry results in batch order,
    or the runs of a loop over chunks of the batch (each with its own ``results``). Results are matched
    to the batch by position: the numbers the module echoes may be masked by Ansible when they happen
    to equal a PIN (a ``no_log`` value). Returns {store, report}: ``report`` is ``previous_report`` with
    one row per entry of this round added or replaced (a retry round replaces its entries' rows) and a
    ``skipped`` row for each entry left out and not yet reported; no PIN is in it. ``refused`` lists the
    numbers whose new PIN the PABX refused in this round: the ones a retry with a fresh PIN may fix;
    ``counts`` is ``summarize(report)``.
    """
    store, batch = _writable(check_store(staged['store']), kind), staged['batch']
    refused = []
    results = [r for run in results for r in run['results']] if results and 'results' in results[0] else results
    if len(results) != len(batch):
        raise StoreError('%d results for a batch of %d: the run did not finish; the staged PINs stay in the store'
                         % (len(results), len(batch)))
    stamp = now.strftime('%Y-%m-%dT%H:%M:%SZ')
    report = []
    for request, result in zip(batch, results):
        number = request.get('account') or request['device']
        entry = store[kind][number] = dict(store[kind][number])
        status, note = MODULE_TO_ROTATION.get(result.get('status'), ('failed', None))
        if status == 'rotated' and not check_mode:
            _settle(entry, stamp)
        elif result.get('status') == 'refused':
            entry['pending'] = None  # the PABX said no: the current PIN is certainly still in force
            refused.append(number)
        report.append(dict(kind=kind, number=number, status=status, reason=note or result.get('msg', ''),
                           pending=bool(entry.get('pending'))))
    replaced = set((row['kind'], row['number']) for row in report)
    kept = [row for row in previous_report or [] if (row['kind'], row['number']) not in replaced]
    known = replaced | set((row['kind'], row['number']) for row in kept)
    skipped = [dict(kind=kind, number=s['number'], status='skipped', reason=s['reason'], pending=False)
               for s in staged.get('skipped', []) if (kind, s['number']) not in known]
    report = kept + report + skipped
    return {'store': store, 'report': report, 'refused': refused, 'counts': summarize(report)}


def import_rows(store, csv_text, now, overwrite=False):
    """Merge ``kind,number,password[,device]`` rows (a PABX administration export) into the store."""
    store = copy.deepcopy(check_store(store)) if store else empty_store()
    reader = csv.DictReader(io.StringIO(csv_text))
    missing = set(['kind', 'number', 'password']) - set(reader.fieldnames or [])
    if missing:
        raise StoreError('the CSV lacks the column(s) %s (expected kind,number,password[,device])'
                         % ', '.join(sorted(missing)))
    added = kept = 0
    for line, row in enumerate(reader, start=2):
        kind = {'device': 'devices', 'account': 'accounts'}.get((row['kind'] or '').strip())
        number, password = (row['number'] or '').strip(), (row['password'] or '').strip()
        if kind is None or not number.isdigit() or not password:
            raise StoreError('CSV line %d: expected kind device|account, a numeric number and a password' % line)
        if number in store[kind] and not overwrite:
            kept += 1
            continue
        entry = {'current': password, 'pending': None, 'history': [], 'changed_at': None}
        if kind == 'accounts' and (row.get('device') or '').strip():
            entry['device'] = row['device'].strip()
        store[kind][number] = entry
        added += 1
    return {'store': store, 'added': added, 'kept': kept}


def render(rows, header=None):
    """The report files' contents in one pass: ``table`` (aligned lines for people) and ``json`` (``header``
    with the rows as ``entries``, for machines)."""
    document = dict(header or {})
    document['entries'] = rows
    return {'table': table(rows), 'json': json.dumps(document, indent=2, sort_keys=True)}


def table(rows):
    """Report rows as aligned text lines, one per entry, for the report people read."""
    return '\n'.join('  %-8s %-12s %-11s %s%s' % (row['kind'][:-1], row['number'], row['status'], row['reason'],
                                                  ' [staged PIN kept in the store]' if row.get('pending') else '')
                     for row in rows)


ATTENTION = ('out_of_sync', 'failed')


def summarize(report):
    """Rows per status, and the totals a run is judged by: ``due`` (not skipped) and ``attention``."""
    counts = dict((status, 0) for status in STATUSES)
    for row in report:
        counts[row['status']] = counts.get(row['status'], 0) + 1
    counts.update(total=len(report), due=len(report) - counts['skipped'],
                  attention=sum(counts[status] for status in ATTENTION))
    return counts
