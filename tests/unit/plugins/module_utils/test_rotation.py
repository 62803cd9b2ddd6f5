"""The credential store's plan and commit: the rules that keep every PIN the PABX may hold."""
import datetime
import json
import random

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _rotation

NOW = datetime.datetime(2026, 11, 27, 3, 0, 0)
ALL = {'targets': 'all'}


def store(**devices):
    doc = _rotation.empty_store()
    for number, (current, pending) in devices.items():
        doc['devices'][number.lstrip('d')] = {'current': current, 'pending': pending, 'history': [],
                                              'changed_at': None}
    return doc


def staged(doc, selection=None):
    return _rotation.stage(doc, 'devices', selection or ALL, {}, NOW, rng=random.Random(1))


def test_stage_adds_pending_and_keeps_an_existing_one():
    plan = staged(store(d1000=('111222', None), d1001=('333444', '582914')))
    assert plan['store']['devices']['1001']['pending'] == '582914'
    new = plan['store']['devices']['1000']['pending']
    assert new and new != '111222'
    assert plan['batch'] == [dict(device='1000', device_password='111222', new_password=new),
                             dict(device='1001', device_password='333444', new_password='582914')]


def test_selection_targets_pattern_age_and_pending_always_due():
    doc = store(d1000=('111222', None), d1001=('333444', None), d2000=('555666', '582914'))
    doc['devices']['1001']['changed_at'] = '2026-11-20T00:00:00Z'
    plan = staged(doc, {'targets': 'all', 'pattern': '^10', 'max_age_days': 30})
    assert [b['device'] for b in plan['batch']] == ['1000', '2000']
    assert plan['skipped'] == [{'number': '1001', 'reason': 'not due'}]
    only = staged(doc, {'only': ['1001']})
    assert [b['device'] for b in only['batch']] == ['1001']  # a retry round leaves other pending ones alone


def result(status):
    return {'status': status, 'msg': 'm'}


@pytest.mark.parametrize('status, current, pending, row', [
    ('changed', 'NEW', None, 'rotated'),
    ('unchanged', 'NEW', None, 'rotated'),
    ('refused', 'OLD', None, 'failed'),
    ('rejected', 'OLD', 'NEW', 'out_of_sync'),
    ('unconfirmed', 'OLD', 'NEW', 'failed'),
    ('error', 'OLD', 'NEW', 'failed'),
])
def test_commit_settles_only_what_is_certain(status, current, pending, row):
    plan = staged(store(d1000=('OLD', 'NEW')))
    done = _rotation.commit(plan, 'devices', [result(status)], NOW)
    entry = done['store']['devices']['1000']
    assert (entry['current'], entry['pending'], done['report'][0]['status']) == (current, pending, row)
    if row == 'rotated':
        assert entry['history'] == ['OLD'] and entry['changed_at'] == '2026-11-27T03:00:00Z'
    assert 'NEW' not in repr(done['report']) and 'OLD' not in repr(done['report'])


