"""The credential store's plan and commit: the rules that keep every PIN the PABX may hold."""
import datetime
import json
import random

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.plugin_utils import _rotation_commit, _rotation_report, _rotation_selection, _rotation_stage, _store
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_operations import chosen

NOW = datetime.datetime(2026, 11, 27, 3, 0, 0)
ALL = {'targets': 'all'}


def store(**devices):
    doc = _store.empty_store()
    for number, (current, pending) in devices.items():
        doc['devices'][number.lstrip('d')] = {'current': current, 'pending': pending, 'history': [],
                                              'changed_at': None}
    return doc


def staged(doc, selection=None):
    return _rotation_stage.stage(doc, 'devices', selection or ALL, {}, NOW, rng=random.Random(1))


def test_stage_adds_pending_and_settles_an_existing_one_by_verification_only():
    plan = staged(store(d1000=('111222', None), d1001=('333444', '582914')))
    assert plan['store']['devices']['1001']['pending'] == '582914'
    new = plan['store']['devices']['1000']['pending']
    assert new and new != '111222' and plan['staged'] == 1
    assert plan['batch'] == [
        dict(device='1000', device_password='111222', new_password=new, candidates=[], wrong_attempts=0,
             verify_only=False),
        dict(device='1001', device_password='333444', new_password='582914', candidates=['582914'],
             wrong_attempts=0, verify_only=True)]


def test_planning_stores_no_pin_and_lists_no_unsent_one():
    doc = store(d1000=('111222', None))
    plan = _rotation_stage.stage(doc, 'devices', ALL, {}, NOW, planning=True)
    assert plan['store']['devices']['1000'].get('pending') is None and plan['staged'] == 0
    assert plan['batch'][0]['candidates'] == [] and not plan['batch'][0]['verify_only']


def test_selection_targets_pattern_age_and_pending_always_settled():
    doc = store(d1000=('111222', None), d1001=('333444', None), d2000=('555666', '582914'))
    doc['devices']['1001']['changed_at'] = '2026-11-20T00:00:00Z'
    plan = staged(doc, {'targets': 'all', 'pattern': '^10', 'max_age_days': 30})
    assert [b['device'] for b in plan['batch']] == ['1000', '2000']
    assert plan['skipped'] == [{'number': '1001', 'reason': 'not due'}]
    only = staged(doc, {'only': ['1001']})
    assert [b['device'] for b in only['batch']] == ['1001']  # a retry round leaves other pending ones alone


@pytest.mark.parametrize('targets, expected', [
    ('all', 'all'), (['all'], 'all'), ('1000,1001', ['1000', '1001']), ('1000 1001\n', ['1000', '1001']),
    ('1000;\r\n1001', ['1000', '1001']), ([1000, '1001'], ['1000', '1001'])])
def test_targets_split_on_commas_spaces_and_newlines(targets, expected):
    doc = store(d1000=('111222', None), d1001=('333444', None))
    assert _rotation_selection.selection(doc, targets)['targets'] == expected


@pytest.mark.parametrize('targets, pattern, accounts, message', [
    ('1000,9999', '', True, 'does not have: its 2nd item'), ('', '', True, 'targets is empty'),
    (' , ', '', True, 'targets is empty'), ('all', '([', True, 'password_rotation_pattern'),
    ('all', '^9', True, 'matches none of the 2'), ('1000', '^5', True, 'matches none of the 1'),
    ('5000', '', False, 'password_rotation_accounts is false')])
def test_a_selection_mistake_is_an_error_naming_the_option(targets, pattern, accounts, message):
    doc = store(d1000=('111222', None))
    doc['accounts']['5000'] = {'current': '445566', 'pending': None, 'history': [], 'changed_at': None}
    with pytest.raises(_store.StoreError, match=message):
        _rotation_selection.selection(doc, targets, pattern, accounts=accounts)


@pytest.mark.parametrize('max_age_days, late_apply_hours', [
    (-1, 1), (10 ** 9, 1), (36501, 1), (0, -0.5), (0, 10 ** 12), (0, float('nan')), (0, float('inf'))])
def test_ages_and_quiet_periods_out_of_range_are_refused_not_overflowed(max_age_days, late_apply_hours):
    with pytest.raises(_store.StoreError, match='password_rotation_max_age_days must be from 0 to 36500'):
        _rotation_selection.selection(store(d1000=('111222', None)), 'all', '', max_age_days, True, late_apply_hours)


