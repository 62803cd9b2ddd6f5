# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A call-centre roster (who logs in where) turned into a digitro_dac_session batch."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.module_utils._spreadsheet import dict_reader

STATES = ('logged_in', 'logged_out')


class RosterError(ValueError):
    pass


def parse_csv(text):
    """Rows of ``device,account[,state]`` (a header line is required)."""
    reader = dict_reader(text)
    if not set(['device', 'account']) <= set(reader.fieldnames or []):
        raise RosterError('the roster CSV needs the columns device,account (and optionally state)')
    return [dict((k, (v or '').strip()) for k, v in row.items() if k) for row in reader]


def batch(roster, store=None, default_state='logged_in'):
    """The module batch: each roster row with its state and the passwords from the row or the store."""
    entries, missing = [], []
    for index, row in enumerate(roster):
        device, account = str(row.get('device', '')).strip(), str(row.get('account', '')).strip()
        state = row.get('state') or default_state
        if state not in STATES:
            raise RosterError('roster row %d: state must be logged_in or logged_out' % (index + 1))
        device_password = row.get('device_password') or _stored(store, 'devices', device)
        account_password = row.get('account_password') or _stored(store, 'accounts', account)
        if not device_password or not account_password:
            missing.append('%s/%s' % (device, account))
            continue
        entries.append(dict(device=device, device_password=device_password, account=account,
                            account_password=account_password, state=state))
    if missing:
        raise RosterError('no password for device/account %s%s: give them in the roster or import them into '
                          'the credential store' % (', '.join(missing[:10]), ' ...' if len(missing) > 10 else ''))
    return entries


def store_numbers(roster, store):
    """The devices and accounts whose password a DAC run takes from the store: each is verified first, within
    the wrong-attempt budget, since a DAC request carries it. ``accounts`` maps each account to its roster
    device, through which it is checked (that device is among ``devices`` when its PIN comes from the store).
    """
    devices, accounts = set(), {}
    for row in roster:
        device, account = str(row.get('device', '')).strip(), str(row.get('account', '')).strip()
        if not row.get('device_password') and _stored(store, 'devices', device):
            devices.add(device)
        if not row.get('account_password') and _stored(store, 'accounts', account):
            accounts.setdefault(account, device)
    return {'devices': sorted(devices), 'accounts': accounts}


def admit(batch, gate, verified_devices, valid_accounts):
    """The batch entries whose stored passwords proved good in this run, and the others with the reason."""
    verified, valid = set(verified_devices or []), set(valid_accounts or [])
    admitted, blocked = [], []
    for entry in batch:
        reason = None
        if entry['device'] in gate['devices'] and entry['device'] not in verified:
            reason = 'device %s: its stored PIN did not verify in this run (or it is quarantined)' % entry['device']
        elif entry['account'] in gate['accounts'] and entry['account'] not in valid:
            reason = 'account %s: its stored PIN was not accepted in this run (or it is quarantined)' % entry['account']
        if reason:  # shaped as a module result, so the role counts and shows it with the failures
            blocked.append(dict(device=entry['device'], account=entry['account'], status='blocked', changed=False,
                                failed=True, msg=reason + '; nothing was sent for this agent (resolve the entry: '
                                                          'see the audit report)'))
        else:
            admitted.append(entry)
    return {'batch': admitted, 'blocked': blocked}


def _stored(store, kind, number):
    entry = (store or {}).get(kind, {}).get(number)
    return entry.get('current') if entry else None
