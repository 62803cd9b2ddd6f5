#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: store_journal
short_description: Take the wrong-attempt journal of a PABX credential store into the store, or clear it
version_added: 1.0.0
description:
  - M(digitro.pabx.digitro_password) and M(digitro.pabx.digitro_user_validate) append each change of an entry's
    count of wrong attempts to a journal file as it happens (their C(journal) option), so that a run killed
    before it saved its results still hands them to the next run.
  - M(digitro.pabx.digitro_password) also appends, before a PIN leaves, which PIN of the entry is out (by its role,
    never the PIN) and the count should it be wrong; a run whose every process was killed before the answer came
    leaves it out.
  - With O(state=taken), moves the journal aside and returns O(data) (the loaded store) with each entry's count
    as the journal last recorded it, and each PIN left out listed in the entry's C(unanswered) (counted as wrong
    until the PABX accepts a PIN of the entry; the next rotation tries that PIN first). With O(state=cleared),
    deletes what was taken, once a save wrote it.
  - Used by the R(digitro.pabx.credential_store,ansible_collections.digitro.pabx.credential_store_role) role when
    it loads and saves; use that rather than this plugin.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.controller_file.controller_action
options:
  path:
    description: The journal file on the controller (C(credential_store_journal_file)).
    type: path
    required: true
  state:
    description: V(taken) reads the journal into O(data); V(cleared) forgets what was taken.
    type: str
    choices: [taken, cleared]
    default: taken
  data:
    description:
      - The credential store document, with O(state=taken).
      - Without it, only RV(counts) is returned, so that a store passes through a task only when the journal has
        counts to take into it.
    type: dict
attributes:
  check_mode:
    description:
      - V(taken) works in check mode too, as the PABX counted those attempts in check mode too; V(cleared) does
        nothing in check mode, where the save it follows wrote nothing.
    support: full
'''

EXAMPLES = r'''
- name: Take the journal into the loaded store
  digitro.pabx.store_journal:
    path: "{{ credential_store_journal_file }}"
    data: "{{ credential_store_data }}"
  register: journal
  no_log: true

- name: Forget the journal once the store was saved
  digitro.pabx.store_journal:
    path: "{{ credential_store_journal_file }}"
    state: cleared
'''

RETURN = r'''
data:
  description: With O(state=taken), the store with the journal's counts.
  returned: with state=taken and O(data)
  type: dict
counts:
  description: With O(state=taken), how many entries the journal had a count above 0 for (or a PIN left out).
  returned: with state=taken
  type: int
  sample: 2
unanswered:
  description: With O(state=taken), how many PINs were out, their answer never seen, when a run was killed.
  returned: with state=taken
  type: int
  sample: 1
'''
