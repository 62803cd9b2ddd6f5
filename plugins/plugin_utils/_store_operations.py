# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the operator playbooks do to a credential store: show entries, check PINs a person gives to set or
resolve, retire numbers, restore an earlier version. Controller-only; no message carries a PIN.

Retired entries move to the store's ``archive`` section (``{"devices": {number: entry}, "accounts": {...}}``,
each entry with ``removed_at``), which every run leaves alone.

What a person types may hold a PIN by mistake (``1000:482913``, a swapped pair): a message names such an item by
its position, and names a number only when it is one the store has.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import re

from ansible_collections.digitro.pabx.plugins.plugin_utils._pin_policy import violations
from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_report import unanswered
from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_selection import ordinal as _ordinal, quiet_until, split_numbers
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import (
    CLAIM_FORGIVES, HISTORY_KEPT, KINDS, SCHEMA, StoreError, TIME_FORMAT, check_store, claim_blocked, claim_reset,
    wrong_since_accepted)

ARCHIVE = 'archive'
SHOWN_PROBLEMS = 20
HISTORY_SHOWN = 3
_ASCII_DIGITS = re.compile(r'[0-9]+')


def is_digits(text):
    """ASCII digits only: str.isdigit() also accepts '²' and full-width digits, which no PABX keypad sends, and a
    pattern's ``$`` a final newline."""
    return bool(_ASCII_DIGITS.fullmatch(text))


def archive_of(store):
    found = store.get(ARCHIVE) or {}
    return dict((kind, dict(found.get(kind) or {})) for kind in KINDS)


def kinds_of(store, number, archive=None):
    """The kinds an active number (or, with ``archive``, a retired one) has in the store."""
    sections = store if archive is None else archive
    return [kind for kind in KINDS if number in sections[kind]]


def _fail(problems, what):
    shown = '; '.join(problems[:SHOWN_PROBLEMS])
    more = ' (and %d more)' % (len(problems) - SHOWN_PROBLEMS) if len(problems) > SHOWN_PROBLEMS else ''
    raise StoreError('%s: %s%s. Nothing was changed.' % (what, shown, more))


def numbers_of(store, value, option, retired=False, single_kind=False):
    """The numbers an operator named, checked: ASCII digits, known to the store (or retired, with ``retired``),
    and (``single_kind``) not both a device and an account."""
    store = check_store(store)
    numbers = split_numbers(value)
    if isinstance(value, dict) or not numbers:
        raise StoreError('%s is empty or not a list: give the numbers, separated by commas, spaces or newlines '
                         '(e.g. -e %s=1000,1001)' % (option, option))
    bad = [_ordinal(i) for i, n in enumerate(numbers, 1) if not is_digits(n)]
    if bad:
        raise StoreError('%s must be extension or account numbers (ASCII digits, separated by commas, spaces or '
                         'newlines): its %s item(s) are not (not shown: a PIN may have slipped in)'
                         % (option, ', '.join(bad[:SHOWN_PROBLEMS])))
    archive = archive_of(store)
    unknown = [n for n in numbers if not kinds_of(store, n) and not (retired and kinds_of(store, n, archive))]
    if unknown:  # a number the store has (a retired one) is named; any other by position: it may be a PIN
        retired_ones = [n for n in unknown if kinds_of(store, n, archive)]
        others = [_ordinal(i) for i, n in enumerate(numbers, 1) if n in unknown and n not in retired_ones]
        raise StoreError('%s names %d number(s) the credential store does not have%s%s' % (
            option, len(set(unknown)), ': its %s item(s) (not shown, in case one is a PIN: check them, or import '
            'them first)' % ', '.join(others[:SHOWN_PROBLEMS]) if others else '',
            '%s%s retired: import them to bring them back' % ('; ' if others else ': ', ', '.join(retired_ones[:SHOWN_PROBLEMS]))
            if retired_ones else ''))
    both = [n for n in numbers if len(kinds_of(store, n)) > 1]
    if single_kind and both:
        raise StoreError('%s names %s, which the store has both as an extension and as an account: this playbook '
                         'cannot tell which one is meant; import the one you mean instead' % (option, ', '.join(both)))
    return list(dict.fromkeys(numbers))


