# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit between rotations: drift, weak PINs, invalid accounts and age, from the store and the PABX's answers."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

from ansible_collections.digitro.pabx.plugins.module_utils._pin_policy import violations
from ansible_collections.digitro.pabx.plugins.module_utils._rotation import check_store, parse_time, requesting_device

FINDINGS = ('out_of_sync', 'invalid_account', 'weak', 'old', 'age_unknown', 'unresolved', 'error')


def checks(store, default_device=None):
    """What to ask the PABX: a verify per settled device, a validate per settled account.

    Entries with a pending PIN are not asked about: trying their stored PIN could be a wrong attempt.
    """
    store = check_store(store)
    devices = [dict(device=n, device_password=e['current'], new_password=e['current'])
               for n, e in sorted(store['devices'].items()) if not e.get('pending')]
    accounts = []
    for number, entry in sorted(store['accounts'].items()):
        device, problem = requesting_device(store, number, entry, default_device)
        if entry.get('pending') or problem:
            continue
        accounts.append(dict(device=device, device_password=store['devices'][device]['current'], account=number,
                             account_password=entry['current']))
    return {'devices': devices, 'accounts': accounts}


def _answer_findings(kind, result):
    status = result.get('status')
    if status == 'unchanged' or status == 'valid':
        return []
    if status == 'rejected':
        return [('out_of_sync', 'the PABX does not accept the stored PIN')]
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
            if entry.get('pending'):
                found.append(('unresolved', 'a change is pending: run the rotation to resolve it'))
            elif (kind, number) in answers:
                found.extend(_answer_findings(kind, answers[(kind, number)]))
            else:
                found.append(('error', 'not checked: no device to request the check from'))
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
    stats = dict(('digitro_audit_' + name, count) for name, count in counts.items())
    return {'rows': rows, 'counts': counts, 'stats': stats}
