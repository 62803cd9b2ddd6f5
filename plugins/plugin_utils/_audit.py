# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit between rotations: drift, weak PINs, invalid accounts and age, from the store and the PABX's answers.

The audit sends passwords too, so it keeps the same wrong-attempt ledger as the rotation: quarantined
entries and entries with a change in doubt are not asked about, the devices are verified first, and an
account is validated only when its requesting device verified in this audit. Devices and accounts alike are
asked their current PIN, then the other PINs the store knows the PABX may hold (``candidates``), within the budget;
a PIN the PABX accepts is settled as the rotation settles it (``_rotation_commit.commit``). In check mode only the
ledger is kept: no PIN is written into the store, and the findings say what a real run records.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

from ansible_collections.digitro.pabx.plugins.plugin_utils._pin_policy import violations
from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_commit import commit
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import (
    TIME_FORMAT, budget_spent, candidates, check_store, parse_time, requesting_device)

FINDINGS = ('out_of_sync', 'quarantined', 'invalid_account', 'weak', 'old', 'age_unknown', 'unresolved', 'error',
            'candidate_held')
INFORMATIONAL = ('age_unknown', 'candidate_held')
INVALID = ('valida-usuario refused every PIN the store has for it (changed at the console, or the account is '
           'disabled)')
BRIEF_ROWS = 20  # entries with findings shown in the job output; the report file has them all  # worth reading, not worth failing a scheduled job for


def _askable(entry, max_wrong):
    return not entry.get('pending') and not entry.get('quarantined') and int(entry.get('wrong_attempts') or 0) < max_wrong


def device_checks(store, max_wrong, only=None):
    """A verification per settled device (of ``only``, when given), with the PINs it may hold instead and its
    wrong attempts so far."""
    store = check_store(store)
    only = None if only is None else set(only)
    return [dict(device=n, device_password=e['current'], new_password=e['current'], candidates=candidates(e),
                 wrong_attempts=int(e.get('wrong_attempts') or 0), verify_only=True)
            for n, e in sorted(store['devices'].items()) if _askable(e, max_wrong) and (only is None or n in only)]


def settle(store, kind, checks, results, now, max_wrong, check_mode=False, ledger=None):
    """The answers of one kind recorded as the rotation records a verification: the ledger, and a PIN the PABX
    proved (current or a candidate) settled as the current one.

    Returns {store, verified, unsaved}: ``store`` as a real run records it (what the next checks and the findings
    go by), ``unsaved`` whether the store to save changed. In check mode no PIN is written into the store (the
    rotation's rule): the store to save is ``ledger`` too, the given ``ledger`` (by default ``store``) with the
    wrong attempts and quarantines alone recorded.
    """
    real = _settled(store, kind, checks, results, now, max_wrong, False)
    if not check_mode:
        return real
    kept = _settled(store if ledger is None else ledger, kind, checks, results, now, max_wrong, True)
    return dict(real, ledger=kept['store'], unsaved=kept['unsaved'])


def _settled(store, kind, checks, results, now, max_wrong, check_mode):
    # an account check is a verification of its current PIN, as the device checks are
    batch = checks if kind == 'devices' else [dict(c, new_password=c['account_password'], verify_only=True)
                                              for c in checks]
    done = commit({'store': check_store(store), 'batch': batch, 'skipped': []}, kind, results, now,
                  check_mode=check_mode, max_wrong=max_wrong)
    store, changed = done['store'], done['unsaved']
    if kind == 'accounts':
        store, refused = _quarantine_invalid(store, checks, results, now)
        changed = changed or refused
    store, spent = quarantine_spent(store, kind, max_wrong, now)
    return {'store': store, 'verified': done['verified'], 'unsaved': changed or spent}


def _quarantine_invalid(store, checks, results, now):
    """(store, changed): accounts whose every PIN tried was refused quarantined: asking again would only spend the
    budget (one whose budget ran out first is quarantined for that already)."""
    stamp, changed = now.strftime(TIME_FORMAT), False
    for request, result in zip(checks, results):
        number = request['account']
        if result.get('status') == 'invalid' and not store['accounts'][number].get('quarantined'):
            if not changed:
                store = dict(store, accounts=dict(store['accounts']))
                changed = True
            store['accounts'][number] = dict(store['accounts'][number], quarantined={'reason': INVALID, 'at': stamp})
    return store, changed


def quarantine_spent(store, kind, max_wrong, now):
    """(store, changed): entries whose count reached the budget (a killed run's, from the journal) quarantined,
    as the rotation quarantines them, rather than silently left out of the checks."""
    stamp, changed = now.strftime(TIME_FORMAT), False
    for number, entry in store[kind].items():
        if int(entry.get('wrong_attempts') or 0) >= max_wrong and not entry.get('quarantined'):
            if not changed:
                store = dict(store)
                store[kind] = dict(store[kind])
                changed = True
            why = budget_spent(entry['wrong_attempts'], max_wrong)
            store[kind][number] = dict(entry, quarantined={'reason': why, 'at': stamp})
    return store, changed


