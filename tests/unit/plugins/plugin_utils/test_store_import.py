"""The credential store's CSV import: spreadsheet exports in English or Portuguese, every mistake named at once,
no PIN in any message, nothing merged from a file with a mistake, and no PIN the PABX may hold ever lost."""
import copy
import csv
import datetime
import io

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.plugin_utils import _rotation_stage, _store
from ansible_collections.digitro.pabx.plugins.plugin_utils._spreadsheet import dict_reader, key
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_import import (
    PROBLEMS_LISTED, CsvError, digits_problem, import_csv, parse)

NOW = datetime.datetime(2026, 11, 27, 3, 0, 0)
STAMP = '2026-11-27T03:00:00Z'
PT_BR = ('\ufeffTipo;Ramal;Senha;Ramal_Solicitante\r\n'
         'ramal;100000;482913;\r\n'
         'Ramal;100001;730281;\r\n'
         'conta;500000;5521;100000\r\n'
         ';;;\r\n')   # a row emptied in the spreadsheet


def entry(current, **fields):
    return dict(dict(current=current, pending=None, history=[], changed_at=None), **fields)


def store(devices=None, accounts=None, archive=None):
    doc = _store.empty_store()
    doc['devices'].update(devices or {})
    doc['accounts'].update(accounts or {})
    if archive is not None:
        doc['archive'] = archive
    return doc


def refused(csv_text, doc=None, **options):
    with pytest.raises(CsvError) as raised:
        import_csv(doc, csv_text, NOW, **options)
    return str(raised.value)


# --- reading spreadsheet exports ---

def test_a_pt_br_excel_export_is_read():
    done = import_csv(None, PT_BR, NOW)
    assert done['store']['devices'] == {'100000': entry('482913'), '100001': entry('730281')}
    assert done['store']['accounts'] == {'500000': entry('5521', device='100000')}
    assert (done['added'], done['changed'], done['kept'], done['duplicates']) == (3, 0, 0, 0)
    assert done['summary'] == '3 entries imported: 3 added, 0 changed; 0 kept'


@pytest.mark.parametrize('header', [
    'kind,number,password,device', 'Kind , Number,PASSWORD, Device', 'TIPO,NÚMERO,SENHA,DISPOSITIVO',
    'tipo,numero,senha,ramal solicitante', 'Tipo,Conta,Senha,Ramal-Solicitante', ' tipo ,número ,senha , device'])
def test_headers_in_english_or_portuguese_in_any_case_with_or_without_accents(header):
    text = header + '\ndevice,1000,111222,\naccount,5000,3344,1000\n'
    done = import_csv(None, text, NOW)
    assert done['store']['devices']['1000']['current'] == '111222'
    assert done['store']['accounts']['5000'] == entry('3344', device='1000')


@pytest.mark.parametrize('kind', ['device', 'Devices', 'RAMAL', 'ramais', 'Dispositivo', 'dispositivos', ' ramal '])
def test_device_kinds(kind):
    assert import_csv(None, 'kind;number;password\n%s;1000;111222\n' % kind, NOW)['store']['devices']


@pytest.mark.parametrize('kind', ['account', 'ACCOUNTS', 'Conta', 'contas'])
def test_account_kinds(kind):
    assert import_csv(None, 'kind;number;password\n%s;5000;1122\n' % kind, NOW)['store']['accounts']


def test_columns_in_another_order_and_other_columns_are_ignored_and_said_so():
    done = import_csv(None, 'Nome,Senha,Observação,Ramal,Tipo\nAna,111222,,1000,ramal\n', NOW)
    assert done['store']['devices'] == {'1000': entry('111222')}
    assert done['ignored_columns'] == [1, 3]
    assert 'column(s) 1, 3 of the header line ignored' in done['summary']
    assert 'Nome' not in done['summary']


