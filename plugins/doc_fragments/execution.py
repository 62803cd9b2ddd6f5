# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # How hard every module of the collection pushes the PABX, and how runs of one PABX wait for each other
    # (the connection itself is the connection fragment).
    DOCUMENTATION = r'''
options:
  concurrency:
    description:
      - How many requests to have in flight at once when C(batch) has several entries (1 to 256).
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
  progress_file:
    description:
      - A file the module rewrites every second while a C(batch) runs, with how many entries are done, how many
        failed, and the total, as a JSON object with the keys C(done), C(failed) and C(total); never a number or a
        password.
      - The collection's action plugin sets one of its own when the module runs on the controller (with
        C(delegate_to=localhost), as the roles run it) and shows the counts in the job output every C(digitro_progress_interval)
        seconds (default V(5); V(0) shows none). Set it only to watch a module that runs on another host.
    type: path
'''