def test_an_entry_whose_change_never_showed_is_left_alone_for_a_while():
    doc = store(d1000=('OLD', None))
    doc['devices']['1000']['sent'] = [{'password': 'LATE', 'at': '2026-11-27T02:30:00Z'}]
    quiet = _rotation_stage.stage(doc, 'devices', dict(ALL, late_apply_hours=1), {}, NOW)
    assert quiet['batch'] == [] and 'may still apply until 2026-11-27T03:30:00Z' in quiet['skipped'][0]['reason']
    later = _rotation_stage.stage(doc, 'devices', dict(ALL, late_apply_hours=0.25), {}, NOW)
    assert later['batch'][0]['candidates'] == ['LATE'] and not later['batch'][0]['verify_only']


def result(status, holds=None, wrong=0, **extra):
    default = {'changed': 'new', 'unchanged': 'new', 'refused': 'current', 'would_change': 'current',
               'verified': 'current'}.get(status)
    return dict({'status': status, 'msg': 'm', 'holds': holds or default, 'wrong_attempts': wrong}, **extra)


@pytest.mark.parametrize('status, current, pending, row', [
    ('changed', 'NEW', None, 'rotated'),
    ('unchanged', 'NEW', None, 'rotated'),
    ('refused', 'OLD', None, 'failed'),
    ('rejected', 'OLD', 'NEW', 'quarantined'),
    ('unconfirmed', 'OLD', 'NEW', 'failed'),
    ('error', 'OLD', 'NEW', 'failed'),
])
def test_commit_settles_only_what_is_certain(status, current, pending, row):
    plan = staged(store(d1000=('OLD', None)))
    plan['store']['devices']['1000']['pending'] = 'NEW'
    plan['batch'][0].update(new_password='NEW', verify_only=False)
    done = _rotation_commit.commit(plan, 'devices', [result(status)], NOW)
    entry = done['store']['devices']['1000']
    assert (entry['current'], entry['pending'], done['report'][0]['status']) == (current, pending, row)
    if row == 'rotated':
        assert entry['history'] == ['OLD'] and entry['changed_at'] == '2026-11-27T03:00:00Z'
    assert 'NEW' not in repr(done['report']) and 'OLD' not in repr(done['report'])


def test_a_change_in_doubt_found_not_applied_keeps_its_pin_as_sent_and_rotates_next_run():
    plan = staged(store(d1000=('OLD', 'NEW')))
    done = _rotation_commit.commit(plan, 'devices', [result('verified', holds='current')], NOW)
    entry = done['store']['devices']['1000']
    assert (entry['current'], entry['pending'], entry['sent']) == ('OLD', None, [
        {'password': 'NEW', 'at': '2026-11-27T03:00:00Z'}])
    assert done['report'][0]['status'] == 'verified' and 'next run' in done['report'][0]['reason']
    later = staged(done['store'])
    assert later['batch'][0]['candidates'] == ['NEW'] and not later['batch'][0]['verify_only']
    # the late apply of the old request lands after the next change: the sent PIN is found, not lost
    found = _rotation_commit.commit(later, 'devices', [result('changed', candidate=0)], NOW)
    assert found['store']['devices']['1000']['sent'] == []


def test_wrong_attempts_accumulate_across_runs_and_quarantine_at_the_budget():
    doc = store(d1000=('OLD', None))
    one = _rotation_commit.commit(staged(doc), 'devices', [result('error', wrong=1)], NOW)
    entry = one['store']['devices']['1000']
    assert entry['wrong_attempts'] == 1 and not entry.get('quarantined')
    again = staged(one['store'])
    assert again['batch'][0]['wrong_attempts'] == 1
    two = _rotation_commit.commit(again, 'devices', [result('error', wrong=2)], NOW)
    assert two['store']['devices']['1000']['quarantined']['reason'].startswith('2 wrong password')
    assert two['report'][0]['status'] == 'quarantined'
    third = staged(two['store'])
    assert third['batch'] == [] and third['skipped'][0]['status'] == 'quarantined'
    # a result without a count may have cost one
    lost = _rotation_commit.commit(staged(doc), 'devices', [{'status': 'error', 'msg': 'unexpected'}], NOW)
    assert lost['store']['devices']['1000']['wrong_attempts'] == 1


