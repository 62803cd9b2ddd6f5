"""digitro_api_check against a PABX that misbehaves, in-process: the emulator with faults, or a fake server
(tests/fakepabx.py). Each test is one finding of the attack on issue 17 (its number in the name)."""
import json
import os

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api, _api_check
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient
from conftest import API_KEY
from emulator.process import open_channel
from fakepabx import Fake
from pabx_site import wrong_attempts

DEVICE, PIN = '100000', '13572468'


def probe(url, entry=None, ledger=None, timeout=5, overrides=None, **options):
    """(checks, probe) of one run against ``url``; the client is closed after."""
    client = PabxClient(url, API_KEY, timeout=timeout, contract=_api.contract(overrides))
    try:
        found = _api_check.Probe(client, dict(entry or {'device': DEVICE, 'device_password': PIN}),
                                 closed_channel_wait=0.3, ledger=ledger, **options)
        return dict((c['id'], c) for c in found.run()), found
    finally:
        client.close()


def first(emulator, password=None):
    device, spec = next(iter(emulator.site['devices'].items()))
    return {'device': device, 'device_password': password or spec['password'], 'dac_device': device}


def wrong_verifications(emulator, device, count):
    """``count`` wrong PINs for ``device``, as a user at the phone or another tool would send them."""
    import urllib.error
    import urllib.request
    channel_id, stream = open_channel(emulator.url, emulator.api_key)
    try:
        for _index in range(count):
            request = urllib.request.Request(
                '%s/requests/%s/verifica-senha' % (emulator.url, channel_id), method='POST',
                data=json.dumps({'DISPOSITIVO': device, 'SENHA_DISPOSITIVO': '00000000'}).encode(),
                headers={'x-api-key': emulator.api_key, 'Content-Type': 'application/json'})
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=10).read()
    finally:
        stream.close()


# -- 1, 2, 20: wrong attempts across runs ------------------------------------------------------------------------

def test_1_a_refused_pin_is_never_resent_by_later_runs_and_a_reset_is_needed_for_another(start_emulator, tmp_path):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1, lockout_threshold=3)
    path = str(tmp_path / 'reports' / 'check-api-ledger.json')
    entry = first(emulator, '99999999')
    for _run in range(3):
        checks = probe(emulator.url, entry, _api_check.Ledger(path, emulator.url))[0]
    record = emulator.state()['devices'][entry['device']]
    assert record['wrong_attempts'] == 1 and not record['locked']
    assert 'refused this PIN for device %s in an earlier check_api run' % entry['device'] in checks['verify_device'][
        'evidence'] and checks['verify_device']['run_again']
    # another wrong PIN is not sent either: the probe already cost this number its one wrong attempt
    checks = probe(emulator.url, dict(entry, device_password='88888888'), _api_check.Ledger(path, emulator.url))[0]
    assert 'already cost device %s a wrong attempt' % entry['device'] in checks['verify_device']['evidence']
    assert emulator.state()['devices'][entry['device']]['wrong_attempts'] == 1
    with open(path) as handle:
        text = handle.read()
    assert '99999999' not in text and '88888888' not in text and len(json.loads(text)['salt']) == 32
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    # a person reset the count at the console: the right PIN is sent, accepted, and the count is cleared
    ledger = _api_check.Ledger(path, emulator.url)
    ledger.reset([('device', entry['device'])])
    checks = probe(emulator.url, first(emulator), ledger)[0]
    assert checks['verify_device']['status'] == 'confirmed'
    assert _api_check.Ledger(path, emulator.url).record('device', entry['device'])['wrong_attempts'] == 0
    # the refused PIN stays refused after the reset
    assert 'refused this PIN' in _api_check.Ledger(path, emulator.url).refusal('device', entry['device'], '99999999')


def test_2_the_ledger_bounds_the_probe_to_one_wrong_attempt_but_cannot_see_others(start_emulator, tmp_path):
    """Residual risk (docs/api-contract.md): 4 wrong attempts made by others, then the probe's one locks at 5."""
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    entry = first(emulator, '99999999')
    wrong_verifications(emulator, entry['device'], 3)
    ledger = _api_check.Ledger(str(tmp_path / 'ledger.json'), emulator.url)
    probe(emulator.url, entry, ledger)
    probe(emulator.url, entry, _api_check.Ledger(str(tmp_path / 'ledger.json'), emulator.url))
    record = emulator.state()['devices'][entry['device']]
    assert record['in_a_row'] == 4 and not record['locked']  # 3 + the probe's one, once


