# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential store of one PABX and the rotation's plan and commit over it.

Store document (kept encrypted by the role)::

    {"schema": 2,
     "devices":  {"1000": {"current": PIN, "pending": PIN or null, "history": [PIN...], "changed_at": ISO or null,
                           "wrong_attempts": 0, "quarantined": null or {"reason": ..., "at": ISO},
                           "sent": [{"password": PIN, "at": ISO}...]}},
     "accounts": {"2000": {... same ..., "device": "1000"}}}

``pending`` is the write-ahead record: it is saved before the PABX is asked
to change anything. An entry with a pending PIN is settled by the next run by
verification only, never by a second change, since the first may still apply
late. ``sent`` keeps the PINs of changes that never showed, for as long as
the PABX may still come to hold one. ``wrong_attempts`` counts the wrong
passwords sent since the entry was last known good, across runs; once it
reaches the budget, or no PIN the store knows is accepted, the entry is
``quarantined``: nothing is sent for it until a person resolves it.
Schema 1 stores (without the three new fields) are read as schema 2.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import datetime
import json
import re

from ansible_collections.digitro.pabx.plugins.module_utils._pin_policy import generate, policy_with_defaults
from ansible_collections.digitro.pabx.plugins.module_utils._spreadsheet import dict_reader

SCHEMA = 2
SCHEMAS_READ = (1, 2)
KINDS = ('devices', 'accounts')
HISTORY_KEPT = 24
SENT_KEPT = 3  # the newest sent-but-unseen PINs kept as candidates
SENT_KEPT_DAYS = 30  # a change the PABX has not applied in a month will not be
DEFAULT_MAX_WRONG_ATTEMPTS = 2
STATUSES = ('rotated', 'verified', 'skipped', 'quarantined', 'failed', 'would_rotate')
ATTENTION = ('quarantined', 'failed')
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


class StoreError(ValueError):
    pass


def empty_store():
    return {'schema': SCHEMA, 'devices': {}, 'accounts': {}}


def check_store(store):
    """The store, if it is one this version understands (a schema 1 store is read as schema 2)."""
    if not isinstance(store, dict) or not all(isinstance(store.get(kind), dict) for kind in KINDS):
        raise StoreError('the credential store is not a digitro.pabx store (no devices and accounts sections)')
    if store.get('schema') not in SCHEMAS_READ:
        raise StoreError('the credential store has schema %r, which this version of digitro.pabx does not know '
                         '(it reads %s): was it written by a newer version? Upgrade the collection'
                         % (store.get('schema'), ' and '.join(str(v) for v in SCHEMAS_READ)))
    return store


def parse_time(text):
    return datetime.datetime.strptime(text, TIME_FORMAT) if text else None