def test_a_success_resets_the_count():
    doc = store(d1000=('OLD', None))
    doc['devices']['1000']['wrong_attempts'] = 1
    done = _rotation_commit.commit(staged(doc), 'devices', [result('changed')], NOW)
    assert done['store']['devices']['1000']['wrong_attempts'] == 0


def test_commit_matches_results_by_position_not_by_echoed_number():
    plan = staged(store(d1000=('OLD', None)))
    masked = [dict(result('changed'), device='VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')]
    done = _rotation_commit.commit(plan, 'devices', masked, NOW)
    assert done['store']['devices']['1000']['current'] == plan['batch'][0]['new_password']
    with pytest.raises(_store.StoreError, match='did not finish'):
        _rotation_commit.commit(plan, 'devices', [], NOW)


def test_check_mode_settles_no_pin_but_records_the_ledger():
    doc = store(d1000=('OLD', None), d1001=('OLD1', None))
    plan = _rotation_stage.stage(doc, 'devices', ALL, {}, NOW, planning=True)
    done = _rotation_commit.commit(plan, 'devices', [result('would_change'), result('rejected', wrong=1)], NOW,
                                   check_mode=True)
    assert [r['status'] for r in done['report']] == ['would_rotate', 'quarantined']
    assert done['store']['devices']['1000']['current'] == 'OLD' and done['unsaved']
    assert done['store']['devices']['1001']['wrong_attempts'] == 1
    quiet = _rotation_commit.commit(_rotation_stage.stage(doc, 'devices', ALL, {}, NOW, planning=True), 'devices',
                                    [result('would_change'), result('would_change')], NOW, check_mode=True)
    assert not quiet['unsaved']  # a dry run that spent nothing leaves the store as it was


def test_unknown_schema_is_refused():
    with pytest.raises(_store.StoreError, match='schema 3'):
        _store.check_store({'schema': 3, 'devices': {}, 'accounts': {}})


def test_retry_round_rows_replace_earlier_rows():
    first = [dict(kind='devices', number='1000', status='failed', reason='x', pending=False),
             dict(kind='devices', number='1001', status='rotated', reason='y', pending=False)]
    plan = staged(store(d1000=('OLD', None)), {'only': ['1000']})
    done = _rotation_commit.commit(plan, 'devices', [result('changed')], NOW, previous_report=first)
    assert sorted((r['number'], r['status']) for r in done['report']) == [('1000', 'rotated'), ('1001', 'rotated')]


def test_commit_takes_a_loop_over_chunks_and_reports_skipped_entries_once():
    doc = store(d1000=('OLD', None), d1001=('OLD1', None), d1002=('OLD2', None))
    plan = staged(doc, {'targets': ['1000', '1001']})
    runs = [{'results': [result('changed')], 'item': 0}, {'results': [result('refused')], 'item': 1}]
    done = _rotation_commit.commit(plan, 'devices', runs, NOW)
    rows = dict((r['number'], r['status']) for r in done['report'])
    assert rows == {'1000': 'rotated', '1001': 'failed', '1002': 'skipped'} and done['refused'] == ['1001']
    retry = _rotation_commit.commit(staged(done['store'], {'only': ['1001']}), 'devices', [result('changed')], NOW,
                                    previous_report=done['report'])
    assert sorted((r['number'], r['status']) for r in retry['report']) == [
        ('1000', 'rotated'), ('1001', 'rotated'), ('1002', 'skipped')]


def test_stage_and_commit_leave_their_input_untouched():
    doc = store(d1000=('OLD', None), d1001=('OLD1', 'NEW1'))
    before = json.dumps(doc, sort_keys=True)
    plan = staged(doc)
    planned = json.dumps(plan, sort_keys=True)
    done = _rotation_commit.commit(plan, 'devices', [result('changed'), result('unchanged')], NOW)
    assert json.dumps(doc, sort_keys=True) == before and json.dumps(plan, sort_keys=True) == planned
    assert done['store']['devices']['1000']['current'] != 'OLD' and done['store']['devices']['1001']['pending'] is None


def test_summary_counts_statuses_and_the_totals_a_run_is_judged_by():
    rows = [dict(status=s) for s in ('rotated', 'rotated', 'skipped', 'failed', 'quarantined')]
    counts = _rotation_report.summarize(rows)
    assert (counts['rotated'], counts['would_rotate'], counts['total'], counts['due'], counts['attention']) == (
        2, 0, 5, 4, 2)


