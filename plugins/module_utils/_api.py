# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Dígitro CTI API contract: every path, slug and field name in one table.

This is private to the collection (the leading underscore) and is the ONLY
place that spells the vendor's wire names. The vendor publishes the
``altera-senha`` page in full; everything marked ``published=False`` below is
an assumption of this collection (see docs/api-contract.md).

A PABX that names things differently needs no code change: ``contract(overrides)``
derives, from this table and the ``api_overrides`` option (the ``digitro_api_overrides``
variable), the ``Contract`` the client and the bundled emulator both speak. The
callers always use the names of this table; the client translates them on the wire.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
from collections import namedtuple

Operation = namedtuple('Operation', ['slug', 'required', 'optional', 'published', 'writes'])

API_KEY_HEADER = 'x-api-key'                     # published
EVENTS_PATH = '/events'                          # assumed: SSE event channel
CHANNEL_OPEN_EVENT = 'EVENTO_DE_ABERTURA_DE_CANAL'  # published (name only)
CHANNEL_ID_FIELD = 'ID_CANAL'                    # assumed
REQUEST_PATH = '/requests/{channel_id}/{slug}'   # published
REQUEST_PREFIX = '/requests/'
ERROR_FIELD = 'ERRO'                             # assumed (the emulator's error body)

# Body fields.
DEVICE = 'DISPOSITIVO'
DEVICE_PASSWORD = 'SENHA_DISPOSITIVO'
ACCOUNT = 'CONTA'
ACCOUNT_PASSWORD = 'SENHA'
NEW_PASSWORD = 'NOVA_SENHA'
DAC_OPERATION = 'OPERACAO'        # assumed
DAC_STATE = 'ESTADO'              # assumed
USER_NAME = 'NOME'                # assumed
USER_CATEGORY = 'CATEGORIA'       # assumed

DAC_LOGIN = 'LOGIN'               # assumed
DAC_LOGOUT = 'LOGOUT'             # assumed
DAC_LOGGED_IN = 'LOGADO'          # assumed
DAC_LOGGED_OUT = 'DESLOGADO'      # assumed

CHANGE_PASSWORD = 'change_password'
VERIFY_PASSWORD = 'verify_password'
VALIDATE_USER = 'validate_user'
DAC_LOGIN_LOGOUT = 'dac_login_logout'
DAC_QUERY = 'dac_query'

OPERATIONS = {
    CHANGE_PASSWORD: Operation('altera-senha', (DEVICE, DEVICE_PASSWORD, NEW_PASSWORD),
                               (ACCOUNT, ACCOUNT_PASSWORD), True, True),
    VERIFY_PASSWORD: Operation('verifica-senha', (DEVICE, DEVICE_PASSWORD),
                               (ACCOUNT, ACCOUNT_PASSWORD), False, False),
    VALIDATE_USER: Operation('valida-usuario', (DEVICE, DEVICE_PASSWORD, ACCOUNT, ACCOUNT_PASSWORD),
                             (), False, False),
    # SENHA is needed to LOGIN; a LOGOUT is authorised by the device's own password (assumed), which is
    # how a device ends whichever agent's session is open on it.
    DAC_LOGIN_LOGOUT: Operation('login-logout-dac', (DEVICE, DEVICE_PASSWORD, ACCOUNT, DAC_OPERATION),
                                (ACCOUNT_PASSWORD,), False, True),
    DAC_QUERY: Operation('consulta-dac', (DEVICE, DEVICE_PASSWORD), (), False, False),
}

SECRET_FIELDS = frozenset([DEVICE_PASSWORD, ACCOUNT_PASSWORD, NEW_PASSWORD])

# How the PABX's user attributes are returned by digitro_user_validate.
USER_ATTRIBUTES = {ACCOUNT: 'account', USER_NAME: 'name', USER_CATEGORY: 'category'}
DAC_STATES = {DAC_LOGGED_IN: 'logged_in', DAC_LOGGED_OUT: 'logged_out'}

# -- overrides: the same contract under the PABX's own names ----------------------------------------------------------

