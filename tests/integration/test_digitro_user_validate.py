"""digitro_user_validate through real ansible-playbook against the emulator."""
from conftest import API_KEY, seeded

PLAYBOOK = 'tests/integration/playbooks/user_validate.yml'


def entry(emulator, index=0, wrong=False):
    device, device_pin = seeded(emulator, count=1)[0]
    account, account_pin = seeded(emulator, 'accounts')[index]
    return dict(device=device, device_password=device_pin, account=account,
                account_password='97531' if wrong else account_pin)


def test_valid_user_returns_attributes_and_never_changes(emulator, connection, run_playbook):
    run = run_playbook(PLAYBOOK, dict(connection, **entry(emulator)))
    assert run.result['valid'] is True and run.result['changed'] is False, run.output
    assert run.result['user']['name'] == 'Agente 0001' and run.result['user']['category'] == 'AGENTE'
    again = run_playbook(PLAYBOOK, dict(connection, **entry(emulator)), check=True)
    assert again.result['valid'] is True and again.result['changed'] is False


def test_invalid_user_is_a_result_unless_asked_to_fail(emulator, connection, run_playbook):
    run = run_playbook(PLAYBOOK, dict(connection, **entry(emulator, wrong=True)))
    assert run.result['valid'] is False and not run.result.get('failed'), run.output
    assert 'senha incorreta' in run.result['msg'] and '97531' not in run.output
    strict = run_playbook(PLAYBOOK, dict(connection, fail_on_invalid=True, **entry(emulator, wrong=True)))
    assert strict.result['failed'] is True


def test_batch_of_hundreds_with_one_bad_entry(start_emulator, run_playbook):
    emulator = start_emulator(devices=5, accounts=300)
    connection = {'pabx_url': emulator.url, 'pabx_api_key': API_KEY}
    batch = [entry(emulator, index) for index in range(300)]
    batch[7]['account_password'] = '97531'
    run = run_playbook(PLAYBOOK, dict(connection, user_batch=batch, concurrency=16))
    assert run.result['summary'] == {'valid': 299, 'invalid': 1}, run.output
    assert run.result['results'][7]['valid'] is False
    assert all(r['valid'] for i, r in enumerate(run.result['results']) if i != 7)


def test_wrong_api_key_and_unreachable_pabx_fail(emulator, run_playbook):
    run = run_playbook(PLAYBOOK, dict(pabx_url=emulator.url, pabx_api_key='wrong-key', **entry(emulator)))
    assert run.result['failed'] is True and 'HTTP 401' in run.result['msg']
    down = run_playbook(PLAYBOOK, dict(pabx_url='http://127.0.0.1:9', pabx_api_key=API_KEY, **entry(emulator)))
    assert down.result['failed'] is True and 'Could not open the event channel' in down.result['msg']


def test_missing_password_fails_before_any_request(emulator, connection, run_playbook):
    variables = entry(emulator)
    del variables['account_password']
    run = run_playbook(PLAYBOOK, dict(connection, **variables))
    assert run.result['failed'] is True and 'account_password' in run.result['msg']
    assert 'op_valida-usuario' not in emulator.state()['stats']
