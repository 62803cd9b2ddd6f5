# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changing one device's or account's password without ever losing it or locking it.

Every wrong password sent counts towards the PABX's lockout, so each entry
carries a budget: ``wrong_attempts`` already spent since it was last known
good, and ``max_wrong_attempts``. No password is sent once the budget is
spent. A password the PABX accepts resets its count (an assumption about the
PABX: docs/api-contract.md), and so resets ours.

1. Identify: verify the current password; if rejected, the ``candidates``
   (passwords the PABX may hold instead: a pending change, one sent earlier),
   in order, within the budget. Nothing else is ever tried. A caller that lists
   the current password among the candidates starts from the first one listed
   instead (a run resuming where a killed one was: see ``attempts``).
2. ``verify_only`` stops here. So does check mode (``would_change``).
3. ``altera-senha`` from the identified password. A clear refusal (400)
   leaves it in place; a lost answer (timeout, dropped connection, 5xx) is
   ambiguous.
4. Confirm: the new password, once (the happy path: three requests in all).
   If it is not in force yet, the old one is asked instead while the change
   has not applied (a correct password costs no attempt), and the new one
   again once the old one stops working. Not confirmed -> ``unconfirmed``:
   the caller keeps both passwords and settles it later by verification only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
import time

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._entry import describe, identity
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._journal import UNKNOWN, key

DEFAULT_MAX_WRONG_ATTEMPTS = 2
CONFIRM_POLLS = 3  # checks after the first one, spread over confirm_timeout
STATUSES_FAILED = ('rejected', 'refused', 'unconfirmed', 'error', 'quarantined')
# what the PABX was last seen to accept, as results say it (never the password itself)
HOLDS_CURRENT, HOLDS_NEW, HOLDS_CANDIDATE = 'current', 'new', 'candidate'


class Budget(object):
    """Wrong attempts of one entry: the count since it was last known good, and the limit.

    ``on_wrong`` is called after each refused password (an account's requests carry its device's PIN too,
    and the refusal may be the device's: see DeviceGates); ``on_count(count, rose)`` with the new count whenever
    it changes, and as the answer to a password that was out (the journal, which outlives a killed run);
    ``on_out(password, count, sync)`` before a password leaves, with the count should it be wrong.
    """

    def __init__(self, spent, limit, on_wrong=None, on_count=None, on_out=None):
        self.spent = int(spent or 0)
        self.limit = int(limit)
        self.asked = 0  # passwords sent in this run
        self.on_wrong = on_wrong
        self.on_count = on_count
        self.on_out = on_out

    def count(self, spent, answered=False):
        """The new count; ``answered``: recorded even when unchanged, as the answer to the password that was out."""
        if (answered or spent != self.spent) and self.on_count is not None:
            self.on_count(spent, spent > self.spent)
        self.spent = spent

    @property
    def left(self):
        return max(self.limit - self.spent, 0)

    def verify(self, client, entry, password):
        """True/False as the PABX answers; None, sending nothing, when the budget is spent.

        The PABX counts a wrong password as it arrives: the journal has it as out, counted, before it leaves, and
        the answer's line after it (a run killed in between leaves it out: see _journal).
        """
        if not self.left:
            return None
        self.asked += 1
        out = self.on_out is not None
        if out:
            self.on_out(password, self.spent + 1, False)
        try:
            accepted = verify(client, entry, password)
        except PabxError as exc:
            if getattr(exc, 'not_sent', False):
                self.asked -= 1  # nothing reached the PABX
                self.count(self.spent, answered=out)
            elif getattr(exc, 'maybe_processed', False):
                # it may have checked the password and counted it: assume the worst; its answer stays unknown, so
                # the journal keeps it out (synced now), and the next run tries it first
                self.spent += 1
                if out:
                    self.on_out(password, self.spent, True)
                elif self.on_count is not None:
                    self.on_count(self.spent, True)
            else:
                self.count(self.spent, answered=out)  # an answer that is no verdict on the password
            raise
        if accepted:
            self.count(0, answered=out)
        else:
            self.wrong()
        return accepted

    def wrong(self):
        self.count(self.spent + 1)
        if self.on_wrong is not None:
            self.on_wrong()


class DeviceRejected(Exception):
    """The requesting device's own PIN was refused, or may have been: the account requests through it must stop.

    ``certain``: the device's PIN itself was refused, so the account's refusal was the device's. Without the
    budget for that check, both are charged.
    """

    def __init__(self, certain):
        super(DeviceRejected, self).__init__()
        self.certain = certain