def test_report_table_lines_are_aligned_and_mark_kept_pins_and_json_has_header_and_rows():
    rows = [dict(kind='devices', number='1000', status='rotated', reason='', pending=False),
            dict(kind='accounts', number='50001', status='failed', reason='HTTP 500', pending=True)]
    rendered = _rotation_report.render(rows, {'pabx': 'pabx1'})
    assert json.loads(rendered['json']) == {'pabx': 'pabx1', 'entries': rows}
    assert rendered['table'].splitlines() == [
        '  device   1000         rotated     ',
        '  account  50001        failed      HTTP 500 [staged PIN kept in the store]']


def test_accounts_are_requested_only_from_a_device_verified_in_this_run():
    doc = store(d1000=('111222', None), d1001=('333444', None))
    doc['accounts']['5000'] = {'current': '445566', 'pending': None, 'history': [], 'changed_at': None}
    sel = _rotation_selection.selection(doc, '5000')
    devices = _rotation_stage.stage(doc, 'devices', sel, {}, NOW, gate_accounts=sel)
    assert devices['batch'] == [dict(device='1000', device_password='111222', new_password='111222', candidates=[],
                                     wrong_attempts=0, verify_only=True)]  # verified, not changed
    checked = _rotation_commit.commit(devices, 'devices', [result('unchanged')], NOW)
    assert checked['verified'] == ['1000'] and checked['report'][0]['status'] == 'verified'
    plan = _rotation_stage.stage(checked['store'], 'accounts', sel, {}, NOW, verified=checked['verified'])
    assert plan['batch'][0]['device'] == '1000' and plan['batch'][0]['account'] == '5000'
    unproven = _rotation_stage.stage(doc, 'accounts', sel, {}, NOW, verified=[])
    assert unproven['batch'] == [] and unproven['skipped'][0] == dict(
        number='5000', reason='requesting device 1000 was not verified in this run', status='failed')
    doc['devices']['1000']['pending'] = '582914'
    blocked = _rotation_stage.stage(doc, 'accounts', ALL, {}, NOW)
    assert blocked['batch'] == [] and 'unresolved' in blocked['skipped'][0]['reason']


def test_a_new_pin_that_never_left_is_dropped_not_kept_as_sent():
    plan = staged(store(d1000=('OLD', None)))
    done = _rotation_commit.commit(plan, 'devices', [result('rejected', wrong=1, sent=False)], NOW)
    entry = done['store']['devices']['1000']
    assert entry['pending'] is None and entry.get('sent', []) == [] and entry['quarantined']
    lost = _rotation_commit.commit(plan, 'devices', [result('unconfirmed', holds='current', sent=True)], NOW)
    assert lost['store']['devices']['1000']['pending'] == plan['batch'][0]['new_password']  # it left: kept


def test_a_device_found_on_a_sent_pin_in_a_dry_run_does_not_request_accounts():
    doc = store(d1000=('OLD', None))
    doc['devices']['1000']['sent'] = [{'password': 'LATE', 'at': '2026-11-26T03:00:00Z'}]
    plan = _rotation_stage.stage(doc, 'devices', ALL, {}, NOW, planning=True)
    assert plan['batch'][0]['candidates'] == ['LATE']
    done = _rotation_commit.commit(plan, 'devices', [result('would_change', holds='candidate', candidate=0)], NOW,
                                   check_mode=True)
    assert done['verified'] == []   # account requests would carry the stale stored PIN
    real = _rotation_commit.commit(_rotation_stage.stage(doc, 'devices', ALL, {}, NOW), 'devices',
                                   [result('changed', candidate=0)], NOW)
    assert real['verified'] == ['1000']


def test_a_requesting_device_refused_mid_run_is_quarantined_and_its_accounts_keep_their_count():
    doc = store(d1000=('111222', None))
    doc['accounts']['5000'] = {'current': '445566', 'pending': None, 'history': [], 'changed_at': None,
                               'wrong_attempts': 1}
    plan = _rotation_stage.stage(doc, 'accounts', ALL, {}, NOW, verified=['1000'])
    done = _rotation_commit.commit(plan, 'accounts', [dict(result('error', wrong=1), sent=False, device_rejected=True)], NOW,
                                   verified=['1000'])
    assert done['store']['devices']['1000']['quarantined'] and done['store']['devices']['1000']['wrong_attempts'] == 2
    assert done['store']['accounts']['5000']['wrong_attempts'] == 1 and done['verified'] == []
    assert done['store']['accounts']['5000']['pending'] is None and doc['devices']['1000'].get('quarantined') is None


