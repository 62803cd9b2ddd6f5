"""DAC rosters: every mistake named before anything is sent, numbers the store lacks refused with the way to
give each PABX its own roster, a roster PIN the store does not know refused (only the store's PINs are sent), and
a report of who was logged in or out of which device, without empty lines."""
import pytest

from ansible_collections.digitro.pabx.plugins.plugin_utils import _roster
from ansible_collections.digitro.pabx.plugins.plugin_utils._roster import RosterError

PIN = '583920'


def store(devices=(), accounts=(), **extra):
    doc = {'schema': 2, 'devices': dict((n, {'current': PIN}) for n in devices),
           'accounts': dict((n, {'current': '672049'}) for n in accounts)}
    doc.update(extra)
    return doc


def refused(*args, **kwargs):
    with pytest.raises(RosterError) as raised:
        _roster.batch(*args, **kwargs)
    message = str(raised.value)
    assert PIN not in message and '672049' not in message and '\n' not in message
    return message


def test_a_roster_the_store_knows_becomes_the_batch():
    batch = _roster.batch([{'device': 100000, 'account': '500000 '}], store(['100000'], ['500000']))
    assert batch == [dict(device='100000', account='500000', state='logged_in', device_password=PIN,
                          account_password='672049')]


def test_numbers_the_store_does_not_know_are_named_with_the_way_to_give_each_pabx_its_own_roster():
    roster = [{'device': '100000', 'account': '500000'}, {'device': '100001', 'account': '500001'},
              {'device': '100002', 'account': '500002', 'device_password': '739104'}]
    message = refused(roster, store(['100000'], ['500000']), pabx='pabx2')
    # a PIN in the row does not stand in for the store: it is never sent
    assert 'the credential store of pabx2 does not know: devices 100001, 100002; accounts 500001, 500002' in message
    assert 'Nothing was sent to this PABX' in message and 'host_vars/pabx2.yml' in message
    assert '{{ inventory_hostname }}' in message and '--limit' in message and 'import_passwords' in message
    assert '739104' not in message


def test_many_unknown_numbers_are_counted_not_all_listed():
    roster = [{'device': str(100000 + i), 'account': str(500000 + i)} for i in range(25)]
    message = refused(roster, store())
    assert 'devices 100000, ' in message and '100009 and 15 more' in message and '100010' not in message


def test_a_retired_number_is_said_to_be_retired():
    message = refused([{'device': '100000', 'account': '500000'}], store(['100000'], [],
                      archive={'accounts': {'500000': {'current': PIN, 'retired_at': 'x'}}}))
    assert 'accounts 500000 (retired from the store: account 500000)' in message


def test_a_run_without_the_store_is_refused_whatever_pins_the_rows_give():
    roster = [{'device': '1', 'account': '2', 'device_password': '739104', 'account_password': '0042'}]
    message = refused(roster, None, from_store=False)
    assert 'dac_sessions_passwords_from_store: false is refused' in message and 'import_passwords' in message
    assert 'Nothing was sent' in message and '739104' not in message and '0042' not in message
    with pytest.raises(RosterError) as raised:   # before the store is locked, too
        _roster.check(roster, 'logged_in', from_store=False)
    assert str(raised.value) == message


def known(**entry):
    """A store of device 100000 and account 500000 whose device entry has the fields given."""
    doc = store(['100000'], ['500000'])
    doc['devices']['100000'].update(entry)
    return doc


@pytest.mark.parametrize('doc, given', [
    (store(['100000'], ['500000']), PIN),   # the current PIN
    (known(pending='194857'), '194857'),     # a change in doubt: the rotation tries the pending PIN
    (known(sent=[{'password': '208461', 'at': '2026-11-27T03:00:00Z'}]), '208461'),  # a change never confirmed
])
def test_a_roster_pin_the_store_knows_is_accepted_and_the_stores_current_pin_is_sent(doc, given):
    roster = [{'device': '100000', 'account': '500000', 'device_password': given, 'account_password': '672049'}]
    assert _roster.batch(roster, doc) == [dict(device='100000', account='500000', state='logged_in',
                                               device_password=PIN, account_password='672049')]


def test_a_roster_pin_the_store_does_not_know_is_refused_naming_the_numbers_and_what_to_do():
    # a roster made on day 0 with that day's PINs, the rotation since: both stale, and a history PIN is no candidate
    doc = known(history=['739104'])
    roster = 'device,account,device_password,account_password\n100000,500000,739104,\n100001,500000,,0042\n'
    doc['devices']['100001'] = {'current': '901734'}
    message = refused(roster, doc, pabx='pabx1')
    assert ('the roster gives PINs (device_password, account_password) that differ from every PIN the credential '
            'store of pabx1 holds for devices 100000; accounts 500000') in message
    assert 'Nothing was sent to this PABX' in message and 'remove the device_password and account_password' in message
    assert 'digitro.pabx.resolve_passwords --limit pabx1' in message
    assert '739104' not in message and '0042' not in message and '901734' not in message


def test_numbers_the_store_lacks_are_named_before_pins_it_does_not_know():
    message = refused([{'device': '100000', 'account': '500001', 'device_password': '739104'}],
                      store(['100000'], ['500000']))
    assert 'does not know: accounts 500001' in message and 'device_password' not in message


