# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings two PABX hosts of one run must not share: the PABX itself, and the credential store.

Two inventory hosts aimed at one PABX (a host without ``digitro_url`` takes ``DIGITRO_URL`` from the
environment) send one site's PINs to the other: every entry of the other site costs a wrong attempt and is
quarantined. Two hosts on one store (a ``credential_store_path`` set for a group) overwrite each other's
entries. Both are caught here, for the hosts of the run, before anything is sent or saved.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
from urllib.parse import urlsplit

from ansible.inventory.manager import split_host_pattern


def _setting(variables, name):
    """A host's variable as text, or '' when it is not set or cannot be templated (the role's checks say why)."""
    try:
        value = variables.get(name)
    except Exception:  # an undefined or broken template: not ours to judge here
        return ''
    return str(value).strip() if value else ''


def _pabx(url):
    """The PABX a URL names (scheme, host, port, path), without any user information."""
    try:
        parts = urlsplit(url)
        return '%s://%s:%s%s' % (parts.scheme.lower(), (parts.hostname or '').lower(),
                                 parts.port or {'https': 443, 'http': 80}.get(parts.scheme.lower(), ''),
                                 parts.path.rstrip('/'))  # two PABXs may sit behind one gateway, by path
    except ValueError:
        return url


def _store(variables):
    backend = _setting(variables, 'credential_store_backend') or 'vault_file'
    if backend == 'vault_file':
        return 'file %s' % _setting(variables, 'credential_store_path') if _setting(variables, 'credential_store_path') else ''
    if backend == 'hashi_vault':
        path = _setting(variables, 'credential_store_hashi_vault_path')
        return 'Vault secret %s/%s' % (_setting(variables, 'credential_store_hashi_vault_mount') or 'secret', path) if path else ''
    return ''  # a custom backend's storage is its own business


def shared(hosts, hostvars, environment_url=''):
    """'' when each of ``hosts`` has its own PABX URL and store; else what they share and what to do."""
    seen, problems = {}, []
    for host in sorted(hosts):
        variables = hostvars[host]
        url = _setting(variables, 'digitro_url') or (environment_url or '').strip()
        for what, value in (('PABX URL', _pabx(url) if url else ''), ('credential store', _store(variables))):
            if not value:
                continue
            other = seen.setdefault((what, value), host)
            if other != host:
                problems.append('%s and %s use one %s%s' % (
                    other, host, what, '' if what == 'PABX URL' else ' (%s)' % value))
    if not problems:
        return ''
    return ('%s: each PABX host needs its own digitro_url (a host without one takes DIGITRO_URL from the environment) '
            'and its own credential store (credential_store_path, or credential_store_hashi_vault_path, naming '
            'inventory_hostname); otherwise one site\'s PINs are sent to the other, or overwrite its store. Nothing '
            'was changed' % '; '.join(sorted(set(problems))[:10]))


def limit_unknown(limit, hosts, groups):
    """The plain names of a ``--limit`` that are neither a host nor a group of the inventory (a typo leaves that PABX
    out of the run), in their order. Patterns (wildcards, ``~regex``, ``@file``) are Ansible's to match; a name's
    subscript (``pabx[0:1]``) and its ``!``/``&`` are left aside; IPv6 addresses are names, as Ansible splits them;
    an ``@file``'s lines are read as Ansible reads them (one name or pattern a line, relative to the working
    directory); a file that cannot be read is Ansible's to report."""
    known = set(hosts) | set(groups)
    unknown = []
    for part in split_host_pattern(limit or ''):
        for item in _with_files(split_host_pattern(part)):
            name = re.sub(r'\[[^\]]*\]$', '', item.strip().lstrip('&!'))
            if name and name[0] not in '@~' and not any(c in name for c in '*?') and name not in known \
                    and name not in unknown:
                unknown.append(name)
    return unknown


def _with_files(items):
    """The items of a limit, each ``@file`` replaced by its lines."""
    for item in items:
        if not item.startswith('@'):
            yield item
            continue
        try:
            with open(item[1:]) as handle:
                lines = handle.read(1 << 20).splitlines()
        except (IOError, OSError, UnicodeDecodeError):
            continue
        for line in lines:
            if line.strip():
                yield line.strip()
