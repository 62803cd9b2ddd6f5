# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Take or release the run lock of a PABX's credential store, on the controller.

Two runs that load the same store and save it at the end lose the first run's PINs: the lock makes one
of them wait for the other from before the load until after the final save. It must outlive the task
worker that takes it, so a detached holder process keeps it (see plugin_utils/_run_lock.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.plugin_utils._run_lock import LockError, acquire, release

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', default='locked', choices=['locked', 'unlocked']),
    timeout=dict(type='float', default=600),
    token=dict(type='str', no_log=False),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the lock is a file on the controller
    _supports_check_mode = True   # a check run reads the store too: it takes the lock, which changes nothing

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        # A task worker is forked by the ansible-playbook process: the holder watches that one, and ends when
        # the run ends however it ends.
        controller = os.getppid()
        if args['state'] == 'unlocked':
            released = release(args['path'], token=args['token'], watch_pid=controller)
            result.update(changed=False, released=released, path=args['path'])
            return result
        label = (task_vars or {}).get('inventory_hostname', 'this PABX')
        if args['timeout'] < 0:
            raise AnsibleActionFail('the run lock timeout (credential_store_lock_timeout) must be 0 or more seconds, '
                                    'not %g' % args['timeout'])
        try:
            holder = acquire(args['path'], args['timeout'], label, watch_pid=controller)
        except LockError as exc:
            raise AnsibleActionFail(str(exc))
        result.update(changed=False, **holder)
        return result
