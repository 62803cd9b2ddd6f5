#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: digitro_password
short_description: Set the password of Dígitro PABX devices (extensions) or accounts
version_added: 1.0.0
description:
  - Makes the password of a device (ramal) or of an account (conta) on a Dígitro PABX equal to O(new_password),
    through the CTI API operation C(altera-senha).
  - Declarative and idempotent. The current password is verified first (C(verifica-senha)); if the PABX rejects it
    but accepts O(new_password), the change is already in place and nothing is done. If it rejects both, the entry
    is reported out of sync (status V(rejected)) and no further password is tried, since PABXs lock an extension
    after a few wrong attempts.
  - Every wrong password sent counts against O(max_wrong_attempts), per entry, together with the wrong attempts
    the caller says were already spent (O(batch[].wrong_attempts)). Once the budget is spent, nothing more is sent
    for that entry (status V(quarantined)). A password the PABX accepts resets the count.
  - A password that was never sent to the PABX is never tried. With O(batch[].candidates) the caller lists exactly
    which other passwords the PABX may hold; without it, only O(new_password) is.
  - After C(altera-senha) the new password is confirmed with C(verifica-senha), a few times within
    O(confirm_timeout), because the PABX answers before it applies a change. A change whose answer was lost is
    also confirmed this way before anything is decided.
  - O(batch) changes many passwords in one run with bounded concurrency and returns one result per entry.
    Entries of accounts requested from the same device run one at a time, and after a refused one the device's
    own PIN is checked, since every account request carries it.
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
    details: Verifies the current password and reports what would change; sends no change.
  diff_mode:
    support: full
    details: Shows which devices and accounts change password; never a password.
