"""The operator tools' rules on a store: what show prints, what set and resolve accept, how remove retires and how
a restore keeps every PIN the PABX may hold. Messages never carry a PIN."""
import datetime
import random

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.plugin_utils import _rotation_commit, _rotation_stage, _store
from ansible_collections.digitro.pabx.plugins.plugin_utils import _store_operations as ops

NOW = datetime.datetime(2026, 11, 27, 3, 0, 0)


def entry(current, **fields):
    return dict(dict(current=current, pending=None, history=[], changed_at=None, wrong_attempts=0, quarantined=None,
                     sent=[]), **fields)


def make_store():
    doc = _store.empty_store()
    doc['devices'] = {'1000': entry('482913'), '1001': entry('730164', pending='905182'),
                      '1002': entry('613870', quarantined={'reason': 'refused', 'at': 'x'}, wrong_attempts=2)}
    doc['accounts'] = {'2000': entry('5821', device='1000')}
    return doc


def test_show_prints_pins_and_states():
    lines = ops.show(make_store(), '1000,1001 1002')
    assert lines[0].startswith('device 1000: PIN 482913; ok;')
    assert 'pending: a change to 905182 is in doubt' in lines[1]
    assert 'quarantined since x: refused' in lines[2]


@pytest.mark.parametrize('numbers, words', [
    ('', 'digitro_numbers is empty'), ('1000 9999', 'does not have: its 2nd item'), ('10 00x', 'ASCII digits'),
    ({'1000': 1}, 'not a list'), ('１０００', 'ASCII digits')])
def test_show_refuses_what_it_does_not_know(numbers, words):
    with pytest.raises(_store.StoreError, match=words):
        ops.show(make_store(), numbers)


def test_set_refuses_entries_that_are_not_settled_and_pins_against_the_policy():
    with pytest.raises(_store.StoreError) as caught:
        ops.chosen(make_store(), {'1001': '583016', '1002': '583016', '1000': '111111', '2000': 5821, '77': '583016'},
                   now=NOW)
    message = str(caught.value)
    for words in ('1001 has a change in doubt', '1002 is quarantined', '1000 PIN breaks the PIN policy',
                  'PIN of 2000 is not a quoted string', 'its 5th number is not in the credential store'):
        assert words in message
    assert '583016' not in message and '111111' not in message
    assert ops.chosen(make_store(), {'1000': '111111'}, policy_exception=True, now=NOW)['numbers'] == ['1000']


def test_resolve_needs_the_budget_or_a_console_reset():
    with pytest.raises(_store.StoreError, match='digitro_reset_attempts=true'):
        ops.chosen(make_store(), {'1002': '613870'}, verify_only=True)
    assert ops.chosen(make_store(), '{"1002": "613870"}', verify_only=True, reset_attempts=True)['devices'] == 1


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from(['1000', '1001', '1002', '2000', '77']), st.text(max_size=6)),
                       st.one_of(st.text(alphabet='0123456789', min_size=4, max_size=8),
                                 st.text(alphabet='0123456789 x\u0663', min_size=4, max_size=8),
                                 st.integers(min_value=1000)), min_size=1, max_size=4),
       st.booleans())
def test_no_pin_given_ever_reaches_a_message(passwords, verify_only):
    try:
        ops.chosen(make_store(), passwords, verify_only=verify_only, now=NOW)
    except _store.StoreError as exc:
        message = str(exc)
        for pin in passwords.values():
            named = any(str(pin) in str(key) for key in passwords) or str(pin) in '1000 1001 1002 2000'
            assert named or str(pin) not in message, (pin, message)


def test_stage_resolves_with_the_pin_given_only_and_settles_it_out_of_quarantine():
    doc = make_store()
    plan = _rotation_stage.stage(doc, 'devices', {'targets': ['1002']}, {}, NOW, rng=random.Random(1),
                                 given={'passwords': {'1002': '449102'}, 'verify_only': True, 'reset_attempts': True})
    request = [r for r in plan['batch'] if r['device'] == '1002'][0]
    assert request == dict(device='1002', device_password='449102', new_password='449102', candidates=[],
                           wrong_attempts=1, verify_only=True)  # the claim forgave one: room for this PIN
    accepted = dict(status='unchanged', holds='new', wrong_attempts=0)
    verified = dict(status='verified', holds='current', wrong_attempts=0)
    done = _rotation_commit.commit(plan, 'devices', [accepted if r['device'] == '1002' else verified for r in plan['batch']], NOW)
    settled = done['store']['devices']['1002']
    assert settled['current'] == '449102' and settled['quarantined'] is None and '613870' in settled['history']