def account_checks(store, verified, default_device, max_wrong, only=None):
    """A validation per settled account whose requesting device verified in this run.

    ``only``: the accounts to check, a list, or a mapping of each to the device to check it through.
    """
    store = check_store(store)
    through = only if isinstance(only, dict) else {}
    only = None if only is None else set(only)
    accounts = []
    for number, entry in sorted(store['accounts'].items()):
        if only is not None and number not in only:
            continue
        if number in through:
            entry = dict(entry, device=through[number])
        device, problem = requesting_device(store, number, entry, default_device, verified)
        if problem or not _askable(entry, max_wrong):
            continue
        accounts.append(dict(device=device, device_password=store['devices'][device]['current'], account=number,
                             account_password=entry['current'], candidates=candidates(entry),
                             wrong_attempts=int(entry.get('wrong_attempts') or 0)))
    return accounts


def _answer_findings(result, check_mode):
    status = result.get('status')
    if status in ('unchanged', 'valid', 'verified'):
        if result.get('holds') != 'candidate':
            return []
        return [('candidate_held', 'the PABX holds a PIN the store had as a candidate (a change that applied late, '
                                   'or a restore): %s' % ('a real run records it as the current one; check mode '
                                                          'writes no PIN' if check_mode else
                                                          'recorded as the current one'))]
    if status == 'rejected':
        return [('out_of_sync', 'the PABX accepts none of the PINs the store has for it; quarantined')]
    if status == 'invalid':
        return [('invalid_account', result.get('msg', ''))]
    return [('error', result.get('msg', ''))]


def findings(store, device_checks, device_results, account_checks, account_results, policy, now, max_age_days,
             check_mode=False):
    """One row per entry with its findings (none when healthy); no PIN in any of them. ``store``: as a real run
    records the answers (``settle``'s ``store``), also in ``check_mode``."""
    store = check_store(store)
    answers = {}
    for batch, results, kind in ((device_checks, device_results, 'devices'),
                                 (account_checks, account_results, 'accounts')):
        for request, result in zip(batch, results):
            answers[(kind, request.get('account') or request['device'])] = result
    rows = []
    for kind in ('devices', 'accounts'):
        for number, entry in sorted(store[kind].items()):
            found = []
            answer = answers.get((kind, number))
            if answer is not None:
                found.extend(_answer_findings(answer, check_mode))
            elif entry.get('quarantined'):
                found.append(('quarantined', '%s (since %s): nothing is sent for it until a person resolves it'
                              % (entry['quarantined'].get('reason', ''), entry['quarantined'].get('at', '?'))))
            elif entry.get('pending'):
                found.append(('unresolved', 'a change is pending: run the rotation to settle it'))
            else:
                found.append(('error', 'not checked: its requesting device did not verify, or its wrong-attempt '
                                       'budget is spent'))
            broken = violations(entry['current'], number, entry.get('history', []), policy)
            if broken:
                found.append(('weak', ', '.join(broken)))
            changed = parse_time(entry.get('changed_at'))
            if changed is None:
                found.append(('age_unknown', 'never rotated by this collection'))
            elif max_age_days and now - changed > datetime.timedelta(days=int(max_age_days)):
                found.append(('old', 'last changed %s, more than %s days ago' % (entry['changed_at'], max_age_days)))
            rows.append(dict(kind=kind, number=number, findings=[dict(finding=f, detail=d) for f, d in found]))
    counts = dict((name, sum(1 for r in rows for f in r['findings'] if f['finding'] == name)) for name in FINDINGS)
    counts['checked'] = len(rows)
    counts['healthy'] = sum(1 for r in rows if not r['findings'])
    counts['problems'] = sum(1 for r in rows if any(f['finding'] not in INFORMATIONAL for f in r['findings']))
    stats = dict(('digitro_audit_' + name, count) for name, count in counts.items())
    return {'rows': rows, 'counts': counts, 'stats': stats}


def render(result, header):
    """The audit's files in one pass: ``flagged`` (the rows with findings) and ``json`` (``header``, the counts and
    the flagged rows, for machines). Never a PIN."""
    flagged = [row for row in result['rows'] if row['findings']]
    document = dict(header or {}, counts=result['counts'], entries=flagged)
    return {'flagged': flagged, 'json': json.dumps(document, indent=2, sort_keys=True),
            'table': table(flagged), 'brief': table(flagged[:BRIEF_ROWS])}


def table(rows):
    """Findings as aligned text lines, one per finding, for the report people read."""
    return '\n'.join('  %-8s %-12s %-16s %s' % (row['kind'][:-1], row['number'], item['finding'], item['detail'])
                     for row in rows for item in row['findings'])
