# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters behind the password_rotation and password_audit roles; the logic lives in module_utils."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

from ansible.errors import AnsibleFilterError

from ansible_collections.digitro.pabx.plugins.module_utils import _audit, _roster, _rotation
from ansible_collections.digitro.pabx.plugins.module_utils._pin_policy import violations


def _now(text):
    try:
        return datetime.datetime.strptime(str(text), '%Y-%m-%dT%H:%M:%SZ')
    except ValueError:
        raise AnsibleFilterError('now must be a UTC time like 2026-11-27T03:00:00Z')


def _guard(function):
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (_rotation.StoreError, _roster.RosterError, ValueError, KeyError, TypeError) as exc:
            # the message names what is wrong; it never carries a PIN
            raise AnsibleFilterError('%s: %s' % (function.__name__, exc))
    run.__name__ = function.__name__
    return run


@_guard
def rotation_selection(store, targets='all', pattern='', max_age_days=0, accounts=True, late_apply_hours=1,
                       account_device=None):
    return _rotation.selection(_plain(store), _plain(targets), pattern and str(pattern), max_age_days,
                               _bool(accounts), late_apply_hours, account_device and str(account_device))


def _bool(value):
    return value if isinstance(value, bool) else str(value).lower() in ('1', 'true', 'yes', 'on')


@_guard
def rotation_stage(store, kind, selection, policy, now, default_device=None, planning=False, verified=None,
                   gate_accounts=None):
    return _rotation.stage(_plain(store), kind, _plain(selection), _plain(policy), _now(now),
                           default_device or None, planning=_bool(planning), verified=_plain(verified),
                           gate_accounts=_plain(gate_accounts) or None)


@_guard
def rotation_commit(staged, kind, results, now, check_mode=False, report=None, max_wrong_attempts=2, verified=None):
    return _rotation.commit(_plain(staged), kind, _plain(results), _now(now), _bool(check_mode), _plain(report),
                            int(max_wrong_attempts), _plain(verified))


@_guard
def rotation_import(store, csv_text, now, overwrite=False, reset_attempts=False):
    return _rotation.import_rows(_plain(store) or None, str(csv_text), _now(now), _bool(overwrite),
                                 _bool(reset_attempts))


@_guard
def rotation_summary(report):
    return _rotation.summarize(_plain(report))


@_guard
def rotation_stats(counts):
    return _rotation.stats(_plain(counts))


@_guard
def rotation_report(report, header=None):
    return _rotation.render(_plain(report), _plain(header))


@_guard
def pin_violations(pin, number=None, previous=None, policy=None):
    return violations(str(pin), number and str(number), [str(p) for p in previous or []], _plain(policy))


@_guard
def audit_checks(store, kind, max_wrong_attempts=2, verified=None, default_device=None, only=None):
    if kind == 'devices':
        return _audit.device_checks(_plain(store), int(max_wrong_attempts), _plain(only))
    return _audit.account_checks(_plain(store), _plain(verified) or [], default_device or None, int(max_wrong_attempts),
                                 _plain(only))


@_guard
def audit_settle(store, kind, checks, results, now, max_wrong_attempts=2):
    if kind == 'devices':
        return _audit.settle_devices(_plain(store), _plain(checks), _plain(results), _now(now), int(max_wrong_attempts))
    done = _audit.record_validations(_plain(store), _plain(checks), _plain(results), _now(now), int(max_wrong_attempts))
    return dict(done, verified=done['valid'])


@_guard
def audit_findings(store, device_checks, device_results, account_checks, account_results, policy, now, max_age_days=0):
    return _audit.findings(_plain(store), _plain(device_checks), _plain(device_results), _plain(account_checks),
                           _plain(account_results), _plain(policy), _now(now), max_age_days)


def _rows(roster):
    roster = _plain(roster)
    return _roster.parse_csv(roster) if isinstance(roster, str) else roster


@_guard
def dac_roster(roster, store=None, default_state='logged_in'):
    return _roster.batch(_rows(roster), _plain(store), default_state)


@_guard
def dac_gate(roster, store):
    return _roster.store_numbers(_rows(roster), _plain(store))


@_guard
def dac_admit(batch, gate, verified_devices, valid_accounts):
    return _roster.admit(_plain(batch), _plain(gate), _plain(verified_devices), _plain(valid_accounts))


def _plain(value):
    """Ansible's tagged containers, as the plain dicts, lists and strings the logic expects."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class FilterModule(object):
    def filters(self):
        return {
            'rotation_selection': rotation_selection,
            'rotation_stage': rotation_stage,
            'rotation_commit': rotation_commit,
            'rotation_import': rotation_import,
            'rotation_summary': rotation_summary,
            'rotation_report': rotation_report,
            'rotation_stats': rotation_stats,
            'pin_violations': pin_violations,
            'audit_checks': audit_checks,
            'audit_settle': audit_settle,
            'audit_findings': audit_findings,
            'dac_roster': dac_roster,
            'dac_gate': dac_gate,
            'dac_admit': dac_admit,
        }