def test_windows_1252_text_as_ansible_reads_it_is_decoded():
    raw = 'Tipo;Número;Senha\r\nramal;1000;111222\r\n'.encode('cp1252')
    as_ansible_passes_it = raw.decode('utf-8', 'surrogateescape')   # the file lookup escapes what is not UTF-8
    assert import_csv(None, as_ansible_passes_it, NOW)['store']['devices']['1000']['current'] == '111222'


def test_utf_16_is_refused_with_what_to_do():
    raw = 'kind,number,password\ndevice,1000,111222\n'.encode('utf-16')
    assert 'save it as "CSV UTF-8"' in refused(raw.decode('utf-8', 'surrogateescape'))


def test_old_mac_line_ends_and_blank_lines_are_read():
    text = 'kind,number,password\r\rdevice,1000,111222\rdevice,1001,222333\r'
    assert sorted(import_csv(None, text, NOW)['store']['devices']) == ['1000', '1001']


def test_the_key_of_a_name():
    assert key(' Número ') == 'numero' and key('Ramal  Solicitante') == 'ramal_solicitante'
    assert key('RAMAL-SOLICITANTE') == 'ramal_solicitante' and key(None) == ''


def test_the_roster_reader_is_unchanged():
    reader = dict_reader('\ufeffDevice;Account;State\r\n100000;500000;logged_in\r\n')
    assert reader.fieldnames == ['device', 'account', 'state']
    assert list(reader) == [{'device': '100000', 'account': '500000', 'state': 'logged_in'}]


# --- refusals: everything named, nothing merged, no PIN shown ---

def test_a_file_without_a_header_line_is_refused_without_showing_its_first_row():
    message = refused('device,1000,583920\ndevice,1001,672049\n')
    assert 'lacks the column(s) kind, number, password' in message and 'header line' in message
    assert '583920' not in message and '1000' not in message


def test_a_header_naming_one_column_twice_is_refused():
    assert 'two columns for number (columns 2 and 3)' in refused('Tipo;Ramal;Conta;Senha\nramal;1;2;3\n')


@pytest.mark.parametrize('text', ['', '\ufeff', ';;;\r\n', 'kind,number,password\n', 'kind,number,password\n,,\n'])
def test_a_file_without_rows_is_refused(text):
    assert 'nothing to import' in refused(text)


@pytest.mark.parametrize('pin, why', [
    ('１２３４５６', 'not an ASCII digit'), ('²³⁴⁵', 'not an ASCII digit'), ('١٢٣٤', 'not an ASCII digit'),
    ('12 34', 'has a space'), ('12\u00a034', 'has a space'), ('1.2E+05', 'Format it as Text'),
    ('12a4', 'not a digit 0-9')])
def test_pins_that_are_not_ascii_digits_are_refused_without_being_shown(pin, why):
    assert pin.isdigit() == (why == 'not an ASCII digit')   # str.isdigit takes those: not the test used
    message = refused('kind,number,password\ndevice,1000,111222\ndevice,1001,%s\n' % pin)
    assert 'line 3 (device 1001): the password' in message and why in message
    assert pin not in message and '111222' not in message and '1 line(s) with problems' in message


def test_digits_problem():
    assert digits_problem('0123456789') is None
    assert all(digits_problem(text) for text in ('', ' ', '１', '²', '٣', '-1', '+1', '1e5', '0x1'))


@pytest.mark.parametrize('number, shown', [('10 00', "'10 00'"), ('１０００', "'１０００'"), ('1000.0', "'1000.0'")])
def test_numbers_that_are_not_ascii_digits_are_refused_and_named(number, shown):
    message = refused('kind;number;password\nramal;%s;111222\n' % number)
    assert 'line 2: the device number %s' % shown in message and '111222' not in message


