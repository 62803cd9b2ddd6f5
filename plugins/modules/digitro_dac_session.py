#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: digitro_dac_session
short_description: Log call-centre agents in to or out of Dígitro PABX DAC devices
version_added: 1.0.0
description:
  - Makes an agent's session on a DAC (call distribution) device logged in or logged out.
  - Reads the device's session first (C(consulta-dac)) and sends C(login-logout-dac) only when it differs from
    O(state), then reads it again to confirm. The module reports a change only when the session moved.
  - Logging an agent in on a device where another agent is logged in changes nothing and fails that entry,
    unless O(force=true), which logs the other agent out first.
  - O(batch) handles a whole shift's roster in one run with bounded concurrency.
author:
  - Digitro PABX collection maintainers (@digitro-pabx)
extends_documentation_fragment:
  - digitro.pabx.connection
  - digitro.pabx.execution
  - digitro.pabx.batch
  - digitro.pabx.attributes
attributes:
  check_mode:
    support: full
    details: Reads each session and reports what would change; sends no login or logout.
  diff_mode:
    support: full
    details: Shows each device's session before and after.
options:
  device:
    description:
      - The DAC device (extension number). Required unless O(batch) is used.
    type: str
  device_password:
    description:
      - The password of O(device). Required unless O(batch) is used.
    type: str
  account:
    description:
      - The agent's account. Required unless O(batch) is used.
    type: str
  account_password:
    description:
      - The agent's password. Required unless O(batch) is used.
    type: str
  state:
    description:
      - Whether the agent must be logged in on the device or not.
    type: str
    choices: [logged_in, logged_out]
    default: logged_in
  force:
    description:
      - When another agent is logged in on the device, log that agent out first.
    type: bool
    default: false
  confirm_timeout:
    description:
      - Seconds within which the new session must show in C(consulta-dac) after the change was sent.
    type: float
    default: 5
  journal:
    description:
      - A file where each refused DAC request is counted, at once, as a wrong attempt of the PINs it carried (the
        device's, and for a login the agent's), so that the next load of the credential store takes the count in.
        The R(digitro.pabx.dac_sessions,ansible_collections.digitro.pabx.dac_sessions_role) role sets it to the store's
        journal. Each line holds a kind, a number, a count and the run's mark, never a password.
    type: path
  batch:
    description:
      - Many sessions to handle in one run, each with the options of the single form.
      - Each entry's O(batch[].state) defaults to V(logged_in), and O(force) applies to every entry.
    type: list
    elements: dict
    suboptions:
      device:
        description: The DAC device.
        type: str
        required: true
      device_password:
        description: The password of O(batch[].device).
        type: str
        required: true
      account:
        description: The agent's account.
        type: str
        required: true
      account_password:
        description: The agent's password.
        type: str
        required: true
      state:
        description: Whether the agent must be logged in on the device or not.
        type: str
        choices: [logged_in, logged_out]
        default: logged_in
seealso:
  - ref: digitro.pabx.dac_sessions
    description: The role that logs a whole roster in or out.
'''

EXAMPLES = r'''
- name: Log agent 500000 in on DAC device 100000
  digitro.pabx.digitro_dac_session:
    url: http://127.0.0.1:8080
    api_key: "{{ pabx_api_key }}"
    device: "100000"
    device_password: "{{ device_pin }}"
    account: "500000"
    account_password: "{{ agent_pin }}"
    state: logged_in
  delegate_to: localhost

- name: End of shift, log the roster out
  digitro.pabx.digitro_dac_session:
    batch: "{{ roster | map('combine', {'state': 'logged_out'}) }}"
  delegate_to: localhost
'''

RETURN = r'''
status:
  description: Single form only. What happened, as in RV(results[].status).
  returned: always, in the single form
  type: str
  sample: changed
msg:
  description: Single form only. What happened, in words; never a password.
  returned: always, in the single form
  type: str
  sample: agent 500000 is now logged in on device 100000
before:
  description: Single form only. The session before, as RV(results[].before).
  returned: always, in the single form, unless the session could not be read
  type: dict
  sample: {"state": "logged_out", "account": ""}
after:
  description: Single form only. The session after (or that check mode would set).
  returned: always, in the single form, unless the session could not be read
  type: dict
  sample: {"state": "logged_in", "account": "500000"}
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
        - The entry's agent.
        - Left out of the entries that simply succeeded when O(echo_numbers=false).
      type: str
    target:
      description: The agent and device, in words.
      type: str
      returned: in the single form, and for entries that did not simply succeed
    before:
      description: The device's session before, V(state) (V(logged_in) or V(logged_out)) and V(account).
      type: dict
    after:
      description: The device's session after, or what check mode would set.
      type: dict
    status:
      description:
        - V(changed), the session moved and was confirmed. V(unchanged), it already was as wanted.
        - V(would_change), check mode. V(occupied), another agent is logged in and O(force) is false.
        - V(unconfirmed), the change was sent but did not show in time. V(error), the PABX refused or failed.
      type: str
    changed:
      description: Whether the session moved (or would, in check mode).
      type: bool
    failed:
      description: Whether the entry failed.
      type: bool
    msg:
      description: What happened; never a password.
      type: str
      returned: in the single form, and for entries that did not simply succeed
summary:
  description: How many entries ended with each status.
  returned: always
  type: dict
  sample: {"changed": 450, "unchanged": 48, "occupied": 2}
'''

from ansible_collections.digitro.pabx.plugins.module_utils._dac import charged_session
from ansible_collections.digitro.pabx.plugins.module_utils._module import (
    ACCOUNT_OPTIONS, BUDGET_OPTIONS, DEVICE_OPTIONS, PabxModule)

ENTRY_OPTIONS = dict(DEVICE_OPTIONS, state=dict(type='str', choices=['logged_in', 'logged_out'], default='logged_in'),
                     **ACCOUNT_OPTIONS)


class DacSessionModule(PabxModule):
    def entry_key(self, entry):
        return 'DAC device %s' % entry.get('device')  # one session per device: two entries would fight


def session_words(session):
    if session['state'] == 'logged_in':
        return 'logged in (agent %s)' % session['account']
    return 'logged out'


def diff_line(result):
    if not result['changed']:
        return ('', '')
    line = 'DAC device %s: %s\n'
    return (line % (result['device'], session_words(result['before'])),
            line % (result['device'], session_words(result['after'])))


def main():
    module = DacSessionModule(
        ENTRY_OPTIONS, ('device', 'device_password', 'account', 'account_password'),
        password_fields=('device_password', 'account_password'),
        extra_options=dict(force=dict(type='bool', default=False), confirm_timeout=dict(type='float', default=5),
                           journal=BUDGET_OPTIONS['journal']),
        supports_check_mode=True)
    entries = module.entries()
    p = module.params
    journal = module.journal()
    results = module.run(entries, lambda client, entry: charged_session(
        client, entry, module.check_mode, p['force'], p['confirm_timeout'], journal, module.journaled))
    module.finish(results, [diff_line(r) for r in results])


if __name__ == '__main__':
    main()
