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
    once the PABX accepted it, so a PIN that is not the current one costs one wrong attempt, once. Across runs,
    O(ledger) keeps a salted hash of each PIN the PABX refused (never the PIN) and the wrong attempts the check
    caused, so a refused PIN is never sent again, and no PIN is sent for a number the check already cost a wrong
    attempt until O(wrong_attempts_reset) says its count was reset at the PABX console. It cannot know the wrong
    attempts others made (users at the phone, other tools), see docs/api-contract.md.
  - A read never reaches a write operation. O(api_overrides) that would give a read a write operation's slug, or
    let a secret field trade names with another field, are refused before any request.
  - A contradicted assumption is a result, not a failure; RV(contradicted) lists them and RV(msg) names the
    setting to change. RV(incomplete) lists the checks this run could not make (a server error, no answer, a
    locked extension); run again once that is resolved. The C(digitro.pabx.check_api) playbook prints the table, writes it as a report and fails
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
    details: In check mode no request carries a PIN; the checks that need one are reported as not checked.
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
      - The current password of O(dac_device). Required when O(dac_device) is not O(device); when it is
        O(device), O(device_password) is used and a different value is refused as invalid input.
    type: str
  closed_channel_wait:
    description:
      - Seconds to wait after closing an event channel before checking what a request on it gets.
    type: float
    default: 1
  ledger:
    description:
      - A file (JSON) where the check keeps, across runs, the wrong attempts it caused per PABX and number and a
        salted hash of each PIN the PABX refused; created when missing. Never a PIN.
      - Without it nothing is kept across runs. The C(digitro.pabx.check_api) playbook keeps it in the reports
        directory as C(check-api-ledger.json).
    type: path
  wrong_attempts_reset:
    description:
      - A person has reset, at the PABX console, the counts of wrong attempts of the numbers given (O(device),
        O(account), O(dac_device)), so their wrong attempts on O(ledger) are forgotten. PINs the PABX refused stay
        refused.
    type: bool
    default: false
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
    run_again:
      description: True when not checked because of this run (a server error, no answer, a locked extension).
      type: bool
incomplete:
  description: The ids of the checks this run could not make and a later run can (V(run_again) in RV(checks)).
  returned: success
  type: list
  elements: str
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
  sample: {"confirmed": 15, "contradicted": 0, "not checked": 3}
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
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError, scrub
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
            if (entry['dac_device'] == entry['device'] and entry.get('dac_device_password')
                    and entry['dac_device_password'] != entry['device_password']):
                errors.append('dac_device is device, and dac_device_password differs from device_password: one '
                              'device has one current PIN; give it once, as device_password')
        return [e for e in errors if e]

    def option_errors(self):
        if self.params['closed_channel_wait'] < 0:
            return ['closed_channel_wait must not be negative']
        return []


def main():
    module = ApiCheckModule(ENTRY_OPTIONS, ('device', 'device_password'),
                            password_fields=('device_password', 'account_password', 'dac_device_password'),
                            extra_options=dict(closed_channel_wait=dict(type='float', default=1),
                                               ledger=dict(type='path'),
                                               wrong_attempts_reset=dict(type='bool', default=False)),
                            batch=False, supports_check_mode=True)
    entry = module.entries()[0]
    checked_at = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    client = module.client()
    secrets = client.secrets | set(v for k, v in entry.items() if k.endswith('password') and v)
    try:
        ledger = _api_check.Ledger(module.params['ledger'], client.url)
        if module.params['wrong_attempts_reset'] and not module.check_mode:
            ledger.reset([('device', entry['device'])] + [('account', entry['account'])] * bool(entry.get('account'))
                         + [('device', entry['dac_device'])] * bool(entry.get('dac_device')))
        probe = _api_check.Probe(client, entry, module.params['closed_channel_wait'], ledger=ledger,
                                 send_pins=not module.check_mode)
        checks = probe.run()
    except _api_check.ProbeAbort as exc:
        module.fail_json(msg=str(exc))
    except PabxError as exc:
        module.fail_json(msg=exc.message, status=exc.status)
    except Exception as exc:  # a bug or an answer nobody foresaw: said in one line, never a traceback with values
        module.fail_json(msg='digitro_api_check stopped on an unexpected %s: %s; nothing more was sent. Please open '
                             'an issue with this message' % (type(exc).__name__,
                                                             _api_check.cut(scrub(str(exc), secrets), 200)))
    finally:
        client.close()
    for warning in probe.warnings:
        module.warn(warning)
    incomplete = [c['id'] for c in checks if c.get('run_again')]
    contradicted = [c['id'] for c in checks if c['status'] == _api_check.CONTRADICTED]
    summary = _api_check.summary(checks)
    msg = _api_check.verdict(checks, probe.found)
    report = dict(url=module.params['url'], checked_at=checked_at, api_overrides=module.contract().overrides,
                  check_mode=module.check_mode, summary=summary, contradicted=contradicted, incomplete=incomplete,
                  suggested_overrides=probe.found, checks=checks, msg=msg)
    module.exit_json(changed=False, checks=checks, contradicted=contradicted, incomplete=incomplete,
                     suggested_overrides=probe.found, summary=summary, table=_api_check.table(checks), report=report,
                     checked_at=checked_at, msg=msg)


if __name__ == '__main__':
    main()