def show(store, numbers):
    """One line per entry of the numbers given, with its PINs and state: the only output of the collection that
    holds PINs. A number that is both an extension and an account has a line for each."""
    store = check_store(store)
    archive = archive_of(store)
    lines = []
    for number in numbers_of(store, numbers, 'digitro_numbers', retired=True):
        for kind in kinds_of(store, number):
            entry = store[kind][number]
            lines.append('%s %s: PIN %s; %s; changed %s; %d wrong attempt(s) since last known good%s%s' % (
                kind[:-1], number, entry['current'], state_of(entry), entry.get('changed_at') or 'never (imported)',
                int(entry.get('wrong_attempts') or 0),
                '; requested from device %s' % entry['device'] if entry.get('device') else '', _may_hold(entry)))
        if not kinds_of(store, number):
            for kind in kinds_of(store, number, archive):
                entry = archive[kind][number]
                lines.append('%s %s: retired %s; its last PIN %s%s%s' % (
                    kind[:-1], number, entry.get('removed_at') or '?', entry.get('current'),
                    '; a change to %s was in doubt' % entry['pending'] if entry.get('pending') else '',
                    _may_hold(entry)))
    return lines


def _may_hold(entry):
    """The other PINs an entry's extension may hold, for a person trying them at the console."""
    parts = []
    if entry.get('sent'):
        parts.append('it may also hold %s (changes that never showed, or PINs an import replaced)'
                     % ', '.join(s['password'] for s in entry['sent']))
    if entry.get('history'):
        parts.append('earlier PINs %s' % ', '.join(entry['history'][:HISTORY_SHOWN]))
    return ''.join('; ' + part for part in parts)


def state_of(entry):
    if entry.get('quarantined'):
        return 'quarantined since %s: %s' % (entry['quarantined'].get('at') or '?', entry['quarantined'].get('reason'))
    if entry.get('pending'):
        return 'pending: a change to %s is in doubt (the PABX holds one of the two; the next run settles it)' \
            % entry['pending']
    return 'ok'


def given_passwords(passwords):
    """The mapping a person gave, as {number: PIN} with the numbers trimmed, or a StoreError naming positions."""
    if isinstance(passwords, str):
        try:
            passwords = json.loads(passwords)
        except ValueError:
            passwords = None
    if not isinstance(passwords, dict) or not passwords:
        raise StoreError('digitro_passwords must be a mapping of numbers to PINs, like {"1000": "482913"} '
                         '(in a vault-encrypted vars file, or JSON from an AWX survey password field)')
    problems, found = [], {}
    for index, (number, pin) in enumerate(passwords.items(), 1):
        number = str(number).strip()
        if not is_digits(number):
            problems.append('its %s key is not an extension or account number (not shown: "number:PIN" without a '
                            'space after the colon is one key, with the PIN in it)' % _ordinal(index))
        elif number in found:
            problems.append('%s is given twice' % number)
        else:
            found[number] = pin
    if problems:
        _fail(problems, 'digitro_passwords cannot be used as given')
    return found


def chosen(store, passwords, verify_only=False, max_wrong=2, policy=None, policy_exception=False,
           reset_attempts=False, now=None, late_apply_hours=1):
    """The PINs a person gives (set_passwords, or with ``verify_only`` resolve_passwords), checked before the PABX
    is asked anything; returns {numbers, devices, accounts}. Every problem is named by number, never by PIN.
    ``reset_attempts`` is true, false or ``forced`` (see ``_store.claim_reset``)."""
    store = check_store(store)
    passwords = given_passwords(passwords)
    problems, numbers, kinds = [], [], []
    for index, (number, pin) in enumerate(passwords.items(), 1):
        if isinstance(pin, bool) or not isinstance(pin, str):
            problems.append('the PIN of %s is not a quoted string (YAML reads 012345 as the number 12345: quote '
                            'every PIN)' % number)
            continue
        if not is_digits(pin):
            problems.append('the PIN of %s is not ASCII digits only' % number)
            continue
        found = kinds_of(store, number)
        if not found:
            problems.append('its %s number is not in the credential store (not shown, in case it is a PIN: check '
                            'the numbers, or import it first)' % _ordinal(index))
            continue
        if len(found) > 1:
            problems.append('%s is both an extension and an account in the store: this playbook cannot tell which '
                            'one is meant' % number)
            continue
        entry = store[found[0]][number]
        problems.extend('%s %s' % (number, p) for p in _entry_problems(
            number, entry, pin, verify_only, max_wrong, policy, policy_exception, reset_attempts, now,
            late_apply_hours))
        numbers.append(number)
        kinds.append(found[0])
    if problems:
        _fail(problems, 'digitro_passwords cannot be %s as given' % ('resolved' if verify_only else 'set'))
    return {'numbers': numbers, 'devices': kinds.count('devices'), 'accounts': kinds.count('accounts')}


