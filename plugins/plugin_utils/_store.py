# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential store of one PABX: its document, its schema, and what an entry may hold.

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
``quarantined``: nothing is sent for it until a person resolves it. ``reset_claim``, ``reset_refused`` and
``forced_refused`` follow a person's word that the count was reset at the PABX console (see ``claim_reset``).
``unanswered`` (absent when empty) lists the attempts among ``wrong_attempts`` whose answer nobody saw: a PIN
that was out when every process of a run was killed, by its role (``current``, ``pending``, ``sent:<i>``, the
i-th of the ``sent`` PINs ``candidates`` lists, or ``unknown``) and the module run's mark, never the PIN. They
are counted as wrong until the PABX accepts a PIN of the entry, and the next run tries the newest one's PIN first
(``resume_order``). Schema 1 stores (without the three new fields) are read as schema 2.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

SCHEMA = 2
SCHEMAS_READ = (1, 2)
KINDS = ('devices', 'accounts')
HISTORY_KEPT = 24
SENT_KEPT = 5  # the newest sent-but-unseen (or replaced) PINs kept as candidates
SENT_KEPT_DAYS = 30  # a change the PABX has not applied in a month will not be
TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
# wrong attempts a claim that the console reset the PABX's count may forgive: the store risks no more than this
# beyond the budget on people's word. One, so that with check_api's one wrong attempt per number (its ledger) the
# default budget 2 stays at 4 wrong attempts at most: one short of a lockout at 5.
CLAIM_FORGIVES = 1


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
    for kind in KINDS:  # a hand-edited store: a clear message, not a Python error further on
        odd = next((number for number, entry in store[kind].items()
                    if not isinstance(entry, dict) or not isinstance(entry.get('current'), str)), None)
        if odd is not None:
            raise StoreError('the credential store\'s %s entry %s is not a record with its PIN as a string in '
                             '"current": correct the store, or restore an earlier version' % (kind, str(odd)[:40]))
    return store


def parse_time(text):
    return datetime.datetime.strptime(text, TIME_FORMAT) if text else None


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


def role_pin(entry, role):
    """The PIN an ``unanswered`` role names in the entry as it is, or None (the store changed since)."""
    if role == 'current':
        return entry['current']
    if role == 'pending':
        return entry.get('pending')
    if isinstance(role, str) and role.startswith('sent:') and role[5:].isdigit():
        sent = [pin for pin in candidates(entry) if pin != entry.get('pending')]
        index = int(role[5:])
        return sent[index] if index < len(sent) else None
    return None


def resume_order(entry, known):
    """The candidates to give the module for an entry whose PIN was out when a run was killed: ``known`` turned
    round to start at that PIN (the newest one whose PIN the entry still has), with the current PIN in its place
    (the module then starts from the first one listed); ``known`` as it is otherwise.

    The PABX's answer to that PIN is the one the killed run never got: accepted, the entry is good and its count
    is 0 again; refused, the attempt that was out was wrong too (same PIN, same verdict), as its count said.
    Tried first because it is the likeliest PIN: the killed run had got past the ones before it.
    """
    if not int(entry.get('wrong_attempts') or 0):
        return known
    for record in reversed(entry.get('unanswered') or []):
        pin = role_pin(entry, record.get('role'))
        if pin is None or (pin != entry['current'] and pin not in known):
            continue
        if pin == entry['current']:
            return known  # the current PIN is tried first anyway
        natural = [entry['current']] + list(known)
        start = natural.index(pin)
        return natural[start:] + natural[:start]
    return known


def writable(store, kind):
    """A new store document sharing the entries, which the caller copies before it changes one.

    A deep copy of ten thousand entries, twice per round, costs more than the round's own work.
    """
    store = dict(store)
    store[kind] = dict(store[kind])
    return store


def normal(entry):
    """The entry with the fields schema 1 lacks filled in, to compare entries of either schema."""
    return dict(dict(wrong_attempts=0, quarantined=None, sent=[], pending=None, unanswered=[]), **entry)


def keep_sent(sent, now):
    recent = [s for s in sent if parse_time(s['at']) and now - parse_time(s['at']) < datetime.timedelta(
        days=SENT_KEPT_DAYS)]
    return recent[:SENT_KEPT]