def test_failures_of_a_silent_pabx_are_counted_apart():
    rows = [dict(status='failed', reason='verifica-senha for device 1000 got no answer: timed out'),
            dict(status='failed', reason='verifica-senha for device 1001 not sent: the PABX at x is not answering'),
            dict(status='failed', reason='HTTP 500')]
    assert _rotation_report.summarize(rows)['unanswered'] == 2


def test_requests_the_pabx_refused_as_requests_say_what_they_may_be():
    rows = [dict(status='failed', reason='verifica-senha for device 1000 failed: HTTP 400 Bad Request: dispositivo '
                                         'desconhecido(a): 1000'),
            dict(status='rotated', reason='')]
    counts = _rotation_report.summarize(rows)
    message = _rotation_report.verdict(counts, 0, False, 'r.txt', 'pabx1')
    assert counts['bad_request'] == 1 and 'retired with remove_passwords' in message and 'check_api' in message


def test_a_channel_the_pabx_kept_closing_is_not_a_request_to_retire():
    """A 400 for event channels closed at every resend is the PABX's trouble: counted with its silences, never as a
    request it refuses, whose advice (retire the number with remove_passwords) would drop a live extension's PINs."""
    from ansible_collections.digitro.pabx.plugins.module_utils._errors import CHANNEL_CLOSED
    rows = [dict(status='failed', reason='%s 4 times, so it did not process this verifica-senha: run again; verifica-senha for device '
                                         '1000 failed: HTTP 400 Bad Request: canal desconhecido ou fechado' % CHANNEL_CLOSED)]
    counts = _rotation_report.summarize(rows)
    message = _rotation_report.verdict(counts, 0, False, 'r.txt', 'pabx1')
    assert counts['bad_request'] == 0 and counts['unanswered'] == 1 and 'remove_passwords' not in message


def test_a_roster_from_a_pt_br_spreadsheet_is_read():
    from ansible_collections.digitro.pabx.plugins.plugin_utils._roster import parse_csv
    rows = parse_csv('\ufeffDevice;Account;State\r\n100000;500000;logged_in\r\n')
    assert rows == [{'device': '100000', 'account': '500000', 'state': 'logged_in'}]


# A careless operator against a PABX that never had its count reset at the console, and holds none of the PINs given.

LOCKOUT = 5  # the emulator's


def _pabx_answers(batch, max_wrong, pabx):
    """What the password module would do for the batch: every PIN within the budget, each one refused."""
    results = []
    for request in batch:
        spent = request['wrong_attempts']
        tried = [request['device_password']] + request['candidates']
        if spent >= max_wrong:
            results.append(dict(status='quarantined', msg='m', holds=None, wrong_attempts=spent))
            continue
        for _pin in tried[:max_wrong - spent]:
            pabx['count'] += 1
            assert pabx['count'] < LOCKOUT, 'locked'
            spent += 1
        results.append(dict(status='rejected', msg='m', holds=None, wrong_attempts=spent))
    return results


def _careless_run(doc, action, max_wrong, pabx, stamp):
    """One run: resolve_passwords with a wrong PIN (and a reset claim), or an import claim and a rotation."""
    if action == 'import':
        entry = _store.claim_reset(dict(doc['devices']['1000'], quarantined=None), stamp)[0]
        doc = dict(doc, devices={'1000': entry})
        plan = _rotation_stage.stage(doc, 'devices', ALL, {}, NOW, rng=random.Random(1))
    else:
        try:
            chosen(doc, {'1000': '271828'}, verify_only=True, max_wrong=max_wrong, reset_attempts=action)
        except _store.StoreError as exc:
            assert '271828' not in str(exc) and '1000' in str(exc)
            return doc, False
        plan = _rotation_stage.stage(doc, 'devices', ALL, {}, NOW, given={
            'passwords': {'1000': '271828'}, 'verify_only': True, 'reset_attempts': action})
    return _rotation_commit.commit(plan, 'devices', _pabx_answers(plan['batch'], max_wrong, pabx), NOW,
                                   max_wrong=max_wrong)['store'], True


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(['forced', 'forced', True, False, 'import']), min_size=1, max_size=12),
       st.integers(min_value=0, max_value=2))