def _entry_problems(number, entry, pin, verify_only, max_wrong, policy, policy_exception, reset_attempts, now,
                    late_apply_hours):
    spent = int(entry.get('wrong_attempts') or 0)
    if verify_only:
        blocked = claim_blocked(entry, reset_attempts == 'forced') if reset_attempts else None
        if reset_attempts and not blocked:
            spent = claim_reset(entry, '', reset_attempts == 'forced')[0]['wrong_attempts']  # the count it would leave
        return [] if spent < max_wrong else [_unsafe_to_resolve(entry, spent, max_wrong, reset_attempts, blocked)]
    if entry.get('quarantined'):
        return ['is quarantined: find out what it holds and tell the store with resolve_passwords first']
    if entry.get('pending'):
        return ['has a change in doubt: let the rotation settle it (or resolve_passwords) first']
    until = quiet_until(entry, {'late_apply_hours': late_apply_hours}) if now is not None else None
    if until and until > now:
        return ['had a change that never showed, which may still apply until %s: set it after that'
                % until.strftime(TIME_FORMAT)]
    if spent >= max_wrong:
        return ['has used its wrong-attempt budget: resolve it first']
    if policy_exception or pin == entry['current']:  # already its PIN: the run verifies it, nothing is changed
        return []
    broken = violations(pin, number, [entry['current']] + (entry.get('history') or []), policy)
    return ['PIN breaks the PIN policy (%s); set digitro_pin_policy_exception=true for a deliberate exception'
            % ', '.join(broken)] if broken else []


def _unsafe_to_resolve(entry, spent, max_wrong, reset_attempts, blocked):
    """Why the PIN given is not sent for an entry whose count is at the budget, and what a person does next."""
    console = ('At the console, unlock it if it is locked, set a PIN and check it by logging in on a phone with it; '
               'then have the store\'s count cleared by hand, as docs/operations.md says under '
               'digitro_reset_attempts=forced')
    if entry.get('forced_refused'):
        return ('has used its wrong-attempt budget, and a PIN given with digitro_reset_attempts=forced was refused on '
                '%s: the console did not reset the PABX\'s count, or that PIN is not the one set there. The PABX may '
                'count %d wrong attempts, so no claim is taken for it until it accepts a PIN. %s'
                % (entry['forced_refused'], wrong_since_accepted(entry), console))
    if blocked:
        return ('has used its wrong-attempt budget, and a PIN given as set at its console was refused on %s, so the '
                'PABX may count more wrong attempts than the store: another wrong PIN could lock it. At the console, '
                'unlock it if it is locked and set a PIN; then run again with digitro_reset_attempts=forced' % blocked)
    if reset_attempts:
        return ('has %d wrong attempts since the PABX last accepted a PIN of it, claims of a console reset included '
                '(digitro_max_wrong_attempts %d, and %d more at most on people\'s word): another could lock it. %s'
                % (wrong_since_accepted(entry), max_wrong, CLAIM_FORGIVES, console))
    return ('has used its wrong-attempt budget (%d of digitro_max_wrong_attempts %d): the next wrong PIN may '
            'lock it. If the PIN given was set at its console (which resets the PABX\'s count), run again '
            'with digitro_reset_attempts=true' % (spent, max_wrong))