def test_conflicting_duplicates_are_refused_naming_both_lines_and_identical_ones_are_counted():
    text = ('kind,number,password,device\ndevice,1000,111222,\ndevice,1001,222333,\naccount,5000,1122,1000\n'
            'device,1000,111222,\naccount,5000,1122,1001\ndevice,1001,999888,\n')
    message = refused(text)
    assert 'line 6 (account 5000): the account is on line 4 too, with another requesting device' in message
    assert 'line 7 (device 1001): the device is on line 3 too, with another password' in message
    assert '2 line(s) with problems' in message and '999888' not in message and '222333' not in message
    done = import_csv(None, '\n'.join(text.split('\n')[:5]) + '\ndevice,1000,111222,\n', NOW)
    assert (done['added'], done['duplicates'], done['duplicate_lines']) == (3, 2, [5, 6])
    assert '2 identical duplicate row(s) ignored (line(s) 5, 6)' in done['summary']


def test_a_device_and_an_account_may_share_a_number():
    done = import_csv(None, 'kind,number,password\ndevice,1000,111222\naccount,1000,1122\n', NOW)
    assert done['added'] == 2


def test_every_offending_line_is_named_up_to_a_cap_with_the_count():
    rows = ''.join('device,%d,12 34\n' % (1000 + n) for n in range(PROBLEMS_LISTED + 5))
    message = refused('kind,number,password\n' + rows)
    assert '%d line(s) with problems' % (PROBLEMS_LISTED + 5) in message and '; and 5 more' in message
    assert 'line %d (device %d)' % (PROBLEMS_LISTED + 1, 999 + PROBLEMS_LISTED) in message
    assert 'line %d ' % (PROBLEMS_LISTED + 2) not in message


def test_a_row_with_a_missing_or_extra_cell_is_named_by_its_line_only():
    # a dropped kind cell puts the PIN where the number is expected: that cell is not shown
    message = refused('kind,number,password\n1000,583920\ndevice,1001,58,3921\ndevice,1002,111222,,\n')
    assert 'line 2 has 2 cell(s) where the header line has 3' in message
    assert 'line 3 has 4 cell(s)' in message and 'line 4' not in message   # trailing empty cells are fine
    assert '583920' not in message and '1001' not in message


def test_a_shifted_row_with_a_kind_that_is_none_is_named_by_its_line_only():
    message = refused('kind,number,password,device\n1000,583920,device,\n')
    assert 'line 2: the kind is neither device' in message and '583920' not in message


def test_requesting_devices_are_for_accounts_and_must_be_known():
    message = refused('kind,number,password,device\ndevice,1000,111222,1000\naccount,5000,1122,1001\n')
    assert 'line 2 (device 1000): a requesting device is given, but only accounts have one' in message
    assert 'line 3 (account 5000): the requesting device 1001 is neither a device of this CSV nor one of' in message
    assert "the requesting device '10 01' has a space" in refused(
        'kind,number,password,device\naccount,5000,1122,10 01\n', store({'1001': entry('111222')}))
    done = import_csv(store({'1001': entry('111222')}), 'kind,number,password,device\naccount,5000,1122,1001\n',
                      NOW)
    assert done['store']['accounts']['5000']['device'] == '1001'


def test_an_invalid_file_imports_nothing_and_leaves_the_store_as_it_was():
    doc = store({'1000': entry('111222')}, archive={'devices': {'1001': entry('222333', removed_at=STAMP)},
                                                    'accounts': {}})
    before = copy.deepcopy(doc)
    refused('kind,number,password\ndevice,1000,333444\ndevice,1001,444555\ndevice,1002,55 66\n', doc,
            overwrite=True)
    assert doc == before


def test_an_unknown_store_is_refused():
    with pytest.raises(_store.StoreError, match='schema'):
        import_csv(dict(store(), schema=99), 'kind,number,password\ndevice,1000,111222\n', NOW)


# --- merging: nothing the PABX may hold is lost ---

