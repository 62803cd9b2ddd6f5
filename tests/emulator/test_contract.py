"""The emulator at the HTTP level: every status code of the contract, strictness and faults."""
import json
import threading
import time

import pytest
import requests

from conftest import API_KEY


def open_channel(emulator, key=API_KEY):
    """Open an SSE channel; returns (channel_id, response) — keep the response open to keep the channel."""
    response = requests.get(emulator.url + '/events', headers={'x-api-key': key}, stream=True, timeout=10)
    if response.status_code != 200:
        return None, response
    lines = response.iter_lines(chunk_size=1, decode_unicode=True)
    assert next(lines) == 'event: EVENTO_DE_ABERTURA_DE_CANAL'
    data = json.loads(next(lines)[len('data: '):])
    return data['ID_CANAL'], response


@pytest.fixture
def channel(emulator):
    channel_id, response = open_channel(emulator)
    yield channel_id
    response.close()


def post(emulator, channel_id, slug, body, key=API_KEY, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return requests.post('%s/requests/%s/%s' % (emulator.url, channel_id, slug), data=data, timeout=10,
                         headers={'x-api-key': key, 'Content-Type': 'application/json'})


def creds(device, pin, **fields):
    """A request body: the device's credentials plus upper-case fields."""
    return dict({'DISPOSITIVO': device, 'SENHA_DISPOSITIVO': pin}, **fields)


def a_device(emulator, index=0):
    number, spec = list(emulator.site['devices'].items())[index]
    return number, spec['password']


def test_published_example_shape_changes_an_account(emulator, channel):
    device, pin = a_device(emulator)
    account, spec = list(emulator.site['accounts'].items())[0]
    answer = post(emulator, channel, 'altera-senha',
                  creds(device, pin, CONTA=account, SENHA=spec['password'], NOVA_SENHA='2345'))
    assert answer.status_code == 200 and answer.json() == {}
    assert emulator.passwords('accounts')[account] == '2345'


@pytest.mark.parametrize('key', ['', 'wrong-key'])
def test_401_for_missing_or_wrong_key(emulator, channel, key):
    device, pin = a_device(emulator)
    assert post(emulator, channel, 'verifica-senha', creds(device, pin),
                key=key).status_code == 401
    assert open_channel(emulator, key)[1].status_code == 401


@pytest.mark.parametrize('raw, message', [
    ('{not json', 'JSON'),
    ('[]', 'objeto JSON'),
    ('{"DISPOSITIVO": 100000, "SENHA_DISPOSITIVO": "1"}', 'string'),
    ('{"DISPOSITIVO": "100000"}', 'SENHA_DISPOSITIVO'),
    ('{"DISPOSITIVO": "100000", "SENHA_DISPOSITIVO": "1", "EXTRA": "x"}', 'desconhecido'),
])
def test_400_for_malformed_bodies(emulator, channel, raw, message):
    answer = post(emulator, channel, 'verifica-senha', None, raw=raw)
    assert answer.status_code == 400
    assert message in answer.json()['ERRO']


def test_400_for_unknown_or_closed_channel(emulator):
    device, pin = a_device(emulator)
    body = creds(device, pin)
    assert post(emulator, '999999', 'verifica-senha', body).status_code == 400
    channel_id, response = open_channel(emulator)
    assert post(emulator, channel_id, 'verifica-senha', body).status_code == 200
    response.close()
    deadline = time.monotonic() + 5
    while emulator.state()['open_channels'] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert post(emulator, channel_id, 'verifica-senha', body).status_code == 400


def test_403_for_wrong_passwords_and_lockout(start_emulator):
    emulator = start_emulator(lockout_threshold=3)
    channel_id, response = open_channel(emulator)
    device, pin = a_device(emulator)
    wrong = {'DISPOSITIVO': device, 'SENHA_DISPOSITIVO': '0' if pin != '0' else '1'}
    for _attempt in range(3):
        assert post(emulator, channel_id, 'verifica-senha', wrong).status_code == 403
    locked = post(emulator, channel_id, 'verifica-senha', creds(device, pin))
    assert locked.status_code == 403 and 'bloqueado' in locked.json()['ERRO']
    state = emulator.state()['devices'][device]
    assert state['locked'] and state['wrong_attempts'] == 3
    response.close()


def test_pin_policy_answers_400(start_emulator):
    emulator = start_emulator(pin_reject_pattern='^9')
    channel_id, response = open_channel(emulator)
    device, pin = a_device(emulator)
    for new in ('12', '123456789', 'abcd', '912345'):
        answer = post(emulator, channel_id, 'altera-senha', creds(device, pin, NOVA_SENHA=new))
        assert answer.status_code == 400, new
    assert emulator.passwords()[device] == pin
    response.close()


def test_500_fault_and_state_never_logs_passwords(start_emulator):
    emulator = start_emulator(error_rate=1.0)
    channel_id, response = open_channel(emulator)
    device, pin = a_device(emulator)
    assert post(emulator, channel_id, 'verifica-senha', creds(device, pin)
                ).status_code == 500
    assert emulator.state()['faults']['error_500'] == 1
    response.close()
    with open(emulator.log_file) as handle:
        log = handle.read()
    assert device in log and pin not in log


def test_drop_after_apply_applies_then_hangs_up(start_emulator):
    emulator = start_emulator(drop_after_apply_rate=1.0)
    channel_id, response = open_channel(emulator)
    device, pin = a_device(emulator)
    with pytest.raises(requests.exceptions.ConnectionError):
        post(emulator, channel_id, 'altera-senha', creds(device, pin, NOVA_SENHA='4680'))
    assert emulator.passwords()[device] == '4680'
    response.close()


def test_delayed_apply(start_emulator):
    emulator = start_emulator(delayed_apply_rate=1.0, apply_delay=0.5)
    channel_id, response = open_channel(emulator)
    device, pin = a_device(emulator)
    assert post(emulator, channel_id, 'altera-senha', creds(device, pin, NOVA_SENHA='4680')).status_code == 200
    assert emulator.passwords()[device] == pin
    time.sleep(1.0)
    assert emulator.passwords()[device] == '4680'
    response.close()


def test_channel_close_fault_closes_the_stream(start_emulator):
    emulator = start_emulator()
    channel_id, response = open_channel(emulator)
    emulator.control(close_channels=True)
    lines = list(response.iter_lines(chunk_size=1, decode_unicode=True))  # ends: the PABX closed the stream
    assert all(line.startswith(':') or not line for line in lines)
    device, pin = a_device(emulator)
    assert post(emulator, channel_id, 'verifica-senha', creds(device, pin)
                ).status_code == 400


def test_dac_login_logout_and_query(emulator, channel):
    device, pin = a_device(emulator)   # the first devices of the seed are DAC devices
    agent, spec = list(emulator.site['accounts'].items())[0]
    other, other_spec = list(emulator.site['accounts'].items())[1]
    base = creds(device, pin)
    assert post(emulator, channel, 'consulta-dac', base).json() == {'ESTADO': 'DESLOGADO', 'CONTA': ''}
    login = dict(base, CONTA=agent, SENHA=spec['password'], OPERACAO='LOGIN')
    assert post(emulator, channel, 'login-logout-dac', login).status_code == 200
    assert post(emulator, channel, 'consulta-dac', base).json() == {'ESTADO': 'LOGADO', 'CONTA': agent}
    intruder = dict(base, CONTA=other, SENHA=other_spec['password'], OPERACAO='LOGIN')
    assert post(emulator, channel, 'login-logout-dac', intruder).status_code == 403
    not_dac = a_device(emulator, index=len(emulator.site['devices']) - 1)
    assert post(emulator, channel, 'consulta-dac', {'DISPOSITIVO': not_dac[0], 'SENHA_DISPOSITIVO': not_dac[1]}
                ).status_code == 403


def test_valida_usuario(emulator, channel):
    device, pin = a_device(emulator)
    agent, spec = list(emulator.site['accounts'].items())[0]
    body = {'DISPOSITIVO': device, 'SENHA_DISPOSITIVO': pin, 'CONTA': agent, 'SENHA': spec['password']}
    answer = post(emulator, channel, 'valida-usuario', body)
    assert answer.status_code == 200 and answer.json()['NOME'] == spec['name']
    assert post(emulator, channel, 'valida-usuario', dict(body, SENHA='x')).status_code == 403


def test_state_survives_a_restart(emulator, channel):
    device, pin = a_device(emulator)
    post(emulator, channel, 'altera-senha', {'DISPOSITIVO': device, 'SENHA_DISPOSITIVO': pin, 'NOVA_SENHA': '7531'})
    emulator.restart()
    assert emulator.passwords()[device] == '7531'


def test_concurrency_cap_queues_requests(start_emulator):
    emulator = start_emulator(latency=0.2, max_concurrent=2)
    channel_id, response = open_channel(emulator)
    device, pin = a_device(emulator)
    body = creds(device, pin)
    started = time.monotonic()
    threads = [threading.Thread(target=post, args=(emulator, channel_id, 'verifica-senha', body)) for _thread in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.55  # 6 requests, 2 at a time, 0.2 s each
    response.close()


def test_refuses_to_bind_beyond_loopback(tmp_path):
    import subprocess
    import sys
    from conftest import REPO_ROOT
    done = subprocess.run([sys.executable, '-m', 'emulator', 'serve', '--host', '0.0.0.0', '--port', '0'],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0 and 'loopback only' in done.stderr