def test_20_a_locked_extension_is_said_locked_and_gets_nothing_more(start_emulator, tmp_path):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    entry = first(emulator)
    wrong_verifications(emulator, entry['device'], 5)
    path = str(tmp_path / 'ledger.json')
    verify = probe(emulator.url, entry, _api_check.Ledger(path, emulator.url))[0]['verify_device']
    assert verify['status'] == 'not checked' and verify['run_again']
    assert 'is locked: have it unlocked at the PABX console' in verify['advice']
    assert 'checks something else' not in verify['advice']
    sent = emulator.state()['stats']['op_verifica-senha']
    verify = probe(emulator.url, entry, _api_check.Ledger(path, emulator.url))[0]['verify_device']
    assert 'already cost device' in verify['evidence'] and emulator.state()['stats']['op_verifica-senha'] == sent + 1


# -- 6, 7: check mode, a PIN request without an answer -------------------------------------------------------------

def test_6_check_mode_sends_no_pin(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    checks = probe(emulator.url, first(emulator, '99999999'), send_pins=False)[0]
    assert checks['verify_device']['evidence'].startswith('check mode: no PIN is sent')
    assert checks['slug_verify_password']['status'] == 'confirmed'
    stats = emulator.state()['stats']
    assert wrong_attempts(emulator.state()) == {} and stats['op_verifica-senha'] == 1  # the {} only


def test_7_a_pin_request_without_an_answer_says_it_may_have_counted(tmp_path):
    path = str(tmp_path / 'ledger.json')
    with Fake('verifyslow', API_KEY, slow=2.0) as fake:
        checks, found = probe(fake.url, ledger=_api_check.Ledger(path, fake.url), timeout=1)
    verify = checks['verify_device']
    assert verify['status'] == 'not checked' and verify['run_again']
    assert 'may have counted as a wrong attempt' in verify['advice'] and found.warnings
    assert _api_check.Ledger(path, fake.url).record('device', DEVICE)['wrong_attempts'] == 1
    assert 'Not checked in this run: verify_device' in _api_check.verdict(list(checks.values()), {})


# -- 8: never a PIN to a write slug --------------------------------------------------------------------------------

def test_8_the_probe_refuses_to_send_a_pin_to_a_write_slug(start_emulator):
    emulator = start_emulator(devices=1, accounts=0, dac_devices=0)
    client = PabxClient(emulator.url, API_KEY, timeout=5)
    try:
        found = _api_check.Probe(client, {'device': DEVICE, 'device_password': PIN})
        with pytest.raises(_api_check.ProbeAbort) as raised:
            found.post('altera-senha', {'DISPOSITIVO': DEVICE, 'X': PIN})
    finally:
        client.close()
    assert 'refused to send a PIN to altera-senha' in str(raised.value) and PIN not in str(raised.value)


# -- 9, 10, 12: secrets and tracebacks -----------------------------------------------------------------------------

def test_9_evidence_is_scrubbed_before_it_is_cut():
    text = json.dumps({'ERRO': 'x' * 280 + ' ' + PIN + ' tail'})
    words = _api_check.Answer(400, text).words({PIN})
    assert PIN[:4] not in words and len(words) == _api_check.EVIDENCE_MAX
    with Fake('echo', API_KEY) as fake:
        checks = probe(fake.url)[0]
    assert PIN[:4] not in json.dumps(checks)


def test_10_a_redirect_of_the_event_channel_is_not_followed():
    with Fake('collector', 'unused') as other:
        with Fake('redirect', API_KEY, redirect_to=other.url.replace('127.0.0.1', 'localhost')) as fake:
            with pytest.raises(_api_check.ProbeAbort) as raised:
                probe(fake.url)
        assert other.seen == []
    message = str(raised.value)
    assert 'HTTP 302, a redirect to http://localhost:%d, which is not followed' % other.server_address[1] in message
    assert 'token' not in message


@pytest.mark.parametrize('mode', ['nested', 'nested_open', 'spacefield'])
def test_12_a_hostile_answer_is_reported_not_a_traceback(mode):
    with Fake(mode, API_KEY) as fake:
        checks = probe(fake.url)[0]
    if mode == 'spacefield':
        assert checks['channel_id_field']['status'] == 'contradicted'
        assert 'which digitro_api_overrides cannot name' in checks['channel_id_field']['advice']
    elif mode == 'nested':
        assert checks['slug_verify_password']['status'] == 'not checked'
    else:
        assert checks['opening_event']['status'] == 'contradicted'


# -- 13 - 17: no silent success -----------------------------------------------------------------------------------

def test_13_server_errors_confirm_nothing_and_say_run_again(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1, error_rate=1.0)
    checks = probe(emulator.url, first(emulator))[0]
    assert not [k for k, c in checks.items() if c['status'] == 'confirmed' and '-> HTTP 5' in c['evidence']]
    assert checks['slug_verify_password']['run_again'] and checks['verify_device']['status'] == 'not checked'


def test_14_a_channel_closed_midway_is_reopened_and_never_blamed_on_field_names(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1, channel_close_rate=1.0)
    checks = probe(emulator.url, first(emulator))[0]
    assert not [c for c in checks.values() if 'fields' in (c['setting'] or '')]
    assert 'closed the event channel under the request twice' in checks['slug_verify_password']['evidence']
    assert checks['slug_verify_password']['run_again']
    assert emulator.state()['stats']['channels_opened'] > 3


def test_14_a_channel_closed_once_is_reopened_and_the_check_goes_on(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    client = PabxClient(emulator.url, API_KEY, timeout=5)
    try:
        found = _api_check.Probe(client, first(emulator))
        found.channel = found.open_channel(found.contract)
        emulator.control(close_channels=True)
        answer = found.post('verifica-senha', {})
    finally:
        found.close()
        client.close()
    assert answer.status == 400 and 'campo obrigat' in answer.text  # the second channel's answer to {}


def test_15_a_short_wrong_slug_is_not_confirmed(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    checks = probe(emulator.url, first(emulator), overrides={'slugs': {'change_password': 'o'}})[0]
    assert checks['slug_change_password']['status'] == 'contradicted'
    assert _api_check.same_answer(_api_check.Answer(404, '{"ERRO": "operação desconhecida: o"}'),
                                  _api_check.Answer(404, '{"ERRO": "operação desconhecida: x-y"}'), 'o', 'x-y')


def test_16_a_pabx_answering_200_to_anything_confirms_no_pin():
    with Fake('ok200', API_KEY) as fake:
        checks = probe(fake.url)[0]
    assert checks['verify_device']['status'] == 'not checked'
    assert 'a 200 shows neither' in checks['verify_device']['advice']


def test_17_what_the_probe_cannot_check_is_listed_and_said(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    checks = probe(emulator.url, first(emulator))[0]
    for key in ('new_password_field', 'dac_operation_field', 'wrong_pin_refused'):
        assert checks[key]['status'] == 'not checked' and not checks[key]['run_again']
    assert 'OPERACAO = LOGIN or LOGOUT' in checks['dac_operation_field']['assumption']
    message = _api_check.verdict(list(checks.values()), {})
    assert 'new_password_field, dac_operation_field, wrong_pin_refused.' in message and 'not checked' in message


# -- 18 - 21: messages that say what happened ---------------------------------------------------------------------

def test_18_tls_failures_are_said_as_tls_not_events_path(start_emulator, tmp_path):
    from tls import make_certificate
    emulator = start_emulator(devices=1, accounts=0, dac_devices=0, tls=make_certificate(tmp_path))
    with pytest.raises(_api_check.ProbeAbort) as raised:
        probe(emulator.url, first(emulator))
    assert 'TLS failed' in str(raised.value) and 'ca_path' in str(raised.value)
    assert 'events_path' not in str(raised.value)
    plain = start_emulator(devices=1, accounts=0, dac_devices=0)
    with pytest.raises(_api_check.ProbeAbort) as raised:
        probe(plain.url.replace('http://', 'https://'), first(plain))
    assert 'plain HTTP on an https:// URL' in str(raised.value) and 'events_path' not in str(raised.value)


def test_19_a_busy_pabx_is_not_checked_run_again():
    with Fake('verify500', API_KEY) as fake:
        verify = probe(fake.url)[0]['verify_device']
    assert verify['status'] == 'not checked' and verify['run_again'] and 'run check_api again' in verify['advice']


def test_21_a_mistyped_extension_is_said_not_blamed_on_field_names(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    verify = probe(emulator.url, {'device': '199999', 'device_password': PIN})[0]['verify_device']
    assert verify['setting'] is None and 'it may not know that number' in verify['advice']
    assert 'device 199999' in verify['advice']
