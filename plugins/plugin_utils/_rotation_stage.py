# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rotation round's plan: the module batch, and the pending PINs written ahead into the store."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils._pin_policy import generate, policy_with_defaults
from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_selection import gated_devices, is_selected, quiet_until
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import (
    TIME_FORMAT, candidates, check_store, claim_reset, device_of, requesting_device, resume_order, writable)


def stage(store, kind, selection, policy, now, default_device=None, rng=None, planning=False, verified=None,
          gate_accounts=None, given=None):
    """Plan one round: a module batch entry per due entry; a new pending PIN for each entry to change.

    Entries with a pending PIN are verified only. In ``planning`` (check mode, dry run) no PIN is generated
    into the store and none that was never sent is tried. Devices to verify (not change) because
    account requests will carry their PIN, with ``gate_accounts`` (the accounts' selection); ``verified``: devices
    verified in this run, which alone may request account changes. ``given``: PINs a person chose,
    ``{"passwords": {number: PIN}, "verify_only": bool, "reset_attempts": bool or 'forced'}`` - set instead of generated
    ones, or (``verify_only``) what the PABX holds now, verified once each, quarantined entries included.
    Returns {store, batch, skipped, staged, resolving}; the input store is untouched.
    """
    store = writable(check_store(store), kind)
    policy = policy_with_defaults(policy)
    given = given or {}
    chosen = dict((str(n).strip(), str(p)) for n, p in (given.get('passwords') or {}).items())
    resolving = chosen if given.get('verify_only') else {}
    verify_all = bool(given.get('verify_only')) and not chosen  # the store's own PINs, each tried once
    gate = gated_devices(store, gate_accounts, now, default_device, resolving) \
        if kind == 'devices' and (gate_accounts or resolving) else ()
    batch, skipped, staged = [], [], 0
    for number in sorted(store[kind]):
        entry = store[kind][number]
        if number in resolving:
            request, problem = _resolve_request(store, kind, number, resolving[number], default_device, verified,
                                                reset_mode(given.get('reset_attempts')), now.strftime(TIME_FORMAT))
            if problem:
                skipped.append(dict(number=number, reason=problem, status='failed'))
            else:
                batch.append(request)
            continue
        if entry.get('quarantined'):
            skipped.append(dict(number=number, reason=entry['quarantined'].get('reason', ''),  # its status says quarantined
                                status='quarantined'))
            continue
        settle = bool(entry.get('pending')) and selection.get('only') is None
        selected = is_selected(number, entry, selection, now)
        change = not settle and selected and not verify_all
        quiet = quiet_until(entry, selection)
        if change and quiet and quiet > now:
            skipped.append(dict(number=number, reason='an earlier change may still apply until %s: not changed again '
                                                      'before then' % quiet.strftime(TIME_FORMAT)))
            continue
        if not (settle or change or number in gate or (verify_all and selected)):
            skipped.append(dict(number=number, reason='not due'))
            continue
        request = {'device': number, 'device_password': entry['current']}
        if kind == 'accounts':
            device, problem = requesting_device(store, number, entry, default_device, verified)
            waiting = problem and _waiting_device(store, entry, default_device, selection, now)
            if waiting:  # its device was left alone for a change that may still apply: nothing for a person to do
                skipped.append(dict(number=number, reason='its requesting device %s may still take an earlier change '
                                                          'until %s: the account waits until then' % waiting))
                continue
            if problem:
                skipped.append(dict(number=number, reason=problem, status='failed' if change or settle else None))
                continue
            request = {'device': device, 'device_password': store['devices'][device]['current'],
                       'account': number, 'account_password': entry['current']}
        # one never sent is never tried; one that was out when a run was killed is tried first
        known = [] if verify_all and not settle else resume_order(entry, candidates(entry))
        if change and not planning:
            entry = store[kind][number] = dict(entry)
            entry['pending'] = chosen.get(number) or generate(
                number, [entry['current']] + entry.get('history', []), policy, rng)
            staged += 1
        request.update(new_password=entry.get('pending') or (
            chosen.get(number) or generate(number, [entry['current']], policy, rng) if change else entry['current']),
            candidates=known, wrong_attempts=int(entry.get('wrong_attempts') or 0),
            verify_only=not change)
        batch.append(request)
    return {'store': store, 'batch': batch, 'skipped': skipped, 'staged': staged, 'resolving': sorted(resolving)}


def _waiting_device(store, entry, default_device, selection, now):
    """(device, until) when an account's requesting device is in its quiet period (not verified for that reason
    alone), else None."""
    device = device_of(store, entry, default_device)
    record = store['devices'].get(device) if device else None
    if record is None or record.get('quarantined') or record.get('pending'):
        return None
    quiet = quiet_until(record, selection)
    return (device, quiet.strftime(TIME_FORMAT)) if quiet and quiet > now else None


def _resolve_request(store, kind, number, pin, default_device, verified, reset_attempts, stamp):
    """(request, problem): a verification of the one PIN a person says the PABX holds for this entry."""
    entry = store[kind][number]
    if reset_attempts:
        # not taken after the refusals claim_reset names; it forgives at most CLAIM_FORGIVES wrong attempts
        entry = claim_reset(entry, stamp, forced=reset_attempts == 'forced')[0]
        store[kind][number] = entry  # the console reset the PABX's count, a person says: proven by the answer
    if kind == 'devices':
        request = {'device': number, 'device_password': pin}
    else:
        device, problem = requesting_device(store, number, entry, default_device, verified)
        if problem:
            return None, problem
        request = {'device': device, 'device_password': store['devices'][device]['current'],
                   'account': number, 'account_password': pin}
    request.update(new_password=pin, candidates=[], wrong_attempts=int(entry.get('wrong_attempts') or 0),
                   verify_only=True)
    return request, None


def reset_mode(value):
    """``reset_attempts`` as the roles pass it: False, True, or 'forced'."""
    if str(value).lower() == 'forced':
        return 'forced'
    return value if isinstance(value, bool) else str(value).lower() in ('1', 'true', 'yes', 'on')
