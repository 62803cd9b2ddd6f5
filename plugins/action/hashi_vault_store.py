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
)
CONNECTION = ('url', 'token', 'namespace', 'role_id', 'secret_id', 'auth_mount', 'ca_cert', 'validate_certs')


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the store is in Vault, reached from the controller

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result['_ansible_no_log'] = True  # PINs pass through here in both directions, and the token
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        if sum((args['data'] is not None, bool(args['list_versions']), args['version'] is not None)) > 1:
            raise AnsibleActionFail('hashi_vault_store does one thing per task: give data (a write), list_versions or '
                                    'version (reads), not two of them; nothing was done')
        if args['data'] is not None and args['expect_generation'] is None:
            raise AnsibleActionFail('hashi_vault_store writes only with check-and-set: give expect_generation (the '
                                    'generation this run loaded) with data; nothing was saved')
        try:
            store = KV2Store(dict((name, args[name]) for name in CONNECTION), args['mount'], args['path'],
                             args['timeout'])
            if args['list_versions']:
                versions, skipped, current = store.versions()
                result.update(changed=False, exists=current > 0, versions=versions, skipped=skipped,
                              generation=current)
            elif args['version'] is not None:
                data, current = store.read_version(args['version'])
                result.update(changed=False, exists=True, data=data, generation=current, version=args['version'])
            elif args['data'] is None:
                generation, data, _meta = store.read()
                result.update(changed=False, exists=data is not None, data=data or {}, generation=generation)
            else:
                result.update(self._write(store, args))
        except StoreError as exc:
            raise AnsibleActionFail('%s' % exc)
        return result

    def _write(self, store, args):
        expected = args['expect_generation']
        generation, current, _meta = store.read()
        data = dict(args['data'])
        data.pop(GENERATION, None)  # the KV version is the generation
        if expected != generation:
            raise StoreError(refused(store.where, expected, {'current_version': generation}))
        if current == data:
            return dict(changed=False, exists=current is not None, generation=generation)
        if self._task.check_mode:
            return dict(changed=True, exists=current is not None, generation=generation)
        return dict(changed=True, exists=True, generation=store.write(data, expected))
