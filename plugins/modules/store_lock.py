#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: store_lock
short_description: Take or release the run lock of a PABX credential store on the controller
version_added: 1.0.0
description:
  - Makes a run the only writer of a PABX's credential store from before it loads the store until after
    its final save, so that two runs of one PABX cannot overwrite each other's PINs.
  - With O(state=locked), starts a small detached holder process on the controller that takes an exclusive
    C(flock) on O(path) and keeps it until O(state=unlocked) releases it, or until the C(ansible-playbook)
    process of the run is gone (within about a second, also after a C(SIGKILL) of the whole job).
  - A second run waits up to O(timeout) seconds for the lock, then fails, naming the process that holds it.
  - The lock file holds the holder's pid and start time while it is locked. It is never deleted (deleting
    a lock file lets two processes lock two different files).
  - Used by the R(digitro.pabx.credential_store,ansible_collections.digitro.pabx.credential_store_role) role's
    C(lock) and C(unlock) entry points; use those rather than this plugin.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.controller_file.controller_action
options:
  path:
    description:
      - The lock file on the controller; its directory is created with mode C(0700) when missing.
      - Use one lock file per credential store, not the module's C(lock_file) of M(digitro.pabx.digitro_password).
    type: path
    required: true
  state:
    description:
      - V(locked) takes the lock for the rest of the run; V(unlocked) releases it.
    type: str
    choices: [locked, unlocked]
    default: locked
  timeout:
    description:
      - Seconds to wait for another run to release the lock, with O(state=locked). V(0) tries once.
    type: float
    default: 600
  token:
    description:
      - With O(state=unlocked), the RV(token) that O(state=locked) returned. Without it, the lock is released
        if this run holds it.
      - A lock that another run holds is never released; releasing a lock that is not held does nothing.
    type: str
attributes:
  check_mode:
    description: Takes and releases the lock in check mode too (a check run reads the store); it never reports a change.
    support: full
notes:
  - The holder watches the C(ansible-playbook) process, the parent of the task's worker process.
seealso:
  - module: digitro.pabx.ansible_vault_store
'''

EXAMPLES = r'''
- name: Rotate with the store locked for the whole run
  block:
    - name: Take the run lock
      digitro.pabx.store_lock:
        path: "{{ inventory_dir }}/credentials/{{ inventory_hostname }}.store.run.lock"
        timeout: 600
      register: store_lock

    - name: Load, change and save the store
      ansible.builtin.debug:
        msg: "..."
  always:
    - name: Release the run lock
      digitro.pabx.store_lock:
        path: "{{ inventory_dir }}/credentials/{{ inventory_hostname }}.store.run.lock"
        state: unlocked
        token: "{{ store_lock.token | default(omit) }}"
'''

RETURN = r'''
path:
  description: The lock file, as an absolute path.
  returned: always
  type: str
  sample: /srv/pabx/credentials/site-a.store.run.lock
pid:
  description: The pid of the holder process.
  returned: when O(state=locked)
  type: int
  sample: 41822
token:
  description: Identifies this run's holder; pass it to O(state=unlocked).
  returned: when O(state=locked)
  type: str
  sample: 5f0c2a9d41e84b6f9a3c7e21d0b8f613
started_at:
  description: When the lock was taken (UTC).
  returned: when O(state=locked)
  type: str
  sample: "2026-11-27T03:00:00Z"
waited:
  description: Seconds spent waiting for the lock.
  returned: when O(state=locked)
  type: float
  sample: 0.1
released:
  description: Whether a holder of this run was ended (false when nothing was held).
  returned: when O(state=unlocked)
  type: bool
  sample: true
'''
