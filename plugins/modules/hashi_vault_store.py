#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: hashi_vault_store
short_description: Read or write a PABX credential store kept in HashiCorp Vault or OpenBao (KV version 2)
version_added: 1.1.0
description:
  - Reads a credential store (the passwords of a PABX's extensions and accounts) from one secret of a KV version 2
    secrets engine of HashiCorp Vault or OpenBao, or writes it with check-and-set.
  - This is the C(hashi_vault) backend of the R(digitro.pabx.credential_store,ansible_collections.digitro.pabx.credential_store_role)
    role. It runs on the controller as an action plugin with the Python library C(hvac) (the client
    C(community.hashi_vault) uses), without a module process, so that the store never passes through a module's
    argument file on disk.
  - The secret's KV version is the store's generation. A write is a check-and-set on O(expect_generation); Vault
    refuses it when another run wrote the secret in between, and nothing is written. KV's own versions are the
    store's history (O(list_versions), O(version)).
  - Its result is always hidden as with C(no_log), and it shows no diff, because the store holds passwords.
  - Connection and authentication as the Vault CLI reads them, each option falling back to its environment
    variable - a token, or AppRole's role id and secret id. The collection's AWX credential type injects them.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.controller_file.controller_action
attributes:
  check_mode:
    description: Reads, checks the generation and reports whether the store would change; writes nothing (the run lock is taken and released all the same).
    support: full
requirements:
  - hvac (Python library, on the controller)
options:
  url:
    description:
      - The address of the Vault or OpenBao server, for example V(https://vault.example.com:8200).
      - Defaults to E(VAULT_ADDR), then E(ANSIBLE_HASHI_VAULT_ADDR).
    type: str
  token:
    description:
      - The Vault token. Defaults to E(VAULT_TOKEN), then E(ANSIBLE_HASHI_VAULT_TOKEN), then the file
        C(~/.vault-token) (unless AppRole is set).
    type: str
  namespace:
    description: The Vault Enterprise or OpenBao namespace. Defaults to E(VAULT_NAMESPACE).
    type: str
  role_id:
    description: AppRole role id, used with O(secret_id) when there is no token. Defaults to E(VAULT_ROLE_ID).
    type: str
  secret_id:
    description: AppRole secret id. Defaults to E(VAULT_SECRET_ID).
    type: str
  auth_mount:
    description: Where the AppRole auth method is mounted. Defaults to E(VAULT_AUTH_MOUNT), else V(approle).
    type: str
  ca_cert:
    description: A CA certificate file (PEM) that signed the server's certificate. Defaults to E(VAULT_CACERT).
    type: path
  validate_certs:
    description: Verify the server's TLS certificate. Defaults to true unless E(VAULT_SKIP_VERIFY) is set true.
    type: bool
  timeout:
    description: Seconds to wait for each answer of the server.
    type: int
    default: 30
  mount:
    description: Where the KV version 2 secrets engine is mounted.
    type: str
    default: secret
  path:
    description: The secret of this PABX's store in the engine, for example C(digitro-pabx/site-a).
    type: str
    required: true
  data:
    description:
      - The store to write. Without it (and without O(list_versions) and O(version)), the store is read.
      - A C(generation) key in it is ignored; the secret gets the next version.
      - The secret is left alone when it already holds this store.
    type: dict
  expect_generation:
    description:
      - Required with O(data) - the generation (KV version) of the store as this run loaded it, V(0) for no store
        yet. The write is a KV check-and-set on it - when the secret has another version, another run wrote it;
        the task fails naming that risk, and nothing is written.
    type: int
  list_versions:
    description:
      - List the store's versions instead of reading it (RV(versions)), newest first. Deleted and destroyed
        versions are left out and counted in RV(skipped).
    type: bool
    default: false
  version:
    description:
      - Read this version of the store instead of the current one, for a restore. RV(generation) is still the
        current version, so that the restore saves with check-and-set on it.
    type: int
  allow_deleted:
    description:
      - When reading the store, let a deleted or destroyed latest version read as an empty store (RV(exists) false,
        RV(latest_deleted) true) at the current generation instead of failing - for a restore, which then saves
        an earlier version with check-and-set on that generation.
    type: bool
    default: false
  lock:
    description:
      - V(acquired) takes the run lock of the store, V(released) releases it. The lock is the secret
        C(<path>.lock) beside the store in the same engine, written with check-and-set, holding an owner token,
        the host, the process, the start and the expiry (never a secret).
      - A lock held by another live run is waited for up to O(lock_timeout) seconds, then the task fails naming its
        holder. A lock past its expiry, or whose process on this host is gone, is taken over (with a warning).
      - Releasing needs O(lock_owner); a lock that another run took over meanwhile is left alone, with a warning.
      - Taken and released in check mode too.
    type: str
    choices: [acquired, released]
  lock_owner:
    description: With O(lock=released), the owner token that O(lock=acquired) returned (RV(owner)).
    type: str
  lock_ttl:
    description: With O(lock=acquired), how many seconds the lock stays valid (at least 60).
    type: int
    default: 14400
  lock_timeout:
    description: With O(lock=acquired), how many seconds to wait for another run to release the lock.
    type: int
    default: 600
  break_lock:
    description:
      - With O(lock=acquired), take over a lock that another run holds. Only when sure that run is dead.
    type: bool
    default: false
  lock_label:
    description: With O(lock=acquired), a label of the run kept in the lock, such as the AWX job.
    type: str
notes:
  - The token needs a policy with C(read) on C(<mount>/data/<path>) and C(<mount>/metadata/<path>), and C(create)
    and C(update) on C(<mount>/data/<path>); for the run lock, C(read), C(create) and C(update) on
    C(<mount>/data/<path>.lock) and C(read) on C(<mount>/metadata/<path>.lock).
  - A missing secret reads as no store (RV(exists) false). An unreachable server, a denied permission, a missing
    mount or a mount that is not KV version 2 fail the task with a message that names neither the token nor a PIN.
  - KV keeps a limited number of versions per secret (C(max_versions), 10 by default on the engine).
seealso:
  - module: digitro.pabx.ansible_vault_store
  - module: digitro.pabx.store_lock
  - name: KV secrets engine version 2, check-and-set
    description: How Vault refuses a write whose cas is not the current version.
    link: https://developer.hashicorp.com/vault/docs/secrets/kv/kv-v2
'''

EXAMPLES = r'''
- name: Load the credential store of this PABX (VAULT_ADDR and VAULT_TOKEN from the environment)
  digitro.pabx.hashi_vault_store:
    path: "digitro-pabx/{{ inventory_hostname }}"
  register: loaded
  no_log: true

- name: Save it back after a change, unless another run wrote it meanwhile
  digitro.pabx.hashi_vault_store:
    path: "digitro-pabx/{{ inventory_hostname }}"
    data: "{{ credential_store_data }}"
    expect_generation: "{{ loaded.generation }}"
  register: saved

- name: List the versions of the store
  digitro.pabx.hashi_vault_store:
    mount: kv
    path: "digitro-pabx/{{ inventory_hostname }}"
    list_versions: true
  register: history

- name: Read an earlier version, to restore it with check-and-set on the current one
  digitro.pabx.hashi_vault_store:
    path: "digitro-pabx/{{ inventory_hostname }}"
    version: "{{ history.versions[1].version }}"
  register: earlier
'''

RETURN = r'''
exists:
  description: Whether the store's secret exists (after a write, true; in check mode, only if it existed before).
  returned: always
  type: bool
  sample: true
generation:
  description:
    - The current KV version of the store; after a write, the new one (unchanged when nothing was written). V(0)
      when there is no store yet.
  returned: always
  type: int
  sample: 12
data:
  description:
    - When reading, the store (V({}) when there is none yet); with O(version), that version's store. Hidden from
      output, as the whole result is.
  returned: when reading
  type: dict
  sample: {"schema": 2, "devices": {}, "accounts": {}}
versions:
  description: With O(list_versions), the store's versions, newest first.
  returned: when O(list_versions) is true
  type: list
  elements: dict
  contains:
    version:
      description: The KV version.
      type: int
    generation:
      description: The store's generation, the same number.
      type: int
    saved_at:
      description: When it was written, YYYY-MM-DDTHH:MM:SSZ.
      type: str
    devices:
      description: How many devices it holds.
      type: int
    accounts:
      description: How many accounts it holds.
      type: int
    current:
      description: Whether it is the current version.
      type: bool
  sample: [{"version": 3, "generation": 3, "saved_at": "2026-12-01T02:00:41Z", "devices": 40, "accounts": 5,
            "current": true}]
skipped:
  description: With O(list_versions), how many deleted or destroyed versions were left out.
  returned: when O(list_versions) is true
  type: int
  sample: 0
latest_deleted:
  description: When reading, whether the latest version is deleted or destroyed (only with O(allow_deleted)).
  returned: when reading the store
  type: bool
  sample: false
owner:
  description: With O(lock=acquired), the owner token of the lock, for O(lock_owner) when releasing it.
  returned: when O(lock=acquired)
  type: str
  sample: 3f2a0c9e8b7d4e1fa2b3c4d5e6f70812
host:
  description: With O(lock=acquired), the host recorded as the lock's holder.
  returned: when O(lock=acquired)
  type: str
  sample: awx-job-4711
pid:
  description: With O(lock=acquired), the process recorded as the lock's holder (the ansible-playbook process).
  returned: when O(lock=acquired)
  type: int
  sample: 4242
expires_at:
  description: With O(lock=acquired), when the lock expires, YYYY-MM-DDTHH:MM:SSZ.
  returned: when O(lock=acquired)
  type: str
  sample: "2026-12-01T06:00:00Z"
path:
  description: With O(lock=acquired), the lock secret's path in the engine.
  returned: when O(lock=acquired)
  type: str
  sample: digitro-pabx/site-a.lock
released:
  description: With O(lock=released), whether this run's lock was released.
  returned: when O(lock=released)
  type: bool
  sample: true
version:
  description: With O(version), the version read.
  returned: when O(version) is given
  type: int
  sample: 2
'''