@pytest.mark.parametrize('roster, expected', [
    ([], 'the roster has no rows'),
    ('device,account\n', 'the roster CSV has no rows'),
    ('agent,extension\n500000,100000\n', 'needs a header line with the columns device,account'),
    ('device,account\n100000,500000,739104\n', 'roster CSV line 2 has more fields than the header line'),
    ([{'device': '100000', 'acount': '500000'}], 'roster row 1: unknown column(s) acount (the columns are device'),
    ([{'device': '10 0000', 'account': '500000'}], "roster row 1: device must be 1 to 16 digits, got '10 0000'"),
    ([{'device': '100000', 'account': ''}], 'roster row 1: account must not be empty'),
    ([{'device': '100000', 'account': '500000', 'state': PIN}], 'roster row 1: state must be logged_in or logged_out'),
    ([{'device': '100000', 'account': '500000', 'account_password': 1234}], 'account_password must be quoted text'),
    ([{'device': '100000', 'account': '500000', 'device_password': '12 34'}], 'device_password must be 1 to 32'),
    (['100000,500000'], 'roster row 1 is not a mapping with device and account'),
    ('device,account\n100000,500000\n100001,500001\n100000,500002\n',
     'roster CSV line 2 and roster CSV line 4 both name device 100000 (one row per device)'),
    ({'device': '100000'}, 'the roster must be a list of rows'),
])
def test_a_roster_mistake_is_named_before_the_store_is_read(roster, expected):
    with pytest.raises(RosterError) as raised:
        _roster.check(roster)
    assert expected in str(raised.value)
    assert PIN not in str(raised.value) and '739104' not in str(raised.value)


def test_every_mistake_is_named_at_once_up_to_ten():
    roster = [{'device': 'x%d' % i, 'account': '1'} for i in range(12)]
    with pytest.raises(RosterError) as raised:
        _roster.check(roster)
    assert 'roster row 1:' in str(raised.value) and 'roster row 10:' in str(raised.value)
    assert 'roster row 11:' not in str(raised.value) and '... and 2 more' in str(raised.value)


def test_the_check_returns_numbers_never_a_pin():
    asked = _roster.check('\ufeffDevice;Account;State;Device_password\r\n100001;500001;logged_out;739104\r\n'
                          '100000;500000;;739105\r\n', 'logged_in')
    assert asked == {'rows': 2, 'devices': ['100000', '100001'], 'accounts': ['500000', '500001']}


def test_the_gate_takes_the_numbers_whose_pin_comes_from_the_store():
    gate = _roster.store_numbers('device,account\n100000,500000\n100001,500001\n', store(['100000'], ['500001']))
    assert gate == {'devices': ['100000'], 'accounts': {'500001': '100001'}}


def test_a_number_whose_row_gives_a_pin_is_verified_too():
    roster = [{'device': '100000', 'account': '500000', 'device_password': PIN, 'account_password': '672049'}]
    gate = _roster.store_numbers(roster, store(['100000'], ['500000']))
    assert gate == {'devices': ['100000'], 'accounts': {'500000': '100000'}}


def test_the_admitted_entries_carry_the_pins_that_verified_in_this_run():
    doc = store(['100000', '100001'], ['500000', '500001'])
    batch = _roster.batch([{'device': '100000', 'account': '500000'}, {'device': '100001', 'account': '500001'}], doc)
    gate = _roster.store_numbers(batch, doc)
    doc['devices']['100000'] = {'current': '208461'}  # a candidate the PABX accepted became current
    admitted = _roster.admit(batch, gate, ['100000'], ['500000', '500001'], doc)
    assert admitted['batch'] == [dict(batch[0], device_password='208461')]
    assert [b['device'] for b in admitted['blocked']] == ['100001'] and '208461' not in str(admitted['blocked'])


def result(device, account, status, before, after, **extra):
    changed = status in ('changed', 'would_change')
    return dict(device=device, account=account, status=status, before=before, after=after, changed=changed,
                failed=status in ('occupied', 'error', 'unconfirmed'), **extra)


IN = {'state': 'logged_in', 'account': '500000'}
OUT = {'state': 'logged_out', 'account': ''}


def test_a_logout_lists_who_was_logged_out_of_which_device():
    lines = _roster.report([result('100000', '500000', 'changed', IN, OUT),
                            result('100001', '500001', 'unchanged', OUT, OUT)], [], False, 'pabx1')
    assert lines == ['pabx1: 1 moved, 1 already there, 0 failed', 'logged out: agent 500000 from device 100000']


def test_a_dry_run_says_would_log_in_and_would_log_out():
    taken = {'state': 'logged_in', 'account': '500009'}
    lines = _roster.report([result('100000', '500000', 'would_change', OUT, IN),
                            result('100001', '500001', 'would_change', {'state': 'logged_in', 'account': '500001'}, OUT),
                            result('100002', '500002', 'would_change', taken, {'state': 'logged_in', 'account': '500002'})],
                           None, True, 'pabx1')
    assert lines == ['pabx1: dry run, nothing was changed: 3 would move, 0 already there, 0 failed',
                     'would log in: agent 500000 on device 100000',
                     'would log out: agent 500001 from device 100001',
                     'would log out: agent 500009 from device 100002, to make room for agent 500002',
                     'would log in: agent 500002 on device 100002']


def test_failures_are_listed_and_no_line_is_empty():
    occupied = result('100000', '500000', 'occupied', IN, IN, msg='device 100000 has agent 500009 logged in;\n\n'
                                                                  'agent 500000 was not logged in')
    blocked = [dict(device='100001', account='500001', status='blocked', failed=True, changed=False, msg='')]
    lines = _roster.report([occupied], blocked, False, None)
    assert lines == ['0 moved, 0 already there, 2 failed',
                     'FAILED: device 100000 has agent 500009 logged in; agent 500000 was not logged in',
                     'FAILED: device 100001, agent 500001']
    assert _roster.report([], [], False, 'pabx1') == ['pabx1: 0 moved, 0 already there, 0 failed']