def test_no_sequence_of_careless_claims_locks_an_extension(actions, spent_before):
    doc, pabx = store(d1000=('OLD', None)), {'count': spent_before}
    doc['devices']['1000']['wrong_attempts'] = spent_before
    for index, action in enumerate(actions):
        doc = _careless_run(doc, action, 2, pabx, 'T%d' % index)[0]
        entry = doc['devices']['1000']
        # the store's count stays honest: what the PABX counts, whatever was claimed
        assert _store.wrong_since_accepted(entry) == pabx['count'] <= 2 + _store.CLAIM_FORGIVES


def test_forced_repeated_with_a_wrong_pin_is_sent_once_then_refused_with_what_to_do():
    doc, pabx = store(d1000=('OLD', None)), {'count': 2}
    doc['devices']['1000'].update(wrong_attempts=2, quarantined={'reason': 'r', 'at': 'T0'})
    sent = []
    for index in range(8):
        doc, ran = _careless_run(doc, 'forced', 2, pabx, 'T%d' % index)
        sent.append(ran)
    assert sent == [True] + [False] * 7 and pabx['count'] == 3
    entry = doc['devices']['1000']
    assert entry['forced_refused'] == '2026-11-27T03:00:00Z' and entry['wrong_attempts'] == 3 and entry['quarantined']


def test_an_account_whose_device_waits_out_a_late_change_waits_too_without_failing():
    doc = store(d1000=('111222', None))
    doc['devices']['1000']['sent'] = [{'password': '582914', 'at': NOW.strftime(_store.TIME_FORMAT)}]
    doc['accounts']['5000'] = {'current': '445566', 'pending': None, 'history': [], 'changed_at': None}
    sel = _rotation_selection.selection(doc, 'all')
    devices = _rotation_stage.stage(doc, 'devices', sel, {}, NOW, gate_accounts=sel)
    assert devices['batch'] == [] and 'may still apply' in devices['skipped'][0]['reason']
    plan = _rotation_stage.stage(doc, 'accounts', sel, {}, NOW, verified=[])
    assert plan['batch'] == [] and plan['skipped'][0].get('status') is None and 'requesting device 1000 may still take' in plan['skipped'][0]['reason']
    doc['devices']['1000']['quarantined'] = {'reason': 'x', 'at': 'y'}  # a device a person must see to: failed
    assert _rotation_stage.stage(doc, 'accounts', sel, {}, NOW, verified=[])['skipped'][0]['status'] == 'failed'


def test_a_candidate_proven_leaves_the_history_it_was_put_in():
    request = dict(device='1000', device_password='111222', new_password='111222', candidates=['333444'],
                   verify_only=True)
    entry = {'current': '111222', 'pending': None, 'history': ['333444', '555666'], 'changed_at': None,
             'sent': [{'password': '333444', 'at': '2026-01-01T00:00:00Z'}]}
    settled = _rotation_commit.settle_entry(entry, request, result('verified', holds='candidate', candidate=0),
                                            '2026-11-27T00:00:00Z', NOW, 2)[0]
    assert settled['current'] == '333444' and settled['history'] == ['111222', '555666']


@pytest.mark.parametrize('value, expected', [('y', True), ('True ', True), (' yes', True), ('ON', True), (1, True),
                                             (True, True), ('n', False), ('false', False), (' 0 ', False), (False, False)])
def test_a_flag_is_read_as_an_argument_spec_reads_it(value, expected):
    from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import flag
    assert flag(value, 'x_dry_run') is expected


def test_a_flag_that_is_neither_names_its_setting():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import flag
    with pytest.raises(AnsibleFilterError, match="x_dry_run must be true or false"):
        flag('maybe', 'x_dry_run')


def test_a_budget_spent_before_every_pin_was_tried_says_so_not_that_none_was_accepted():
    """The stored PIN refused twice (a change that applied late, then a stale PIN tried first): the pending PIN the
    PABX holds was never tried. The reason must not send the person to the console to set a PIN the store has."""
    plan = staged(store(d1000=('OLD', None)))
    done = _rotation_commit.commit(plan, 'devices', [result('rejected', wrong=2, sent=False, untried=1)], NOW)
    reason = done['store']['devices']['1000']['quarantined']['reason']
    assert 'before 1 of the PINs the store has for it could be tried' in reason and 'accepted none' not in reason
    assert 'set a PIN at its console' not in reason
    none = _rotation_commit.commit(plan, 'devices', [result('rejected', wrong=2, sent=False)], NOW)
    assert 'accepted none' in none['store']['devices']['1000']['quarantined']['reason']
