# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The check mode of the action plugins that write files on the controller (ansible_vault_store, report_files);
    # they also extend CONTROLLER_ACTION below.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Reports whether a file would change, and writes nothing in check mode.
    support: full
'''

    # The attributes every controller-side action plugin shares (digitro.pabx.controller_file.controller_action);
    # each plugin states its own check_mode.
    CONTROLLER_ACTION = r'''
options: {}
attributes:
  diff_mode:
    description: Shows no diff.
    support: none
  action:
    description: Runs as an action plugin on the controller, without a module process.
    support: full
'''