def test_an_import_keeps_what_the_store_has_unless_overwritten_and_says_which_differ():
    doc = store({'1000': entry('111222'), '1001': entry('222333')})
    text = 'kind,number,password\ndevice,1000,111222\ndevice,1001,999888\ndevice,1002,333444\n'
    done = import_csv(doc, text, NOW)
    assert (done['added'], done['changed'], done['kept'], done['kept_differing']) == (1, 0, 2, 1)
    assert done['store']['devices']['1001'] == entry('222333')
    assert done['summary'] == ('1 entry imported: 1 added, 0 changed; 2 kept (already in the store; 1 of them with '
                               'another password or requesting device in the CSV: device 1001; '
                               'credential_store_import_overwrite=true replaces them)')
    assert 'as the CSV has them' in import_csv(doc, 'kind,number,password\ndevice,1000,111222\n', NOW)['summary']


def test_an_overwrite_keeps_the_history_and_the_pins_the_pabx_may_hold_as_candidates():
    doc = store({'1000': entry('111222', pending='444555', history=['000111'], changed_at=STAMP, wrong_attempts=1,
                               sent=[{'password': '777888', 'at': STAMP}]),
                 '1001': entry('222333')})
    done = import_csv(doc, 'kind,number,password\ndevice,1000,999888\ndevice,1001,222333\n', NOW, overwrite=True)
    new = done['store']['devices']['1000']
    assert new['current'] == '999888' and new['pending'] is None and new['history'] == ['111222', '000111']
    assert [s['password'] for s in new['sent']] == ['444555', '111222', '777888']
    assert new['wrong_attempts'] == 1 and new['changed_at'] == STAMP
    assert done['store']['devices']['1001'] == entry('222333')   # the same: nothing to change
    assert (done['changed'], done['kept'], done['kept_differing']) == (1, 1, 0)
    assert '1 changed (device 1000)' in done['summary']
    reset = import_csv(doc, 'kind,number,password\ndevice,1000,999888\n', NOW, overwrite=True, reset_attempts=True)
    # the count starts again from 0, with the claim kept until the PABX proves it (see _store.claim_reset)
    assert reset['store']['devices']['1000']['wrong_attempts'] == 0
    assert reset['store']['devices']['1000']['reset_claim'] == {'at': STAMP, 'from': 1}


def test_an_overwrite_with_the_current_pin_settles_a_pending_one_without_repeating_the_pin():
    doc = store({'1000': entry('111222', pending='444555', history=['000111'])})
    new = import_csv(doc, 'kind,number,password\ndevice,1000,111222\n', NOW, overwrite=True)['store']['devices']['1000']
    assert new['history'] == ['000111'] and [s['password'] for s in new['sent']] == ['444555']


def test_a_row_for_a_quarantined_entry_resolves_it_and_keeps_its_count():
    doc = store({'1000': entry('111222', wrong_attempts=2, quarantined={'reason': 'x', 'at': STAMP})},
                {'5000': entry('1122', device='1000')})
    done = import_csv(doc, 'tipo;ramal;senha\nramal;1000;654321\n', NOW)
    new = done['store']['devices']['1000']
    assert not new.get('quarantined') and new['current'] == '654321' and new['wrong_attempts'] == 2
    assert (done['changed'], done['resolved']) == (1, 1)
    assert '1 changed (device 1000; 1 of them resolved from quarantine)' in done['summary']
    reset = import_csv(doc, 'tipo;ramal;senha\nramal;1000;654321\n', NOW, reset_attempts=True)['store']['devices']['1000']
    assert reset['wrong_attempts'] == 1 and reset['reset_claim'] == {'at': STAMP, 'from': 2, 'to': 1}  # one forgiven


def test_an_account_keeps_its_requesting_device_unless_the_row_gives_one():
    doc = store({'1000': entry('111222'), '1001': entry('222333')}, {'5000': entry('1122', device='1000')})
    kept = import_csv(doc, 'kind,number,password\naccount,5000,3344\n', NOW, overwrite=True)
    assert kept['store']['accounts']['5000']['device'] == '1000'
    moved = import_csv(doc, 'kind,number,password,device\naccount,5000,1122,1001\n', NOW, overwrite=True)
    assert moved['store']['accounts']['5000']['device'] == '1001' and moved['changed'] == 1


