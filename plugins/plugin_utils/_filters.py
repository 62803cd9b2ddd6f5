# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every filter plugin of the collection does around its logic: plain values in, clear errors out."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

try:
    from ansible.template import is_trusted_as_template
except ImportError:  # ansible-core before 2.19: no lazy containers, and plain() walks plain dicts and lists
    is_trusted_as_template = None

from ansible_collections.digitro.pabx.plugins.plugin_utils._roster import RosterError
from ansible_collections.digitro.pabx.plugins.plugin_utils._store import TIME_FORMAT, StoreError

# The logic's own errors, whose messages name numbers, rows and settings, never a PIN.
EXPECTED = (StoreError, RosterError, ValueError, KeyError, TypeError)


def guarded(function):
    """A filter whose expected errors reach the play as one AnsibleFilterError naming the filter."""
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except EXPECTED as exc:
            raise AnsibleFilterError('%s: %s' % (function.__name__, exc))
    run.__name__ = function.__name__
    return run


def plain(value):
    """Ansible's tagged containers, as the plain dicts, lists and strings the logic expects."""
    if is_trusted_as_template is not None and isinstance(value, (dict, list)):
        try:
            return _raw(value)
        except _Rendered:
            pass
    return _rendered(value)


def _rendered(value):
    """``value`` read through Ansible's containers: ansible-core 2.19 renders each value it hands out."""
    if isinstance(value, dict):
        return dict((str(k), _rendered(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_rendered(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class _Rendered(Exception):
    """A value that rendering could change: read it as Ansible renders it."""


def _raw(value):
    """``value`` as plain data, read past ansible-core 2.19's lazy containers without rendering each value, where
    rendering would give each back as it is: a string that is not trusted as a template, a number, a bool, None.

    Rendering is a few microseconds a value, and a store of ten thousand entries has a few hundred thousand: about
    0.3 s a pass. Anything else (a trusted string, a vaulted value, a type of a later ansible-core) raises _Rendered,
    and the whole value is read as Ansible renders it."""
    if isinstance(value, dict):
        return dict((str(k), _raw(_unwrapped(v))) for k, v in dict.items(value))
    if isinstance(value, list):
        return [_raw(_unwrapped(v)) for v in list.__iter__(value)]
    if isinstance(value, str):
        if is_trusted_as_template(value):
            raise _Rendered()
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise _Rendered()


def _unwrapped(value):
    """A value as a lazy container holds it: wrapped until it is first read (ansible-core's own _LazyValue)."""
    return value.value if type(value).__name__ == '_LazyValue' else value


def packed(value):
    """A large document (a store, a batch, a report) as compact JSON text, to hand to the next task.

    Ansible walks every node of a dict or list each time a task's arguments or facts are templated: about a
    second per task for a store of ten thousand entries in ansible-core 2.19. A text it passes on as it is.
    """
    return json.dumps(value, separators=(',', ':'))


def unpacked(value):
    """A document as ``packed`` wrote it, or given as a mapping or list (a store loaded by credential_store)."""
    if isinstance(value, str):
        try:
            document = json.loads(value)
        except ValueError:
            document = None
        if not isinstance(document, (dict, list)):  # its words are not shown: a PIN typed in its place would be
            raise ValueError('expected a document of this collection (a mapping, a list, or the JSON text of one), '
                             'got a text that is not JSON of one')
        return document
    return plain(value)


def as_bool(value):
    """A yes/no argument of a filter, read as argument specs read one ('y', ' True '); anything else is false."""
    try:
        return boolean(value, strict=False)
    except TypeError:  # an unhashable value
        return False


def flag(value, name):
    """A yes/no setting read as the roles' argument specs read it ('y', ' True ', 'on'...), or an error naming it.

    Jinja's ``bool`` reads 'y' or 'true ' as false: a dry run asked for so (an AWX survey's free text) would run
    for real, though the argument spec had accepted it as true."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleFilterError('%s must be true or false (yes/no, on/off, 1/0), not %r' % (name, str(value)[:40]))


def utc(text):
    """A time as the roles pass it (``now(utc=True, fmt='%Y-%m-%dT%H:%M:%SZ')``)."""
    try:
        return datetime.datetime.strptime(str(text), TIME_FORMAT)
    except ValueError:
        raise AnsibleFilterError('now must be a UTC time like 2026-11-27T03:00:00Z')
