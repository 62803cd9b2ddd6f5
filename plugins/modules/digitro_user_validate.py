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
    loop over guesses.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.connection
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
  max_wrong_attempts:
    description:
      - Most refused validations in a row to allow per account, counting the ones before this run
        (O(batch[].wrong_attempts)); an account that reached it is not asked about (status V(quarantined)).
        Set it below the PABX's lockout threshold.
      - If not set, the value of the E(DIGITRO_MAX_WRONG_ATTEMPTS) environment variable is used, else V(2).
    type: int
    default: 2
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
      description: The entry's device.
      type: str
    account:
      description: The entry's account.
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
    wrong_attempts:
      description: Refused passwords sent for the account since it was last known good, after this run.
      type: int
      sample: 0
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

from ansible.module_utils.basic import env_fallback

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import describe, identity
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._module import ACCOUNT_OPTIONS, DEVICE_OPTIONS, PabxModule

ENTRY_OPTIONS = dict(DEVICE_OPTIONS, **ACCOUNT_OPTIONS)


def user_attributes(answer):
    """The PABX's attributes under readable names; unknown ones keep theirs, lower-cased."""
    return dict((_api.USER_ATTRIBUTES.get(key, key.lower()), value) for key, value in answer.items())


def validate(client, entry, fail_on_invalid, max_wrong_attempts=2):
    result = identity(entry)
    spent = int(entry.get('wrong_attempts') or 0)
    if spent >= max_wrong_attempts:
        result.update(valid=False, status='quarantined', changed=False, failed=True, wrong_attempts=spent,
                      msg='%s: nothing sent, %d refused password(s) were already sent since it was last known good '
                          '(max_wrong_attempts %d)' % (describe(entry), spent, max_wrong_attempts))
        return result
    body = {_api.DEVICE: entry['device'], _api.DEVICE_PASSWORD: entry['device_password'],
            _api.ACCOUNT: entry['account'], _api.ACCOUNT_PASSWORD: entry['account_password']}
    try:
        answer = client.call(_api.VALIDATE_USER, body)
    except PabxError as exc:
        if exc.status != 403:
            raise
        result.update(valid=False, status='invalid', changed=False, failed=fail_on_invalid, wrong_attempts=spent + 1,
                      msg='%s is not valid: %s' % (describe(entry), exc.pabx_message or 'refused'))
        return result
    result.update(valid=True, status='valid', changed=False, failed=False, user=user_attributes(answer), wrong_attempts=0,
                  msg='%s is valid' % describe(entry))
    return result


def main():
    module = PabxModule(ENTRY_OPTIONS, ('device', 'device_password', 'account', 'account_password'),
                        password_fields=('device_password', 'account_password'),
                        extra_options=dict(fail_on_invalid=dict(type='bool', default=False),
                                           max_wrong_attempts=dict(type='int', default=2, fallback=(
                                               env_fallback, ['DIGITRO_MAX_WRONG_ATTEMPTS']))),
                        batch_only_options=dict(wrong_attempts=dict(type='int', default=0)),
                        supports_check_mode=True)
    entries = module.entries()
    fail_on_invalid, budget = module.params['fail_on_invalid'], module.params['max_wrong_attempts']
    module.finish(module.run(entries, lambda client, entry: validate(client, entry, fail_on_invalid, budget)))


if __name__ == '__main__':
    main()