def test_an_archived_number_comes_back_as_an_overwrite_and_leaves_the_archive():
    archived = entry('111222', history=['000111'], changed_at=STAMP, wrong_attempts=1, removed_at=STAMP,
                     sent=[{'password': '777888', 'at': STAMP}])
    doc = store(archive={'devices': {'1000': archived, '1001': entry('1', removed_at=STAMP)}, 'accounts': {}})
    done = import_csv(doc, 'kind,number,password\ndevice,1000,999888\n', NOW)
    new = done['store']['devices']['1000']
    assert new['current'] == '999888' and new['history'] == ['111222', '000111'] and new['wrong_attempts'] == 1
    assert [s['password'] for s in new['sent']] == ['111222', '777888'] and 'removed_at' not in new
    assert list(done['store']['archive']['devices']) == ['1001'] and done['restored'] == 1
    assert '1 entry imported: 0 added, 1 restored from the archive (device 1000), 0 changed' in done['summary']
    assert doc['archive']['devices']['1000'] == archived   # the input is left alone
    last = import_csv(done['store'], 'kind,number,password\ndevice,1001,222333\n', NOW)
    assert 'archive' not in last['store'] and last['restored'] == 1


def test_an_older_store_without_an_archive_section_is_fine():
    done = import_csv(store({'1000': entry('111222')}), 'kind,number,password\ndevice,1001,222333\n', NOW)
    assert 'archive' not in done['store'] and done['added'] == 1


def test_long_lists_of_numbers_are_cut_in_the_summary():
    doc = store(dict(('%d' % n, entry('000000')) for n in range(1000, 1030)))
    rows = ''.join('device,%d,111222\n' % n for n in range(1000, 1030))
    done = import_csv(doc, 'kind,number,password\n' + rows, NOW, overwrite=True)
    assert done['changed'] == 30 and 'device 1009 and 20 more' in done['summary']


def test_the_filter_runs_the_import_and_names_it_in_errors():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.digitro.pabx.plugins.filter.store import store_import
    assert store_import({}, PT_BR, STAMP)['added'] == 3
    with pytest.raises(AnsibleFilterError, match='store_import: the CSV has 1 line'):
        store_import({}, 'kind,number,password\ndevice,1000,58 3920\n', STAMP)


def test_pins_an_import_keeps_as_candidates_do_not_hold_the_entry_back():
    doc = store({'1000': entry('OLD', quarantined={'reason': 'x', 'at': STAMP})})
    imported = import_csv(doc, 'kind,number,password\ndevice,1000,654321\n', NOW)['store']
    assert imported['devices']['1000']['sent'] == [{'password': 'OLD', 'at': STAMP, 'imported': True}]
    plan = _rotation_stage.stage(imported, 'devices', {'targets': 'all', 'late_apply_hours': 1}, {}, NOW)
    assert plan['batch'][0]['candidates'] == ['OLD'] and not plan['batch'][0]['verify_only']


# --- properties ---

KIND_WORDS = ('device', 'Ramal', 'CONTA', 'account', 'dispositivos', 'phone', '')
CELL = st.text(alphabet='0123456789 .x\u00b2\uff11\u0663', max_size=8)


