# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a rotation is aimed at: the targets and pattern checked, and which entries are due in a round."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.digitro.pabx.plugins.plugin_utils._store import KINDS, StoreError, check_store, device_of, parse_time


def ordinal(index):
    """1 -> '1st': how messages name an item a person gave that may be a PIN, instead of showing it."""
    return '%d%s' % (index, {1: 'st', 2: 'nd', 3: 'rd'}.get(index if index < 20 else index % 10, 'th'))


def split_numbers(value):
    """Numbers from a list, or from text separated by commas, spaces or newlines (an AWX textarea)."""
    if value is None:
        return []
    if isinstance(value, dict):
        return ['a dict']
    items = value if isinstance(value, (list, tuple)) else re.split(r'[\s,;]+', str(value))
    return [str(item).strip() for item in items if str(item).strip()]


# Beyond these a date computed from them overflows (a century of days; a year of quiet for a late change).
MAX_AGE_DAYS, MAX_LATE_APPLY_HOURS = 36500, 8784


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
        unknown = [ordinal(i) for i, n in enumerate(numbers, 1) if not any(n in store[kind] for kind in KINDS)]
        if unknown:
            raise StoreError('password_rotation_targets names %d number(s) the credential store does not have: its %s '
                             'item(s) (not shown, in case one is a PIN: check them, or import them first)'
                             % (len(unknown), ', '.join(unknown[:20])))
        left_out = [n for n in numbers if not any(n in store[kind] for kind in kinds)]
        if left_out:
            raise StoreError('password_rotation_targets names account(s) %s, but password_rotation_accounts is '
                             'false' % ', '.join(left_out[:20]))
    try:
        found = re.compile(pattern or '')
    except re.error as exc:
        raise StoreError('password_rotation_pattern %r is not a valid regular expression: %s' % (pattern, exc))
    if not 0 <= int(max_age_days or 0) <= MAX_AGE_DAYS or not 0 <= float(late_apply_hours or 0) <= MAX_LATE_APPLY_HOURS:
        raise StoreError('password_rotation_max_age_days must be from 0 to %d (days) and password_rotation_late_apply_hours '
                         'from 0 to %d (hours)' % (MAX_AGE_DAYS, MAX_LATE_APPLY_HOURS))
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


def quiet_until(entry, selection):
    """Until when an entry with a change that never showed is left alone: the PABX may still apply it."""
    hours = float(selection.get('late_apply_hours') or 0)
    times = [parse_time(s['at']) for s in entry.get('sent') or [] if s.get('at') and not s.get('imported')]
    return max(times) + datetime.timedelta(hours=hours) if hours and times else None


def gated_devices(store, selection, now, default_device, resolved=()):
    """The devices whose PIN account requests of this run will carry: each is verified before any account."""
    devices = set()
    for number, entry in store['accounts'].items():
        if number in resolved or (selection and not entry.get('quarantined') and is_due(number, entry, selection, now)):
            devices.add(device_of(store, entry, default_device))
    return devices
