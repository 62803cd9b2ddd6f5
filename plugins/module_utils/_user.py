# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One account's validation (valida-usuario) within its wrong-attempt budget: the worker of digitro_user_validate."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._entry import describe, identity
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._password import (
    HOLDS_CANDIDATE, HOLDS_CURRENT, DeviceRejected, attempts, entry_budget)


def user_attributes(answer):
    """The PABX's attributes under readable names; unknown ones keep theirs, lower-cased."""
    return dict((_api.USER_ATTRIBUTES.get(key, key.lower()), value) for key, value in answer.items())


def validate(client, entry, fail_on_invalid, max_wrong_attempts=2, gates=None, journal=None, journaled=None):
    """Validate one account, within its wrong-attempt budget; accounts of one device one at a time (gates)."""
    result = identity(entry)
    budget = entry_budget(entry, max_wrong_attempts, journal, journaled)
    if not budget.left:
        result.update(valid=False, status='quarantined', changed=False, failed=True, wrong_attempts=budget.spent,
                      msg='%s: nothing sent, %d refused password(s) were already sent since it was last known good '
                          '(max_wrong_attempts %d)' % (describe(entry), budget.spent, max_wrong_attempts))
        return result
    with gates.lock(entry['device']) if gates else contextlib.suppress():
        if gates and entry['device'] in gates.rejected:
            result.update(valid=False, status='error', changed=False, failed=True, wrong_attempts=budget.spent,
                          device_rejected=True, device_wrong_attempts=gates.rejected[entry['device']],
                          msg='not sent: requesting device %s stopped accepting its PIN in this run'
                          % entry['device'])
            return result
        return _validate(client, entry, fail_on_invalid, budget, gates, result)


def _validate(client, entry, fail_on_invalid, budget, gates, result):
    """Ask valida-usuario with the account's current PIN, then with each PIN it may hold instead (the
    ``candidates``, as the password module tries them), each at most once, within the budget."""
    if gates:
        budget.on_wrong = lambda: gates.check(client, entry)  # the refusal may be the device's: its PIN travels too
    known, asked, refusal = attempts(entry), 0, 'nothing sent'
    try:
        for index, password in known:
            if not budget.left:
                break
            asked += 1
            accepted, answer = _ask(client, entry, password, budget)
            if not accepted:
                refusal = answer
                continue
            result.update(valid=True, status='valid', changed=False, failed=False, user=user_attributes(answer),
                          wrong_attempts=0, holds=HOLDS_CURRENT if index is None else HOLDS_CANDIDATE,
                          msg='%s is valid%s' % (describe(entry), '' if index is None else ' with a PIN sent earlier'))
            if index is not None:
                result['candidate'] = index
            return result
    except PabxError as exc:  # the count so far must reach the store, whatever failed
        result.update(status='error', changed=False, failed=True, wrong_attempts=budget.spent, msg=exc.message)
        return result
    except DeviceRejected as rejected:
        if rejected.certain:
            budget.count(budget.spent - 1)  # the refusal was the device's
        result.update(valid=False, status='error', changed=False, failed=True, wrong_attempts=budget.spent,
                      device_rejected=True, device_wrong_attempts=gates.rejected[entry['device']],
                      msg='requesting device %s stopped accepting its PIN during this run (changed at the '
                          'console?); nothing more was sent through it' % entry['device'])
        return result
    untried = len(known) - asked
    result.update(valid=False, status='invalid', changed=False, failed=fail_on_invalid, wrong_attempts=budget.spent,
                  msg='%s is not valid: %s%s' % (describe(entry), refusal, ' (%d more PIN(s) not tried: the '
                                                 'wrong-attempt budget is spent)' % untried if untried else ''))
    return result


def _ask(client, entry, password, budget):
    """(True, the PABX's answer) when valid; (False, its words) when refused, the refusal counted (and the device
    checked: DeviceRejected); raises PabxError when there was no verdict."""
    body = {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password'],
            _api.ACCOUNT: entry['account'], _api.ACCOUNT_PASSWORD: password}
    try:
        answer = client.call(_api.VALIDATE_USER, body)
    except PabxError as exc:
        if exc.status != 403:
            if exc.maybe_processed:
                budget.count(budget.spent + 1)  # it may have checked the passwords: assume the worst
            raise
        refused = exc.pabx_message or 'refused'
    else:
        budget.count(0)
        return True, answer
    budget.wrong()
    return False, refused
