# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters behind the dac_sessions role; the logic lives in plugin_utils/_roster.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils import _roster
from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import as_bool, flag, guarded, plain


@guarded
def dac_roster_check(roster, default_state='logged_in', from_store=True):
    return _roster.check(plain(roster), str(default_state), flag(from_store, 'dac_sessions_passwords_from_store'))


@guarded
def dac_roster(roster, store=None, default_state='logged_in', from_store=True, pabx=None):
    return _roster.batch(plain(roster), plain(store), str(default_state), flag(from_store, 'dac_sessions_passwords_from_store'), pabx and str(pabx))


@guarded
def dac_gate(roster, store):
    return _roster.store_numbers(plain(roster), plain(store))


@guarded
def dac_admit(batch, gate, verified_devices, valid_accounts, store=None):
    return _roster.admit(plain(batch), plain(gate), plain(verified_devices), plain(valid_accounts), plain(store))


@guarded
def dac_report(results, blocked=None, check_mode=False, pabx=None):
    return _roster.report(plain(results), plain(blocked), as_bool(check_mode), pabx and str(pabx))


@guarded
def dac_outcome(results, blocked, total, max_fail_percent, pabx):
    return _roster.outcome(plain(results), plain(blocked), int(total), float(max_fail_percent), str(pabx))


class FilterModule(object):
    def filters(self):
        return {
            'dac_roster_check': dac_roster_check,
            'dac_roster': dac_roster,
            'dac_gate': dac_gate,
            'dac_admit': dac_admit,
            'dac_report': dac_report,
            'dac_outcome': dac_outcome,
        }
