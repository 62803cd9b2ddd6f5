# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Take the wrong-attempt journal (counts, and PINs out when a run was killed) into the loaded store, or clear it
after a save, on the controller."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.module_utils._journal import JournalUnreadable
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_journal import apply, clear, take

ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    state=dict(type='str', default='taken', choices=['taken', 'cleared']),
    data=dict(type='dict'),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # the journal is a file on the controller
    _supports_check_mode = True   # the PABX counted the attempts in check mode too

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result['_ansible_no_log'] = True  # the store passes through
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        try:
            if args['state'] == 'cleared':
                # a save that wrote nothing (check mode) leaves the journal to the next one that does
                result.update(changed=False if self._task.check_mode else clear(args['path']))
                return result
            counts, unanswered = take(args['path'])
        except JournalUnreadable as exc:  # its text names the file, the line and what to do; never the line
            raise AnsibleActionFail(str(exc))
        except (IOError, OSError) as exc:
            raise AnsibleActionFail('the wrong-attempt journal %s cannot be %s (%s): check credential_store_journal_file'
                                    % (args['path'], args['state'], exc.strerror or exc))
        # an entry with an unanswered PIN has a count above 0 too (its out line's)
        result.update(changed=False, counts=len(set(counts) | set(unanswered)),
                      unanswered=sum(len(outs) for outs in unanswered.values()))
        if args['data'] is not None:  # without it, the counts only: the load passes the store only when there are any
            result['data'] = apply(args['data'], counts, unanswered)
        return result