class DeviceGates(object):
    """Per requesting device: its account entries one at a time, and after any refusal the device's own PIN
    is checked before anything more is sent through it.

    Every account request carries the device's PIN, so a device whose PIN changed during the run would
    otherwise take a wrong attempt from every account request in flight. One at a time, a refusal and the
    check cost the device at most two; a failed check stops every account request through it. With a budget
    below two there is no room for the check: the first refusal stops the device, charged one.
    """

    def __init__(self, journal=None, max_wrong_attempts=DEFAULT_MAX_WRONG_ATTEMPTS):
        self._guard = threading.Lock()
        self._locks = {}
        self.rejected = {}   # device -> its wrong attempts in this run
        self.journal = journal
        self.max_wrong_attempts = int(max_wrong_attempts)

    def lock(self, device):
        with self._guard:
            return self._locks.setdefault(device, threading.Lock())

    def check(self, client, entry):
        """After a refused account request: verify the device's own PIN; raise DeviceRejected when refused.

        The device was verified in this run before any account request went through it (its count was 0); the
        journal has the check as out, counting the refused request and the check, until it is answered.
        """
        device = entry['device']
        if self.max_wrong_attempts < 2:  # the refusal may have been the device's: no budget left to ask
            self._reject(device, 1)
            raise DeviceRejected(certain=False)
        device_only = {'device': device, 'device_password': entry['device_password']}
        journal = self.journal if self.journal is not None and self.journal.path else None
        if journal is not None:
            journal.out('devices', device, 2, 'current')
        try:
            accepted = verify(client, device_only, entry['device_password'])
        except PabxError as exc:
            if journal is not None:
                if getattr(exc, 'maybe_processed', False):
                    journal.out('devices', device, 2, 'current', sync=True)  # no answer: it stays out
                else:
                    journal.record('devices', device, 1)  # the refused request may have been the device's
            raise
        if not accepted:
            self._reject(device, 2)  # the refused request and this check
            raise DeviceRejected(certain=True)
        if journal is not None:
            journal.record('devices', device, 0, sync=False)

    def _reject(self, device, wrong_attempts):
        self.rejected[device] = wrong_attempts
        if self.journal is not None:
            self.journal.record('devices', device, wrong_attempts)


