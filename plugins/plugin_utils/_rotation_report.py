# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rotation's report: rows per entry, the counts a run is judged by, the files people and machines read."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.digitro.pabx.plugins.module_utils._errors import CHANNEL_CLOSED
from ansible_collections.digitro.pabx.plugins.plugin_utils._outcome import exceeds

STATUSES = ('rotated', 'verified', 'skipped', 'quarantined', 'failed', 'would_rotate')
ATTENTION = ('quarantined', 'failed')


def render(rows, header=None):
    """The report files' contents in one pass: ``table`` (aligned lines for people), ``json`` (``header``
    with the rows as ``entries``, for machines), and ``problems`` (the rows that need attention)."""
    document = dict(header or {})
    document['entries'] = rows
    return {'table': table(rows), 'json': json.dumps(document, indent=2, sort_keys=True),
            'problems': [row for row in rows if row['status'] in ATTENTION]}


def table(rows):
    """Report rows as aligned text lines, one per entry, for the report people read."""
    return '\n'.join('  %-8s %-12s %-11s %s%s' % (row['kind'][:-1], row['number'], row['status'], row['reason'],
                                                  ' [staged PIN kept in the store]' if row.get('pending') else '')
                     for row in rows)


def summarize(report):
    """Rows per status, and the totals a run is judged by: ``due`` (not skipped) and ``attention``."""
    counts = dict((status, 0) for status in STATUSES)
    for row in report:
        counts[row['status']] = counts.get(row['status'], 0) + 1
    counts.update(total=len(report), due=len(report) - counts['skipped'],
                  attention=sum(counts[status] for status in ATTENTION),
                  # failures that are the PABX's silence, not the entries': the run's message says so
                  unanswered=sum(1 for row in report if unanswered(row)),
                  bad_request=sum(1 for row in report if row['status'] == 'failed' and 'HTTP 400' in row.get('reason', '')
                                  and not unanswered(row)))
    return counts


def unanswered(row):
    """Whether a report row failed because the PABX did not answer, or kept closing the event channel under the
    request (not because of the entry)."""
    reason = row.get('reason', '')
    return row['status'] == 'failed' and ('not answering' in reason or 'got no answer' in reason or CHANNEL_CLOSED in reason)


def stats(counts):
    """The counts as AWX's ``set_stats`` gets them, one ``digitro_rotation_<status>`` each."""
    return dict(('digitro_rotation_' + name, int(counts.get(name, 0))) for name in STATUSES + ('due', 'attention'))


def verdict(counts, max_fail_percent, allow_quarantined, report_file, pabx):
    """Why the run must fail ('' when it need not): quarantined entries a person must resolve, or more failures than
    ``max_fail_percent`` of the due entries. The entries themselves are in ``report_file``."""
    reasons = []
    if counts.get('quarantined') and not allow_quarantined:
        reasons.append('%d entries are quarantined: the PABX did not accept the PINs the store has for them, or their '
                       'wrong-attempt budget (digitro_max_wrong_attempts) is spent, so nothing more is sent for them. '
                       'Find out what each one holds (the console), then tell the store with resolve_passwords (or '
                       'import it); set digitro_allow_quarantined=true to let runs pass meanwhile.'
                       % counts['quarantined'])
    if exceeds(counts.get('failed', 0), counts.get('due', 0), max_fail_percent):
        silent = counts.get('unanswered', 0)
        reasons.append('%d of %d due entries were not rotated (more than password_rotation_max_fail_percent = %s%%)%s; '
                       'every PIN the PABX may hold stays in the store, and the next run settles what is in doubt.'
                       % (counts['failed'], counts.get('due', 0), max_fail_percent,
                          ', %d of them because the PABX did not answer or kept closing its event channel: check that it is '
                          'up and reachable, then run again' % silent if silent else ''))
        if counts.get('bad_request'):
            # a request refused as a request (not a PIN refused) fails the same way every run: say what it may be
            reasons.append('%d of them because the PABX refused the request itself (HTTP 400): a number the PABX no '
                           'longer has is retired with remove_passwords; otherwise run check_api, which tells whether '
                           'this PABX names an operation or field otherwise (digitro_api_overrides).'
                           % counts['bad_request'])
    if not reasons:
        return ''
    return '%s: %s Each entry and its reason: %s' % (pabx, ' '.join(reasons), report_file)
