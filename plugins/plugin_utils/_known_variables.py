# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The variable names the collection knows, computed from its own files, and the check for misspellings.

A misspelled option (``password_rotation_targes``) is otherwise ignored by Ansible, and the role runs with
its default (every extension). The names are read from the roles and playbooks at run time, so that a new
option is known as soon as it is declared, without a second list to keep in step.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import glob
import os
import re

import yaml

PREFIXES = ('password_rotation_', 'password_audit_', 'credential_store_', 'dac_sessions_', 'digitro_')

# Read by the roles and playbooks of the whole collection, declared in no argument_specs. Only names something
# reads: accepting a name nothing reads would be the silent success this check is there to prevent.
COLLECTION_VARIABLES = frozenset((
    'digitro_url', 'digitro_api_key', 'digitro_validate_certs', 'digitro_ca_path',  # connection, per PABX host
    'digitro_hosts', 'digitro_dry_run',  # the playbooks' host pattern and AWX dry-run survey answer
    # the operator playbooks' inputs (show, set, resolve, remove, restore)
    'digitro_numbers', 'digitro_passwords', 'digitro_pin_policy_exception', 'digitro_reset_attempts',
    'digitro_store_version',
    'digitro_api_overrides',  # the PABX's own names for the assumed API (docs/api-contract.md)
    'digitro_progress_interval',  # seconds between progress lines of a module's batch (plugin_utils/_progress_display.py)
))

# The counts the password_audit role hands to set_stats are built in Python (module_utils/_audit.py);
# in an AWX workflow they arrive in the next job as extra vars. Used when that module cannot be imported.
_AUDIT_STATS_FALLBACK = ('out_of_sync', 'invalid_account', 'weak', 'old', 'age_unknown', 'unresolved', 'error',
                         'checked', 'healthy')

_COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_JINJA = re.compile(r'\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}', re.DOTALL)
_IDENTIFIER = re.compile(r'(?<![\w.])[A-Za-z_][A-Za-z0-9_]*')
_CONDITIONALS = frozenset(('when', 'that', 'failed_when', 'changed_when', 'until'))
_SET_FACT = frozenset(('set_fact', 'ansible.builtin.set_fact', 'ansible.legacy.set_fact'))
_SET_STATS = frozenset(('set_stats', 'ansible.builtin.set_stats', 'ansible.legacy.set_stats'))
_SET_FACT_OPTIONS = frozenset(('cacheable',))

_CACHE = {}


class Known(object):
    """The known names: ``options`` are what a user sets (suggested first), ``names`` everything known."""

    def __init__(self, options, names):
        self.options = frozenset(options)
        self.names = frozenset(names) | self.options


def _load(path):
    """A YAML file's documents; a file that cannot be read or parsed adds nothing (it is not ours to judge)."""
    try:
        with open(path, 'rb') as handle:
            return [doc for doc in yaml.load_all(handle, Loader=_Loader) if doc is not None]
    except (OSError, yaml.YAMLError):
        return []


class _Loader(getattr(yaml, 'CSafeLoader', yaml.SafeLoader)):
    """Safe loading that also takes Ansible's ``!vault`` and ``!unsafe`` tags (as plain text)."""


def _plain(loader, node):
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_Loader.add_constructor(u'!vault', _plain)
_Loader.add_constructor(u'!unsafe', _plain)


def _files(*patterns):
    found = set()
    for pattern in patterns:
        found.update(glob.glob(os.path.join(_COLLECTION_ROOT, pattern), recursive=True))
    return sorted(found)


def _identifiers(text, inside_jinja=True):
    """Identifiers in a template (only inside ``{{ }}``, ``{% %}``) or in a bare expression (``when:``)."""
    parts = _JINJA.findall(text) if inside_jinja else [text]
    return set(name for part in parts for name in _IDENTIFIER.findall(part))


def _walk(node, names):
    """Every name a piece of a play, a tasks file or a vars file sets or reads."""
    if isinstance(node, dict):
        for key, value in node.items():
            key = str(key)
            if key in _SET_FACT and isinstance(value, dict):
                names.update(str(k) for k in value if k not in _SET_FACT_OPTIONS)
            elif key in _SET_STATS and isinstance(value, dict) and isinstance(value.get('data'), dict):
                names.update(str(k) for k in value['data'])
            elif key in ('vars', 'template_vars') and isinstance(value, dict):
                names.update(str(k) for k in value)
            elif key in ('register', 'loop_var', 'index_var') and isinstance(value, str):
                names.add(value)
            elif key in _CONDITIONALS:
                for expression in (value if isinstance(value, list) else [value]):
                    if isinstance(expression, str):
                        names.update(_identifiers(expression, inside_jinja=False))
            _walk(value, names)
    elif isinstance(node, list):
        for item in node:
            _walk(item, names)
    elif isinstance(node, str) and '{' in node:
        names.update(_identifiers(node))


def _argument_spec_options(path):
    options = set()
    for doc in _load(path):
        specs = doc.get('argument_specs') if isinstance(doc, dict) else None
        for entry in (specs or {}).values():
            if isinstance(entry, dict) and isinstance(entry.get('options'), dict):
                options.update(str(name) for name in entry['options'])
    return options