def test_a_refused_resolve_leaves_a_good_entry_alone():
    doc = make_store()
    plan = _rotation_stage.stage(doc, 'devices', {'targets': ['1000']}, {}, NOW, given={
                                 'passwords': {'1000': '449102'}, 'verify_only': True})
    results = [dict(status='rejected', wrong_attempts=1) if r['device'] == '1000' else
               dict(status='verified', holds='current', wrong_attempts=0) for r in plan['batch']]
    done = _rotation_commit.commit(plan, 'devices', results, NOW)
    settled = done['store']['devices']['1000']
    assert settled['current'] == '482913' and not settled['quarantined'] and settled['wrong_attempts'] == 1
    assert [r['status'] for r in done['report'] if r['number'] == '1000'] == ['failed']


def test_set_stages_the_pin_chosen():
    plan = _rotation_stage.stage(make_store(), 'devices', {'targets': ['1000']}, {}, NOW, given={'passwords': {'1000': '583016'}})
    assert plan['store']['devices']['1000']['pending'] == '583016'
    assert [r['new_password'] for r in plan['batch'] if r['device'] == '1000'] == ['583016']


def test_remove_archives_and_refuses_a_device_accounts_need():
    with pytest.raises(_store.StoreError, match='requesting device of account'):
        ops.remove(make_store(), '1000', NOW)
    done = ops.remove(make_store(), '1000 2000', NOW)
    assert done['removed'] == ['1000', '2000'] and '1000' not in done['store']['devices']
    assert done['store']['archive']['devices']['1000']['removed_at'] == '2026-11-27T03:00:00Z'
    assert ops.show(done['store'], '1000') == ['device 1000: retired 2026-11-27T03:00:00Z; its last PIN 482913']


def test_restore_keeps_every_pin_of_the_present_store():
    old = make_store()
    present = make_store()
    present['devices']['1000'] = entry('771203', history=['482913'], wrong_attempts=1, pending='650918')
    present['devices']['1003'] = entry('284017')
    del present['devices']['1001']
    done = ops.restore(present, old, NOW)
    restored = done['store']['devices']['1000']
    assert restored['current'] == '482913' and restored['wrong_attempts'] == 1
    assert [s['password'] for s in restored['sent']] == ['650918', '771203']
    assert done['kept'] == ['1003'] and done['restored'] == ['1000'] and '1001' in done['store']['devices']
    assert _store.candidates(restored) == ['650918', '771203']


def test_a_restore_keeps_every_pin_in_doubt_and_its_wait():
    version = _rotation_stage_free_store({'1000': entry('111111')})
    sent = [{'password': pin, 'at': '2026-11-27T02:30:00Z'} for pin in ('444444', '555555', '666666')]
    present = _rotation_stage_free_store({'1000': entry('222222', pending='333333', sent=sent)})
    restored = ops.restore(present, version, NOW)['store']['devices']['1000']
    assert [s['password'] for s in restored['sent']] == ['333333', '222222', '444444', '555555', '666666']
    assert [s.get('imported', False) for s in restored['sent']] == [False, True, False, False, False]
    assert sent[0] in restored['sent']  # its own time: the wait for a late change goes on


def _rotation_stage_free_store(devices):
    doc = _store.empty_store()
    doc['devices'] = devices
    return doc


def test_a_trailing_newline_is_no_digit():
    with pytest.raises(_store.StoreError, match='not ASCII digits'):
        ops.chosen(make_store(), {'1000': '583016\n'}, policy_exception=True)
    assert not ops.is_digits('1000\n')


def test_show_lists_the_pins_in_doubt_of_a_retired_entry():
    doc = make_store()
    doc['devices']['1003'] = entry('111111', pending='222222', sent=[{'password': '333333', 'at': 'x'}])
    retired = ops.remove(doc, '1003', NOW)['store']
    line = ops.show(retired, '1003')[0]
    assert line.startswith('device 1003: retired') and '222222' in line and '333333' in line


def test_a_reset_claim_is_proven_by_the_pabx_and_trusted_once():
    claimed, trusted = _store.claim_reset(entry('1', wrong_attempts=2), 'T1')
    assert trusted and claimed['wrong_attempts'] == 1 and claimed['reset_claim'] == {'at': 'T1', 'from': 2, 'to': 1}
    refused = _store.settle_claim(dict(claimed, wrong_attempts=2), False, 'T2')
    assert refused['wrong_attempts'] == 3 and refused['reset_refused'] == 'T2' and 'reset_claim' not in refused
    assert _store.claim_reset(refused, 'T3') == (refused, False)
    assert _store.claim_reset(refused, 'T3', forced=True)[1]
    proven = _store.settle_claim(dict(claimed, wrong_attempts=0), True, 'T2')
    assert 'reset_claim' not in proven and 'reset_refused' not in proven and proven['wrong_attempts'] == 0


