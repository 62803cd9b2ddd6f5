# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run digitro_password only pipelined: its arguments carry passwords and must never be written to a file.

See plugin_utils/_pipelined_action.py for why and how; an empty batch, which sends no password and only
checks the connection, is checked without a module process (plugin_utils/_connection_check.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils._pipelined_action import PipelinedModuleAction


class ActionModule(PipelinedModuleAction):
    checks_connection = True  # batch: [] (the rotation's connection check) runs in the worker, without the module
