#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ansible_vault_store
short_description: Read or write a PABX credential store as an Ansible Vault file on the controller
version_added: 1.0.0
description:
  - Reads a credential store (the passwords of a PABX's extensions and accounts) from an Ansible Vault file,
    or encrypts a store and replaces the file atomically.
  - This is the C(vault_file) backend of the R(digitro.pabx.credential_store,ansible_collections.digitro.pabx.credential_store_role)
    role. It runs on the controller as an action plugin, without a module process, so that a store of many
    thousand entries is read and written in a fraction of a second.
  - Its result is always hidden as with C(no_log), and it shows no diff, because the store holds passwords.
  - The file's document carries a top-level integer C(generation) (absent, in stores written before it, means
    V(0)), counted up by every write. A read returns it as RV(generation), apart from RV(data). A write given
    O(expect_generation) checks it first, under a short C(flock) of the file O(path)C(.save.lock), and refuses
    when another run wrote the store since this one loaded it.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.controller_file
  - digitro.pabx.controller_file.controller_action
options:
  path:
    description:
      - The store file on the controller. Written with mode C(0600); its directory is created with mode C(0700)
        when missing.
    type: path
    required: true
  secret:
    description:
      - The Vault password of the store.
    type: str
    required: true
  vault_id:
    description:
      - The Vault ID label written into the file header.
    type: str
    default: digitro_pabx
  data:
    description:
      - The store to write. Without it, the file is read.
      - The file is left alone when it already holds this store, so a save reports changed only when the store
        did change.
      - A C(generation) key in it is ignored; the file gets the next generation.
    type: dict
  expect_generation:
    description:
      - With O(data), the generation of the store as this run loaded it (RV(generation) of the read, or of the
        previous write). When the file has another generation, another run wrote it in between; the task fails
        and nothing is written, so that no run overwrites a newer store.
      - Without it, the store is written whatever its generation (as before generations existed). The
        R(digitro.pabx.credential_store,ansible_collections.digitro.pabx.credential_store_role) role always sets it.
    type: int
  keep_versions:
    description:
      - With O(data), how many earlier versions of the file to keep beside it, in the directory O(path)C(.versions)
        (one file per generation, encrypted as the store is - a hard link to the file a write replaces). The
        oldest beyond this number are removed. V(0) keeps none.
    type: int
    default: 0
  list_versions:
    description:
      - Return RV(versions), the store as it is and each kept version, instead of the store. Nothing is written.
    type: bool
    default: false
  version:
    description:
      - Return, as RV(data), the store as it was at this generation (the current one or a kept version), with
        the current RV(generation) (a restore saves with O(expect_generation) set to it). Nothing is written.
    type: int
notes:
  - A file that cannot be decrypted (wrong secret, not a Vault file) fails the task; nothing is overwritten.
  - An empty file reads as no store, like a missing one.
  - Two runs of one PABX should not overlap at all; M(digitro.pabx.store_lock) makes the second one wait. The
    generation check is the last line of defence when they do.
seealso:
  - module: digitro.pabx.digitro_password
  - module: digitro.pabx.store_lock
'''

EXAMPLES = r'''
- name: Load the credential store of this PABX
  digitro.pabx.ansible_vault_store:
    path: "{{ inventory_dir }}/credentials/{{ inventory_hostname }}.store"
    secret: "{{ lookup('ansible.builtin.env', 'DIGITRO_STORE_SECRET') }}"
  register: loaded
  no_log: true

- name: Use it
  ansible.builtin.set_fact:
    credential_store_data: "{{ loaded.data }}"
    credential_store_generation: "{{ loaded.generation }}"
  no_log: true

- name: Save it back after a change, unless another run wrote it meanwhile
  digitro.pabx.ansible_vault_store:
    path: "{{ inventory_dir }}/credentials/{{ inventory_hostname }}.store"
    secret: "{{ lookup('ansible.builtin.env', 'DIGITRO_STORE_SECRET') }}"
    data: "{{ credential_store_data }}"
    expect_generation: "{{ credential_store_generation }}"
  register: saved

- name: Remember the generation for the next save
  ansible.builtin.set_fact:
    credential_store_generation: "{{ saved.generation }}"
'''

RETURN = r'''
exists:
  description:
    - Whether the store file exists (after a write, true; in check mode, only if it existed before).
    - When reading, false also for an empty file.
  returned: always
  type: bool
  sample: true
generation:
  description:
    - The generation of the file; after a write, the new one (unchanged when nothing was written). V(0) when
      there is no file or it has no generation yet.
  returned: always
  type: int
  sample: 42
versions:
  description:
    - With O(list_versions), the store as it is (RV(versions[].current)) and its kept versions, newest first.
      A kept version the secret cannot decrypt is listed as not readable. Never a PIN.
  returned: when O(list_versions) is true
  type: list
  elements: dict
  contains:
    version:
      description: The version's identifier, for O(version); for this backend, its generation.
      type: int
    generation:
      description: The generation of the store in that version.
      type: int
    saved_at:
      description: When that version was written (UTC).
      type: str
      sample: "2026-11-27T03:00:00Z"
    devices:
      description: How many extensions that version has.
      type: int
    accounts:
      description: How many accounts that version has.
      type: int
    current:
      description: Whether it is the store as it is now.
      type: bool
    readable:
      description:
        - Whether the secret given decrypts it. A version written with another secret, or damaged, is listed with
          V(false) (and no counts) and cannot be restored with this secret.
      type: bool
data:
  description:
    - When reading, the store without its C(generation) (V({}) when the file does not exist yet or is empty).
      Hidden from output, as the whole result is.
    - Returned rather than set as a fact, because Ansible copies the facts an action sets into every later task's
      variables; set it with M(ansible.builtin.set_fact).
  returned: when neither O(data) nor O(list_versions) is given
  type: dict
  sample: {"schema": 1, "devices": {}, "accounts": {}}
'''