def _top_level_keys(path):
    return set(str(key) for doc in _load(path) if isinstance(doc, dict) for key in doc)


def _stats_names():
    """The counts the roles hand to set_stats, built in Python: in an AWX workflow they reach the next job as extra
    vars, where they must not read as misspellings."""
    try:
        from ansible_collections.digitro.pabx.plugins.plugin_utils._audit import FINDINGS
        audit = tuple(FINDINGS) + ('checked', 'healthy')
    except Exception:  # the module broken or moved: still check, with the names it had
        audit = _AUDIT_STATS_FALLBACK
    names = set('digitro_audit_' + name for name in audit)
    try:
        from ansible_collections.digitro.pabx.plugins.plugin_utils._rotation_report import stats
        from ansible_collections.digitro.pabx.plugins.plugin_utils._roster import outcome
        names.update(stats({}))
        names.update(outcome([], [], 0, 100, '')['stats'])
    except Exception:  # as above
        pass
    return names


def compute():
    """The known names, read from the collection's files now (uncached)."""
    options = set(COLLECTION_VARIABLES)
    names = set()
    for path in _files('roles/*/meta/argument_specs.yml', 'roles/*/meta/argument_specs.yaml',
                       'roles/*/meta/main.yml', 'roles/*/meta/main.yaml'):
        options.update(_argument_spec_options(path))
    for path in _files('roles/*/defaults/main.yml', 'roles/*/defaults/main.yaml', 'roles/*/defaults/main/**/*.yml',
                       'roles/*/vars/**/*.yml', 'roles/*/vars/**/*.yaml'):
        options.update(_top_level_keys(path))
    for path in _files('roles/*/tasks/**/*.yml', 'roles/*/tasks/**/*.yaml', 'roles/*/handlers/**/*.yml',
                       'roles/*/defaults/**/*.yml', 'roles/*/vars/**/*.yml', 'playbooks/**/*.yml',
                       'playbooks/**/*.yaml'):
        for doc in _load(path):
            _walk(doc, names)
    for path in _files('playbooks/awx/*.yml'):  # vars files of awx_configure.yml
        names.update(_top_level_keys(path))
    for path in _files('roles/*/templates/**/*.j2'):
        try:
            with open(path, 'rb') as handle:
                names.update(_identifiers(handle.read().decode('utf-8', 'replace')))
        except OSError:
            pass
    names.update(_stats_names())
    return Known(options, names)


def known():
    """The known names, computed once per process (a worker runs one task of one host, the controller many)."""
    if _COLLECTION_ROOT not in _CACHE:
        _CACHE[_COLLECTION_ROOT] = compute()
    return _CACHE[_COLLECTION_ROOT]


def unknown_variables(variables, prefixes=PREFIXES, ignore=(), names=None):
    """The names among ``variables`` (any iterable of names) that start with a prefix and are not known.

    Returns ``[(name, suggestion or None)]``, sorted. Only names are ever looked at, never values.
    """
    names = names or known()
    prefixes = tuple(prefixes)
    ignore = set(ignore)
    unknown = []
    for name in sorted(set(str(n) for n in variables)):
        if not name.startswith(prefixes) or name.startswith('__') or name in ignore or name in names.names:
            continue
        unknown.append((name, suggest(name, names, prefixes)))
    return unknown


def suggest(name, names, prefixes=PREFIXES):
    """The closest option (what users set), else the closest of every known name, else None."""
    prefixes = tuple(prefixes)
    for pool in (names.options, names.names):
        close = difflib.get_close_matches(name, sorted(n for n in pool if n.startswith(prefixes)), n=1, cutoff=0.75)
        if close:
            return close[0]
    return None


def _role_of(name):
    for role in ('password_rotation', 'password_audit', 'credential_store', 'dac_sessions'):
        if name.startswith(role + '_'):
            return role
    return None


def message(unknown, host=None):
    """The failure message: each unknown name with a suggestion, and what to do. Never a value."""
    lines = []
    for name, suggestion in unknown:
        hint = ' (did you mean %s?)' % suggestion if suggestion else ' (no known option is close to it)'
        lines.append('%s is not an option of digitro.pabx%s' % (name, hint))
    roles = sorted(set(_role_of(name) or _role_of(suggestion or '') for name, suggestion in unknown) - set([None]))
    roles = roles or ['password_rotation', 'password_audit', 'credential_store', 'dac_sessions']
    where = ' for %s' % host if host else ''
    collection = ''
    if any(not _role_of(name) for name, _suggestion in unknown):
        collection = ' (and the collection-wide ones are %s)' % ', '.join(sorted(COLLECTION_VARIABLES))
    return (
        'Unknown digitro.pabx variable%s%s: %s. Ansible would ignore %s and run with the defaults instead. '
        'Fix the spelling (or remove the variable) in the inventory, group_vars/host_vars, vars files or -e extra '
        'vars; the known options are documented in %s%s. A variable of your own that only shares the prefix can be '
        'allowed with the ignore option of digitro.pabx.check_variables.'
        % ('s' if len(unknown) > 1 else '', where, '; '.join(lines), 'them' if len(unknown) > 1 else 'it',
           ', '.join('`ansible-doc -t role digitro.pabx.%s`' % role for role in roles), collection)
    )