options:
  device:
    description:
      - The device (extension number) that makes the request and, without O(account), whose password changes.
      - Required unless O(batch) is used.
    type: str
  device_password:
    description:
      - The current password of O(device).
      - Required unless O(batch) is used.
    type: str
  account:
    description:
      - An account whose password changes instead of the device's. Requires O(account_password).
    type: str
  account_password:
    description:
      - The current password of O(account).
    type: str
  new_password:
    description:
      - The password the device or account must have.
      - Required unless O(batch) is used.
    type: str
  confirm_timeout:
    description:
      - Seconds within which the new password must verify after the change was sent.
      - The new password is tried at most three times in that time, to stay clear of the PABX's lockout.
    type: float
    default: 5
  batch:
    description:
      - Many entries to process in one run, each with the options of the single form.
      - Mutually exclusive with O(device), O(device_password), O(account), O(account_password) and O(new_password).
      - The action plugin also takes the JSON text of the list, as the P(digitro.pabx.rotation_batch#filter) filter
        gives it. Ansible passes a text from task to task as it is, where it walks every entry of a list again
        in each task that uses it (seconds at ten thousand entries).
    type: list
    elements: dict
    suboptions:
      device:
        description: The device making the request and, without O(batch[].account), whose password changes.
        type: str
        required: true
      device_password:
        description: The current password of O(batch[].device).
        type: str
        required: true
      account:
        description: An account whose password changes instead of the device's.
        type: str
      account_password:
        description: The current password of O(batch[].account).
        type: str
      new_password:
        description: The password the device or account must have.
        type: str
        required: true
      candidates:
        description:
          - Passwords the device or account may hold instead of the current one (a change sent earlier whose
            outcome never showed), tried in this order, within the budget, when the current one is rejected.
          - If not set, O(batch[].new_password) is the only one. An empty list tries nothing else.
        type: list
        elements: str
      wrong_attempts:
        description: Wrong passwords already sent to this device or account since it was last known good.
        type: int
        default: 0
      verify_only:
        description: Only find out which password the PABX accepts; never send a change.
        type: bool
        default: false
seealso:
  - module: digitro.pabx.digitro_user_validate
  - ref: digitro.pabx.password_rotation
    description: The role that rotates passwords across many extensions with a crash-safe credential store.
'''

EXAMPLES = r'''
# Against `make emulator` (http://127.0.0.1:8080, API key "emulator-key"); build/site.csv has its PINs.
- name: Set the password of extension 100000
  digitro.pabx.digitro_password:
    url: http://127.0.0.1:8080
    api_key: "{{ pabx_api_key }}"
    device: "100000"
    device_password: "{{ old_pin }}"
    new_password: "{{ new_pin }}"
  delegate_to: localhost

- name: Set the password of account 500000, requested from extension 100000
  digitro.pabx.digitro_password:
    device: "100000"
    device_password: "{{ device_pin }}"
    account: "500000"
    account_password: "{{ old_account_pin }}"
    new_password: "{{ new_account_pin }}"
  delegate_to: localhost

- name: Change many passwords in one run (connection settings from DIGITRO_URL and DIGITRO_API_KEY)
  digitro.pabx.digitro_password:
    concurrency: 16
    batch: "{{ password_changes }}"
  delegate_to: localhost
  register: changes
'''

RETURN = r'''
status:
  description:
    - Single form only. What happened to the entry, as in RV(results[].status).
  returned: always, in the single form
  type: str
  sample: changed
msg:
  description: Single form only. A sentence saying what happened, without any password.
  returned: always, in the single form
  type: str
  sample: the password of device 1000 was changed and confirmed
target:
  description: Single form only. The device or account the entry is about.
  returned: always, in the single form
  type: str
  sample: device 1000
results:
  description:
    - One result per entry, in the order of O(batch) (one entry in the single form).
    - When O(batch) was given as JSON text, the JSON text of this list, which
      P(digitro.pabx.rotation_commit#filter) takes as it is.
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description:
        - The entry's device.
        - Left out of the entries that simply succeeded when O(echo_numbers=false) (the results are in batch order).
      type: str
      sample: "1000"
    account:
      description:
        - The entry's account, when it has one.
        - Left out of the entries that simply succeeded when O(echo_numbers=false).
      type: str
      returned: when the entry has an account
      sample: "2000"
    target:
      description: The device or account the entry is about, in words. Left out of routine successes.
      type: str
      returned: in the single form, and for entries that did not simply succeed
      sample: device 1000
    status:
      description:
        - V(changed), the password was changed and confirmed.
        - V(unchanged), the new password was already in place.
        - V(would_change), check mode, the current password verified and a change would be sent.
        - V(verified), O(batch[].verify_only), the PABX accepts the current password or a candidate (RV(results[].holds)).
        - V(rejected), none of the passwords tried verifies (out of sync); no change was sent.
        - V(quarantined), the wrong-attempt budget was already spent; nothing was sent.
        - V(refused), the PABX refused the change (for example a PIN its policy rejects); the current password stays.
        - V(unconfirmed), the change was sent but the new password did not verify in time; either may be in force.
        - V(error), the entry could not be processed (for example the PABX answered 500 to every try).
      type: str
      sample: changed
    changed:
      description: Whether the entry changed (or would change, in check mode).
      type: bool
    failed:
      description: Whether the entry failed (V(rejected), V(refused), V(unconfirmed), V(error), V(quarantined)).
      type: bool
    untried:
      description:
        - With RV(results[].status=rejected), how many of the entry's passwords were not tried because the
          wrong-attempt budget ran out first; the PABX may hold one of them.
      type: int
      returned: when the budget ran out before every password was tried
      sample: 1
    wrong_attempts:
      description:
        - Wrong passwords sent to the entry since it was last known good, at the end of this run
          (the given O(batch[].wrong_attempts) plus this run's, or 0 once a password verified).
      type: int
      sample: 0
    holds:
      description:
        - Which password the PABX accepted last in this run, V(current), V(new) or V(candidate); null when none did.
      type: str
      sample: new
    candidate:
      description: With RV(results[].holds=candidate), the index in O(batch[].candidates) of the accepted password.
      type: int
      returned: when a candidate was accepted
    sent:
      description: Whether a change request was sent (whatever its outcome).
      type: bool
    device_rejected:
      description:
        - For an account, the requesting device's own PIN was refused during the run, so nothing more was sent
          through it (its account requests run one at a time, and a refusal is followed by a check of the device).
      type: bool
      returned: when it happened
    msg:
      description: What happened, in words, with the PABX's own message on failure; never a password.
      type: str
      returned: in the single form, and for entries that did not simply succeed
summary:
  description: How many entries ended with each status.
  returned: always
  type: dict
  sample: {"changed": 998, "unchanged": 1, "rejected": 1}
'''

from ansible_collections.digitro.pabx.plugins.module_utils._module import (
    ACCOUNT_OPTIONS, BUDGET_OPTIONS, DEVICE_OPTIONS, PabxModule)
from ansible_collections.digitro.pabx.plugins.module_utils._password import DeviceGates, ensure_password
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_password

ENTRY_OPTIONS = dict(DEVICE_OPTIONS, new_password=dict(type='str', no_log=True), **ACCOUNT_OPTIONS)
BATCH_ONLY_OPTIONS = dict(candidates=dict(type='list', elements='str', no_log=True),
                          wrong_attempts=dict(type='int', default=0), verify_only=dict(type='bool', default=False))


class PasswordModule(PabxModule):
    def entry_errors(self, prefix, entry):
        errors = [check_password('%scandidates[%d]' % (prefix, i), p) for i, p in enumerate(entry.get('candidates') or [])]
        if (entry.get('wrong_attempts') or 0) < 0:
            errors.append('%swrong_attempts must not be negative' % prefix)
        if entry.get('account') and not entry.get('account_password'):
            errors.append('%saccount_password is required with %saccount' % (prefix, prefix))
        if entry.get('account_password') and not entry.get('account'):
            errors.append('%saccount_password is set but %saccount is not' % (prefix, prefix))
        return [e for e in errors if e]

    def option_errors(self):
        errors = super(PasswordModule, self).option_errors()
        if self.params['confirm_timeout'] < 0:
            errors.append('confirm_timeout must be 0 or more seconds')
        return errors


def diff_line(result):
    if result['status'] in ('changed', 'would_change'):
        return ('%s: current password\n' % result['target'], '%s: new password\n' % result['target'])
    return ('', '')


def main():
    module = PasswordModule(
        ENTRY_OPTIONS, ('device', 'device_password', 'new_password'),
        password_fields=('device_password', 'account_password', 'new_password'),
        extra_options=dict(confirm_timeout=dict(type='float', default=5), **BUDGET_OPTIONS),
        batch_only_options=BATCH_ONLY_OPTIONS, supports_check_mode=True)
    entries = module.entries()
    timeout, budget = module.params['confirm_timeout'], module.params['max_wrong_attempts']
    journal = module.journal()
    gates = DeviceGates(journal, budget)  # account entries: one at a time per requesting device, checked on a refusal
    results = module.run(entries, lambda client, entry: ensure_password(
        client, entry, module.check_mode, timeout, budget, gates=gates, journal=journal, journaled=module.journaled))
    module.finish(results, [diff_line(r) for r in results])


if __name__ == '__main__':
    main()