def split_numbers(value):
    """Numbers from a list, or from text separated by commas, spaces or newlines (an AWX textarea)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return ['a dict']
    items = value if isinstance(value, (list, tuple)) else re.split(r'[\s,;]+', str(value))
    return [str(item).strip() for item in items if str(item).strip()]


def selection(store, targets, pattern='', max_age_days=0, accounts=True, late_apply_hours=1, account_device=None):
    """The rotation's selection, checked: unknown target numbers, an invalid pattern, or targets and a pattern
    that select nothing are errors that say so (a run must not end green having done nothing)."""
    store = check_store(store)
    kinds = KINDS if accounts else ('devices',)
    numbers = split_numbers(targets)
    if [n.lower() for n in numbers] == ['all']:
        numbers = 'all'
    elif not numbers:
        raise StoreError('password_rotation_targets is empty: give "all" or the numbers to rotate')
    elif isinstance(targets, dict) or not all(n.isdigit() for n in numbers):
        raise StoreError('password_rotation_targets must be "all" or extension and account numbers (digits), '
                         'separated by commas, spaces or newlines; got %s' % ', '.join(
                             repr(n) for n in numbers if not n.isdigit())[:200])
    else:
        unknown = [n for n in numbers if not any(n in store[kind] for kind in KINDS)]
        if unknown:
            raise StoreError('password_rotation_targets names %d number(s) the credential store does not have: %s; '
                             'check them, or import them first' % (len(unknown), ', '.join(unknown[:20])))
        left_out = [n for n in numbers if not any(n in store[kind] for kind in kinds)]
        if left_out:
            raise StoreError('password_rotation_targets names account(s) %s, but password_rotation_accounts is '
                             'false' % ', '.join(left_out[:20]))
    try:
        found = re.compile(pattern or '')
    except re.error as exc:
        raise StoreError('password_rotation_pattern %r is not a valid regular expression: %s' % (pattern, exc))
    if int(max_age_days or 0) < 0 or float(late_apply_hours or 0) < 0:
        raise StoreError('password_rotation_max_age_days and password_rotation_late_apply_hours must be 0 or more')
    if accounts and account_device and account_device not in store['devices']:
        raise StoreError('password_rotation_account_device %s is not a device of the credential store' % account_device)
    chosen = [n for kind in kinds for n in store[kind] if numbers == 'all' or n in numbers]
    if chosen and not any(found.search(n) for n in chosen):
        raise StoreError('password_rotation_pattern %r matches none of the %d number(s) aimed at: nothing would be '
                         'rotated; check the pattern' % (pattern, len(chosen)))
    return {'targets': numbers, 'pattern': pattern or '', 'max_age_days': int(max_age_days or 0),
            'late_apply_hours': float(late_apply_hours or 0)}


def is_selected(number, entry, selection, now):
    """Whether a settled entry is due for a change: it is selected and old enough.

    ``only`` (a retry round) is exact: nothing else is due in it, so no password is tried twice in one run.
    """
    if selection.get('only') is not None:
        return number in selection['only']
    targets = selection.get('targets', 'all')  # an empty list selects nothing (accounts left out)
    if targets != 'all' and number not in targets:
        return False
    if selection.get('pattern') and not re.search(selection['pattern'], number):
        return False
    max_age = int(selection.get('max_age_days') or 0)
    changed = parse_time(entry.get('changed_at'))
    return not (max_age and changed and now - changed < datetime.timedelta(days=max_age))


def is_due(number, entry, selection, now):
    """Due for this round: a pending PIN to settle (outside a retry round), or selected for a change."""
    if entry.get('pending') and selection.get('only') is None:
        return True
    return is_selected(number, entry, selection, now)


def device_of(store, entry, default_device):
    """The device an account's change is requested from: the entry's, else the role's default, else the lowest."""
    return entry.get('device') or default_device or (min(store['devices']) if store['devices'] else None)


def requesting_device(store, number, entry, default_device, verified=None):
    """(device, problem): the device to request an account's change from, proven good in this run when
    ``verified`` (the devices verified in this run) is given: its PIN travels in every account request."""
    device = device_of(store, entry, default_device)
    record = store['devices'].get(device) if device else None
    if record is None:
        return None, 'no device %sin the store to request the change from' % ('%s ' % device if device else '')
    if record.get('quarantined'):
        return None, 'requesting device %s is quarantined' % device
    if record.get('pending'):
        return None, 'requesting device %s has an unresolved password change' % device
    if verified is not None and device not in verified:
        return None, 'requesting device %s was not verified in this run' % device
    return device, None


def candidates(entry):
    """PINs the PABX may hold instead of the current one, most likely first; a PIN never sent is not one."""
    found = [entry['pending']] if entry.get('pending') else []
    for sent in entry.get('sent') or []:
        if sent['password'] not in found and sent['password'] != entry['current']:
            found.append(sent['password'])
    return found


def gated_devices(store, selection, now, default_device):
    """The devices whose PIN account requests of this run will carry: each is verified before any account."""
    devices = set()
    for number, entry in store['accounts'].items():
        if not entry.get('quarantined') and is_due(number, entry, selection, now):
            devices.add(device_of(store, entry, default_device))
    return devices


