# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A call-centre roster (who logs in where) turned into a digitro_dac_session batch, and its report.

A roster is checked whole before anything is sent: its rows (columns, numbers, states, one row per device),
then, once the PABX's credential store is loaded, that the store knows every number, and that a PIN a row gives
is one the store knows for it. A DAC run sends the store's PINs only, verified first within the wrong-attempt
budget (``store_numbers``, ``admit``): a roster's PIN is never sent as such. A roster keeps the PINs of the day it
was made; after a rotation, sending them each morning would lock the extensions (the PABX counts every wrong one)
while the store, which knows the right ones, counted none. Messages name rows, columns and numbers, never a PIN.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils._outcome import exceeds
from ansible_collections.digitro.pabx.plugins.plugin_utils._spreadsheet import dict_reader
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import candidates
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_number, check_password

STATES = ('logged_in', 'logged_out')
NUMBERS = ('device', 'account')
PASSWORDS = ('device_password', 'account_password')
COLUMNS = NUMBERS + ('state',) + PASSWORDS
SHOWN = 10  # mistakes, and numbers of a kind, shown in one message

# How a roster meant for some PABXs reaches only them; said whenever a roster names numbers a store lacks.
PER_PABX = ("a roster given with -e (or an AWX survey) goes to every PABX of the play, so give each PABX its own "
            "roster (dac_sessions_roster or dac_sessions_roster_csv in host_vars/%s.yml and the other PABXs' "
            "host_vars, or -e 'dac_sessions_roster_csv=rosters/{{ inventory_hostname }}.csv'), or run it for its "
            "PABX alone with --limit")

# Said whenever a DAC run is asked to send PINs that are not the store's.
WITHOUT_STORE = ('dac_sessions_passwords_from_store: false is refused: a DAC run sends only the PINs of the credential '
                 'store, so that every wrong one counts in its wrong-attempt ledger and none is sent beyond '
                 'digitro_max_wrong_attempts. Import this PABX\'s PINs into its store (playbook import_passwords) and '
                 'drop the setting. Nothing was sent to the PABX.')


class RosterError(ValueError):
    pass


def parse_csv(text):
    """Rows of ``device,account[,state]`` (a header line is required)."""
    return [row for label, row in _csv_rows(text)]


def _csv_rows(text):
    """(label, row) of each CSV row, the label naming its line."""
    reader = dict_reader(text)
    if not set(NUMBERS) <= set(reader.fieldnames or []):
        raise RosterError('the roster CSV needs a header line with the columns device,account (and optionally state)')
    found = []
    for row in reader:
        label = 'roster CSV line %d' % reader.line_num
        if row.get(None):
            raise RosterError('%s has more fields than the header line (a separator inside a value?)' % label)
        found.append((label, dict((k, (v or '').strip()) for k, v in row.items() if k)))
    return found


def rows(roster, default_state='logged_in'):
    """The roster's rows, checked and made plain: ``device``, ``account``, ``state`` and the passwords it gives.

    ``roster`` is a list of dicts or the text of a CSV file. Every mistake is named at once (the first
    ``SHOWN``), by row or CSV line, column and number; RosterError otherwise.
    """
    if default_state not in STATES:
        raise RosterError('dac_sessions_state must be logged_in or logged_out')
    if isinstance(roster, str):
        labelled = _csv_rows(roster)
        where = 'the roster CSV'
    elif isinstance(roster, list):
        labelled = [('roster row %d' % (index + 1), row) for index, row in enumerate(roster)]
        where = 'the roster'
    else:
        raise RosterError('the roster must be a list of rows (device, account, optionally state) or the text of a '
                          'CSV file, not a %s' % type(roster).__name__)
    if not labelled:
        raise RosterError('%s has no rows: give one row per agent, with its device and account' % where)
    checked, errors, devices = [], [], {}
    for label, row in labelled:
        found, plain = _row(label, row, default_state)
        errors.extend(found)
        if plain is None:
            continue
        first = devices.get(plain['device'])
        if first:
            errors.append('%s and %s both name device %s (one row per device)' % (first, label, plain['device']))
        devices.setdefault(plain['device'], label)
        checked.append(plain)
    if errors:
        more = ['... and %d more' % (len(errors) - SHOWN)] if len(errors) > SHOWN else []
        raise RosterError('; '.join(errors[:SHOWN] + more))
    return checked


def _row(label, row, default_state):
    """(errors, the plain row or None) of one roster row."""
    if not isinstance(row, dict):
        return ['%s is not a mapping with device and account' % label], None
    unknown = sorted(str(k) for k in row if k not in COLUMNS)
    if unknown:
        return ['%s: unknown column(s) %s (the columns are %s)' % (label, ', '.join(unknown), ', '.join(COLUMNS))], None
    errors, plain = [], {}
    for field in NUMBERS:
        value = row.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            errors.append('%s: %s must be a number such as 100000' % (label, field))
            continue
        problem = check_number(field, (value or '').strip())
        if problem:
            errors.append('%s: %s' % (label, problem))
        plain[field] = (value or '').strip()
    state = row.get('state') or default_state
    if state not in STATES:
        # the value is not shown: it could be a PIN in the wrong column
        errors.append('%s: state must be logged_in or logged_out' % label)
    plain['state'] = state
    for field in PASSWORDS:
        value = row.get(field)
        if value in (None, ''):
            continue
        if not isinstance(value, str):
            errors.append('%s: %s must be quoted text (an unquoted PIN loses its leading zeros)' % (label, field))
            continue
        problem = check_password(field, value)
        if problem:
            errors.append('%s: %s' % (label, problem))
        plain[field] = value
    return errors, plain


