# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters behind the password_audit role; the logic is in plugin_utils/_audit.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils import _audit
from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import as_bool, guarded, plain, utc


@guarded
def audit_checks(store, kind, max_wrong_attempts=2, verified=None, default_device=None, only=None):
    if kind == 'devices':
        return _audit.device_checks(plain(store), int(max_wrong_attempts), plain(only))
    return _audit.account_checks(plain(store), plain(verified) or [], default_device or None, int(max_wrong_attempts),
                                 plain(only))


@guarded
def audit_settle(store, kind, checks, results, now, max_wrong_attempts=2, check_mode=False, ledger=None):
    if kind not in ('devices', 'accounts'):
        raise ValueError('kind must be devices or accounts, not %r' % str(kind)[:20])
    return _audit.settle(plain(store), kind, plain(checks), plain(results), utc(now), int(max_wrong_attempts),
                         as_bool(check_mode), plain(ledger) if ledger else None)


@guarded
def audit_findings(store, device_checks, device_results, account_checks, account_results, policy, now, max_age_days=0,
                   check_mode=False):
    return _audit.findings(plain(store), plain(device_checks), plain(device_results), plain(account_checks),
                           plain(account_results), plain(policy), utc(now), max_age_days, as_bool(check_mode))


@guarded
def audit_report(result, header=None):
    return _audit.render(plain(result), plain(header))


class FilterModule(object):
    def filters(self):
        return {
            'audit_checks': audit_checks,
            'audit_settle': audit_settle,
            'audit_findings': audit_findings,
            'audit_report': audit_report,
        }
