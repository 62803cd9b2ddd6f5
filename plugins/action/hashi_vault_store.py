# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read or write a credential store kept in a HashiCorp Vault / OpenBao KV v2 engine, on the controller.

No module process: the store never passes through a module's argument file, and a store of many thousand
entries costs one request. The KV version is the store's generation; writes are check-and-set on it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.plugin_utils._hashi_vault import GENERATION, KV2Store, StoreError, refused

ARGUMENT_SPEC = dict(
    url=dict(type='str'),
    token=dict(type='str', no_log=True),
    namespace=dict(type='str'),
    role_id=dict(type='str'),
    secret_id=dict(type='str', no_log=True),
    auth_mount=dict(type='str'),
    ca_cert=dict(type='path'),
    validate_certs=dict(type='bool'),
    timeout=dict(type='int', default=30),
    mount=dict(type='str', default='secret'),
    path=dict(type='str', required=True),
    data=dict(type='dict'),
    expect_generation=dict(type='int'),
    list_versions=dict(type='bool', default=False),
    version=dict(type='int'),
    allow_deleted=dict(type='bool', default=False),
    lock=dict(type='str', choices=['acquired', 'released']),
    lock_owner=dict(type='str'),
    lock_ttl=dict(type='int', default=14400),
    lock_timeout=dict(type='int', default=600),
    break_lock=dict(type='bool', default=False),
    lock_label=dict(type='str'),
)
CONNECTION = ('url', 'token', 'namespace', 'role_id', 'secret_id', 'auth_mount', 'ca_cert', 'validate_certs')


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the store is in Vault, reached from the controller

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result['_ansible_no_log'] = True  # PINs pass through here in both directions, and the token
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        if args['lock'] is not None:
            result['_ansible_no_log'] = False  # a lock holds no PIN; its warnings must show
        if sum((args['data'] is not None, bool(args['list_versions']), args['version'] is not None,
                args['lock'] is not None)) > 1:
            raise AnsibleActionFail('hashi_vault_store does one thing per task: give data (a write), list_versions, '
                                    'version (reads) or lock, not two of them; nothing was done')
        if args['lock'] == 'released' and not args['lock_owner']:
            raise AnsibleActionFail('hashi_vault_store releases a run lock only for its owner: give lock_owner (the '
                                    'owner that lock=acquired returned); nothing was done')
        if args['lock'] == 'acquired' and args['lock_ttl'] < 60:
            raise AnsibleActionFail('lock_ttl (credential_store_lock_ttl) must be at least 60 seconds, comfortably '
                                    'above the longest run; nothing was done')
        if args['data'] is not None and args['expect_generation'] is None:
            raise AnsibleActionFail('hashi_vault_store writes only with check-and-set: give expect_generation (the '
                                    'generation this run loaded) with data; nothing was saved')
        try:
            store = KV2Store(dict((name, args[name]) for name in CONNECTION), args['mount'], args['path'],
                             args['timeout'])
            if args['lock'] == 'acquired':
                result.update(self._acquire(store, args))
            elif args['lock'] == 'released':
                released, holder = store.release_lock(args['lock_owner'])
                result.update(changed=released, released=released)
                if not released and holder:
                    result['warnings'] = ['the run lock of the store %s was no longer this run\'s: host %s, '
                                          'process %s took it over at %s (it had expired or was broken); it was left '
                                          'alone' % (store.where, holder.get('host'), holder.get('pid'),
                                                     holder.get('started_at'))]
            elif args['list_versions']:
                versions, skipped, current = store.versions()
                result.update(changed=False, exists=current > 0, versions=versions, skipped=skipped,
                              generation=current)
            elif args['version'] is not None:
                data, current = store.read_version(args['version'])
                result.update(changed=False, exists=True, data=data, generation=current, version=args['version'])
            elif args['data'] is None:
                generation, data, _meta = store.read(allow_gone=args['allow_deleted'])
                result.update(changed=False, exists=data is not None, data=data or {}, generation=generation,
                              latest_deleted=bool(generation and data is None))
            else:
                result.update(self._write(store, args))
        except StoreError as exc:
            raise AnsibleActionFail('%s' % exc)
        return result

    def _acquire(self, store, args):
        # the ansible-playbook process (this worker's parent), so that a run killed on this host frees its lock
        record, held = store.acquire_lock(os.getppid(), args['lock_ttl'], args['lock_timeout'], args['break_lock'],
                                          args['lock_label'])
        result = dict(changed=False, owner=record['owner'], host=record['host'], pid=record['pid'],
                      expires_at=record['expires_at'], path=store.path + '.lock')
        if held:
            result['warnings'] = ['took over the run lock of the store %s from host %s, process %s (started %s): %s'
                                  % (store.where, held.get('host'), held.get('pid'), held.get('started_at'),
                                     'broken on request (credential_store_break_lock)' if args['break_lock']
                                     else 'it had expired or its process is gone')]
        return result

    def _write(self, store, args):
        expected = args['expect_generation']
        # a restore saves over a deleted or destroyed latest version: the check-and-set is on its number all the same
        generation, current, _meta = store.read(allow_gone=True)
        data = dict(args['data'])
        data.pop(GENERATION, None)  # the KV version is the generation
        if expected != generation:
            raise StoreError(refused(store.where, expected, {'current_version': generation}))
        if current == data:
            return dict(changed=False, exists=current is not None, generation=generation)
        if self._task.check_mode:
            return dict(changed=True, exists=current is not None, generation=generation)
        return dict(changed=True, exists=True, generation=store.write(data, expected))