def check(roster, default_state='logged_in', from_store=True):
    """What a roster asks, without its passwords: the count of rows, and its devices and accounts. Without
    ``from_store`` (a run without the store's ledger), RosterError."""
    if not from_store:
        raise RosterError(WITHOUT_STORE)
    checked = rows(roster, default_state)
    return {'rows': len(checked), 'devices': sorted(set(r['device'] for r in checked)),
            'accounts': sorted(set(r['account'] for r in checked))}


def unknown_numbers(checked, store):
    """The numbers of the roster the store cannot give a PIN for (a PIN in the row does not count: it is never sent).

    ``devices`` and ``accounts``: not in the store (or there without a PIN); ``retired``: kind and number of
    those in the store's archive.
    """
    found = {'devices': [], 'accounts': [], 'retired': []}
    for row in checked:
        for field, kind in (('device', 'devices'), ('account', 'accounts')):
            number = row[field]
            if _stored(store, kind, number) or number in found[kind]:
                continue
            found[kind].append(number)
            if _retired(store, kind, number):
                found['retired'].append('%s %s' % (field, number))
    return found


def foreign_pins(checked, store):
    """The numbers whose row gives a PIN the store does not know for them: neither the current one nor a candidate
    the rotation would try (``_store.candidates``). ``devices`` and ``accounts``, each a list of numbers.

    Such a PIN is most likely stale (the roster made before a rotation); sent every morning, it would spend the
    PABX's count of wrong attempts, which only the store's ledger can keep within the budget.
    """
    found = {'devices': [], 'accounts': []}
    for row in checked:
        for field, kind in (('device', 'devices'), ('account', 'accounts')):
            given, number = row.get(field + '_password'), row[field]
            if given and given not in _known(store, kind, number) and number not in found[kind]:
                found[kind].append(number)
    return found


def batch(roster, store=None, default_state='logged_in', from_store=True, pabx=None):
    """The module batch: each roster row with its state and the store's current PINs for its numbers.

    Refused whole (RosterError), before anything is sent, when a row is wrong, when the store lacks a number, or
    when a row gives a PIN the store does not know for its number. A PIN a row gives is only checked: the batch
    carries the store's. ``from_store`` false (a run without the store's ledger) is refused.
    """
    if not from_store:
        raise RosterError(WITHOUT_STORE)
    checked = rows(roster, default_state)
    missing = unknown_numbers(checked, store)
    if missing['devices'] or missing['accounts']:
        raise RosterError(refusal(missing, pabx))
    foreign = foreign_pins(checked, store)
    if foreign['devices'] or foreign['accounts']:
        raise RosterError(stale_refusal(foreign, pabx))
    return [dict(device=row['device'], account=row['account'], state=row['state'],
                 device_password=_stored(store, 'devices', row['device']),
                 account_password=_stored(store, 'accounts', row['account']))
            for row in checked]


def _named(found):
    return '; '.join('%s %s' % (kind, _listed(found[kind])) for kind in ('devices', 'accounts') if found[kind])


def _store_of(pabx):
    return 'the credential store of %s' % pabx if pabx else 'the credential store'


def refusal(missing, pabx=None):
    """The message of a roster whose numbers have no PIN to send: which, why, and how to fix it."""
    retired = (' (retired from the store: %s)' % _listed(missing['retired'])) if missing['retired'] else ''
    return ('the roster names numbers %s does not know: %s%s. Nothing was sent to this PABX. If the roster is '
            'meant for another PABX: %s. If it is meant for this one: import their PINs into its store (playbook '
            'import_passwords).' % (_store_of(pabx), _named(missing), retired, PER_PABX % (pabx or '<pabx>')))


def stale_refusal(foreign, pabx=None):
    """The message of a roster that gives PINs the store does not know: which numbers, why, and what to do."""
    limit = ' --limit %s' % pabx if pabx else ''
    return ('the roster gives PINs (device_password, account_password) that differ from every PIN %s holds for %s: '
            'most likely PINs of the day the roster was made, changed since by the rotation. Nothing was sent to '
            'this PABX: sent every morning, a wrong PIN would lock the extension. A DAC run sends the PINs of the '
            'store, so remove the device_password and account_password columns from the roster. If a roster PIN '
            'really is what the PABX holds now (set at its console), tell the store first: ansible-playbook '
            'digitro.pabx.resolve_passwords%s -e @pins.vault.yml (digitro_passwords: {"<number>": "<PIN>"}), '
            'then run again.' % (_store_of(pabx), _named(foreign), limit))