def _credentials(entry, password):
    """The verifica-senha body for ``entry`` with ``password`` as the target's password."""
    body = {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password']}
    if entry.get('account'):
        body[_api.ACCOUNT] = entry['account']
        body[_api.ACCOUNT_PASSWORD] = password
    else:
        body[_api.DEVICE_PASSWORD] = password
    return body


def current_password(entry):
    return entry['account_password'] if entry.get('account') else entry['device_password']


def with_current(entry, password):
    """The entry with ``password`` as the target's current password."""
    entry = dict(entry)
    entry['account_password' if entry.get('account') else 'device_password'] = password
    return entry


def verify(client, entry, password):
    """True when the PABX accepts ``password`` for the entry's target, False on 403; raises otherwise."""
    try:
        client.call(_api.VERIFY_PASSWORD, _credentials(entry, password))
        return True
    except PabxError as exc:
        if exc.status == 403:
            return False
        raise


def _listed(entry):
    """The candidates as given. Without a list, the new password (a standalone task run twice is already done); the
    rotation always gives the list, so that a PIN never sent is never tried."""
    listed = entry.get('candidates')
    if listed is None:
        return [entry['new_password']] if entry.get('new_password') else []
    return list(listed)


def attempts(entry):
    """[(index, password)]: each password the PABX may hold, once, in the order to try them; ``index`` is the
    password's place in the given candidates (None for the current password).

    The current password first, then the candidates as listed; unless the current password is listed among them:
    then from the first one listed. A run that resumes an entry whose PIN was out when a run was killed lists
    that PIN first (and the current password in its place): the PABX's answer to it is the answer the killed run
    never got.
    """
    current, listed = current_password(entry), _listed(entry)
    found = [] if current in listed else [(None, current)]
    seen = set([current]) if found else set()
    for index, password in enumerate(listed):
        if password and password not in seen:
            seen.add(password)
            found.append((None if password == current else index, password))
    return found


def roles(entry):
    """{password: role}: each password the entry may send, by its role, as the journal names it (never the PIN).

    ``current``, ``new``, and ``sent:<i>`` for the others, numbered in the order of the store's candidates (the
    given list turned back to start after the current password, when a resumed run moved it): what the store
    can name them by without holding their PINs anywhere else.
    """
    current, listed = current_password(entry), _listed(entry)
    natural = listed[listed.index(current) + 1:] + listed[:listed.index(current)] if current in listed else listed
    named, others = {current: 'current'}, 0
    if entry.get('new_password') and entry['new_password'] not in named:
        named[entry['new_password']] = 'new'
    for password in natural:
        if password and password not in named:
            named[password] = 'sent:%d' % others
            others += 1
    return named


def identify(client, entry, budget):
    """(holds, candidate index, password): which password the PABX accepts, trying each at most once within the
    budget."""
    for index, password in attempts(entry):
        accepted = budget.verify(client, entry, password)
        if accepted is None:
            break
        if accepted:
            if index is None:
                return HOLDS_CURRENT, None, password
            return (HOLDS_NEW if password == entry['new_password'] else HOLDS_CANDIDATE), index, password
    return None, None, None


def change_request(entry):
    body = {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password'],
            _api.NEW_PASSWORD: entry['new_password']}
    if entry.get('account'):
        body[_api.ACCOUNT] = entry['account']
        body[_api.ACCOUNT_PASSWORD] = entry['account_password']
    return body


def confirm(client, entry, old, timeout, budget, sleep=time.sleep):
    """Which password is in force after a change request: HOLDS_NEW, HOLDS_CURRENT (``old``) or None.

    A 200 only means "command received". While the PABX still accepts the old password the change has
    not applied, and asking costs no attempt; once it does not, the new one is asked again. The old one
    is asked right after the first miss: a change that lands between those two checks costs a second
    wrong attempt, so the gap is kept as short as a request.
    """
    if budget.verify(client, entry, entry['new_password']):
        return HOLDS_NEW
    holds = None
    for wait in [0] + [timeout * 0.25, timeout * 0.25, timeout * 0.5][:CONFIRM_POLLS]:
        sleep(wait)
        accepted = budget.verify(client, entry, old)
        if accepted:
            holds = HOLDS_CURRENT
            continue
        if accepted is None or not budget.verify(client, entry, entry['new_password']):
            return None  # neither: out of sync, or no budget left to ask
        return HOLDS_NEW
    return holds


def outcome(entry, status, msg, budget, holds=None, candidate=None, sent=False, device_rejected=False, untried=0):
    result = identity(entry)
    result.update(status=status, msg=msg, changed=status in ('changed', 'would_change'),
                  failed=status in STATUSES_FAILED, wrong_attempts=budget.spent, holds=holds, sent=sent)
    if untried:
        result['untried'] = untried  # passwords of the entry left untried: the budget ran out first
    if device_rejected:
        result['device_rejected'] = True
        result['device_wrong_attempts'] = 2 if device_rejected is True else int(device_rejected)
    if candidate is not None:
        result['candidate'] = candidate
    return result


def after_forbidden(client, entry, old, exc, budget, identified=(HOLDS_CURRENT, None)):
    """altera-senha said 403 after the old password verified: something else changed it meanwhile.
    ``identified``: (holds, candidate index) of ``old`` as identify found it, which the result names when it is
    still in force (the store must not take the stored current PIN for a candidate it changed from)."""
    if budget.verify(client, entry, entry['new_password']):
        return outcome(entry, 'changed', 'the password of %s already became the new one (changed meanwhile '
                                         'by another request)' % describe(entry), budget, HOLDS_NEW, sent=True)
    if budget.verify(client, entry, old):
        return outcome(entry, 'refused', '%s; the current password is still in place' % exc.message, budget,
                       *identified)
    return outcome(entry, 'rejected', '%s; afterwards the PABX accepted neither the current nor the new password '
                                      '(changed meanwhile by someone else?)' % exc.message, budget)


def ensure_password(client, entry, check_mode, confirm_timeout, max_wrong_attempts=DEFAULT_MAX_WRONG_ATTEMPTS,
                    sleep=time.sleep, gates=None, journal=None, journaled=None):
    """Bring one entry to its new password (or, ``verify_only``, find what it holds); its result (module RETURN).

    ``gates`` (DeviceGates, shared by a batch) serialises account entries per requesting device. ``journal``
    records each change of the entry's count as it happens; ``journaled`` (the journal's last counts when the
    module started) may hold attempts a killed run made after the caller read its store: the higher counts.
    """
    budget = entry_budget(entry, max_wrong_attempts, journal, journaled)
    if not entry.get('account') or gates is None:
        return _guarded(client, entry, check_mode, confirm_timeout, budget, sleep)
    device = entry['device']
    with gates.lock(device):
        if device in gates.rejected:
            return outcome(entry, 'error', 'not sent: requesting device %s stopped accepting its PIN in this run'
                           % device, budget, device_rejected=gates.rejected[device])
        budget.on_wrong = lambda: gates.check(client, entry)
        return _guarded(client, entry, check_mode, confirm_timeout, budget, sleep, gates)


def entry_budget(entry, max_wrong_attempts, journal=None, journaled=None):
    """The entry's Budget: its count (or the journal's, when higher), recording changes, and each password out by
    its role, in the journal. A refusal is synced; a count that falls need not be (lost, it errs high)."""
    kind, number = key(entry)
    spent = max(int(entry.get('wrong_attempts') or 0), (journaled or {}).get((kind, number), 0))
    if journal is None or not journal.path:
        return Budget(spent, max_wrong_attempts)
    named = roles(entry)
    return Budget(spent, max_wrong_attempts,
                  on_count=lambda count, rose: journal.record(kind, number, count, sync=rose),
                  on_out=lambda password, count, sync: journal.out(kind, number, count, named.get(password, UNKNOWN),
                                                                   sync))


def _guarded(client, entry, check_mode, confirm_timeout, budget, sleep, gates=None):
    state = {}
    try:
        return _ensure(client, entry, check_mode, confirm_timeout, budget, sleep, state)
    except PabxError as exc:  # the count so far must reach the caller, whatever failed
        return outcome(entry, 'error', exc.message, budget, sent=False)
    except DeviceRejected as rejected:
        if rejected.certain:
            budget.count(budget.spent - 1)  # the refusal was the device's, not the account's
        sent = state.get('sent')
        return outcome(entry, 'unconfirmed' if sent else 'error',
                       'requesting device %s stopped accepting its PIN during this run (changed at the console?)%s; '
                       'nothing more was sent through it' % (entry['device'], ': the change sent for %s is not '
                                                             'confirmed' % describe(entry) if sent else ''),
                       budget, sent=bool(sent), device_rejected=gates.rejected.get(entry['device'], 2))


def _ensure(client, entry, check_mode, confirm_timeout, budget, sleep, state):
    target = describe(entry)
    if not budget.left:
        return outcome(entry, 'quarantined', '%s: nothing sent, %d wrong password(s) were already sent since it was '
                                             'last known good (max_wrong_attempts %d)'
                       % (target, budget.spent, budget.limit), budget)
    known = len(attempts(entry))
    holds, index, found = identify(client, entry, budget)
    if holds is None:
        untried = known - budget.asked
        more = ' (%d more not tried: the wrong-attempt budget is spent)' % untried if untried else ''
        return outcome(entry, 'rejected', '%s: the PABX accepted none of the %d password(s) tried (out of sync)%s; '
                                          'nothing was changed' % (target, budget.asked, more), budget,
                       untried=max(untried, 0))
    if holds == HOLDS_CURRENT and current_password(entry) == entry['new_password']:
        holds = HOLDS_NEW  # asked to verify: the password it should have is the one it has
    if holds == HOLDS_NEW:
        return outcome(entry, 'unchanged', '%s already has the new password' % target, budget, holds, index)
    if entry.get('verify_only'):
        return outcome(entry, 'verified', '%s: the PABX accepts the %s password' % (
            target, 'stored' if holds == HOLDS_CURRENT else 'earlier sent'), budget, holds, index)
    old = found
    entry = with_current(entry, old)
    if check_mode:
        return outcome(entry, 'would_change', 'the password of %s would be changed (check mode)' % target,
                       budget, holds, index)
    state['sent'] = True
    try:
        client.call(_api.CHANGE_PASSWORD, change_request(entry))
        sent = 'accepted'
    except PabxError as exc:
        state['sent'] = exc.status not in (400, 403) and not getattr(exc, 'not_sent', False)
        if exc.status == 400:  # the request itself was refused (a PIN the PABX's policy rejects): nothing applied
            return outcome(entry, 'refused', '%s; the current password is still in place' % exc.message, budget,
                           holds, index)
        if exc.status == 403:  # the password, verified a moment ago, no longer works: find out why
            budget.wrong()  # a wrong password for the PABX's count too
            return after_forbidden(client, entry, old, exc, budget, (holds, index))
        if getattr(exc, 'not_sent', False):
            raise
        sent = 'sent but its answer was lost (%s)' % exc.message
    try:
        in_force = confirm(client, entry, old, confirm_timeout, budget, sleep)
    except PabxError as exc:
        return outcome(entry, 'unconfirmed', 'the change for %s was %s, and could not be confirmed (%s): keep both '
                                             'passwords and settle it later by verification' % (target, sent, exc.message),
                       budget, None, index, sent=True)
    if in_force == HOLDS_NEW:
        return outcome(entry, 'changed', 'the password of %s was changed and confirmed' % target, budget,
                       HOLDS_NEW, index, sent=True)
    # still in force: the PIN changed from, named as identify found it (a candidate is not the stored current PIN)
    return outcome(entry, 'unconfirmed', 'the change for %s was %s, and the new password did not verify within '
                                         '%gs: the PABX may still apply it, so keep both passwords and settle it '
                                         'later by verification' % (target, sent, confirm_timeout),
                   budget, holds if in_force == HOLDS_CURRENT else in_force, index, sent=True)