@st.composite
def spreadsheets(draw):
    """A file as a person might botch it: any header (or none), any separator, cells shifted or added."""
    rows = draw(st.lists(st.tuples(st.sampled_from(KIND_WORDS), CELL, CELL, st.sampled_from(['', '1000', '1 0'])),
                         min_size=1, max_size=8))
    shapes = draw(st.lists(st.sampled_from(['ok', 'ok', 'ok', 'drop_kind', 'extra', 'short']),
                           min_size=len(rows), max_size=len(rows)))
    header = draw(st.sampled_from([None, ['kind', 'number', 'password', 'device'], ['Tipo', 'Ramal', 'Senha'],
                                   ['Senha', 'Tipo', 'Número', 'Ramal_Solicitante']]))
    separator = draw(st.sampled_from([',', ';']))
    order = {'kind': 0, 'tipo': 0, 'number': 1, 'ramal': 1, 'número': 1, 'password': 2, 'senha': 2,
             'device': 3, 'ramal_solicitante': 3}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator=draw(st.sampled_from(['\n', '\r\n'])))
    if header:
        writer.writerow(header)
    for row, shape in zip(rows, shapes):
        cells = [row[order[name.lower()]] for name in header] if header else list(row)
        cells = {'drop_kind': cells[1:], 'extra': cells + ['99'], 'short': cells[:2]}.get(shape, cells)
        writer.writerow(cells)
    return (draw(st.sampled_from(['', '\ufeff'])) + out.getvalue(), [row[2] for row in rows],
            [cell for row in rows for cell in (row[0], row[1], row[3])] + (header or []))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spreadsheets())
def test_no_pin_is_ever_in_an_error_message(spreadsheet):
    text, pins, others = spreadsheet
    try:
        import_csv(store({'1000': entry('123456')}), text, NOW)
    except CsvError as exc:
        message = str(exc)
        for pin in pins:
            pin = pin.strip()
            if len(pin) >= 4 and not any(pin in other for other in others):
                assert pin not in message


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from(['devices', 'accounts']), st.from_regex(r'\A[0-9]{1,8}\Z')),
                       st.from_regex(r'\A[0-9]{4,12}\Z'), min_size=1, max_size=20),
       st.sampled_from([',', ';', '\t']), st.sampled_from(['\n', '\r\n']), st.booleans(),
       st.sampled_from([('kind', 'number', 'password'), ('Tipo', 'Número', 'Senha'), ('TIPO', 'CONTA', 'SENHA')]))
def test_any_valid_export_imports_every_row(pins, separator, line_end, bom, header):
    kinds = {'devices': 'ramal', 'accounts': 'account'}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator=line_end)
    writer.writerow(header)
    for (kind, number), pin in sorted(pins.items()):
        writer.writerow([kinds[kind], ' %s ' % number, pin])
    done = import_csv(None, ('\ufeff' if bom else '') + out.getvalue(), NOW)
    assert done['added'] == len(pins)
    assert dict(((kind, n), e['current']) for kind in ('devices', 'accounts')
                for n, e in done['store'][kind].items()) == pins
    assert not any(pin in done['summary'] for pin in pins.values() if len(pin) > 8)


def test_a_nul_character_in_a_utf8_file_is_named_as_damage_not_utf16():
    with pytest.raises(CsvError) as error:
        parse('kind,number,password\ndevice,1000,4829\x0013\ndevice,1001,582913\n')
    assert 'line 2 has a NUL character' in str(error.value) and 'UTF-16' not in str(error.value)


def test_an_import_is_no_way_around_a_refused_or_unanswered_reset_claim():
    refused_claims = entry('111222', wrong_attempts=4, reset_refused=STAMP, forced_refused=STAMP)
    unanswered = entry('111222', wrong_attempts=2, reset_claim={'at': STAMP, 'from': 4, 'to': 2})
    for old, kept_refusals in ((refused_claims, True), (unanswered, False)):
        for reset in (False, True):
            new = import_csv(store({'1000': old}), 'kind,number,password\ndevice,1000,654321\n', NOW, overwrite=True,
                             reset_attempts=reset)['store']['devices']['1000']
            # the whole count since the PABX last accepted a PIN; a claim forgives one of it at most, once
            assert new['wrong_attempts'] == (4 if not reset or kept_refusals else 3), (old, reset)
            assert ('forced_refused' in new) is kept_refusals and ('reset_refused' in new) is kept_refusals
