# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes every module declares; each module states its own support for check and diff mode.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the PABX.
  diff_mode:
    description: Reports what changed (or would change) in diff mode, without secrets.
  action_group:
    description: Use C(group/digitro.pabx.all) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - digitro.pabx.all
'''
