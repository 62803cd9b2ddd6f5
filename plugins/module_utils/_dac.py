# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bringing one DAC device to the wanted agent session: read, change only if it differs, confirm."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import poll
from ansible_collections.digitro.pabx.plugins.module_utils._entry import describe, identity
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError

LOGGED_IN, LOGGED_OUT = 'logged_in', 'logged_out'


def read_session(client, entry):
    """{'state': 'logged_in'|'logged_out', 'account': the logged-in agent or ''}."""
    answer = client.call(_api.DAC_QUERY, {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password']})
    state = _api.DAC_STATES.get(answer.get(_api.DAC_STATE))
    if state is None:
        raise PabxError('%s for %s: the PABX answered an unknown %s %r' % (
            _api.OPERATIONS[_api.DAC_QUERY].slug, describe(entry), _api.DAC_STATE, answer.get(_api.DAC_STATE)))
    return {'state': state, 'account': str(answer.get(_api.ACCOUNT) or '') if state == LOGGED_IN else ''}


def send(client, entry, operation, account, with_password=True):
    body = {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password'], _api.ACCOUNT: account,
            _api.DAC_OPERATION: operation}
    if with_password:
        body[_api.ACCOUNT_PASSWORD] = entry['account_password']
    try:
        client.call(_api.DAC_LOGIN_LOGOUT, body)
    except PabxError as exc:
        if not exc.ambiguous:
            raise
        # the answer was lost: the read that confirms the session decides


def wanted(entry):
    if entry['state'] == LOGGED_IN:
        return {'state': LOGGED_IN, 'account': entry['account']}
    return {'state': LOGGED_OUT, 'account': ''}


def _words(state):
    return 'logged in on' if state == LOGGED_IN else 'logged out of'


def outcome(entry, status, msg, before, after):
    result = identity(entry)
    result.update(status=status, msg=msg, before=before, after=after, changed=status in ('changed', 'would_change'),
                  failed=status in ('occupied', 'unconfirmed', 'error'))
    return result


def ensure_session(client, entry, check_mode, force, confirm_timeout, sleep=time.sleep):
    """Log the entry's agent in or out of its device; returns its result (see module RETURN)."""
    target, agent = describe(entry), entry['account']
    before = read_session(client, entry)
    other = before['account'] if before['state'] == LOGGED_IN and before['account'] != agent else ''
    if entry['state'] == LOGGED_IN:
        if before['account'] == agent:
            return outcome(entry, 'unchanged', 'agent %s is already logged in on device %s' % (agent, entry['device']),
                           before, before)
        if other and not force:
            return outcome(entry, 'occupied', 'device %s has agent %s logged in; agent %s was not logged in '
                                              '(set force: true to log %s out first)'
                           % (entry['device'], other, agent, other), before, before)
    elif before['account'] != agent:
        return outcome(entry, 'unchanged', 'agent %s is not logged in on device %s' % (agent, entry['device']),
                       before, before)
    after = wanted(entry)
    if check_mode:
        first = ' (agent %s would be logged out first)' % other if other else ''
        return outcome(entry, 'would_change', 'agent %s would be %s device %s%s (check mode)'
                       % (agent, _words(entry['state']), entry['device'], first), before, after)
    if other:
        send(client, entry, _api.DAC_LOGOUT, other, with_password=False)
    send(client, entry, _api.DAC_LOGIN if entry['state'] == LOGGED_IN else _api.DAC_LOGOUT, agent)
    if poll(lambda: read_session(client, entry) == after, confirm_timeout, sleep=sleep):
        forced = ' (agent %s was logged out first)' % other if other else ''
        return outcome(entry, 'changed', 'agent %s is now %s device %s%s'
                       % (agent, _words(entry['state']), entry['device'], forced), before, after)
    return outcome(entry, 'unconfirmed', 'the DAC change for %s was sent but not confirmed within %gs'
                   % (target, confirm_timeout), before, read_session(client, entry))


def charged_session(client, entry, check_mode, force, confirm_timeout, journal, journaled=None, sleep=time.sleep):
    """``ensure_session``, with a refused request counted in the wrong-attempt journal.

    Every DAC request carries the device's PIN, and a login the agent's: a ``403`` may be either being wrong
    (or a refusal of another kind, which cannot be told apart), so each PIN it carried is charged one, and
    the next load of the store takes the count in.
    """
    try:
        return ensure_session(client, entry, check_mode, force, confirm_timeout, sleep)
    except PabxError as exc:
        if exc.status == 403 or getattr(exc, 'maybe_processed', False):
            charged = [('devices', entry['device'])]
            if exc.operation_name == _api.DAC_LOGIN_LOGOUT:
                charged.append(('accounts', entry['account']))
            for kind, number in charged:
                journal.record(kind, number, (journaled or {}).get((kind, number), 0) + 1)
        raise
