#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: digitro_api_check
short_description: Check, read-only, what this collection assumes about a Dígitro PABX's CTI API
version_added: 1.0.0
description:
  - Checks one by one the assumptions of the collection about the CTI API (docs/api-contract.md) against one PABX,
    under the names O(api_overrides) gives. They are the event channel's transport and opening event, the channel ID
    field, that each operation's slug exists, that C(verifica-senha) accepts a known-good PIN, the shape of the
    C(valida-usuario) and C(consulta-dac) answers, the error body, and what a closed channel answers.
  - Read-only. It never sends a change; a write operation (C(altera-senha), C(login-logout-dac)) gets an empty body,
    which names no device and carries no password, and its answer is compared with the answer of an operation
    that surely does not exist.
  - It never sends a wrong password it could avoid. Each PIN given is sent first in one request and again only
    once the PABX accepted it, so a PIN that is not the current one costs one wrong attempt, once.
  - A contradicted assumption is a result, not a failure; RV(contradicted) lists them and RV(msg) names the
    setting to change. The C(digitro.pabx.check_api) playbook prints the table, writes it as a report and fails
    when anything is contradicted. The module fails only when nothing can be checked (no answer, a refused API
    key) or on invalid input.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.connection
  - digitro.pabx.execution
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
      - The device (extension number) to check with.
    type: str
    required: true
  device_password:
    description:
      - The current password (PIN) of O(device).
    type: str
    required: true
  account:
    description:
      - An account to check C(valida-usuario) and the account form of C(verifica-senha) with.
      - Without it, those checks are reported as not checked.
    type: str
  account_password:
    description:
      - The current password of O(account). Required with O(account).
    type: str
  dac_device:
    description:
      - A DAC device to check C(consulta-dac) with; it may be O(device).
      - Without it, that check is reported as not checked.
    type: str
  dac_device_password:
    description:
      - The current password of O(dac_device). Defaults to O(device_password) when O(dac_device) is O(device).
    type: str
  closed_channel_wait:
    description:
      - Seconds to wait after closing an event channel before checking what a request on it gets.
    type: float
    default: 1
seealso:
  - module: digitro.pabx.digitro_password
'''

EXAMPLES = r'''
- name: Check the assumed API against the PABX, with one extension and its current PIN
  digitro.pabx.digitro_api_check:
    url: https://pabx.example.com:8443
    api_key: "{{ pabx_api_key }}"
    device: "100000"
    device_password: "{{ device_pin }}"
    account: "500000"
    account_password: "{{ agent_pin }}"
    dac_device: "100000"
  delegate_to: localhost
  register: api_check

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ api_check.table }}"

- name: Check again with the PABX's own slug for verifying a password
  digitro.pabx.digitro_api_check:
    device: "100000"
    device_password: "{{ device_pin }}"
    api_overrides:
      slugs:
        verify_password: verificar-senha
  delegate_to: localhost
'''

RETURN = r'''
checks:
  description: One result per assumption, in the order checked.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: A short name of the assumption, for example V(slug_verify_password) or V(channel_id_field).
      type: str
    assumption:
      description: The assumption, in words and under the names in use.
      type: str
    status:
      description: V(confirmed), V(contradicted) or V(not checked).
      type: str
    evidence:
      description: The request and the PABX's answer (HTTP status and body), every secret masked.
      type: str
    setting:
      description: The key of O(api_overrides) to change when contradicted, with the value found when known.
      type: str
      returned: when something can be changed
    advice:
      description: What else to know or do.
      type: str
contradicted:
  description: The ids of the contradicted assumptions.
  returned: success
  type: list
  elements: str
  sample: ["slug_verify_password"]
suggested_overrides:
  description: The O(api_overrides) the check found the PABX needs, where it could tell the value.
  returned: success
  type: dict
  sample: {"channel_id_field": "CANAL"}
summary:
  description: How many assumptions ended with each status.
  returned: success
  type: dict
  sample: {"confirmed": 15, "contradicted": 0, "not checked": 0}
table:
  description: The checks as lines of text (assumption, status, evidence, what to change).
  returned: success
  type: list
  elements: str
report:
  description: The whole result as a report to attach to a bug, with the URL, the time and the overrides in use.
  returned: success
  type: dict
checked_at:
  description: When the check ran (UTC), as C(YYYYMMDDTHHMMSSZ).
  returned: success
  type: str
  sample: 20261127T030000Z
msg:
  description: The counts, and what is contradicted and which setting to change.
  returned: always
  type: str
'''

import time

from ansible_collections.digitro.pabx.plugins.module_utils import _api_check
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._module import ACCOUNT_OPTIONS, PabxModule
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_number

ENTRY_OPTIONS = dict(ACCOUNT_OPTIONS, device=dict(type='str', required=True),
                     device_password=dict(type='str', no_log=True, required=True),
                     dac_device=dict(type='str'), dac_device_password=dict(type='str', no_log=True))


class ApiCheckModule(PabxModule):
    def entry_errors(self, prefix, entry):
        errors = []
        if bool(entry.get('account')) != bool(entry.get('account_password')):
            errors.append('account and account_password go together')
        if entry.get('dac_device'):
            errors.append(check_number('dac_device', entry['dac_device']))
            if entry['dac_device'] != entry['device'] and not entry.get('dac_device_password'):
                errors.append('dac_device_password is required when dac_device is not device')
        return [e for e in errors if e]

    def option_errors(self):
        if self.params['closed_channel_wait'] < 0:
            return ['closed_channel_wait must not be negative']
        return []


def main():
    module = ApiCheckModule(ENTRY_OPTIONS, ('device', 'device_password'),
                            password_fields=('device_password', 'account_password', 'dac_device_password'),
                            extra_options=dict(closed_channel_wait=dict(type='float', default=1)),
                            batch=False, supports_check_mode=True)
    entry = module.entries()[0]
    checked_at = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    client = module.client()
    try:
        probe = _api_check.Probe(client, entry, module.params['closed_channel_wait'])
        checks = probe.run()
    except _api_check.ProbeAbort as exc:
        module.fail_json(msg=str(exc))
    except PabxError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    finally:
        client.close()
    contradicted = [c['id'] for c in checks if c['status'] == _api_check.CONTRADICTED]
    summary = _api_check.summary(checks)
    msg = _api_check.verdict(checks, probe.found)
    report = dict(url=module.params['url'], checked_at=checked_at, api_overrides=module.contract().overrides,
                  summary=summary, contradicted=contradicted, suggested_overrides=probe.found, checks=checks, msg=msg)
    module.exit_json(changed=False, checks=checks, contradicted=contradicted, suggested_overrides=probe.found,
                     summary=summary, table=_api_check.table(checks), report=report, checked_at=checked_at, msg=msg)


if __name__ == '__main__':
    main()
