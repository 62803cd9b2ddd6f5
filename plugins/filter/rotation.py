# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters behind the password_rotation role (and set_passwords, resolve_passwords); the logic is in plugin_utils."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.digitro.pabx.plugins.plugin_utils import (
    _outcome, _rotation_commit, _rotation_report, _rotation_selection, _rotation_stage, _store_operations)
from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import as_bool, flag, guarded, packed, plain, unpacked, utc
from ansible_collections.digitro.pabx.plugins.plugin_utils._pin_policy import violations


@guarded
def rotation_selection(store, targets='all', pattern='', max_age_days=0, accounts=True, late_apply_hours=1,
                       account_device=None):
    return _rotation_selection.selection(unpacked(store), plain(targets), pattern and str(pattern), max_age_days,
                                         as_bool(accounts), late_apply_hours, account_device and str(account_device))


@guarded
def rotation_chosen(store, passwords, verify_only=False, max_wrong_attempts=2, policy=None, policy_exception=False,
                    reset_attempts=False, now=None, late_apply_hours=1):
    # the PINs keep their types: a YAML number where a quoted PIN belongs is refused, not converted
    passwords = dict((str(k), v if not isinstance(v, str) else str(v)) for k, v in passwords.items()) \
        if isinstance(passwords, dict) else passwords
    return _store_operations.chosen(unpacked(store), passwords, as_bool(verify_only), int(max_wrong_attempts),
                                    plain(policy), as_bool(policy_exception), _rotation_stage.reset_mode(reset_attempts),
                                    utc(now) if now else None, float(late_apply_hours or 0))


@guarded
def rotation_stage(store, kind, selection, policy, now, default_device=None, planning=False, verified=None,
                   gate_accounts=None, given=None):
    staged = _rotation_stage.stage(unpacked(store), kind, plain(selection), plain(policy), utc(now),
                                   default_device or None, planning=as_bool(planning), verified=unpacked(verified),
                                   gate_accounts=plain(gate_accounts) or None, given=plain(given) or None)
    # the documents packed for the tasks that pass them on (_filters.packed); their sizes for the loop over them
    return dict(staged, store=packed(staged['store']), batch=packed(staged['batch']), skipped=packed(staged['skipped']),
                entries=len(staged['batch']))


@guarded
def rotation_batch(batch, chunk):
    if isinstance(batch, str) and int(chunk['first']) == 0 and int(chunk['last']) == int(chunk['total']):
        return batch  # one run takes the whole batch (the default): handed on as it is; the action reads it
    return packed(unpacked(batch)[int(chunk['first']):int(chunk['last'])])


@guarded
def rotation_commit(staged, kind, results, now, check_mode=False, report=None, max_wrong_attempts=2, verified=None):
    staged = dict((key, unpacked(value) if key in ('store', 'batch', 'skipped') else plain(value))
                  for key, value in staged.items())
    results = [dict(run, results=unpacked(run['results'])) if isinstance(run, dict) and isinstance(run.get('results'), str)
               else run for run in unpacked(results)]  # module runs over a batch given as text (rotation_batch)
    settled = _rotation_commit.commit(staged, kind, results, utc(now), as_bool(check_mode), unpacked(report),
                                      int(max_wrong_attempts), unpacked(verified))
    return dict(settled, store=packed(settled['store']), report=packed(settled['report']),
                verified=packed(settled['verified']))


@guarded
def rotation_unmet(store, passwords, report=None, check_mode=False):
    return _store_operations.unmet(unpacked(store), plain(passwords), unpacked(report or []), as_bool(check_mode))


@guarded
def rotation_unmet_verdict(store, passwords, report, verify_only, check_mode, report_file, pabx):
    return _store_operations.unmet_verdict(unpacked(store), plain(passwords), unpacked(report or []), as_bool(verify_only),
                                           as_bool(check_mode), str(report_file), str(pabx))


@guarded
def rotation_summary(report):
    return _rotation_report.summarize(unpacked(report or []))


@guarded
def rotation_stats(counts):
    return _rotation_report.stats(plain(counts))


@guarded
def rotation_report(report, header=None):
    return _rotation_report.render(unpacked(report), plain(header))


@guarded
def rotation_verdict(counts, max_fail_percent, allow_quarantined, report_file, pabx):
    return _rotation_report.verdict(plain(counts), float(max_fail_percent), as_bool(allow_quarantined), str(report_file),
                                    str(pabx))


@guarded
def rotation_chunks(total, size):
    return _outcome.chunks(int(total), int(size))


@guarded
def pin_violations(pin, number=None, previous=None, policy=None):
    return violations(str(pin), number and str(number), [str(p) for p in previous or []], plain(policy))


class FilterModule(object):
    def filters(self):
        return {
            'rotation_selection': rotation_selection,
            'rotation_chosen': rotation_chosen,
            'rotation_stage': rotation_stage,
            'rotation_commit': rotation_commit,
            'rotation_unmet': rotation_unmet,
            'flag': flag,
            'rotation_unmet_verdict': rotation_unmet_verdict,
            'rotation_summary': rotation_summary,
            'rotation_report': rotation_report,
            'rotation_stats': rotation_stats,
            'rotation_verdict': rotation_verdict,
            'rotation_chunks': rotation_chunks,
            'rotation_batch': rotation_batch,
            'pin_violations': pin_violations,
        }
