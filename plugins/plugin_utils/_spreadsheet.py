# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the CSV files people export from spreadsheets (Excel in pt-BR among them)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io


def dict_reader(text):
    """A DictReader of a spreadsheet export: a UTF-8 BOM (Excel) dropped, the separator of the header line
    (a comma, or the semicolon of pt-BR exports), header names trimmed and lower-cased."""
    text = text.lstrip('\ufeff')
    header = text.split('\n', 1)[0]
    delimiter = max((',', ';', '\t'), key=header.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    reader.fieldnames = [(name or '').strip().lower() for name in reader.fieldnames or []]
    return reader
