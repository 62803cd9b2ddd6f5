"""digitro_password through real ansible-playbook against the emulator."""
from conftest import API_KEY, seeded

PLAYBOOK = 'tests/integration/playbooks/password.yml'


def test_single_change_then_unchanged(emulator, connection, run_playbook):
    number, pin = seeded(emulator, count=1)[0]
    variables = dict(connection, device=number, device_password=pin, new_password='802461')
    first = run_playbook(PLAYBOOK, variables)
    assert first.result['changed'] is True, first.output
    assert first.result['status'] == 'changed'
    assert emulator.passwords()[number] == '802461'
    second = run_playbook(PLAYBOOK, variables)
    assert second.result['changed'] is False
    assert second.result['status'] == 'unchanged'
    assert emulator.passwords()[number] == '802461'


def test_check_mode_writes_nothing(emulator, connection, run_playbook):
    before = emulator.passwords()
    batch = [dict(device=n, device_password=p, new_password='9%05d' % i)
             for i, (n, p) in enumerate(seeded(emulator, count=5))]
    run = run_playbook(PLAYBOOK, dict(connection, password_batch=batch), check=True, diff=True)
    assert run.result['changed'] is True
    assert run.result['summary'] == {'would_change': 5}
    assert emulator.passwords() == before
    assert 'new password' in run.stdout and '9000' not in run.stdout


def test_account_password(emulator, connection, run_playbook):
    device, device_pin = seeded(emulator, count=1)[0]
    account, account_pin = seeded(emulator, 'accounts', 1)[0]
    run = run_playbook(PLAYBOOK, dict(connection, device=device, device_password=device_pin,
                                      account=account, account_password=account_pin,
                                      new_password='513579'))
    assert run.result['status'] == 'changed', run.output
    assert emulator.passwords('accounts')[account] == '513579'
    assert emulator.passwords()[device] == device_pin


def test_batch_reports_every_entry_and_the_bad_one(start_emulator, run_playbook):
    emulator = start_emulator(devices=300)
    connection = {'pabx_url': emulator.url, 'pabx_api_key': API_KEY}
    batch = [dict(device=n, device_password=p, new_password='%06d' % (200000 + i))
             for i, (n, p) in enumerate(seeded(emulator))]
    batch[10]['device_password'] = '000000' if batch[10]['device_password'] != '000000' else '111111'
    run = run_playbook(PLAYBOOK, dict(connection, password_batch=batch, concurrency=16))
    assert run.result['failed'] is True
    assert run.result['summary'] == {'changed': 299, 'rejected': 1}
    assert run.result['results'][10]['status'] == 'rejected'
    assert 'out of sync' in run.result['results'][10]['msg']
    real = emulator.passwords()
    assert all(real[e['device']] == e['new_password'] for i, e in enumerate(batch) if i != 10)


def test_wrong_api_key_fails_clearly(emulator, run_playbook):
    number, pin = seeded(emulator, count=1)[0]
    run = run_playbook(PLAYBOOK, dict(pabx_url=emulator.url, pabx_api_key='not-the-key', device=number,
                                      device_password=pin, new_password='802461',
                                      tolerate_failure=False))
    assert run.rc != 0
    assert 'HTTP 401' in run.stdout and 'check api_key' in run.stdout
    assert 'Traceback' not in run.output
    assert 'not-the-key' not in run.output


def test_bad_input_fails_before_any_request(emulator, connection, run_playbook):
    number, pin = seeded(emulator, count=1)[0]
    requests_before = emulator.state()['stats'].get('op_verifica-senha', 0)
    cases = [
        (dict(device='', device_password='4821', new_password='5932'), 'device'),
        (dict(device='12a4', device_password='4821', new_password='5932'), "device must be 1 to 16 digits"),
        (dict(device='1' * 40, device_password='4821', new_password='5932'), 'device must be 1 to 16 digits'),
        (dict(device=number, device_password=pin), 'new_password'),
        (dict(device=number, device_password='x' * 40, new_password='1234'), 'device_password must be'),
        (dict(device=number, device_password=pin, new_password='1234', account='500000'),
         'account_password is required with account'),
    ]
    for variables, expected in cases:
        run = run_playbook(PLAYBOOK, dict(connection, **variables))
        assert run.result['failed'] is True
        assert expected in run.result['msg'], (variables, run.result['msg'])
    run = run_playbook(PLAYBOOK, dict(connection, pabx_url='127.0.0.1:8080', device=number,
                                      device_password=pin, new_password='1234'))
    assert 'url must be an http:// or https:// URL' in run.result['msg']
    assert emulator.state()['stats'].get('op_verifica-senha', 0) == requests_before


def test_environment_fallback(emulator, run_playbook):
    number, pin = seeded(emulator, count=1)[0]
    run = run_playbook('tests/integration/playbooks/password_from_env.yml',
                       dict(device=number, device_password=pin, new_password='246813'),
                       env={'DIGITRO_URL': emulator.url, 'DIGITRO_API_KEY': API_KEY})
    assert run.result['status'] == 'changed', run.output


def test_numbers_left_out_of_routine_results_are_not_masked(emulator, connection, run_playbook):
    """A new PIN that equals another entry's number: echoed, that number is masked, which shows a reader that it is
    someone's PIN; with echo_numbers false the routine results name no number (they are in batch order)."""
    (first, first_pin), (second, second_pin) = seeded(emulator, count=2)
    batch = [dict(device=first, device_password=first_pin, new_password=second),
             dict(device=second, device_password=second_pin, new_password='680235')]
    echoed = run_playbook(PLAYBOOK, dict(connection, password_batch=batch), check=True)
    assert echoed.result['results'][1]['device'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER', echoed.output
    quiet = run_playbook(PLAYBOOK, dict(connection, password_batch=batch, echo_numbers=False), check=True)
    assert quiet.result['summary'] == {'would_change': 2}, quiet.output
    assert [sorted(r) for r in quiet.result['results']] == [['changed', 'failed', 'holds', 'sent', 'status',
                                                             'wrong_attempts']] * 2
