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
      - Base URL of the PABX CTI API, for example V(https://pabx.example.com:8443).
      - If not set, the value of the E(DIGITRO_URL) environment variable is used.
    type: str
    required: true
  api_key:
    description:
      - The CTI access key, sent in the C(x-api-key) header.
      - If not set, the value of the E(DIGITRO_API_KEY) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Verify the PABX's TLS certificate. Set to V(false) only on lab systems; the module then warns.
      - If not set, the value of the E(DIGITRO_VALIDATE_CERTS) environment variable is used, else V(true).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) to verify the PABX's certificate with, for PABXs with a private CA.
      - If not set, the value of the E(DIGITRO_CA_PATH) environment variable is used.
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
  concurrency:
    description:
      - How many requests to have in flight at once when O(batch) has several entries (1 to 256).
      - Keep it at or below what the PABX serves in parallel.
    type: int
    default: 8
  rate_limit:
    description:
      - Most requests per second to send; V(0) means no limit.
    type: float
    default: 0
  lock_file:
    description:
      - A file to hold an exclusive lock on while the module works; another run with the same O(lock_file) waits
        for it (up to O(lock_timeout)). The operating system releases the lock when the process ends, however it ends.
      - Use one per PABX, so that a cancelled job whose module is still finishing cannot race the next job.
    type: path
  lock_timeout:
    description:
      - Seconds to wait for O(lock_file) before failing.
    type: float
    default: 600
  breaker_threshold:
    description:
      - After this many requests in a row got no answer or a 5xx, the module stops sending to the PABX, as a circuit
        breaker does. The remaining entries fail at once, saying the PABX is not answering, instead of each waiting
        for its own timeouts. V(0) turns it off.
    type: int
    default: 5
notes:
  - >-
    The module talks to the PABX from where it runs, usually the controller or execution node.
    Run it with C(delegate_to: localhost) or C(connection: local).
  - Every password option is marked C(no_log); results, messages and diffs never contain a password or the API key.
  - Entries of O(batch) run with bounded concurrency in one module run; use it for many extensions rather than a loop.
requirements:
  - requests >= 2.25
'''