def stage(store, kind, selection, policy, now, default_device=None, rng=None, planning=False, verified=None,
          gate_accounts=None):
    """Plan one round: a module batch entry per due entry; a new pending PIN for each entry to change.

    Entries with a pending PIN are verified only. In ``planning`` (check mode, dry run) no PIN is generated
    into the store and none that was never sent is tried. Devices to verify (not change) because
    account requests will carry their PIN, with ``gate_accounts`` (the accounts' selection); ``verified``: devices
    verified in this
    run, which alone may request account changes. Returns {store, batch, skipped}; the input store is untouched.
    """
    store = _writable(check_store(store), kind)
    policy = policy_with_defaults(policy)
    gate = gated_devices(store, gate_accounts, now, default_device) if kind == 'devices' and gate_accounts else ()
    batch, skipped, staged = [], [], 0
    for number in sorted(store[kind]):
        entry = store[kind][number]
        if entry.get('quarantined'):
            skipped.append(dict(number=number, reason='quarantined: %s' % entry['quarantined'].get('reason', ''),
                                status='quarantined'))
            continue
        settle = bool(entry.get('pending')) and selection.get('only') is None
        change = not settle and is_selected(number, entry, selection, now)
        quiet_until = _quiet_until(entry, selection)
        if change and quiet_until and quiet_until > now:
            skipped.append(dict(number=number, reason='an earlier change may still apply until %s: not changed again '
                                                      'before then' % quiet_until.strftime(TIME_FORMAT)))
            continue
        if not (settle or change or number in gate):
            skipped.append(dict(number=number, reason='not due'))
            continue
        request = {'device': number, 'device_password': entry['current']}
        if kind == 'accounts':
            device, problem = requesting_device(store, number, entry, default_device, verified)
            if problem:
                skipped.append(dict(number=number, reason=problem, status='failed' if change or settle else None))
                continue
            request = {'device': device, 'device_password': store['devices'][device]['current'],
                       'account': number, 'account_password': entry['current']}
        known = candidates(entry)  # before any new PIN: one never sent is never tried
        if change and not planning:
            entry = store[kind][number] = dict(entry)
            entry['pending'] = generate(number, [entry['current']] + entry.get('history', []), policy, rng)
            staged += 1
        request.update(new_password=entry.get('pending') or (
            generate(number, [entry['current']], policy, rng) if change else entry['current']),
            candidates=known, wrong_attempts=int(entry.get('wrong_attempts') or 0),
            verify_only=not change)
        batch.append(request)
    return {'store': store, 'batch': batch, 'skipped': skipped, 'staged': staged}


def _quiet_until(entry, selection):
    """Until when an entry with a change that never showed is left alone: the PABX may still apply it."""
    hours = float(selection.get('late_apply_hours') or 0)
    times = [parse_time(s['at']) for s in entry.get('sent') or [] if s.get('at') and not s.get('imported')]
    return max(times) + datetime.timedelta(hours=hours) if hours and times else None


def _writable(store, kind):
    """A new store document sharing the entries, which the caller copies before it changes one.

    A deep copy of ten thousand entries, twice per round, costs more than the round's own work.
    """
    store = dict(store)
    store[kind] = dict(store[kind])
    return store


def _held(request, result):
    """The PIN the PABX accepted last for this entry in this run, or None."""
    holds = result.get('holds')
    if holds == 'new':
        return request['new_password']
    if holds == 'current':
        return request.get('account_password') if request.get('account') else request['device_password']
    if holds == 'candidate':
        listed = request.get('candidates') or []
        index = result.get('candidate')
        return listed[index] if isinstance(index, int) and 0 <= index < len(listed) else None
    return None


def device_rejected(store, device, stamp, wrong_attempts=2):
    """The requesting device whose PIN was refused mid-run: charged its attempts and quarantined."""
    record = store['devices'].get(device)
    if record is None or record.get('quarantined'):
        return store
    store = dict(store, devices=dict(store['devices']))
    record = store['devices'][device] = dict(record)
    record['wrong_attempts'] = max(int(record.get('wrong_attempts') or 0), int(wrong_attempts))
    record['quarantined'] = {'reason': 'its PIN stopped working during a run (account requests through it were '
                                       'refused, and so was the PIN itself): changed at the console?', 'at': stamp}
    return store


def _normal(entry):
    """The entry with the fields schema 1 lacks filled in, to compare entries of either schema."""
    return dict(dict(wrong_attempts=0, quarantined=None, sent=[], pending=None), **entry)


def _keep_sent(sent, now):
    recent = [s for s in sent if parse_time(s['at']) and now - parse_time(s['at']) < datetime.timedelta(
        days=SENT_KEPT_DAYS)]
    return recent[:SENT_KEPT]


def settle_entry(entry, request, result, stamp, now, max_wrong, planning=False):
    """Apply one module result to a copy of its store entry; returns (entry, report status, reason)."""
    entry = dict(entry)
    status, held = result.get('status'), _held(request, result)
    # a result without a count (an unexpected failure mid-entry) may have cost one: assume it did
    spent = result.get('wrong_attempts')
    entry['wrong_attempts'] = int(spent) if spent is not None else int(request.get('wrong_attempts') or 0) + 1
    if planning:
        return _judge(entry, status, held, stamp, max_wrong, planning=True, result=result)
    if held is not None:
        if held != entry['current']:  # the PABX holds another PIN the store knew: it becomes current
            entry['history'] = ([entry['current']] + entry.get('history', []))[:HISTORY_KEPT]
            entry['current'], entry['changed_at'] = held, stamp
        found = _held(request, dict(result, holds='candidate'))  # what it held before this run's change
        sent = [s for s in entry.get('sent') or [] if s['password'] not in (held, found)]
        pending = entry.get('pending')
        if pending and pending != held and (request.get('verify_only') or status == 'refused'):
            # verified holding another PIN: this pending change did not apply; it may still, so keep it as sent
            if status != 'refused':
                sent.insert(0, {'password': pending, 'at': stamp})
            pending = None
        entry['pending'] = None if pending == held else pending
        entry['sent'] = _keep_sent(sent, now)
    elif status == 'refused':
        entry['pending'] = None  # the PABX said no: nothing applied
    if not request.get('verify_only') and result.get('sent') is False and entry.get('pending') == request['new_password']:
        entry['pending'] = None  # this run's new PIN never left: it is no PIN the PABX may hold
    return _judge(entry, status, held, stamp, max_wrong, result=result)