def _listed(numbers):
    more = ' and %d more' % (len(numbers) - SHOWN) if len(numbers) > SHOWN else ''
    return ', '.join(numbers[:SHOWN]) + more


def store_numbers(roster, store):
    """The devices and accounts of the roster in the store: every PIN a DAC run sends is the store's, verified
    first, within the wrong-attempt budget, since a DAC request carries it. ``accounts`` maps each account to its
    roster device, through which it is checked.
    """
    devices, accounts = set(), {}
    for row in rows(roster):
        device, account = row['device'], row['account']
        if _stored(store, 'devices', device):
            devices.add(device)
        if _stored(store, 'accounts', account):
            accounts.setdefault(account, device)
    return {'devices': sorted(devices), 'accounts': accounts}


def admit(batch, gate, verified_devices, valid_accounts, store=None):
    """The batch entries whose stored passwords proved good in this run, and the others with the reason.

    ``store``: the store as this run's checks left it; the admitted entries carry its PINs, the ones that verified
    (a candidate the PABX accepted became current, and the batch, made before, still has the former one).
    """
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
        elif store:
            admitted.append(dict(entry, device_password=_stored(store, 'devices', entry['device']),
                                 account_password=_stored(store, 'accounts', entry['account'])))
        else:
            admitted.append(entry)
    return {'batch': admitted, 'blocked': blocked}


def report(results, blocked=None, check_mode=False, pabx=None):
    """The lines a DAC run shows: a summary, then one line per agent moved (or that would move), per agent
    logged out of a device to make room, and per failure. No line is empty; none holds a PIN."""
    results, blocked = list(results or []), list(blocked or [])
    moved = [r for r in results if r.get('changed')]
    failed = [r for r in results if r.get('failed')] + blocked
    unchanged = len([r for r in results if r.get('status') == 'unchanged'])
    head = '%s: ' % pabx if pabx else ''
    if check_mode:
        lines = ['%sdry run, nothing was changed: %d would move, %d already there, %d failed'
                 % (head, len(moved), unchanged, len(failed))]
    else:
        lines = ['%s%d moved, %d already there, %d failed' % (head, len(moved), unchanged, len(failed))]
    for result in moved:
        lines.extend(_moves(result, check_mode))
    lines.extend('FAILED: %s' % (r.get('msg') or 'device %s, agent %s' % (r.get('device'), r.get('account')))
                 for r in failed)
    return [line for line in (' '.join(str(line).split()) for line in lines) if line]


def _moves(result, check_mode):
    """The words of one moved entry: who was (or would be) logged in or out of which device."""
    device, agent = result.get('device'), result.get('account')
    before, after = result.get('before') or {}, result.get('after') or {}
    out, login = ('would log out', 'would log in') if check_mode else ('logged out', 'logged in')
    if after.get('state') != 'logged_in':
        return ['%s: agent %s from device %s' % (out, before.get('account') or agent, device)]
    lines = []
    other = before.get('account') if before.get('state') == 'logged_in' else ''
    if other and other != agent:
        lines.append('%s: agent %s from device %s, to make room for agent %s' % (out, other, device, agent))
    lines.append('%s: agent %s on device %s' % (login, agent, device))
    return lines


def _stored(store, kind, number):
    entry = ((store or {}).get(kind) or {}).get(number)
    return entry.get('current') if isinstance(entry, dict) else None


def _known(store, kind, number):
    """Every PIN the store knows the PABX may hold for the entry: the current one, then the rotation's candidates."""
    entry = ((store or {}).get(kind) or {}).get(number)
    if not isinstance(entry, dict) or not entry.get('current'):
        return []
    return [entry['current']] + candidates(entry)


def _retired(store, kind, number):
    """Whether the store's archive (the retired numbers) holds this number, whichever way it is laid out."""
    archive = (store or {}).get('archive')
    if isinstance(archive, dict):
        section = archive.get(kind)
        return isinstance(section, (dict, list)) and number in section
    if isinstance(archive, list):
        return any(isinstance(e, dict) and str(e.get('number')) == number and e.get('kind') in (kind, kind[:-1])
                   for e in archive)
    return False


def outcome(results, blocked, total, max_fail_percent, pabx):
    """The counts AWX gets (``stats``) and why the run must fail (``verdict``, '' when it need not). Agents left
    out because a stored PIN did not prove good count as failed: a person must look."""
    results, blocked = results or [], blocked or []
    failed = sum(1 for r in results if r.get('failed')) + len(blocked)
    stats = {'digitro_dac_moved': sum(1 for r in results if r.get('changed')),
             'digitro_dac_unchanged': sum(1 for r in results if r.get('status') == 'unchanged'),
             'digitro_dac_failed': failed}
    verdict = ''
    if exceeds(failed, total, max_fail_percent):
        verdict = ('%d of %d roster entries of %s failed (more than dac_sessions_max_fail_percent = %s%%); see above.'
                   % (failed, total, pabx, max_fail_percent))
    return {'stats': stats, 'verdict': verdict}