def test_commit_matches_results_by_position_not_by_echoed_number():
    plan = staged(store(d1000=('OLD', 'NEW')))
    masked = [{'status': 'changed', 'device': 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'}]
    assert _rotation.commit(plan, 'devices', masked, NOW)['store']['devices']['1000'][
        'current'] == 'NEW'
    with pytest.raises(_rotation.StoreError, match='did not finish'):
        _rotation.commit(plan, 'devices', [], NOW)


def test_check_mode_settles_nothing():
    plan = staged(store(d1000=('OLD', None)))
    done = _rotation.commit(plan, 'devices', [result('would_change')], NOW, check_mode=True)
    assert done['report'][0]['status'] == 'would_rotate'
    assert done['store']['devices']['1000']['current'] == 'OLD'


def test_retry_round_rows_replace_earlier_rows():
    first = [dict(kind='devices', number='1000', status='failed', reason='x', pending=False),
             dict(kind='devices', number='1001', status='rotated', reason='y', pending=False)]
    plan = staged(store(d1000=('OLD', None)), {'only': ['1000']})
    done = _rotation.commit(plan, 'devices', [result('changed')], NOW, previous_report=first)
    assert sorted((r['number'], r['status']) for r in done['report']) == [('1000', 'rotated'), ('1001', 'rotated')]


def test_commit_takes_a_loop_over_chunks_and_reports_skipped_entries_once():
    doc = store(d1000=('OLD', None), d1001=('OLD1', None), d1002=('OLD2', None))
    plan = staged(doc, {'targets': ['1000', '1001']})
    runs = [{'results': [result('changed')], 'item': 0}, {'results': [result('refused')], 'item': 1}]
    done = _rotation.commit(plan, 'devices', runs, NOW)
    rows = dict((r['number'], r['status']) for r in done['report'])
    assert rows == {'1000': 'rotated', '1001': 'failed', '1002': 'skipped'} and done['refused'] == ['1001']
    retry = _rotation.commit(staged(done['store'], {'only': ['1001']}), 'devices', [result('changed')], NOW,
                             previous_report=done['report'])
    assert sorted((r['number'], r['status']) for r in retry['report']) == [
        ('1000', 'rotated'), ('1001', 'rotated'), ('1002', 'skipped')]


def test_stage_and_commit_leave_their_input_untouched():
    doc = store(d1000=('OLD', None), d1001=('OLD1', 'NEW1'))
    before = json.dumps(doc, sort_keys=True)
    plan = staged(doc)
    planned = json.dumps(plan, sort_keys=True)
    done = _rotation.commit(plan, 'devices', [result('changed'), result('refused')], NOW)
    assert json.dumps(doc, sort_keys=True) == before and json.dumps(plan, sort_keys=True) == planned
    assert done['store']['devices']['1000']['current'] != 'OLD' and done['store']['devices']['1001']['pending'] is None


def test_summary_counts_statuses_and_the_totals_a_run_is_judged_by():
    rows = [dict(status=s) for s in ('rotated', 'rotated', 'skipped', 'failed', 'out_of_sync')]
    counts = _rotation.summarize(rows)
    assert (counts['rotated'], counts['would_rotate'], counts['total'], counts['due'], counts['attention']) == (
        2, 0, 5, 4, 2)


def test_report_table_lines_are_aligned_and_mark_kept_pins_and_json_has_header_and_rows():
    rows = [dict(kind='devices', number='1000', status='rotated', reason='', pending=False),
            dict(kind='accounts', number='50001', status='failed', reason='HTTP 500', pending=True)]
    rendered = _rotation.render(rows, {'pabx': 'pabx1'})
    assert json.loads(rendered['json']) == {'pabx': 'pabx1', 'entries': rows}
    assert rendered['table'].splitlines() == [
        '  device   1000         rotated     ',
        '  account  50001        failed      HTTP 500 [staged PIN kept in the store]']


def test_accounts_are_requested_from_a_settled_device():
    doc = store(d1000=('111222', None))
    doc['accounts']['5000'] = {'current': '445566', 'pending': None, 'history': [], 'changed_at': None}
    plan = _rotation.stage(doc, 'accounts', ALL, {}, NOW)
    assert plan['batch'][0]['device'] == '1000' and plan['batch'][0]['account'] == '5000'
    doc['devices']['1000']['pending'] = '582914'
    blocked = _rotation.stage(doc, 'accounts', ALL, {}, NOW)
    assert blocked['batch'] == [] and 'unresolved' in blocked['skipped'][0]['reason']


def test_import_csv():
    text = 'kind,number,password,device\ndevice,1000,111222,\naccount,5000,445566,1000\n'
    imported = _rotation.import_rows(None, text, NOW)
    assert (imported['added'], imported['kept']) == (2, 0)
    assert imported['store']['accounts']['5000']['device'] == '1000'
    again = _rotation.import_rows(imported['store'], text, NOW)
    assert (again['added'], again['kept']) == (0, 2)
    with pytest.raises(_rotation.StoreError, match='line 2'):
        _rotation.import_rows(None, 'kind,number,password\nphone,x,1\n', NOW)
    with pytest.raises(_rotation.StoreError, match='lacks the column'):
        _rotation.import_rows(None, 'number,password\n', NOW)
