# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rotation round's results settled into the store: what the PABX holds, the wrong-attempt ledger, quarantine."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_report import summarize
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import (
    HISTORY_KEPT, SCHEMA, TIME_FORMAT, StoreError, budget_spent, check_store, keep_sent, normal, settle_claim, writable)

DEFAULT_MAX_WRONG_ATTEMPTS = 2


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


def settle_entry(entry, request, result, stamp, now, max_wrong, planning=False):
    """Apply one module result to a copy of its store entry; returns (entry, report status, reason)."""
    entry = dict(entry)
    status, held = result.get('status'), _held(request, result)
    # a result without a count (an unexpected failure mid-entry) may have cost one: assume it did
    spent = result.get('wrong_attempts')
    entry['wrong_attempts'] = int(spent) if spent is not None else int(request.get('wrong_attempts') or 0) + 1
    settle_claim(entry, held is not None, stamp)  # a console reset a person vouched for, proven or not
    if held is not None:  # the PABX accepted a PIN: its count in a row is 0, whatever the PINs out before were
        entry.pop('unanswered', None)
    if planning:
        return _judge(entry, status, held, stamp, max_wrong, planning=True, result=result)
    if held is not None:
        if held != entry['current']:  # the PABX holds another PIN the store knew: it becomes current
            # (out of the history, where a restore may have put it: the policy would take it for a PIN reused)
            entry['history'] = [pin for pin in [entry['current']] + entry.get('history', []) if pin != held][:HISTORY_KEPT]
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
        entry['sent'] = keep_sent(sent, now)
    elif status == 'refused':
        entry['pending'] = None  # the PABX said no: nothing applied
    if not request.get('verify_only') and result.get('sent') is False and entry.get('pending') == request['new_password']:
        entry['pending'] = None  # this run's new PIN never left: it is no PIN the PABX may hold
    return _judge(entry, status, held, stamp, max_wrong, result=result)


def resolve_entry(entry, request, result, stamp, now, max_wrong, planning=False):
    """Settle the verification of a PIN a person gave (resolve_passwords): accepted, it becomes current and the
    entry leaves quarantine; refused, a quarantined entry stays so and a good one keeps its PIN."""
    quarantined = entry.get('quarantined')
    accepted = _held(request, result) is not None
    entry, status, reason = settle_entry(dict(entry, quarantined=None), request, result, stamp, now, max_wrong, planning)
    if accepted:
        if not planning:
            entry.update(quarantined=None, wrong_attempts=0)
            return entry, 'verified', 'the PABX accepts the PIN given: it is the current one%s' % (
                ' and the entry left quarantine' if quarantined else '')
        return dict(entry, quarantined=quarantined), 'verified', 'the PABX accepts the PIN given (check mode: not recorded)'
    if status == 'quarantined' and result.get('status') == 'rejected' and not quarantined and \
            entry['wrong_attempts'] < max_wrong:
        entry['quarantined'] = None  # the PIN given was wrong, not the store's
        status = 'failed'
    else:
        entry['quarantined'] = quarantined or entry.get('quarantined')
    what = 'the PABX refused the PIN given' if result.get('status') == 'rejected' else \
        'the PIN given could not be verified (%s)' % (result.get('msg') or 'no answer')
    return entry, status, what + ('; the entry stays quarantined' if entry.get('quarantined') else
                                  '; the store keeps the PIN it had')


def _judge(entry, status, held, stamp, max_wrong, planning=False, result=None):
    """The report's status for an entry, quarantining it when nothing more may be sent for it."""
    reason = (result or {}).get('msg', '')
    if status in ('rejected', 'quarantined') or (held is None and entry['wrong_attempts'] >= max_wrong):
        untried = (result or {}).get('untried') if status == 'rejected' else 0
        if untried:  # the budget ran out before every PIN of the store was tried: the PABX may hold one of the others
            why = budget_spent(entry['wrong_attempts'], max_wrong, untried=untried)
        elif status == 'rejected':
            why = 'the PABX accepted none of the PINs the store has for it (changed at the console?)'
        else:
            why = budget_spent(entry['wrong_attempts'], max_wrong, len(entry.get('unanswered') or []))
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
    store, batch = writable(check_store(staged['store']), kind), staged['batch']
    resolving = set(staged.get('resolving') or [])
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
        if number in resolving:
            entry, status, reason = resolve_entry(store[kind][number], request, result, stamp, now, int(max_wrong),
                                                  planning=check_mode)
        else:
            entry, status, reason = settle_entry(store[kind][number], request, result, stamp, now, int(max_wrong),
                                                 planning=check_mode)
        held = _held(request, result)
        changed = changed or normal(entry) != normal(store[kind][number])
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
