#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: digitro_user_validate
short_description: Check Dígitro PABX account credentials (validate users)
version_added: 1.0.0
description:
  - Asks the PABX whether an account (conta) and its password are valid, through the CTI API operation
    C(valida-usuario), and returns the account's attributes when they are.
  - An invalid account is a result (RV(valid=false)), not a failure, unless O(fail_on_invalid=true).
    A wrong API key, an unreachable PABX or a malformed answer is a failure.
  - O(batch) checks many accounts in one run with bounded concurrency, for audits.
  - Each check is a password attempt on the PABX; PABXs lock accounts after a few wrong ones, so do not
    loop over guesses. With O(batch[].candidates), the passwords the account may hold instead are asked in turn
    after a refusal, each once, and never once O(max_wrong_attempts) refused ones were sent.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.connection
  - digitro.pabx.execution
  - digitro.pabx.batch
  - digitro.pabx.budget
  - digitro.pabx.attributes
attributes:
  check_mode:
    support: full
    details: The module only reads, so it runs the same in check mode.
  diff_mode:
    support: none
    details: Nothing ever changes.
options:
  device:
    description:
      - The device (extension number) making the request. Required unless O(batch) is used.
    type: str
  device_password:
    description:
      - The password of O(device). Required unless O(batch) is used.
    type: str
  account:
    description:
      - The account to validate. Required unless O(batch) is used.
    type: str
  account_password:
    description:
      - The password of O(account) to check. Required unless O(batch) is used.
    type: str
  fail_on_invalid:
    description:
      - Fail when an account is not valid, instead of returning RV(valid=false).
    type: bool
    default: false
  batch:
    description:
      - Many accounts to validate in one run, each with the options of the single form.
    type: list
    elements: dict
    suboptions:
      device:
        description: The device making the request.
        type: str
        required: true
      device_password:
        description: The password of O(batch[].device).
        type: str
        required: true
      account:
        description: The account to validate.
        type: str
        required: true
      account_password:
        description: The password of O(batch[].account) to check.
        type: str
        required: true
      candidates:
        description:
          - Passwords the account may hold instead of O(batch[].account_password) (a change sent earlier whose
            outcome never showed, or the PINs a restored store keeps), tried in this order, each once, within the
            budget, when the PABX refuses the one before. Not set or empty, only O(batch[].account_password).
        type: list
        elements: str
      wrong_attempts:
        description: Refused passwords already sent for this account since it was last known good.
        type: int
        default: 0
seealso:
  - module: digitro.pabx.digitro_password
'''

EXAMPLES = r'''
- name: Check that agent account 500000 and its PIN are valid
  digitro.pabx.digitro_user_validate:
    url: http://127.0.0.1:8080
    api_key: "{{ pabx_api_key }}"
    device: "100000"
    device_password: "{{ device_pin }}"
    account: "500000"
    account_password: "{{ agent_pin }}"
  delegate_to: localhost
  register: agent

- name: Show the agent's name
  ansible.builtin.debug:
    msg: "{{ agent.user.name if agent.valid else 'invalid credentials' }}"

- name: Audit many accounts at once, failing on the first invalid one
  digitro.pabx.digitro_user_validate:
    batch: "{{ accounts_to_check }}"
    fail_on_invalid: true
  delegate_to: localhost
'''

RETURN = r'''
valid:
  description: Single form only. Whether the account and password are valid.
  returned: always, in the single form, unless the check itself failed
  type: bool
  sample: true
user:
  description: Single form only. The attributes the PABX returned for a valid account.
  returned: when valid, in the single form
  type: dict
  sample: {"account": "500000", "name": "Agente 0001", "category": "AGENTE"}
status:
  description: Single form only. V(valid), V(invalid) or V(error).
  returned: always, in the single form
  type: str
msg:
  description: Single form only. What happened, with the PABX's message when invalid; never a password.
  returned: always, in the single form
  type: str
results:
  description: One result per entry, in order.
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description:
        - The entry's device.
        - Left out of the entries that simply succeeded when O(echo_numbers=false) (the results are in batch order).
      type: str
    account:
      description:
        - The entry's account.
        - Left out of the entries that simply succeeded when O(echo_numbers=false).
      type: str
    target:
      description: The account and device, in words.
      type: str
      returned: in the single form, and for entries that are not valid
    valid:
      description: Whether the account and password are valid (absent when the check failed).
      type: bool
    user:
      description: The attributes the PABX returned, when valid.
      type: dict
    status:
      description:
        - V(valid), V(invalid), or V(error) when the PABX could not answer the question.
        - V(quarantined) when the account's wrong-attempt budget was already spent; nothing was sent.
      type: str
    failed:
      description: V(true) on V(error) and V(quarantined), and on V(invalid) with O(fail_on_invalid=true).
      type: bool
    holds:
      description:
        - When valid, which password the PABX accepted, V(current) (O(batch[].account_password)) or V(candidate)
          (one of O(batch[].candidates)); never the password itself.
      type: str
      returned: when valid
    candidate:
      description: With RV(results[].holds=candidate), the index in O(batch[].candidates) of the accepted password.
      type: int
      returned: when a candidate was accepted
    wrong_attempts:
      description: Refused passwords sent for the account since it was last known good, after this run.
      type: int
      sample: 0
    device_rejected:
      description:
        - The requesting device's own PIN was refused during the run, so nothing more was sent through it (the
          accounts of one device are validated one at a time, and a refusal is followed by a check of the device).
      type: bool
      returned: when it happened
    msg:
      description: What happened; never a password.
      type: str
      returned: in the single form, and for entries that did not simply succeed
summary:
  description: How many entries ended with each status.
  returned: always
  type: dict
  sample: {"valid": 480, "invalid": 20}
'''

from ansible_collections.digitro.pabx.plugins.module_utils._module import (
    ACCOUNT_OPTIONS, BUDGET_OPTIONS, DEVICE_OPTIONS, PabxModule)
from ansible_collections.digitro.pabx.plugins.module_utils._password import DeviceGates
from ansible_collections.digitro.pabx.plugins.module_utils._user import validate
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_password

ENTRY_OPTIONS = dict(DEVICE_OPTIONS, **ACCOUNT_OPTIONS)


class UserModule(PabxModule):
    def entry_errors(self, prefix, entry):
        errors = [check_password('%scandidates[%d]' % (prefix, i), p) for i, p in enumerate(entry.get('candidates') or [])]
        return [e for e in errors if e]


def main():
    module = UserModule(ENTRY_OPTIONS, ('device', 'device_password', 'account', 'account_password'),
                        password_fields=('device_password', 'account_password'),
                        extra_options=dict(fail_on_invalid=dict(type='bool', default=False), **BUDGET_OPTIONS),
                        batch_only_options=dict(candidates=dict(type='list', elements='str', no_log=True),
                                                wrong_attempts=dict(type='int', default=0)),
                        supports_check_mode=True)
    entries = module.entries()
    fail_on_invalid, budget = module.params['fail_on_invalid'], module.params['max_wrong_attempts']
    journal = module.journal()
    gates = DeviceGates(journal, budget)  # accounts of one device one at a time, the device checked on a refusal
    module.finish(module.run(entries, lambda client, entry: validate(
        client, entry, fail_on_invalid, budget, gates, journal, module.journaled)))


if __name__ == '__main__':
    main()
