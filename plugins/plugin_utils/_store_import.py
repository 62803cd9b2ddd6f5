# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Importing PINs into a credential store from a spreadsheet export (CSV), on the controller.

The file: a header line, then one row per device or account. Commas or semicolons (the separator of the
header line), a UTF-8 BOM, CRLF and Windows-1252 text (Excel in pt-BR) are all read. The columns, in any order,
are named in English or Portuguese (trimmed, case- and accent-insensitive); other columns are ignored:

    kind      kind, tipo                       device|ramal|dispositivo or account|conta (or their plurals)
    number    number, numero, ramal, conta     digits 0-9
    password  password, senha                  digits 0-9
    device    device, dispositivo, ramal_solicitante   optional, accounts only: the device that requests the
                                                       account's changes (a device of the file or the store)

Everything is checked before anything is merged: a file with one problem imports nothing, and the error lists
each offending line (up to PROBLEMS_LISTED) with its number. No message carries a password, nor a word of the
header line: a file without a header line has a PIN where the header is expected.

A row for a number the store has and is not quarantined is kept (the store's entry stays) unless
``overwrite``; a row for a quarantined entry resolves it (the operator set that PIN at the console); a row for
a number in the store's ``archive`` section (a retired number) brings it back. An entry replaced in any of
these ways keeps its history, its PINs stay candidates (``sent``) since the PABX may still hold one, and it
keeps its count of wrong attempts, which the PABX still has, unless ``reset_attempts``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import csv

from ansible_collections.digitro.pabx.plugins.plugin_utils import _store
from ansible_collections.digitro.pabx.plugins.plugin_utils._spreadsheet import key, table

COLUMNS = (('kind', ('kind', 'tipo')),
           ('number', ('number', 'numero', 'ramal', 'conta')),
           ('password', ('password', 'senha')),
           ('device', ('device', 'dispositivo', 'ramal_solicitante')))
REQUIRED = ('kind', 'number', 'password')
KINDS = {'device': 'devices', 'devices': 'devices', 'ramal': 'devices', 'ramais': 'devices',
         'dispositivo': 'devices', 'dispositivos': 'devices',
         'account': 'accounts', 'accounts': 'accounts', 'conta': 'accounts', 'contas': 'accounts'}
SINGULAR = {'devices': 'device', 'accounts': 'account'}
PROBLEMS_LISTED = 20
NUMBERS_LISTED = 10
SHOWN_CHARACTERS = 20  # of a number that is not one


class CsvError(_store.StoreError):
    """An import file that cannot be imported. Its message names lines, numbers and column positions: never a
    password, nor a word of the header line."""


def digits_problem(text):
    """Why ``text`` is not a run of ASCII digits 0-9, or None; it names the kind of character, never the text.

    ``str.isdigit`` is not the test: it takes full-width digits and superscripts, which no PABX keypad sends.
    """
    if not text:
        return 'is empty'
    if all('0' <= c <= '9' for c in text):
        return None
    if any(c.isspace() for c in text):
        return 'has a space in it'
    if any(c.isdigit() or c.isnumeric() for c in text if not '0' <= c <= '9'):
        return 'has a character that is not an ASCII digit 0-9 (a full-width or superscript digit?)'
    if any(c in '.,eE+' for c in text):
        return ('is not digits 0-9 only (did the spreadsheet format the column as a number? Format it as '
                'Text, and type the values again)')
    return 'has a character that is not a digit 0-9'


def _shown(number):
    """A number that is not one, as a message shows it: quoted, so a space shows, and cut short."""
    return repr(number if len(number) <= SHOWN_CHARACTERS else number[:SHOWN_CHARACTERS] + '...')


def columns_of(header):
    """({column: position}, [positions of ignored columns, from 1]) of a header line; a CsvError when one of
    the required columns is missing or a column is named twice."""
    found, ignored = {}, []
    for position, name in enumerate(header):
        column = next((column for column, names in COLUMNS if key(name) in names), None)
        if column is None:
            if name:
                ignored.append(position + 1)
        elif column in found:
            raise CsvError('the header line has two columns for %s (columns %d and %d): keep one'
                           % (column, found[column] + 1, position + 1))
        else:
            found[column] = position
    missing = [column for column in REQUIRED if column not in found]
    if missing:
        # its words are not shown: a file without a header line has a PIN in their place
        raise CsvError('the CSV lacks the column(s) %s: its first line must be a header line naming the columns '
                       'kind, number, password and optionally device (or, in Portuguese, tipo, numero or ramal or '
                       'conta, senha, ramal_solicitante), separated by commas or semicolons; its first line has %d '
                       'column(s)' % (', '.join(missing), len(header)))
    return found, ignored


def parse(csv_text):
    """The rows of an export, checked: {rows: [(line, kind, number, password, device)], duplicates: [lines of
    identical repeated rows], ignored: [positions of ignored columns], problems: [(line, message)]}."""
    try:
        lines = table(csv_text)
    except (ValueError, csv.Error) as exc:  # their messages name a character at most, never a cell
        raise CsvError('the CSV cannot be read: %s' % str(exc)[:160])
    if not lines:
        raise CsvError('the CSV is empty: nothing to import')
    header, lines = lines[0][1], lines[1:]
    columns, ignored = columns_of(header)
    needed = max(columns[column] for column in REQUIRED) + 1
    rows, duplicates, problems, seen = [], [], [], {}
    for line, cells in lines:
        if len(cells) < needed or any(cells[len(header):]):
            # its cells are not where the header says: its number may be a PIN, so the line alone is named
            problems.append((line, 'line %d has %d cell(s) where the header line has %d (a missing value, or a '
                                   'separator inside one?)' % (line, len(cells), len(header))))
            continue
        cell = dict((column, cells[position] if position < len(cells) else '') for column, position in columns.items())
        kind = KINDS.get(key(cell['kind']))
        if kind is None:
            # the row may be shifted: its number is not named either
            problems.append((line, 'line %d: the kind is neither device (ramal, dispositivo) nor account (conta)'
                                   % line))
            continue
        number, password, device = cell['number'], cell['password'], cell.get('device', '')
        issues, bad_number = [], digits_problem(number)
        if bad_number:
            issues.append('the %s number %s%s' % (SINGULAR[kind], _shown(number) + ' ' if number else '', bad_number))
        if digits_problem(password):
            issues.append('the password %s' % digits_problem(password))
        if device and kind == 'devices':
            issues.append('a requesting device is given, but only accounts have one (is the kind right?)')
        elif device and digits_problem(device):
            issues.append('the requesting device %s %s' % (_shown(device), digits_problem(device)))
        # a number that is not one is in the issue itself
        where = 'line %d' % line if bad_number else 'line %d (%s %s)' % (line, SINGULAR[kind], number)
        if issues:
            problems.append((line, '%s: %s' % (where, ', and '.join(issues))))
            continue
        first = seen.get((kind, number))
        if first is None:
            seen[(kind, number)] = (line, password, device)
            rows.append((line, kind, number, password, device))
        elif first[1:] == (password, device):
            duplicates.append(line)
        else:
            problems.append((line, '%s: the %s is on line %d too, with another %s: keep one row' % (
                where, SINGULAR[kind], first[0], 'password' if first[1] != password else 'requesting device')))
    return {'rows': rows, 'duplicates': duplicates, 'ignored': ignored, 'problems': problems}


def import_csv(store, csv_text, now, overwrite=False, reset_attempts=False):
    """Merge an export into the store (a new one when ``store`` is empty); see the module's docstring.

    Returns {store, added, restored, changed, resolved, kept, kept_differing, duplicates, numbers, ignored_columns,
    summary}: counts of entries (``changed`` counts overwritten and resolved entries, ``resolved`` the latter
    again; ``kept_differing`` the kept entries the CSV gives another password or requesting device),
    ``duplicates`` the identical repeated rows; ``numbers`` lists labels (``device 1000``) per count;
    ``summary`` says all of it in one line for people. No PIN is anywhere but in ``store``.
    """
    store = _store.check_store(store) if store else _store.empty_store()
    found = parse(csv_text)
    problems = found['problems'] + _requesting_devices(store, found['rows'])
    if problems:
        problems.sort(key=lambda problem: problem[0])
        listed = [message for line, message in problems[:PROBLEMS_LISTED]]
        more = len(problems) - len(listed)
        raise CsvError('the CSV has %d line(s) with problems, so nothing was imported; fix them and import it '
                       'again: %s%s'
                       % (len(problems), '; '.join(listed), '; and %d more' % more if more else ''))
    if not found['rows']:
        raise CsvError('the CSV has a header line but no rows: nothing to import')
    store = copy.deepcopy(store)  # the caller's is left as it was
    numbers = dict((name, []) for name in ('added', 'restored', 'changed', 'resolved', 'kept', 'kept_differing'))
    stamp = now.strftime(_store.TIME_FORMAT)
    archive = store.get('archive') if isinstance(store.get('archive'), dict) else {}
    for line, kind, number, password, device in found['rows']:
        label = '%s %s' % (SINGULAR[kind], number)
        old = store[kind].get(number)
        archived = (archive.get(kind) or {}).get(number) if old is None else None
        if old is not None and not old.get('quarantined') and (not overwrite or _same(old, password, device,
                                                                                      reset_attempts)):
            numbers['kept'].append(label)
            if old.get('current') != password or (device and device != old.get('device')):
                numbers['kept_differing'].append(label)
            continue
        store[kind][number] = _entry(old if old is not None else archived, kind, password, device, stamp, now,
                                     reset_attempts)
        if archived is not None:
            archive[kind] = dict((n, e) for n, e in archive[kind].items() if n != number)
            numbers['restored'].append(label)
        elif old is None:
            numbers['added'].append(label)
        else:
            numbers['changed'].append(label)
            if old.get('quarantined'):
                numbers['resolved'].append(label)
    if numbers['restored'] and not any(archive.get(kind) for kind in _store.KINDS):
        del store['archive']  # its last entry came back: as a store that never had one
    done = dict((name, len(labels)) for name, labels in numbers.items())
    done.update(store=store, numbers=numbers, duplicates=len(found['duplicates']),
                duplicate_lines=found['duplicates'], ignored_columns=found['ignored'])
    done['summary'] = summary(done)
    return done


def _requesting_devices(store, rows):
    """Problems of accounts whose requesting device is neither a device of the file nor one of the store."""
    devices = set(number for line, kind, number, password, device in rows if kind == 'devices')
    return [(line, 'line %d (account %s): the requesting device %s is neither a device of this CSV nor one of the '
                   'credential store: import it too' % (line, number, device))
            for line, kind, number, password, device in rows
            if device and device not in devices and device not in store['devices']]


def _same(old, password, device, reset_attempts):
    """Whether a row says what the store's entry says already (an overwrite would change nothing)."""
    return (old.get('current') == password and not old.get('pending') and (not device or device == old.get('device'))
            and not (reset_attempts and old.get('wrong_attempts')))


def _entry(old, kind, password, device, stamp, now, reset_attempts):
    """The store entry of an imported row; one replacing ``old`` keeps its history, and the PINs it had stay
    candidates: a mistyped row must not leave the PIN the PABX holds outside the store."""
    entry = {'current': password, 'pending': None, 'history': [], 'changed_at': None}
    if old:
        # a pending PIN may still apply late: it keeps its wait; the replaced current one was known good
        held = ([{'password': old['pending'], 'at': stamp}] if old.get('pending') else []) + \
            [{'password': old['current'], 'at': stamp, 'imported': True}]
        sent, known = [], set([password])
        for item in held + list(old.get('sent') or []):
            if item['password'] not in known:
                known.add(item['password'])
                sent.append(item)
        history = list(old.get('history') or [])
        if old['current'] != password:
            history.insert(0, old['current'])
        entry.update(history=history[:_store.HISTORY_KEPT], sent=_store.keep_sent(sent, now),
                     changed_at=old.get('changed_at'))
        # the count a claim the PABX has not answered yet forgave is counted again (the claim is not carried over),
        # and a refused claim stays refused: an import is no way around either
        spent = _store.wrong_since_accepted(old)
        if spent or old.get('reset_refused') or old.get('forced_refused'):
            entry.update(wrong_attempts=spent)
            entry.update((field, old[field]) for field in ('reset_refused', 'forced_refused') if old.get(field))
            if reset_attempts:  # a person's word, proven by the PABX's next answer (and trusted once)
                entry = _store.claim_reset(entry, stamp)[0]
        if old.get('device'):
            entry['device'] = old['device']
    if kind == 'accounts' and device:
        entry['device'] = device
    return entry


def _listed(labels):
    shown = ', '.join(labels[:NUMBERS_LISTED])
    return shown + (' and %d more' % (len(labels) - NUMBERS_LISTED) if len(labels) > NUMBERS_LISTED else '')


def summary(done):
    """What an import did, in one line: added, restored, changed (and resolved), kept, identical duplicates."""
    imported = done['added'] + done['restored'] + done['changed']
    parts = ['%d added' % done['added']]
    if done['restored']:
        parts.append('%d restored from the archive (%s)' % (done['restored'], _listed(done['numbers']['restored'])))
    changed = '%d changed' % done['changed']
    if done['changed']:
        changed += ' (%s%s)' % (_listed(done['numbers']['changed']), '; %d of them resolved from quarantine'
                                % done['resolved'] if done['resolved'] else '')
    parts.append(changed)
    text = '%d entr%s imported: %s; %d kept' % (
        imported, 'y' if imported == 1 else 'ies', ', '.join(parts), done['kept'])
    if done['kept_differing']:
        text += (' (already in the store; %d of them with another password or requesting device in the CSV: %s; '
                 'credential_store_import_overwrite=true replaces them)'
                 % (done['kept_differing'], _listed(done['numbers']['kept_differing'])))
    elif done['kept']:
        text += ' (already in the store as the CSV has them)'
    if done['duplicates']:
        text += '; %d identical duplicate row(s) ignored (line(s) %s)' % (
            done['duplicates'], ', '.join(str(n) for n in done['duplicate_lines'][:NUMBERS_LISTED])
            + (' ...' if done['duplicates'] > NUMBERS_LISTED else ''))
    if done['ignored_columns']:
        text += '; column(s) %s of the header line ignored (not kind, number, password or device)' % ', '.join(
            str(n) for n in done['ignored_columns'])
    return text
