# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read or write a credential store as an Ansible Vault file, on the controller and without a module run.

A store of ten thousand extensions goes through here twice per rotation round; the file and copy
modules (a stat, a transfer and a module process each time) cost more than the encryption.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import VaultLib, VaultSecret, is_encrypted
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.plugin_utils._files import write_atomically

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    secret=dict(type='str', required=True, no_log=True),
    vault_id=dict(type='str', default='digitro_pabx'),
    data=dict(type='dict'),
)


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
        if args['data'] is None:
            data = self._read_or_fail(vault, path, 'Nothing was changed on the PABX.')
            # Returned, not set as a fact: Ansible copies every fact an action sets into the variables of each
            # later task, which costs a pass over the whole store per task.
            result.update(changed=False, exists=data is not None, data=data or {})
            return result
        # a file this secret cannot read may hold PINs of its own: it is never overwritten
        changed = self._read_or_fail(vault, path, 'It was left as it is.') != args['data']
        if changed and not self._task.check_mode:
            ciphertext = vault.encrypt(json.dumps(args['data'], sort_keys=True), vault_id=args['vault_id'])
            write_atomically(path, ciphertext, 0o600, 0o700)
        result.update(changed=changed, exists=os.path.exists(path))
        return result

    def _read_or_fail(self, vault, path, consequence):
        try:
            return self._read(vault, path)
        except _Unreadable as exc:
            raise AnsibleActionFail('Could not read the credential store %s: %s. %s' % (path, exc, consequence))

    @staticmethod
    def _read(vault, path):
        """The decrypted store, or None when there is no file yet."""
        if not os.path.exists(path):
            return None
        try:
            with open(path, 'rb') as handle:
                ciphertext = handle.read()
        except OSError as exc:
            raise _Unreadable('it cannot be read (%s)' % exc.strerror)
        if not is_encrypted(ciphertext):
            raise _Unreadable('it is not an Ansible Vault file')
        try:
            plaintext = vault.decrypt(ciphertext)
        except AnsibleError:
            raise _Unreadable('the secret (credential_store_secret or DIGITRO_STORE_SECRET) does not decrypt it')
        try:
            return json.loads(to_text(plaintext))
        except ValueError:
            raise _Unreadable('its decrypted content is not a JSON document')
