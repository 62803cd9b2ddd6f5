# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the CSV files people export from spreadsheets (Excel in pt-BR among them)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import re
import unicodedata

SEPARATORS = (',', ';', '\t')


def dict_reader(text):
    """A DictReader of a spreadsheet export: a UTF-8 BOM (Excel) dropped, the separator of the header line
    (a comma, or the semicolon of pt-BR exports), header names trimmed and lower-cased."""
    text = text.lstrip('\ufeff')
    delimiter = separator(text)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    reader.fieldnames = [(name or '').strip().lower() for name in reader.fieldnames or []]
    return reader


def separator(text):
    """The separator of the first non-blank line: a comma, the semicolon of pt-BR exports, or a tab."""
    header = next((line for line in re.split(r'\r\n|\r|\n', text) if line.strip()), '')
    return max(SEPARATORS, key=header.count)


def key(text):
    """A header name or a keyword as compared: trimmed, case- and accent-insensitive, runs of spaces and hyphens
    as one ``_`` (``Número`` is ``numero``, ``Ramal Solicitante`` is ``ramal_solicitante``)."""
    text = unicodedata.normalize('NFKD', text or '').strip().casefold()
    return re.sub(r'[\s\-]+', '_', ''.join(c for c in text if not unicodedata.combining(c)))


def decoded(text):
    """The text of an export as a str: a UTF-8 BOM dropped; a Windows-1252 file (what Excel in pt-BR saves as
    "CSV (separado por vírgulas)"), which Ansible's file lookup passes with its bytes escaped, decoded as such.
    UTF-16 (Excel's "Unicode Text") is refused with what to do, as a ValueError."""
    if any('\udc80' <= c <= '\udcff' for c in text):
        raw = text.encode('utf-8', 'surrogateescape')
        try:
            text = raw.decode('cp1252')
        except UnicodeDecodeError:
            text = raw.decode('latin-1')
    if text[:1] in ('\ufffe', '\xff') or text.count('\x00') * 4 >= max(len(text), 1):
        raise ValueError('the file is UTF-16 text (Excel\'s "Unicode Text"?): save it as "CSV UTF-8" and import that')
    if '\x00' in text:
        raise ValueError('line %d has a NUL character: the file is damaged, or not a text CSV; export it again'
                         % (text[:text.index('\x00')].count('\n') + 1))
    return text.lstrip('\ufeff')


def table(text):
    """The non-blank rows of an export as (line number, trimmed cells), the header first: a row whose cells are
    all blank (the ``;;;`` of an emptied spreadsheet row) is left out; line numbers are the file's."""
    text = decoded(text)
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=separator(text))
    return [(reader.line_num, cells) for cells in
            ([(cell or '').strip() for cell in row] for row in reader) if any(cells)]
