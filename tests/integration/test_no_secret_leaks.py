"""Every module at -vvvv, with --diff, in check mode and for real, failures included: no secret in any output."""
from conftest import API_KEY

# Distinctive values, so that a match in the output can only be a leak.
DEVICE_PIN, AGENT_PIN, NEW_PIN, WRONG_PIN = '48151623', '42917335', '73619284', '65830271'


def scenario(emulator):
    device = list(emulator.site['devices'])[0]
    agent = list(emulator.site['accounts'])[0]
    emulator.control(set_passwords=[['devices', device, DEVICE_PIN], ['accounts', agent, AGENT_PIN]])
    creds = dict(device=device, device_password=DEVICE_PIN, account=agent, account_password=AGENT_PIN)
    wrong = dict(creds, account_password=WRONG_PIN)
    return [
        ('password.yml', dict(device=device, device_password=DEVICE_PIN, new_password=NEW_PIN)),
        ('password.yml', dict(device=device, device_password=WRONG_PIN, new_password=WRONG_PIN)),
        ('user_validate.yml', creds),
        ('user_validate.yml', dict(wrong, fail_on_invalid=True)),
        ('dac_session.yml', dict(creds, device_password=NEW_PIN)),
        ('dac_session.yml', dict(wrong, device_password=NEW_PIN, state='logged_out')),
    ]


def test_no_secret_in_any_output(emulator, run_playbook):
    connection = dict(pabx_url=emulator.url, pabx_api_key=API_KEY)
    outputs = []
    for check in (True, False):
        for playbook, variables in scenario(emulator):
            run = run_playbook('tests/integration/playbooks/' + playbook, dict(connection, **variables),
                               check=check, diff=True, verbosity=4)
            assert run.result is not None, run.output
            outputs += [run.output, repr(run.result)]
    assert emulator.passwords()[list(emulator.site['devices'])[0]] == NEW_PIN  # the real run did change it
    with open(emulator.log_file) as handle:
        outputs.append(handle.read())
    everything = '\n'.join(outputs)
    assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in everything  # -vvvv did show the (masked) arguments
    for secret in (DEVICE_PIN, AGENT_PIN, NEW_PIN, WRONG_PIN, API_KEY):
        assert secret not in everything, 'a secret leaked'
