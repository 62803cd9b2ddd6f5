# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changing one device's or account's password without ever losing it.

Order of requests, chosen to keep wrong-password attempts (which lock PABX
extensions) to a minimum:

1. verify the current password; accepted -> 2. Rejected -> verify the new one:
   accepted means the change is already in place (unchanged); rejected means
   the stored passwords are out of sync, and nothing more is tried.
2. ``altera-senha``. A clear refusal (4xx) leaves the current password in
   place. A lost answer (timeout, dropped connection, 5xx) is ambiguous.
3. confirm: verify the new password, a few times within ``confirm_timeout``
   since a 200 only means "command received". Not confirmed -> ``unconfirmed``:
   the caller must keep both passwords until a later verification decides.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import describe, identity, poll
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError

CONFIRM_ATTEMPTS = 3
STATUSES_FAILED = ('rejected', 'refused', 'unconfirmed', 'error')


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


def verify(client, entry, password):
    """True when the PABX accepts ``password`` for the entry's target, False on 403; raises otherwise."""
    try:
        client.call(_api.VERIFY_PASSWORD, _credentials(entry, password))
        return True
    except PabxError as exc:
        if exc.status == 403:
            return False
        raise


def confirm(client, entry, timeout, sleep=time.sleep):
    """Verify the new password up to CONFIRM_ATTEMPTS times within ``timeout`` seconds."""
    return poll(lambda: verify(client, entry, entry['new_password']), timeout, CONFIRM_ATTEMPTS, sleep)


def change_request(entry):
    body = {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password'],
            _api.NEW_PASSWORD: entry['new_password']}
    if entry.get('account'):
        body[_api.ACCOUNT] = entry['account']
        body[_api.ACCOUNT_PASSWORD] = entry['account_password']
    return body


def outcome(entry, status, msg):
    result = identity(entry)
    result.update(status=status, msg=msg, changed=status in ('changed', 'would_change'),
                  failed=status in STATUSES_FAILED)
    return result


def after_forbidden(client, entry, exc):
    """altera-senha said 403 after the current password verified: something else changed it meanwhile."""
    if verify(client, entry, entry['new_password']):
        return outcome(entry, 'changed', 'the password of %s already became the new one (changed meanwhile '
                                         'by another request)' % describe(entry))
    if verify(client, entry, current_password(entry)):
        return outcome(entry, 'refused', '%s; the current password is still in place' % exc.message)
    return outcome(entry, 'rejected', '%s; afterwards the PABX accepted neither the current nor the new password '
                                      '(changed meanwhile by someone else?)' % exc.message)


def ensure_password(client, entry, check_mode, confirm_timeout, sleep=time.sleep):
    """Bring one entry to its new password; returns its result (see module RETURN)."""
    target = describe(entry)
    if current_password(entry) == entry['new_password']:
        if verify(client, entry, entry['new_password']):
            return outcome(entry, 'unchanged', '%s already has the new password' % target)
        return outcome(entry, 'rejected', '%s: the PABX does not accept the given password' % target)
    if not verify(client, entry, current_password(entry)):
        if verify(client, entry, entry['new_password']):
            return outcome(entry, 'unchanged', '%s already has the new password' % target)
        return outcome(entry, 'rejected', '%s: the PABX accepts neither the current nor the new password '
                                          '(out of sync); nothing was changed' % target)
    if check_mode:
        return outcome(entry, 'would_change', 'the password of %s would be changed (check mode)' % target)
    try:
        client.call(_api.CHANGE_PASSWORD, change_request(entry))
        sent = 'accepted'
    except PabxError as exc:
        if exc.status == 400:  # the request itself was refused (a PIN the PABX's policy rejects): nothing applied
            return outcome(entry, 'refused', '%s; the current password is still in place' % exc.message)
        if exc.status == 403:  # the current password, verified a moment ago, no longer works: find out why
            return after_forbidden(client, entry, exc)
        sent = 'sent but its answer was lost (%s)' % exc.message
    if confirm(client, entry, confirm_timeout, sleep):
        return outcome(entry, 'changed', 'the password of %s was changed and confirmed' % target)
    return outcome(entry, 'unconfirmed', 'the change for %s was %s, and the new password did not verify within '
                                         '%gs: the PABX may still apply it, so keep both passwords and verify later'
                   % (target, sent, confirm_timeout))