# What a check run learns of a PIN given, from the PABX's answers: it accepts that PIN (verified, or rotated: it
# held it already), or it accepts the store's PIN, so that a real run would ask for the change (would_rotate).
MET_IN_CHECK_MODE = ('verified', 'rotated', 'would_rotate')


def unmet(store, passwords, report=None, check_mode=False):
    """The numbers given to set_passwords or resolve_passwords that the run did not settle, sorted.

    A real run is judged by the store: the entry holds the PIN given, with no change in doubt and no quarantine.
    A check run writes no PIN into the store, so it is judged by what the PABX answered, the ``report`` rows: a
    number whose row is not one of ``MET_IN_CHECK_MODE`` (or that has no row) is one a real run would not settle.
    """
    store = check_store(store)
    given = given_passwords(passwords)
    if check_mode:
        statuses = dict((row['number'], row['status']) for row in report or [])  # a number given has one kind
        return sorted(number for number in given if statuses.get(number) not in MET_IN_CHECK_MODE)
    missed = []
    for number, pin in given.items():
        found = kinds_of(store, number)
        entry = store[found[0]][number] if len(found) == 1 else None
        if entry is None or entry.get('current') != str(pin) or entry.get('pending') or entry.get('quarantined'):
            missed.append(number)
    return sorted(missed)


def unmet_verdict(store, passwords, report, verify_only, check_mode, report_file, pabx):
    """Why a set_passwords or resolve_passwords run must fail ('' when it need not): the numbers whose PIN given
    it did not settle (``unmet``), each with its report reason, and what a person does next. The same words for a
    real run and a check run, which verifies the same PINs (a refused one costs a wrong attempt either way)."""
    given = given_passwords(passwords)
    missed = unmet(store, given, report, check_mode)
    if not missed:
        return ''
    rows = dict((row['number'], row) for row in report or [] if row['number'] in missed)
    why = dict((number, row.get('reason') or row['status']) for number, row in rows.items())
    named = '; '.join('%s (%s)' % (number, why.get(number, 'not in this run\'s report')) for number in missed[:SHOWN_PROBLEMS])
    more = ' (and %d more)' % (len(missed) - SHOWN_PROBLEMS) if len(missed) > SHOWN_PROBLEMS else ''
    if verify_only:
        what, advice = 'were not verified', (
            'Find the PIN each one holds (log in on a phone with it, or set one at its console), then run '
            'resolve_passwords again with it, with digitro_reset_attempts=true if it was just set at the console. '
            'Every PIN the PABX refuses counts as a wrong attempt, in check mode too.')
    else:
        what, advice = 'would not be set' if check_mode else 'were not set', (
            'Do what each one\'s reason says (a quarantined entry is resolved first, with resolve_passwords), then '
            'run set_passwords again.')
    if any(unanswered(rows[number]) for number in missed if number in rows):
        advice += ' For those the PABX did not answer: check that it is up and reachable, then run again.'
    return '%s%s: %d of the %d PIN(s) given %s: %s%s. %s Each one\'s reason is in the report above (%s).' % (
        pabx, ' (check mode)' if check_mode else '', len(missed), len(given), what, named, more,
        advice, report_file)


def remove(store, numbers, now):
    """Retire numbers: their entries move to the archive with the time; returns {store, removed}."""
    store = copy.deepcopy(check_store(store))
    wanted = numbers_of(store, numbers, 'digitro_numbers', single_kind=True)
    problems = []
    for number in wanted:
        if number in store['devices']:
            users = sorted(a for a, e in store['accounts'].items() if e.get('device') == number and a not in wanted)
            if users:
                problems.append('device %s is the requesting device of account(s) %s: give those another device '
                                '(import them with a device column) or retire them too' % (number, ', '.join(users[:10])))
    if store['accounts'] and not [d for d in store['devices'] if d not in wanted] and \
            [a for a in store['accounts'] if a not in wanted]:
        problems.append('retiring every device leaves the accounts no device to request their changes from')
    if problems:
        _fail(problems, 'digitro_numbers cannot be retired')
    archive, stamp = archive_of(store), now.strftime(TIME_FORMAT)
    for number in wanted:
        kind = kinds_of(store, number)[0]
        archive[kind][number] = dict(store[kind].pop(number), removed_at=stamp)
    store[ARCHIVE] = archive
    store['schema'] = SCHEMA
    return {'store': store, 'removed': wanted}


