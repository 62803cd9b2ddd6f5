"""Every module at -vvvv, with --diff, in check mode and for real, failures included: no secret in any output."""
import os
import re

from conftest import API_KEY
from pabx_site import Site

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


def test_roles_and_playbooks_leak_nothing(start_emulator, tmp_path):
    """Import, rotation, audit and DAC sessions at -vvvv with --diff, in check mode and for real, failures included."""
    emulator = start_emulator(devices=6, accounts=3, dac_devices=3)
    eight_digit = dict((number, '%08d' % (30000000 + 7919 * i)) for i, number in enumerate(
        list(emulator.site['devices']) + list(emulator.site['accounts'])))
    emulator.control(set_passwords=[[kind, n, eight_digit[n]] for kind in ('devices', 'accounts')
                                    for n in emulator.site[kind]])
    for kind in ('devices', 'accounts'):
        for number, spec in emulator.site[kind].items():
            spec['password'] = eight_digit[number]
    site = Site(emulator, tmp_path, host_vars={'digitro_pin_policy': {'length': 8}, 'password_audit_max_findings': -1,
                                               'password_rotation_max_fail_percent': 100})
    devices, agents = list(emulator.site['devices']), list(emulator.site['accounts'])
    roster = {'dac_sessions_roster': [{'device': d, 'account': a} for d, a in zip(devices, agents)],
              'dac_sessions_max_fail_percent': 100}
    runs = [site.run('import_passwords.yml', verbosity=4)]
    emulator.control(set_passwords=[['devices', devices[1], '59127348']])   # drift: the audit and rotation fail on it
    for check in (True, False):
        runs.append(site.run('rotate_passwords.yml', check=check, verbosity=4, diff=True))
        runs.append(site.run('audit_passwords.yml', check=check, verbosity=4, diff=True))
        runs.append(site.run('dac_sessions.yml', roster, check=check, verbosity=4, diff=True))
    runs.append(site.run('dac_sessions.yml', {'dac_sessions_roster': [{'device': devices[0], 'account': agents[1]}]},
                         verbosity=4, diff=True))   # occupied: fails
    assert any(run.returncode for run in runs) and 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in runs[-1].stdout
    store = site.store()
    secrets = set(eight_digit.values()) | {'59127348', API_KEY, site.secret}
    secrets |= set(entry[field] for kind in ('devices', 'accounts') for entry in store[kind].values()
                   for field in ('current', 'pending') if entry[field])
    texts = [run.stdout + run.stderr for run in runs]
    for name in os.listdir(site.report_dir):
        with open(os.path.join(site.report_dir, name)) as handle:
            texts.append(handle.read())
    with open(emulator.log_file) as handle:
        texts.append(handle.read())
    with open(site.store_path) as handle:
        stored = handle.read()
    assert stored.startswith('$ANSIBLE_VAULT;1.2;AES256;digitro_pabx')
    texts.append(stored)
    everything = '\n'.join(texts)
    leaked = [s for s in secrets if re.search(r'(?<![0-9A-Za-z])%s(?![0-9A-Za-z])' % re.escape(s), everything)]
    assert leaked == [], '%d secrets leaked' % len(leaked)
