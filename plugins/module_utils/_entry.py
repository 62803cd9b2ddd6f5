# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a module entry (a device, or an account on its requesting device) is named in messages and results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def describe(entry):
    """'device 1000' or 'account 2000 on device 1000': the words every message uses."""
    if entry.get('account'):
        return 'account %s on device %s' % (entry['account'], entry.get('device'))
    return 'device %s' % entry.get('device')


def identity(entry):
    """The identity part of an entry's result: never its passwords."""
    result = dict(device=entry.get('device'), target=describe(entry))
    if entry.get('account'):
        result['account'] = entry['account']
    return result
