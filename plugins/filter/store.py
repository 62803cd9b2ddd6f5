# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters behind the credential_store role's operations (import, show, remove, restore); the logic is in
plugin_utils/_store_import.py and _store_operations.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils import _pabx_hosts, _store_operations as operations
from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import as_bool, guarded, plain, utc
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_import import import_csv


@guarded
def store_import(store, csv_text, now, overwrite=False, reset_attempts=False):
    return import_csv(plain(store) or None, str(csv_text), utc(now), as_bool(overwrite), as_bool(reset_attempts))


@guarded
def store_show(store, numbers):
    return operations.show(plain(store), plain(numbers))


@guarded
def store_remove(store, numbers, now):
    return operations.remove(plain(store), plain(numbers), utc(now))


@guarded
def store_restore(store, version, now):
    return operations.restore(plain(store), plain(version), utc(now))


@guarded
def pabx_hosts_shared(hosts, hostvars, environment_url=''):
    return _pabx_hosts.shared(plain(hosts), hostvars, str(environment_url or ''))


@guarded
def pabx_limit_unknown(limit, hosts, groups):
    return _pabx_hosts.limit_unknown(str(limit or ''), plain(hosts), plain(groups))


@guarded
def store_versions(versions):
    return operations.versions_lines(plain(versions))


class FilterModule(object):
    def filters(self):
        return {
            'store_import': store_import,
            'store_show': store_show,
            'store_remove': store_remove,
            'store_restore': store_restore,
            'store_versions': store_versions,
            'pabx_hosts_shared': pabx_hosts_shared,
            'pabx_limit_unknown': pabx_limit_unknown,
        }
