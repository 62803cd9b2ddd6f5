# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Input checks run before any request; each message names the option and never shows a secret."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

NUMBER_MAX = 16
PASSWORD_MAX = 32
_NUMBER = re.compile(r'^[0-9]{1,%d}$' % NUMBER_MAX)
_PASSWORD = re.compile(r'^[\x21-\x7e]{1,%d}$' % PASSWORD_MAX)  # printable ASCII, no spaces


def check_number(name, value):
    """An extension or account number: digits only, as the PABX numbers them."""
    if value is None or value == '':
        return '%s must not be empty' % name
    if not _NUMBER.fullmatch(value):  # match() would let a final newline through
        shown = value if len(value) <= 20 else value[:20] + '...'
        return '%s must be 1 to %d digits, got %r' % (name, NUMBER_MAX, shown)
    return None


def check_password(name, value):
    if value is None or value == '':
        return '%s must not be empty' % name
    if not _PASSWORD.fullmatch(value):
        return '%s must be 1 to %d printable characters without spaces (value not shown)' % (name, PASSWORD_MAX)
    return None


def check_url(name, value):
    authority = re.split(r'[/?#]', (value or '').split('://', 1)[-1], maxsplit=1)[0]
    if '@' in authority:  # the URL itself is never echoed: what stands before the @ may be a password
        return ('%s must not carry a user name or password (user:password@host): give the PABX\'s address only, '
                'and the API key as api_key (digitro_api_key); the value is not shown' % name)
    found = re.match(r'^https?://[^/\s:@]+(:([0-9]{1,5}))?(/\S*)?$', value or '')
    if not found:
        return '%s must be an http:// or https:// URL with a host, such as https://pabx.example.com:8443' % name
    if found.group(2) is not None and not 0 < int(found.group(2)) <= 65535:
        return '%s has port %s: a port is from 1 to 65535' % (name, found.group(2))
    return None


def check_entry(prefix, entry, numbers, passwords):
    """Errors for one entry: ``numbers`` and ``passwords`` name the fields to check (when set)."""
    errors = []
    for field in numbers:
        if entry.get(field) is not None:
            errors.append(check_number(prefix + field, entry[field]))
    for field in passwords:
        if entry.get(field) is not None:
            errors.append(check_password(prefix + field, entry[field]))
    return [e for e in errors if e]