def test_a_forced_claim_is_trusted_once_and_forgives_no_more_than_one():
    forced, trusted = _store.claim_reset(entry('1', wrong_attempts=3, reset_refused='T2'), 'T3', forced=True)
    # the count since the last accepted PIN was 3: the claim forgives 1 (with budget 3, the PIN given is the 4th)
    assert trusted and forced['wrong_attempts'] == 2
    assert forced['reset_claim'] == {'at': 'T3', 'from': 3, 'to': 2, 'forced': True}
    refused = _store.settle_claim(dict(forced, wrong_attempts=3), False, 'T4')
    assert refused['wrong_attempts'] == 4 and refused['forced_refused'] == 'T4' and refused['reset_refused'] == 'T4'
    for forced_again in (False, True):
        assert _store.claim_reset(refused, 'T5', forced=forced_again) == (refused, False)
    unanswered = _store.settle_claim(dict(forced), False, 'T4')  # nothing reached the PABX: the claim waits
    assert unanswered['reset_claim'] == forced['reset_claim'] and 'forced_refused' not in unanswered
    again = _store.claim_reset(unanswered, 'T5', forced=True)[0]  # a claim on a claim keeps the whole count
    assert again['reset_claim']['from'] == 3 and again['wrong_attempts'] == 2
    accepted = _store.settle_claim(dict(refused), True, 'T6')
    assert not any(field in accepted for field in ('reset_claim', 'reset_refused', 'forced_refused'))


def _spent_store(**fields):
    doc = make_store()
    doc['devices']['1002'].update(fields)
    return doc


@pytest.mark.parametrize('fields, reset, words', [
    ({'wrong_attempts': 4, 'reset_refused': 'T2', 'forced_refused': 'T2'}, 'forced',
     ['1002 has used its wrong-attempt budget, and a PIN given with digitro_reset_attempts=forced was refused on T2',
      'may count 4 wrong attempts', 'logging in on a phone']),
    ({'wrong_attempts': 4, 'reset_refused': 'T2', 'forced_refused': 'T2'}, True, ['forced was refused on T2']),
    ({'wrong_attempts': 3, 'reset_refused': 'T2'}, True, ['refused on T2', 'digitro_reset_attempts=forced']),
    ({'wrong_attempts': 4}, 'forced', ['1002 has 4 wrong attempts since the PABX last accepted a PIN of it',
                                       'unlock it if it is locked']),
    ({'wrong_attempts': 2}, False, ['digitro_reset_attempts=true'])])
def test_resolve_refuses_a_claim_that_could_lock_and_says_what_to_do(fields, reset, words):
    with pytest.raises(_store.StoreError) as caught:
        ops.chosen(_spent_store(**fields), {'1002': '449102'}, verify_only=True, reset_attempts=reset)
    for word in words:
        assert word in str(caught.value)
    assert '449102' not in str(caught.value)


def test_resolve_takes_a_forced_claim_while_its_attempt_stays_short_of_a_lockout():
    doc = _spent_store(wrong_attempts=2, reset_refused='T2')
    assert ops.chosen(doc, {'1002': '449102'}, verify_only=True, reset_attempts='forced')['numbers'] == ['1002']
    # a bigger budget leaves room for one more, whatever the claim
    assert ops.chosen(_spent_store(wrong_attempts=3), {'1002': '449102'}, verify_only=True, max_wrong=3,
                      reset_attempts='forced')['numbers'] == ['1002']
    with pytest.raises(_store.StoreError):  # forgiving one leaves the budget spent: nothing may be sent
        ops.chosen(_spent_store(wrong_attempts=3, reset_refused='T2'), {'1002': '449102'}, verify_only=True,
                   reset_attempts='forced')


@pytest.mark.parametrize('operation', [ops.show, lambda doc, numbers: ops.remove(doc, numbers, NOW)])
def test_show_and_remove_name_an_unknown_number_by_position_in_case_it_is_a_pin(operation):
    with pytest.raises(_store.StoreError) as caught:
        operation(make_store(), '2000, 482913 1000 771203')
    message = str(caught.value)
    assert 'names 2 number(s)' in message and 'its 2nd, 4th item(s)' in message
    assert '482913' not in message and '771203' not in message
    retired = ops.remove(make_store(), '1001', NOW)['store']
    with pytest.raises(_store.StoreError, match=r'its 1st item\(s\) .*; 1001 retired: import them'):
        ops.remove(retired, '99 1001', NOW)


def _settled(passwords, answers, verify_only, check_mode):
    """A set or resolve round of make_store's devices, staged and settled with the module's ``answers`` per number
    (the store's own PIN verified for the others)."""
    plan = _rotation_stage.stage(make_store(), 'devices', {'targets': sorted(passwords)}, {}, NOW, planning=check_mode,
                                 given={'passwords': passwords, 'verify_only': verify_only, 'reset_attempts': True})
    results = [answers.get(r['device'], dict(status='verified', holds='current', wrong_attempts=0)) for r in plan['batch']]
    return _rotation_commit.commit(plan, 'devices', results, NOW, check_mode=check_mode)


