"""The probe of digitro_api_check in-process against the emulator: a wrong PIN is sent once, a wrong key stops it."""
import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api_check
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient
from conftest import API_KEY


def probe(emulator, api_key=API_KEY, **entry):
    device, spec = next(iter(emulator.site['devices'].items()))
    entry = dict(dict(device=device, device_password=spec['password'], dac_device=device), **entry)
    client = PabxClient(emulator.url, api_key, timeout=5)
    try:
        return _api_check.Probe(client, entry, closed_channel_wait=0.3).run()
    finally:
        client.close()


def test_a_wrong_device_pin_costs_one_attempt_and_is_never_resent(start_emulator):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=1)
    account, agent = next(iter(emulator.site['accounts'].items()))
    found = probe(emulator, device_password='97531', account=account, account_password=agent['password'])
    checks = dict((c['id'], c) for c in found)
    assert checks['verify_device']['status'] == 'contradicted'
    assert 'the PABX refused the PIN given for device' in checks['verify_device']['advice']
    assert all(checks[k]['status'] == 'not checked' for k in ('validate_user', 'dac_query', 'closed_channel'))
    state = emulator.state()
    device = next(iter(emulator.site['devices']))
    assert state['devices'][device]['wrong_attempts'] == 1 and state['accounts'][account]['wrong_attempts'] == 0
    # verifica-senha got {} and the PIN once; valida-usuario and consulta-dac only {} (no PIN after a refusal)
    assert state['stats']['op_verifica-senha'] == 2
    assert state['stats']['op_valida-usuario'] == 1 and state['stats']['op_consulta-dac'] == 1
    assert '97531' not in repr(checks)


def test_a_refused_api_key_stops_the_probe_with_what_to_check(start_emulator):
    emulator = start_emulator(devices=1, accounts=0, dac_devices=0)
    with pytest.raises(_api_check.ProbeAbort) as raised:
        probe(emulator, api_key='not-the-key')
    assert 'refused the API key (HTTP 401 on GET /events): check digitro_api_key' in str(raised.value)
    assert 'not-the-key' not in str(raised.value)


def test_an_event_channel_elsewhere_names_events_path_and_checks_nothing_else(start_emulator):
    emulator = start_emulator(devices=1, accounts=0, dac_devices=0, api_overrides={'events_path': '/cti/eventos'})
    checks = probe(emulator)
    assert [(c['id'], c['status']) for c in checks[:2]] == [('transport', 'contradicted'), ('opening_event', 'not checked')]
    assert checks[0]['setting'] == 'digitro_api_overrides.events_path' and 'HTTP 404' in checks[0]['evidence']
    assert all(c['status'] == 'not checked' for c in checks[1:]) and len(checks) == 18
    assert 'op_verifica-senha' not in emulator.state()['stats']
