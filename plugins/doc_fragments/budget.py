# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The wrong-attempt budget of the modules that send passwords.
    DOCUMENTATION = r'''
options:
  max_wrong_attempts:
    description:
      - Most wrong passwords to send to one device or account since it was last known good, counting the ones
        spent before this run (O(batch[].wrong_attempts)). Set it below the PABX's lockout threshold.
      - Nothing more is sent for an entry that reached it (status V(quarantined)). A password the PABX accepts
        resets the count.
      - If not set, the value of the E(DIGITRO_MAX_WRONG_ATTEMPTS) environment variable is used, else V(2).
    type: int
    default: 2
  journal:
    description:
      - A file on the host where the module runs to which each change of an entry's count of wrong attempts is
        appended, and synced, as it happens, so that a run killed before it could record its results still hands
        them on. The count of an entry starts from the higher of O(batch[].wrong_attempts) and its last count in
        the journal.
      - Each line holds a kind, a number, a count and the module run's random mark; a line written as a password
        leaves names its role (C(current), C(new), C(sent:<i>)) so that the next run tries it first should nobody
        see its answer. Never a password, nor anything derived from one. The roles use the credential store's
        journal (C(credential_store_journal_file)) and take it in when they load the store.
    type: path
'''