def wrong_since_accepted(entry):
    """Every wrong PIN sent for the entry since the PABX last accepted one, each reset claim taken as false: the most
    the PABX may count (a reset at its console only lowers it). Outside a claim, ``wrong_attempts``."""
    claim = entry.get('reset_claim') or {}
    spent = int(entry.get('wrong_attempts') or 0)
    return int(claim.get('from') or 0) + max(spent - int(claim.get('to') or 0), 0) if claim else spent


def claim_blocked(entry, forced=False):
    """The stamp of the refusal that keeps a claim from being taken for the entry, or None.

    After a ``forced`` claim is refused, no claim at all is taken until the PABX accepts a PIN of the entry; after
    a plain one is refused, only a ``forced`` one.
    """
    if entry.get('forced_refused'):
        return entry['forced_refused']
    return None if forced else entry.get('reset_refused')


def claim_reset(entry, stamp, forced=False):
    """(entry, trusted): a person's word that the PABX's count of wrong attempts was reset at the console.

    Trusted, the count forgives up to CLAIM_FORGIVES wrong attempt (enough to verify one PIN of a spent entry), and
    the claim is kept (``reset_claim``: the whole count it replaced, ``from``; the count it left, ``to`` when not 0)
    until the PABX answers. If the PABX refuses a PIN before one is accepted, the console did not reset its count
    (or the PIN is not the one set there): the commit adds back what the claim forgave (``reset_refused``). Then a
    plain claim is not trusted again until a PIN is accepted, a ``forced`` one once more (``forced_refused`` when
    that is refused too), so that careless repeats cannot add up to a lockout.

    Whatever the claims, the count since the last accepted PIN stays within the budget plus CLAIM_FORGIVES: each
    claim forgives at most that much, the modules send nothing once the count left reaches the budget, and a refusal
    adds the forgiven attempts back. An earlier claim the PABX never answered is carried into the new one.
    """
    if claim_blocked(entry, forced):
        return entry, False
    spent = wrong_since_accepted(entry)
    left = max(spent - CLAIM_FORGIVES, 0)
    claim = {'at': stamp, 'from': spent}
    if left:
        claim['to'] = left
    if forced or (entry.get('reset_claim') or {}).get('forced'):
        claim['forced'] = True
    return dict(entry, wrong_attempts=left, reset_claim=claim), True


def settle_claim(entry, accepted, stamp):
    """The entry with its reset claim settled by the PABX's answers (see ``claim_reset``); in place."""
    claim = entry.get('reset_claim')
    if accepted:  # the PABX's count is 0 again: every claim and refusal is over
        for field in ('reset_claim', 'reset_refused', 'forced_refused'):
            entry.pop(field, None)
    elif claim and int(entry.get('wrong_attempts') or 0) > int(claim.get('to') or 0):
        entry['wrong_attempts'] = wrong_since_accepted(entry)
        entry['reset_refused'] = stamp
        if claim.get('forced'):
            entry['forced_refused'] = stamp
        entry.pop('reset_claim', None)
    return entry


def budget_spent(wrong_attempts, max_wrong, unanswered=0, untried=0):
    """Why an entry whose count reached the budget is quarantined, and what a person does about it.

    ``unanswered``: how many of them were out when a run was killed, their answer never seen; ``untried``: how many
    of the store's PINs for it the budget left untried (the PABX may hold one of those)."""
    unanswered = min(int(unanswered or 0), int(wrong_attempts))
    lost = (' (%d of them out when a run was killed: answers nobody saw, counted as wrong)' % unanswered
            if unanswered else '')
    spent = ('%d wrong password(s) sent since it was last known good%s, the budget (digitro_max_wrong_attempts %d)'
             % (wrong_attempts, lost, max_wrong))
    if untried:
        return ('%s, before %d of the PINs the store has for it could be tried, and the PABX may hold one of those: '
                'find out which at its console (show_passwords lists the store\'s), and give it to resolve_passwords '
                'with digitro_reset_attempts=true' % (spent, untried))
    if unanswered:
        # the PABX may have accepted those PINs: its own count says which, and the stored PIN may be good
        return ('%s: look at its count of wrong attempts at the console; if it shows fewer, give the store\'s PIN '
                '(show_passwords) to resolve_passwords with digitro_reset_attempts=true; otherwise set a PIN at its '
                'console and tell the store the same way' % spent)
    return ('%s: set a PIN at its console, then tell the store with resolve_passwords and digitro_reset_attempts=true'
            % spent)
