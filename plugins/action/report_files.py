# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a run's report for people (text) and for machines (JSON) on the controller, in one task.

A directory, a template and a copy task cost five module processes; for a report of ten thousand rows
that is seconds of a rotation's run.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.plugin_utils._files import write_atomically

ARGUMENT_SPEC = dict(
    directory=dict(type='path', required=True),
    name=dict(type='str', required=True),
    text=dict(type='str', required=True),
    json=dict(type='str', required=True),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # reports are written where the playbook runs

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self.validate_argument_spec(ARGUMENT_SPEC)[1]
        paths = dict((kind, os.path.join(args['directory'], '%s.%s' % (args['name'], kind))) for kind in ('txt', 'json'))
        contents = {'txt': args['text'], 'json': args['json']}
        changed = [kind for kind in paths if _content(paths[kind]) != to_bytes(contents[kind])]
        if not self._task.check_mode:
            for kind in changed:
                try:
                    write_atomically(paths[kind], to_bytes(contents[kind]), 0o640, 0o750)
                except (IOError, OSError) as exc:
                    raise AnsibleActionFail('could not write the report %s: %s; set the report directory (the role\'s '
                                            '*_report_dir option) to a directory this user can write'
                                            % (paths[kind], exc.strerror or exc))
        result.update(changed=bool(changed), text_path=paths['txt'], json_path=paths['json'])
        return result


def _content(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None