def _judge(entry, status, held, stamp, max_wrong, planning=False, result=None):
    """The report's status for an entry, quarantining it when nothing more may be sent for it."""
    reason = (result or {}).get('msg', '')
    if status in ('rejected', 'quarantined') or (held is None and entry['wrong_attempts'] >= max_wrong):
        why = ('the PABX accepted none of the PINs the store has for it (changed at the console?)'
               if status == 'rejected' else '%d wrong password(s) sent since it was last known good, the budget '
               '(digitro_max_wrong_attempts %d): set a PIN at its console, then import it with '
               'credential_store_import_reset_attempts=true' % (entry['wrong_attempts'], max_wrong))
        entry['quarantined'] = entry.get('quarantined') or {'reason': why, 'at': stamp}
        return entry, 'quarantined', '%s; nothing more is sent for it until a person resolves it' % why
    if status == 'would_change':
        return entry, 'would_rotate', ''
    if status == 'changed':
        return entry, 'rotated', ''
    if status == 'unchanged' and not result.get('pure_check'):
        return entry, 'rotated', 'the PABX already had the staged PIN (an earlier run was interrupted)'
    if status in ('verified', 'unchanged'):
        if result.get('was_pending') and not entry.get('pending') and not planning:
            reason = 'an earlier change did not show: its PIN is kept as a candidate, and the next run rotates it'
        return entry, 'verified', reason
    return entry, 'failed', reason


def commit(staged, kind, results, now, check_mode=False, previous_report=None, max_wrong=DEFAULT_MAX_WRONG_ATTEMPTS,
           verified=None):
    """Apply the module's per-entry results to a staged store: settle what verified, quarantine what must stop.

    ``staged`` is what ``stage`` returned; ``results`` are the module's per-entry results in batch order,
    or the runs of a loop over chunks of the batch (each with its own ``results``). Results are matched
    to the batch by position: the numbers the module echoes may be masked by Ansible when they happen
    to equal a PIN (a ``no_log`` value). In check mode only the wrong-attempt ledger is recorded.
    Returns {store, report, refused, verified, unsaved, counts}: ``unsaved`` says whether the store differs
    from the one loaded (a save is due); ``report`` is ``previous_report`` with one row per
    entry of this round added or replaced and a row for each entry left out and not yet reported; no PIN
    is in it. ``refused`` lists the numbers whose new PIN the PABX refused (a retry with a fresh PIN may
    fix those); ``verified`` the numbers (with ``verified`` given before) the PABX accepted a PIN of, and
    that have no change in doubt; ``counts`` is ``summarize(report)``.
    """
    store, batch = _writable(check_store(staged['store']), kind), staged['batch']
    refused, verified = [], list(verified or [])
    results = [r for run in results for r in run['results']] if results and 'results' in results[0] else results
    if len(results) != len(batch):
        raise StoreError('%d results for a batch of %d: the run did not finish; the staged PINs stay in the store'
                         % (len(results), len(batch)))
    stamp = now.strftime(TIME_FORMAT)
    report, changed = [], staged.get('staged', 0) > 0
    for request, result in zip(batch, results):
        number = request.get('account') or request['device']
        current = request.get('account_password') if request.get('account') else request['device_password']
        result = dict(result, pure_check=request['new_password'] == current,
                      was_pending=bool(store[kind][number].get('pending')))
        entry, status, reason = settle_entry(store[kind][number], request, result, stamp, now, int(max_wrong),
                                             planning=check_mode)
        held = _held(request, result)
        changed = changed or _normal(entry) != _normal(store[kind][number])
        store[kind][number] = entry
        if result.get('device_rejected') and kind == 'accounts':
            store = device_rejected(store, request['device'], stamp, result.get('device_wrong_attempts', 2))
            changed = True
            verified = [n for n in verified if n != request['device']]
        if result.get('status') == 'refused':
            refused.append(number)
        # requesting devices for accounts: only when the PIN account requests will carry is the one that verified
        if held is not None and held == entry['current'] and not entry.get('pending') and not entry.get('quarantined'):
            verified.append(number)
        report.append(dict(kind=kind, number=number, status=status, reason=reason,
                           pending=bool(entry.get('pending'))))
    replaced = set((row['kind'], row['number']) for row in report)
    kept = [row for row in previous_report or [] if (row['kind'], row['number']) not in replaced]
    known = replaced | set((row['kind'], row['number']) for row in kept)
    skipped = [dict(kind=kind, number=s['number'], status=s.get('status') or 'skipped', reason=s['reason'],
                    pending=False) for s in staged.get('skipped', []) if (kind, s['number']) not in known]
    report = kept + report + skipped
    changed = changed or (store.get('schema') != SCHEMA and not check_mode)
    store['schema'] = SCHEMA
    return {'store': store, 'report': report, 'refused': refused, 'verified': verified, 'unsaved': changed,
            'counts': summarize(report)}


