# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options of the modules that take a batch of entries, beside the batch itself.
    DOCUMENTATION = r'''
options:
  echo_numbers:
    description:
      - Whether the results of the O(batch) entries that simply succeeded name their device and account. The results
        are in the order of O(batch) either way, and an entry that did not simply succeed always names them.
      - Ansible masks every value of a C(no_log) option wherever it appears in a result, so a number that happens to
        equal a PIN of the batch shows as C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER), which tells a reader of the job
        output that some entry's PIN is that number; at thousands of entries the masking also takes about half a
        second. The collection's roles set V(false).
    type: bool
    default: true
'''