ACCEPTED = dict(status='unchanged', holds='new', wrong_attempts=0)
REFUSED = dict(status='rejected', wrong_attempts=1)
SILENT = dict(status='failed', msg='the PABX is not answering', wrong_attempts=0)
WOULD_CHANGE = dict(status='would_change', holds='current', wrong_attempts=0)


def _verdict(done, passwords, verify_only, check_mode):
    return ops.unmet_verdict(done['store'], passwords, done['report'], verify_only, check_mode, 'r.txt', 'pabx1')


@pytest.mark.parametrize('check_mode', [True, False])
def test_a_refused_pin_given_fails_resolve_in_check_mode_as_in_a_real_run(check_mode):
    passwords = {'1000': '449102', '1002': '771203'}
    done = _settled(passwords, {'1000': REFUSED, '1002': REFUSED}, True, check_mode)
    assert ops.unmet(done['store'], passwords, done['report'], check_mode) == ['1000', '1002']
    message = _verdict(done, passwords, True, check_mode)
    assert message.startswith('pabx1%s: 2 of the 2 PIN(s) given were not verified: ' % (' (check mode)' if check_mode else ''))
    assert '1000 (the PABX refused the PIN given; the store keeps the PIN it had)' in message
    assert '1002 (the PABX refused the PIN given; the entry stays quarantined)' in message
    assert 'run resolve_passwords again' in message and 'r.txt' in message
    assert '449102' not in message and '771203' not in message


@pytest.mark.parametrize('check_mode', [True, False])
def test_a_pin_given_the_pabx_accepts_passes_resolve_and_only_a_real_run_records_it(check_mode):
    passwords = {'1002': '449102'}
    done = _settled(passwords, {'1002': ACCEPTED}, True, check_mode)
    assert _verdict(done, passwords, True, check_mode) == ''
    # what a check run cannot be judged by: its store keeps the PIN it had
    assert (done['store']['devices']['1002']['current'] == '449102') is not check_mode
    assert ops.unmet(done['store'], passwords) == ([] if not check_mode else ['1002'])


def test_set_in_check_mode_passes_where_the_change_would_be_asked_and_fails_where_a_real_run_would():
    passwords = {'1000': '583016'}
    done = _settled(passwords, {'1000': WOULD_CHANGE}, False, True)
    assert done['store']['devices']['1000']['current'] == '482913'  # nothing staged
    assert _verdict(done, passwords, False, True) == ''
    refused = _settled(passwords, {'1000': REFUSED}, False, True)  # the store's PIN no longer works
    message = _verdict(refused, passwords, False, True)
    assert message.startswith('pabx1 (check mode): 1 of the 1 PIN(s) given would not be set: 1000 (the PABX accepted none')
    assert 'resolve_passwords' in message and '583016' not in message
    real = _settled(passwords, {'1000': REFUSED}, False, False)
    assert 'given were not set: 1000 (' in _verdict(real, passwords, False, False)


def test_a_pin_given_the_pabx_did_not_answer_for_says_to_check_the_pabx():
    passwords = {'1000': '449102'}
    for check_mode in (True, False):
        message = _verdict(_settled(passwords, {'1000': SILENT}, True, check_mode), passwords, True, check_mode)
        assert 'could not be verified (the PABX is not answering)' in message and 'up and reachable' in message


def test_a_check_run_without_a_row_for_a_number_given_is_not_taken_as_verified():
    assert ops.unmet(make_store(), {'1000': '449102'}, [], check_mode=True) == ['1000']
    message = ops.unmet_verdict(make_store(), {'1000': '449102'}, [], True, True, 'r.txt', 'p')
    assert "1000 (not in this run's report)" in message
    many = dict(('%d' % n, '449102') for n in range(1000, 1030))
    assert '(and 10 more)' in ops.unmet_verdict(make_store(), many, [], False, True, 'r.txt', 'p')


def test_the_filters_take_the_settled_documents_as_the_role_hands_them_on():
    from ansible_collections.digitro.pabx.plugins.filter import rotation
    from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import packed
    passwords = {'1000': '449102'}
    done = _settled(passwords, {'1000': REFUSED}, True, True)
    store, report = packed(done['store']), packed(done['report'])
    assert rotation.rotation_unmet(store, passwords, report, 'true') == ['1000']
    assert rotation.rotation_unmet(store, {'1000': '482913'}) == []  # a real run's check, as before
    assert 'were not verified: 1000' in rotation.rotation_unmet_verdict(store, passwords, report, True, True, 'r', 'p')
