# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit between rotations: drift, weak PINs, invalid accounts and age, from the store and the PABX's answers.

The audit sends passwords too, so it keeps the same wrong-attempt ledger as the rotation: quarantined
entries and entries with a change in doubt are not asked about, the devices are verified first, and an
account is validated only when its requesting device verified in this audit.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

from ansible_collections.digitro.pabx.plugins.plugin_utils._pin_policy import violations
from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_commit import commit, device_rejected
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import (
    TIME_FORMAT, budget_spent, candidates, check_store, parse_time, requesting_device)

FINDINGS = ('out_of_sync', 'quarantined', 'invalid_account', 'weak', 'old', 'age_unknown', 'unresolved', 'error')
INFORMATIONAL = ('age_unknown',)
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


def settle_devices(store, checks, results, now, max_wrong):
    """The device answers recorded in the store (the ledger, and a PIN found in force); {store, verified, changed}."""
    done = commit({'store': check_store(store), 'batch': checks, 'skipped': []}, 'devices', results, now,
                  max_wrong=max_wrong)
    swept, spent = quarantine_spent(done['store'], 'devices', max_wrong, now)
    return {'store': swept, 'verified': done['verified'], 'unsaved': done['unsaved'] or spent}


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
                             account_password=entry['current'], wrong_attempts=int(entry.get('wrong_attempts') or 0)))
    return accounts


def record_validations(store, checks, results, now, max_wrong):
    """Account answers in the ledger: a valid one resets the count, an invalid one adds a wrong attempt.

    ``valid`` lists the accounts the PABX accepted."""
    store = dict(check_store(store))
    store['accounts'] = dict(store['accounts'])
    stamp, changed, valid = now.strftime(TIME_FORMAT), False, []
    for request, result in zip(checks, results):
        number = request['account']
        if result.get('status') == 'valid':
            valid.append(number)
        if result.get('device_rejected'):  # the device is charged; the account only when it may have been its own
            store = device_rejected(store, request['device'], stamp, result.get('device_wrong_attempts', 2))
            changed = True
        entry = dict(store['accounts'][number])
        before = (int(entry.get('wrong_attempts') or 0), entry.get('quarantined'))
        if 'wrong_attempts' in result:
            entry['wrong_attempts'] = int(result['wrong_attempts'])
        elif result.get('status') != 'valid':
            entry['wrong_attempts'] = before[0] + 1  # no count in the answer: assume the worst
        if result.get('status') == 'invalid' and not entry.get('quarantined'):
            # the one PIN the store has was refused: asking again would only spend the budget
            entry['quarantined'] = {'reason': 'valida-usuario refused its stored PIN (changed at the console, or the '
                                              'account is disabled)', 'at': stamp}
        elif entry['wrong_attempts'] >= max_wrong and not entry.get('quarantined'):
            entry['quarantined'] = {'reason': '%d wrong password(s) sent since it was last known good, the budget '
                                              '(digitro_max_wrong_attempts %d)' % (entry['wrong_attempts'], max_wrong),
                                    'at': stamp}
        changed = changed or (entry['wrong_attempts'], entry.get('quarantined')) != before
        store['accounts'][number] = entry
    store, spent = quarantine_spent(store, 'accounts', max_wrong, now)
    return {'store': store, 'unsaved': changed or spent, 'valid': valid}


def _answer_findings(result):
    status = result.get('status')
    if status in ('unchanged', 'valid', 'verified'):
        return []
    if status == 'rejected':
        return [('out_of_sync', 'the PABX accepts none of the PINs the store has for it; quarantined')]
    if status == 'invalid':
        return [('invalid_account', result.get('msg', ''))]
    return [('error', result.get('msg', ''))]


def findings(store, device_checks, device_results, account_checks, account_results, policy, now, max_age_days):
    """One row per entry with its findings (none when healthy); no PIN in any of them."""
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
                found.extend(_answer_findings(answer))
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
