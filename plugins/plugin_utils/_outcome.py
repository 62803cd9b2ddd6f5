# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When a run's failures fail the run: one rule for the rotation and the DAC sessions."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


def exceeds(failed, due, max_fail_percent):
    """Whether ``failed`` of ``due`` is more than ``max_fail_percent`` percent (of at least one)."""
    return int(failed) * 100 > float(max_fail_percent) * max(int(due), 1)


def chunks(total, size):
    """The bounds of the module runs over a batch of ``total`` entries, ``size`` at a time (the last shorter);
    ``size`` 0: all in one run."""
    size = int(size) if int(size) > 0 else max(int(total), 1)
    return [{'first': first, 'last': min(first + size, int(total)), 'total': int(total)}
            for first in range(0, int(total), size)]
