"""digitro_dac_session through real ansible-playbook against the emulator."""
from conftest import API_KEY, seeded

PLAYBOOK = 'tests/integration/playbooks/dac_session.yml'


def roster(emulator, count, state='logged_in'):
    """Agent i on DAC device i (the seed's first devices are DAC devices)."""
    return [dict(device=device, device_password=device_pin, account=account, account_password=account_pin,
                 state=state)
            for (device, device_pin), (account, account_pin)
            in zip(seeded(emulator, count=count), seeded(emulator, 'accounts', count))]


def sessions(emulator):
    return {n: d['dac_account'] for n, d in emulator.state()['devices'].items() if d['dac']}


def test_login_changed_then_unchanged_then_logout(emulator, connection, run_playbook):
    agent = roster(emulator, 1)[0]
    first = run_playbook(PLAYBOOK, dict(connection, **agent), diff=True)
    assert first.result['status'] == 'changed' and first.result['changed'], first.output
    assert first.result['before'] == {'state': 'logged_out', 'account': ''}
    assert first.result['after'] == {'state': 'logged_in', 'account': agent['account']}
    assert 'logged in (agent %s)' % agent['account'] in first.stdout   # the --diff
    assert sessions(emulator)[agent['device']] == agent['account']
    second = run_playbook(PLAYBOOK, dict(connection, **agent))
    assert second.result['status'] == 'unchanged' and not second.result['changed']
    out = run_playbook(PLAYBOOK, dict(connection, **dict(agent, state='logged_out')))
    assert out.result['status'] == 'changed'
    assert sessions(emulator)[agent['device']] == ''


def test_check_mode_reads_and_writes_nothing(emulator, connection, run_playbook):
    agents = roster(emulator, 3)
    run = run_playbook(PLAYBOOK, dict(connection, dac_batch=agents), check=True)
    assert run.result['summary'] == {'would_change': 3}, run.output
    assert set(sessions(emulator).values()) == {''}
    assert 'op_login-logout-dac' not in emulator.state()['stats']


def test_occupied_device_needs_force(emulator, connection, run_playbook):
    first, second = roster(emulator, 2)
    run_playbook(PLAYBOOK, dict(connection, **first))
    intruder = dict(second, device=first['device'], device_password=first['device_password'])
    refused = run_playbook(PLAYBOOK, dict(connection, **intruder))
    assert refused.result['failed'] is True and refused.result['status'] == 'occupied'
    assert 'force: true' in refused.result['msg'] and first['account'] in refused.result['msg']
    assert sessions(emulator)[first['device']] == first['account']
    forced = run_playbook(PLAYBOOK, dict(connection, force=True, **intruder))
    assert forced.result['status'] == 'changed', forced.output
    assert sessions(emulator)[first['device']] == second['account']


def test_roster_of_hundreds_with_one_bad_entry(start_emulator, run_playbook):
    emulator = start_emulator(devices=300, accounts=300, dac_devices=300)
    connection = {'pabx_url': emulator.url, 'pabx_api_key': API_KEY}
    agents = roster(emulator, 300)
    agents[42]['account_password'] = '97531'
    run = run_playbook(PLAYBOOK, dict(connection, dac_batch=agents, concurrency=16))
    assert run.result['summary'] == {'changed': 299, 'error': 1}, run.output
    assert 'senha incorreta' in run.result['results'][42]['msg']
    again = run_playbook(PLAYBOOK, dict(connection, dac_batch=agents[:42] + agents[43:], concurrency=16))
    assert again.result['summary'] == {'unchanged': 299}


def test_duplicate_device_in_batch_fails_before_any_request(emulator, connection, run_playbook):
    first, second = roster(emulator, 2)
    run = run_playbook(PLAYBOOK, dict(connection, dac_batch=[first, dict(second, device=first['device'])]))
    assert run.result['failed'] is True and 'both target DAC device %s' % first['device'] in run.result['msg']
    assert 'op_consulta-dac' not in emulator.state()['stats']