def import_rows(store, csv_text, now, overwrite=False, reset_attempts=False):
    """Merge ``kind,number,password[,device]`` rows (a PABX administration export) into the store.

    A row for a quarantined entry resolves it (the operator set that PIN at the console); ``overwrite`` replaces
    the others. A replaced entry keeps its history, and a pending PIN becomes a sent one: it may still apply.
    It keeps its count of wrong attempts too, which the PABX still has, unless ``reset_attempts`` (setting a
    PIN at the console resets the PABX's count).
    """
    store = copy.deepcopy(check_store(store)) if store else empty_store()
    reader = dict_reader(csv_text)
    missing = set(['kind', 'number', 'password']) - set(reader.fieldnames or [])
    if missing:
        # the header's own words are not shown: a file without a header line has a PIN in its place
        raise StoreError('the CSV lacks the column(s) %s (expected a header line kind,number,password[,device]; its '
                         'first line has %d column(s))' % (', '.join(sorted(missing)), len(reader.fieldnames or [])))
    added = kept = resolved = 0
    stamp = now.strftime(TIME_FORMAT)
    for line, row in enumerate(reader, start=2):
        kind = {'device': 'devices', 'account': 'accounts'}.get((row['kind'] or '').strip())
        number, password = (row['number'] or '').strip(), (row['password'] or '').strip()
        if kind is None or not number.isdigit() or not password:
            raise StoreError('CSV line %d: expected kind device|account, a numeric number and a password' % line)
        old = store[kind].get(number)
        if old and not overwrite and not old.get('quarantined'):
            kept += 1
            continue
        entry = {'current': password, 'pending': None, 'history': [], 'changed_at': None}
        if old:
            # the PINs it had stay candidates (a mistyped row must not leave the PABX's PIN outside the store)
            held = [old['pending']] if old.get('pending') else []
            entry.update(history=([old['current']] + old.get('history', []))[:HISTORY_KEPT],
                         sent=_keep_sent([{'password': p, 'at': stamp, 'imported': True} for p in held + [old['current']]]
                                         + (old.get('sent') or []), now), changed_at=old.get('changed_at'))
            entry['sent'] = [s for s in entry['sent'] if s['password'] != password]
            if not reset_attempts and old.get('wrong_attempts'):
                entry['wrong_attempts'] = old['wrong_attempts']
            if old.get('device'):
                entry['device'] = old['device']
        if kind == 'accounts' and (row.get('device') or '').strip():
            entry['device'] = row['device'].strip()
        store[kind][number] = entry
        if old and old.get('quarantined'):
            resolved += 1
        else:
            added += 1
    if not added + kept + resolved:
        raise StoreError('the CSV has a header but no rows: nothing to import')
    return {'store': store, 'added': added, 'kept': kept, 'resolved': resolved}


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


def summarize(report):
    """Rows per status, and the totals a run is judged by: ``due`` (not skipped) and ``attention``."""
    counts = dict((status, 0) for status in STATUSES)
    for row in report:
        counts[row['status']] = counts.get(row['status'], 0) + 1
    counts.update(total=len(report), due=len(report) - counts['skipped'],
                  attention=sum(counts[status] for status in ATTENTION),
                  # failures that are the PABX's silence, not the entries': the run's message says so
                  unanswered=sum(1 for row in report if row['status'] == 'failed' and (
                      'not answering' in row.get('reason', '') or 'got no answer' in row.get('reason', ''))))
    return counts


def stats(counts):
    """The counts as AWX's ``set_stats`` gets them, one ``digitro_rotation_<status>`` each."""
    return dict(('digitro_rotation_' + name, int(counts.get(name, 0))) for name in STATUSES + ('due', 'attention'))
