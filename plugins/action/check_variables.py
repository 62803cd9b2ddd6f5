# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fail on a variable that looks like an option of this collection but is none, before the PABX is touched.

Ansible ignores a misspelled variable; for ``password_rotation_targes`` that means rotating the whole PABX.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.plugin_utils._known_variables import PREFIXES, message, unknown_variables

ARGUMENT_SPEC = dict(
    prefixes=dict(type='list', elements='str', default=list(PREFIXES)),
    ignore=dict(type='list', elements='str', default=[]),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # looks at variable names on the controller only

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        names = list(task_vars or {})  # names only: a value is never read, so it cannot be shown
        unknown = unknown_variables(names, args['prefixes'], args['ignore'])
        result.update(changed=False, unknown=[name for name, _suggestion in unknown],
                      suggestions=dict((name, suggestion) for name, suggestion in unknown if suggestion))
        if unknown:
            result.update(failed=True, msg=message(unknown, (task_vars or {}).get('inventory_hostname')))
        else:
            checked = sum(1 for name in names if name.startswith(tuple(args['prefixes'])))
            result['msg'] = 'Every one of the %d digitro.pabx variables is a known option.' % checked
        return result