def restore(present, version, now):
    """The store of an earlier ``version``, with what the present store knows of the PABX kept.

    A restore must not lose a PIN the PABX may hold: for an entry whose PIN the version has another of, every
    PIN of the present entry (active or retired since) is kept as a candidate (tried if the restored one is
    refused), with its wait for a late change, its count of wrong attempts and its quarantine. Entries added
    since are kept; retired ones come back. Returns {store, restored, unchanged, kept}.
    """
    present, version = check_store(present), copy.deepcopy(check_store(version))
    stamp = now.strftime(TIME_FORMAT)
    store = {'schema': SCHEMA, 'devices': version['devices'], 'accounts': version['accounts']}
    archive, archived_before = archive_of(present), archive_of(version)
    restored, unchanged, kept = [], [], []
    for kind in KINDS:
        for number in list(store[kind]):
            now_entry = present[kind].get(number) or archive[kind].pop(number, None)
            if now_entry is None:
                continue
            was = store[kind][number]
            if was.get('current') == now_entry.get('current'):
                merged = dict(now_entry, device=was['device']) if was.get('device') else dict(now_entry)
                merged.pop('removed_at', None)
                store[kind][number] = merged
                unchanged.append(number)
            else:
                store[kind][number] = _merged(was, now_entry, stamp)
                restored.append(number)
        for number, entry in present[kind].items():
            if number not in store[kind]:
                store[kind][number] = entry
                kept.append(number)
        for number, entry in archived_before[kind].items():  # retired then, and still not active
            if number not in store[kind] and number not in archive[kind]:
                archive[kind][number] = entry
    if any(archive[kind] for kind in KINDS):
        store[ARCHIVE] = archive
    return {'store': store, 'restored': sorted(restored), 'unchanged': len(unchanged), 'kept': sorted(kept)}


def _merged(was, now_entry, stamp):
    """The version's entry, with the present entry's PINs as candidates and its ledger.

    The present PIN was known good: it is kept as an imported candidate. Its pending PIN, and its changes that
    never showed, may still apply late: they keep their wait (a pending one from now).
    """
    entry = dict(was)
    entry.pop('removed_at', None)
    sent, seen = [], set([was['current']])

    def add(record):
        if record['password'] and record['password'] not in seen:
            seen.add(record['password'])
            sent.append(record)
    if now_entry.get('pending'):
        add({'password': now_entry['pending'], 'at': stamp})
    add({'password': now_entry['current'], 'at': stamp, 'imported': True})
    for record in (now_entry.get('sent') or []) + (was.get('sent') or []):
        add(dict(record))
    if was.get('pending'):
        add({'password': was['pending'], 'at': stamp, 'imported': True})
    history = [now_entry['current']] + (now_entry.get('history') or []) + (was.get('history') or [])
    entry.update(pending=None, sent=sent,
                 history=[p for p in dict.fromkeys(history) if p != was['current']][:HISTORY_KEPT],
                 wrong_attempts=max(int(was.get('wrong_attempts') or 0), int(now_entry.get('wrong_attempts') or 0)),
                 quarantined=now_entry.get('quarantined'))
    for field in ('reset_refused', 'forced_refused', 'reset_claim'):
        if now_entry.get(field):
            entry[field] = now_entry[field]
        else:
            entry.pop(field, None)
    return entry


def versions_lines(versions):
    """The kept versions as lines people read, newest first."""
    return ['version %-6s %s  %s%s' % (
        v['version'], v.get('saved_at') or '?',
        '%5d devices %5d accounts' % (v['devices'], v['accounts']) if v.get('readable', True) else
        'cannot be read with this store secret (or damaged): not restorable with it',
        '  (the store as it is now)' if v.get('current') else '') for v in versions]
