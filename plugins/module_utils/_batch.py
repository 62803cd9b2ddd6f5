# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one function over many entries with bounded concurrency, keeping the entries' order."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.digitro.pabx.plugins.module_utils._entry import describe, identity
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._journal import JournalUnwritable


def failure(entry_result, message):
    entry_result.update(failed=True, changed=False, status='error', msg=message)
    return entry_result


def guarded(worker):
    """Wrap ``worker`` so that any exception becomes a failed entry result, never a traceback."""
    def run(entry):
        try:
            return worker(entry)
        except PabxError as exc:
            return failure(identity(entry), exc.message)
        except JournalUnwritable as exc:
            return failure(identity(entry), str(exc))
        except Exception as exc:  # a bug or an unexpected answer must not hide the other entries' results
            # the type only: the exception's words could hold a password
            return failure(identity(entry), 'unexpected %s while processing %s' % (type(exc).__name__, describe(entry)))
    return run


def run_batch(entries, worker, concurrency, on_result=None):
    """Apply ``worker`` to every entry, at most ``concurrency`` at a time; results in entry order.
    ``on_result(result)`` is called as each entry finishes (progress)."""
    run = guarded(worker)
    if on_result is not None:
        run = _reporting(run, on_result)
    if concurrency <= 1 or len(entries) <= 1:
        return [run(entry) for entry in entries]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(entries))) as pool:
        return list(pool.map(run, entries))


def _reporting(run, on_result):
    def run_and_report(entry):
        result = run(entry)
        on_result(result)
        return result
    return run_and_report


def poll(check, timeout, attempts=3, sleep=time.sleep):
    """True once ``check()`` is true, trying at most ``attempts`` times spread over ``timeout`` seconds.

    Few tries on purpose: each failed password check counts towards the PABX's lockout.
    """
    waits = [0] + [timeout * 0.25 * 2 ** i for i in range(attempts - 1)]
    for wait in waits:
        sleep(wait)
        if check():
            return True
    return False
