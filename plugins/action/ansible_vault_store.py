# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read or write a credential store as an Ansible Vault file, on the controller and without a module run.

A store of ten thousand extensions goes through here twice per rotation round; the file and copy
modules (a stat, a transfer and a module process each time) cost more than the encryption.

The file carries a top-level ``generation``, counted up by every write. A write given the generation its run
loaded refuses when the file has another one: another run wrote it in between, and overwriting it would
lose that run's PINs.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import binascii
import json
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import VaultLib, VaultSecret, is_encrypted
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.plugin_utils import _store_versions
from ansible_collections.digitro.pabx.plugins.plugin_utils._files import write_atomically

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    secret=dict(type='str', required=True, no_log=True),
    vault_id=dict(type='str', default='digitro_pabx'),
    data=dict(type='dict'),
    expect_generation=dict(type='int'),
    keep_versions=dict(type='int', default=0),
    list_versions=dict(type='bool', default=False),
    version=dict(type='int'),
)

GENERATION = 'generation'


def _damaged(ciphertext):
    """Whether a vault file's envelope is broken, so that a wrong secret is not blamed for a truncated file.

    The body is hex lines of 80 characters (the last may be shorter) of salt, HMAC and an AES ciphertext,
    whose length is a whole number of 16-byte blocks.
    """
    lines = ciphertext.strip().splitlines()[1:]
    if not lines or any(len(line) != 80 for line in lines[:-1]):
        return True
    try:
        parts = binascii.unhexlify(b''.join(lines)).split(b'\n')
        return len(parts) != 3 or len(binascii.unhexlify(parts[2])) % 16 != 0
    except (binascii.Error, TypeError, ValueError):
        return True


class _Unreadable(Exception):
    """Why a store file cannot be read, in our own words: never the secret, never the content."""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the store is a file on the controller

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result['_ansible_no_log'] = True  # PINs pass through here in both directions
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        vault = VaultLib([(args['vault_id'], VaultSecret(to_bytes(args['secret'])))])
        path = args['path']
        if args['list_versions'] or args['version'] is not None:
            if args['data'] is not None:
                raise AnsibleActionFail('ansible_vault_store: data (a write) cannot be combined with list_versions or version')
            result.update(changed=False, **self._versions(vault, path, args))
            return result
        if args['data'] is None:
            data = self._read_or_fail(vault, path, 'Nothing was changed on the PABX.')
            generation, data = _split(data)
            # Returned, not set as a fact: Ansible copies every fact an action sets into the variables of each
            # later task, which costs a pass over the whole store per task.
            result.update(changed=False, exists=data is not None, data=data or {}, generation=generation)
            return result
        if self._task.check_mode:
            changed, generation = self._write(vault, path, args, write=False)
        else:
            # The check and the write under one flock, of a file beside the store (the store itself is replaced,
            # so a lock on it would lock the old file): two saves cannot both pass the check.
            with _locked(path + '.save.lock'):
                changed, generation = self._write(vault, path, args, write=True)
        result.update(changed=changed, exists=os.path.exists(path), generation=generation)
        return result

    def _write(self, vault, path, args, write):
        """Check the generation, then write the store if it changed; returns (changed, generation of the file)."""
        # a file this secret cannot read may hold PINs of its own: it is never overwritten
        generation, current = _split(self._read_or_fail(vault, path, 'It was left as it is.'))
        expected = args['expect_generation']
        if expected is not None and expected != generation:
            raise AnsibleActionFail(
                'the credential store %s changed since this run loaded it (generation %d, now %d): another run wrote '
                'it; nothing was saved; the PINs this run staged are listed as pending in its report \u2014 run again'
                % (path, expected, generation))
        data = _split(args['data'])[1]
        if current == data:
            return False, generation
        if write:
            document = dict(data)
            document[GENERATION] = generation + 1
            ciphertext = vault.encrypt(json.dumps(document, sort_keys=True), vault_id=args['vault_id'])
            _store_versions.keep(path, generation, args['keep_versions'])
            write_atomically(path, ciphertext, 0o600, 0o700)
            generation += 1
        return True, generation

    def _versions(self, vault, path, args):
        """The listing of the kept versions (``list_versions``), or one of them (``version``)."""
        generation, current = _split(self._read_or_fail(vault, path, 'Nothing was changed.'))
        if args['version'] is not None:
            wanted = args['version']
            if wanted == generation and current is not None:
                return dict(data=current, generation=generation, exists=True)
            kept = _store_versions.generations(path)
            if wanted not in kept:
                known = ([generation] if current is not None else []) + kept
                raise AnsibleActionFail('the credential store %s has no version %d; it has %s' % (
                    path, wanted, ', '.join(str(g) for g in known) if known else 'none'))
            data = _split(self._read_or_fail(vault, _store_versions.version_path(path, wanted),
                                             'Nothing was changed (was it written with another store secret?).'))[1]
            return dict(data=data or {}, generation=generation, exists=current is not None)
        listing = [_store_versions.summary(generation, generation, _store_versions.saved_at(path), current, True)] \
            if current is not None else []
        for kept in _store_versions.generations(path):
            where = _store_versions.version_path(path, kept)
            try:
                row = _store_versions.summary(kept, kept, _store_versions.saved_at(where),
                                              _split(self._read(vault, where))[1], False)
            except _Unreadable:  # written with another secret, or damaged: listed, as not restorable with this one
                row = _store_versions.summary(kept, kept, _store_versions.saved_at(where), None, False)
                row['readable'] = False
            listing.append(row)
        return dict(versions=listing, generation=generation, exists=current is not None)

    def _read_or_fail(self, vault, path, consequence):
        try:
            return self._read(vault, path)
        except _Unreadable as exc:
            raise AnsibleActionFail('Could not read the credential store %s: %s. %s' % (path, exc, consequence))

    @staticmethod
    def _read(vault, path):
        """The decrypted store, or None when there is no file yet or an empty one."""
        if not os.path.exists(path):
            return None
        try:
            with open(path, 'rb') as handle:
                ciphertext = handle.read()
        except OSError as exc:
            raise _Unreadable('it cannot be read (%s)' % exc.strerror)
        if not ciphertext.strip():
            return None
        if not is_encrypted(ciphertext):
            raise _Unreadable('it is not an Ansible Vault file')
        if _damaged(ciphertext):
            raise _Unreadable('it is truncated or damaged (restore it from a backup; the secret was not tried)')
        try:
            plaintext = vault.decrypt(ciphertext)
        except AnsibleError:
            raise _Unreadable('the secret (credential_store_secret or DIGITRO_STORE_SECRET) does not decrypt it, '
                              'or the file was altered')
        try:
            document = json.loads(to_text(plaintext))
        except ValueError:
            raise _Unreadable('its decrypted content is not a JSON document')
        if not isinstance(document, dict):
            raise _Unreadable('its decrypted content is not a JSON object')
        if not isinstance(document.get(GENERATION, 0), int) or isinstance(document.get(GENERATION), bool):
            raise _Unreadable('its generation is not a whole number')
        return document


def _split(document):
    """(generation, the store without it): the generation belongs to the file, not to the store's content."""
    if document is None:
        return 0, None
    data = dict(document)
    return data.pop(GENERATION, 0), data


class _locked(object):
    """An exclusive flock of ``path`` (made with mode 0600, in a directory made 0700) for a with block."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        os.close(self.fd)  # releases the flock
        return False