# The keys of the ``fields`` override and the names of this table they rename.
FIELD_KEYS = {
    'device': DEVICE, 'device_password': DEVICE_PASSWORD, 'account': ACCOUNT, 'account_password': ACCOUNT_PASSWORD,
    'new_password': NEW_PASSWORD, 'dac_operation': DAC_OPERATION, 'dac_state': DAC_STATE, 'user_name': USER_NAME,
    'user_category': USER_CATEGORY, 'error': ERROR_FIELD,
}
OVERRIDE_KEYS = ('events_path', 'channel_id_field', 'slugs', 'fields')
NAME_MAX = 64     # a slug or a field name; a real one is a few words
PATH_MAX = 128
SHOWN_MAX = 10    # unknown keys listed in a message; more are counted
# Printable characters only, no dot segment: a slug or path must name one resource, never another one above it.
_SLUG = re.compile(r'^[A-Za-z0-9._~-]{1,%d}$' % NAME_MAX)
_PATH = re.compile(r'^(/[A-Za-z0-9._~-]+)+$')
_NAME = re.compile(r'^[^\s"\x00-\x1f\x7f-\x9f]{1,%d}$' % NAME_MAX)
# The slug digitro_api_check sends its "surely unknown operation" to: an operation of the contract must not have it.
PROBE_SLUG = 'digitro-check-api-no-such-operation'
READ_OPERATIONS = (VERIFY_PASSWORD, VALIDATE_USER, DAC_QUERY)
WRITE_OPERATIONS = (CHANGE_PASSWORD, DAC_LOGIN_LOGOUT)
STOCK_WRITE_SLUGS = frozenset(OPERATIONS[name].slug for name in WRITE_OPERATIONS)


class OverrideError(ValueError):
    """``api_overrides`` is not what it must be; the message says what to change."""


def _allowed(what, keys):
    return '%s; allowed: %s' % (what, ', '.join(sorted(keys)))


def _listed(names):
    """Some names for a message: at most SHOWN_MAX, each cut short, and how many more."""
    names = sorted(names)
    shown = [n if len(n) <= 40 else n[:37] + '...' for n in names[:SHOWN_MAX]]
    more = len(names) - len(shown)
    return ', '.join(shown) + (' and %d more' % more if more else '')


def _dot_segment(text):
    return text.strip('.') == ''


def _renames(overrides, key, allowed, pattern, describe):
    if key not in overrides:
        return {}
    value = overrides[key]
    if not isinstance(value, dict):
        raise OverrideError('api_overrides.%s must be a mapping (%s)' % (key, _allowed('keys', allowed)))
    unknown = [str(k) for k in value if k not in allowed]
    if unknown:
        raise OverrideError(_allowed('api_overrides.%s has unknown key(s) %s' % (key, _listed(unknown)), allowed))
    for name, wire in value.items():
        if not isinstance(wire, str) or not pattern.match(wire) or (pattern is _SLUG and _dot_segment(wire)):
            raise OverrideError('api_overrides.%s.%s must be %s, at most %d characters'
                                % (key, name, describe, NAME_MAX))
    chosen = list(value.values())
    twice = sorted(set(w for w in chosen if chosen.count(w) > 1))
    if twice:
        raise OverrideError('api_overrides.%s gives %s to two keys' % (key, ', '.join(twice)))
    return value


def _check_fields(fields):
    """No rename may make a secret field and another field trade places: a body would carry a PIN where the PABX
    reads another value (the new PIN sent as the current one, a number sent as a new PIN)."""
    secret_keys = set(k for k, name in FIELD_KEYS.items() if name in SECRET_FIELDS)
    for key, wire in sorted(fields.items()):
        stock_owner = [k for k, name in FIELD_KEYS.items() if name == wire and k != key]
        if stock_owner and (key in secret_keys or stock_owner[0] in secret_keys):
            raise OverrideError('api_overrides.fields.%s must not be %s, the name of the field %s: a secret field '
                                'cannot trade names with another field' % (key, wire, stock_owner[0]))


def _check_slugs(slugs):
    """A read must never reach a write operation: digitro_api_check sends PINs to the reads only."""
    derived = dict((name, slugs.get(name, op.slug)) for name, op in OPERATIONS.items())
    writes = STOCK_WRITE_SLUGS | set(derived[name] for name in WRITE_OPERATIONS)
    for name in READ_OPERATIONS:
        if derived[name] in writes:
            raise OverrideError('api_overrides.slugs.%s must not be %s, the slug of an operation that changes '
                                'something' % (name, derived[name]))
    for name, slug in sorted(derived.items()):
        if slug == PROBE_SLUG:
            raise OverrideError('api_overrides.slugs.%s must not be %s, the slug digitro_api_check uses for an '
                                'operation that surely does not exist' % (name, PROBE_SLUG))


