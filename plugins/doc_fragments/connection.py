# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options every module of the collection shares.
    DOCUMENTATION = r'''
options:
  url:
    description:
      - Base URL of the PABX CTI API, for example V(https://pabx.example.com:8443). Required.
      - If not set, the PABX host's variable C(digitro_url) is used, else the E(DIGITRO_URL) environment variable.
    type: str
  api_key:
    description:
      - The CTI access key, sent in the C(x-api-key) header. Required.
      - If not set, the PABX host's variable C(digitro_api_key) is used, else the E(DIGITRO_API_KEY) environment
        variable.
    type: str
  validate_certs:
    description:
      - Verify the PABX's TLS certificate. Set to V(false) only on lab systems; the module then warns.
      - If not set, the PABX host's variable C(digitro_validate_certs) is used, else the E(DIGITRO_VALIDATE_CERTS)
        environment variable, else V(true).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) to verify the PABX's certificate with, for PABXs with a private CA.
      - If not set, the PABX host's variable C(digitro_ca_path) is used, else the E(DIGITRO_CA_PATH) environment variable.
    type: path
  timeout:
    description:
      - Seconds to wait for the PABX to connect and to answer one request.
    type: float
    default: 10
  channel_id:
    description:
      - ID of an event channel that is already open (the C(ID_CANAL) of its C(EVENTO_DE_ABERTURA_DE_CANAL) event).
      - If not set, the module opens its own channel, keeps it open while it works and closes it at the end.
    type: int
  api_overrides:
    description:
      - The PABX's own names for what this collection assumes about its API, when they differ; see the section
        "Pointing it at your PABX for the first time" of docs/api-contract.md, and run the C(digitro.pabx.check_api)
        playbook to find out.
      - 'A dict with any of: C(events_path) (default C(/events)), C(channel_id_field) (default C(ID_CANAL)),
        C(slugs) (keys C(change_password), C(verify_password), C(validate_user), C(dac_login_logout), C(dac_query)) and
        C(fields) (keys C(device), C(device_password), C(account), C(account_password), C(new_password),
        C(dac_operation), C(dac_state), C(user_name), C(user_category), C(error)). Unknown keys are refused.'
      - The roles pass the C(digitro_api_overrides) variable (per PABX host or group).
      - If not set, the PABX host's variable C(digitro_api_overrides) is used, else the E(DIGITRO_API_OVERRIDES)
        environment variable (JSON).
    type: dict
notes:
  - >-
    The module talks to the PABX from where it runs, usually the controller or execution node.
    Run it with C(delegate_to: localhost) or C(connection: local).
  - Every password option is marked C(no_log); results, messages and diffs never contain a password or the API key.
  - Entries of C(batch) run with bounded concurrency in one module run; use it for many extensions rather than a loop.
'''
