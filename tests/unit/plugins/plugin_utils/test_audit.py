"""The audit's logic: accounts tried on their candidates as devices are, settled the same way; check mode writes no PIN."""
import datetime

from ansible_collections.digitro.pabx.plugins.plugin_utils import _audit, _store

NOW = datetime.datetime(2026, 11, 27, 3, 0, 0)
STAMP = '2026-11-20T03:00:00Z'


def restored():
    """A store restored to an earlier version: each entry's restored PIN current, the present one a candidate."""
    doc = _store.empty_store()
    doc['devices']['1000'] = dict(current='285174', pending=None, history=[], changed_at=None, wrong_attempts=0,
                                  sent=[{'password': '739462', 'at': STAMP, 'imported': True}])
    doc['accounts']['5000'] = dict(current='815307', pending=None, history=[], changed_at=None, wrong_attempts=0,
                                   device='1000', sent=[{'password': '406938', 'at': STAMP, 'imported': True}])
    return doc


DEVICE_HELD = [dict(device='1000', status='verified', holds='candidate', candidate=0, wrong_attempts=0)]
ACCOUNT_HELD = [dict(device='1000', account='5000', status='valid', valid=True, holds='candidate', candidate=0,
                     wrong_attempts=0)]


def audit(doc, check_mode, account_results=None):
    """The role's steps: devices, then accounts planned from the devices' store, both settled."""
    device_checks = _audit.device_checks(doc, 2)
    devices = _audit.settle(doc, 'devices', device_checks, DEVICE_HELD, NOW, 2, check_mode)
    account_checks = _audit.account_checks(devices['store'], devices['verified'], None, 2)
    accounts = _audit.settle(devices['store'], 'accounts', account_checks, account_results or ACCOUNT_HELD, NOW, 2,
                             check_mode, devices.get('ledger'))
    return devices, account_checks, accounts


def test_account_checks_list_the_candidates_as_device_checks_do():
    doc = restored()
    assert _audit.device_checks(doc, 2)[0]['candidates'] == ['739462']
    checks = _audit.account_checks(doc, ['1000'], None, 2)
    assert checks == [dict(device='1000', device_password='285174', account='5000', account_password='815307',
                           candidates=['406938'], wrong_attempts=0)]


def test_an_account_candidate_the_pabx_accepts_is_settled_as_the_device_path_settles_it():
    devices, checks, accounts = audit(restored(), check_mode=False)
    assert checks[0]['device_password'] == '739462'  # the PIN the device proved travels with its accounts
    entry = accounts['store']['accounts']['5000']
    assert entry['current'] == '406938' and entry['history'] == ['815307'] and entry['changed_at'] == '2026-11-27T03:00:00Z'
    assert entry['sent'] == [] and entry['wrong_attempts'] == 0 and not entry.get('quarantined')
    assert accounts['verified'] == ['5000'] and accounts['unsaved'] and 'ledger' not in accounts
    device = accounts['store']['devices']['1000']
    assert device['current'] == '739462' and device['sent'] == []


def test_check_mode_keeps_the_ledger_and_writes_no_pin():
    doc = restored()
    refused_once = [dict(ACCOUNT_HELD[0], wrong_attempts=0)]
    devices, checks, accounts = audit(doc, check_mode=True, account_results=refused_once)
    # the checks and the findings go by what a real run records; the store saved has every PIN as it was
    assert checks[0]['device_password'] == '739462' and accounts['store']['accounts']['5000']['current'] == '406938'
    ledger = accounts['ledger']
    for kind in ('devices', 'accounts'):
        for number, entry in ledger[kind].items():
            assert (entry['current'], entry.get('pending'), entry['sent']) == \
                (doc[kind][number]['current'], doc[kind][number].get('pending'), doc[kind][number]['sent'])
    assert not accounts['unsaved']  # nothing to save: no count changed
    # a count the PABX saw is kept in check mode too
    spent = [dict(device='1000', account='5000', status='invalid', valid=False, wrong_attempts=1)]
    devices, checks, accounts = audit(doc, check_mode=True, account_results=spent)
    assert accounts['unsaved'] and accounts['ledger']['accounts']['5000']['wrong_attempts'] == 1
    assert accounts['ledger']['accounts']['5000']['current'] == '815307'


def test_findings_say_what_a_real_run_records():
    doc = restored()
    devices, checks, accounts = audit(doc, check_mode=True)
    device_checks = _audit.device_checks(doc, 2)
    found = _audit.findings(accounts['store'], device_checks, DEVICE_HELD, checks, ACCOUNT_HELD, {}, NOW, 0,
                            check_mode=True)
    rows = dict((row['number'], row['findings']) for row in found['rows'])
    assert [f['finding'] for f in rows['5000']] == ['candidate_held']
    assert 'a real run records it' in rows['5000'][0]['detail'] and '406938' not in repr(found)
    assert found['counts']['candidate_held'] == 2 and found['counts']['problems'] == 0  # information only
    real = _audit.findings(accounts['store'], device_checks, DEVICE_HELD, checks, ACCOUNT_HELD, {}, NOW, 0)
    assert 'recorded as the current one' in dict((r['number'], r['findings']) for r in real['rows'])['5000'][0]['detail']


def test_an_account_whose_every_pin_was_refused_is_quarantined_and_a_spent_budget_says_so():
    doc = restored()
    checks = _audit.account_checks(doc, ['1000'], None, 2)
    one = _audit.settle(doc, 'accounts', checks, [dict(account='5000', status='invalid', wrong_attempts=1)], NOW, 2)
    assert one['store']['accounts']['5000']['quarantined']['reason'] == _audit.INVALID
    both = _audit.settle(doc, 'accounts', checks, [dict(account='5000', status='invalid', wrong_attempts=2)], NOW, 2)
    assert 'the budget' in both['store']['accounts']['5000']['quarantined']['reason']
    # no count in the answer (a failure mid-entry): one assumed
    lost = _audit.settle(doc, 'accounts', checks, [dict(account='5000', status='error')], NOW, 2)
    assert lost['store']['accounts']['5000']['wrong_attempts'] == 1 and not lost['store']['accounts']['5000'].get('quarantined')


def test_a_requesting_device_rejected_mid_run_is_charged_and_quarantined():
    doc = restored()
    checks = _audit.account_checks(doc, ['1000'], None, 2)
    result = [dict(account='5000', status='error', wrong_attempts=0, device_rejected=True, device_wrong_attempts=2)]
    done = _audit.settle(doc, 'accounts', checks, result, NOW, 2, check_mode=True)
    for store in (done['store'], done['ledger']):
        assert store['devices']['1000']['wrong_attempts'] == 2 and store['devices']['1000']['quarantined']
        assert store['accounts']['5000']['wrong_attempts'] == 0 and not store['accounts']['5000'].get('quarantined')