class Contract(object):
    """The wire names one PABX uses: this table with the overrides applied (see ``contract``).

    ``operations`` maps an operation's name to its ``Operation`` in wire names (slug and fields);
    ``wire(name)`` is the wire name of a field of this table, ``to_wire``/``from_wire`` translate a body.
    """

    def __init__(self, events_path=EVENTS_PATH, channel_id_field=CHANNEL_ID_FIELD, slugs=None, fields=None):
        self.events_path = events_path
        self.channel_id_field = channel_id_field
        self.overrides = {}
        self._wire = dict((name, name) for name in FIELD_KEYS.values())
        self._wire.update((FIELD_KEYS[key], wire) for key, wire in (fields or {}).items())
        names = list(self._wire.values())
        clashes = sorted(set(n for n in names if names.count(n) > 1))
        if clashes:
            raise OverrideError('api_overrides.fields would give %s to two fields: rename the other one too'
                                % ', '.join(clashes))
        self._table = dict((wire, name) for name, wire in self._wire.items())
        self.operations = {}
        for name, op in OPERATIONS.items():
            self.operations[name] = op._replace(slug=(slugs or {}).get(name, op.slug),
                                                required=tuple(self.wire(f) for f in op.required),
                                                optional=tuple(self.wire(f) for f in op.optional))
        slug_list = [op.slug for op in self.operations.values()]
        clashes = sorted(set(s for s in slug_list if slug_list.count(s) > 1))
        if clashes:
            raise OverrideError('api_overrides.slugs would give %s to two operations' % ', '.join(clashes))
        self.by_slug = dict((op.slug, (name, op)) for name, op in self.operations.items())
        self.error_field = self.wire(ERROR_FIELD)
        self.secret_fields = frozenset(self.wire(f) for f in SECRET_FIELDS)

    def wire(self, name):
        """The wire name of a field of this table (``DEVICE`` ...)."""
        return self._wire.get(name, name)

    def to_wire(self, body):
        return dict((self.wire(k), v) for k, v in body.items())

    def from_wire(self, body):
        """A body under this table's names; a name the contract does not know is kept as it is."""
        return dict((self._table.get(k, k), v) for k, v in body.items())


def contract(overrides=None):
    """The ``Contract`` of ``overrides`` (the ``api_overrides`` shape); raises ``OverrideError`` when it is wrong.

    ``{"events_path": "/...", "channel_id_field": "...", "slugs": {operation: slug}, "fields": {key: name}}``,
    every key optional; unknown keys are refused with the list of the allowed ones, and so are an empty or
    wrongly typed value, a dot segment, control characters, a name longer than NAME_MAX, a read operation given a
    write operation's slug, and a secret field trading names with another field.
    """
    overrides = {} if overrides is None else overrides
    if not isinstance(overrides, dict):
        raise OverrideError(_allowed('api_overrides must be a mapping', OVERRIDE_KEYS))
    unknown = [str(k) for k in overrides if k not in OVERRIDE_KEYS]
    if unknown:
        raise OverrideError(_allowed('api_overrides has unknown key(s) %s' % _listed(unknown), OVERRIDE_KEYS))
    events_path = overrides.get('events_path', EVENTS_PATH)
    if (not isinstance(events_path, str) or len(events_path) > PATH_MAX or not _PATH.match(events_path)
            or events_path.startswith(REQUEST_PREFIX) or any(_dot_segment(p) for p in events_path.split('/')[1:])):
        raise OverrideError('api_overrides.events_path must be a path such as /events (letters, digits, -._~ '
                            'between slashes, no . or .. segment, at most %d characters, outside %s)'
                            % (PATH_MAX, REQUEST_PREFIX))
    channel_id_field = overrides.get('channel_id_field', CHANNEL_ID_FIELD)
    if not isinstance(channel_id_field, str) or not _NAME.match(channel_id_field):
        raise OverrideError('api_overrides.channel_id_field must be a field name such as ID_CANAL (no spaces, '
                            'quotes or control characters, at most %d characters)' % NAME_MAX)
    slugs = _renames(overrides, 'slugs', OPERATIONS, _SLUG, 'a slug such as verifica-senha (letters, digits, -._~)')
    fields = _renames(overrides, 'fields', FIELD_KEYS, _NAME,
                      'a field name such as SENHA_DISPOSITIVO (no spaces, quotes or control characters)')
    _check_slugs(slugs)
    _check_fields(fields)
    result = Contract(events_path, channel_id_field, slugs, fields)
    result.overrides = dict((k, overrides[k]) for k in OVERRIDE_KEYS if overrides.get(k))
    return result


STOCK = Contract()


def overrides_from_json(name, text):
    """The api_overrides of JSON ``text`` (from ``name``: an environment variable, a file): strict JSON, no key given twice
    (Ansible's dict option would also take key=value text, and the last of two equal keys, silently)."""
    def pairs(items):
        keys = [k for k, v in items]
        twice = sorted(set(k for k in keys if keys.count(k) > 1))
        if twice:
            raise OverrideError('%s gives the key(s) %s twice' % (name, ', '.join(twice)[:200]))
        return dict(items)
    try:
        return json.loads(text, object_pairs_hook=pairs)
    except OverrideError:
        raise
    except (ValueError, RecursionError) as exc:  # the message says where, never the text itself
        where = ' (line %d column %d: %s)' % (exc.lineno, exc.colno, exc.msg) if hasattr(exc, 'lineno') else ''
        raise OverrideError('%s is not valid JSON%s' % (name, where))
