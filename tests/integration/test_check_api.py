"""check_api against the stock emulator and against emulators that name the API differently (--api-overrides)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import API_KEY, REPO_ROOT, ansible_env, write_json
from pabx_site import Site, api_check_vars, wrong_attempts

# the PABX serves verification under another slug, and the channel ID and the device's PIN under other names
RENAMED_SLUG = {'slugs': {'verify_password': 'verificar-senha'}}
RENAMED_FIELDS = {'channel_id_field': 'CANAL', 'fields': {'device_password': 'SENHA_DO_RAMAL'}}


def check_api(start_emulator, tmp_path, served=None, overrides=None):
    emulator = start_emulator(devices=3, accounts=2, dac_devices=1, api_overrides=served)
    host_vars = api_check_vars(emulator)
    if overrides is not None:
        host_vars['digitro_api_overrides'] = overrides
    site = Site(emulator, tmp_path, host_vars)
    return site, site.run('check_api.yml')


def reports(site):
    names = sorted(n for n in os.listdir(site.report_dir) if n.startswith('pabx1-check-api-'))
    with open(os.path.join(site.report_dir, [n for n in names if n.endswith('.json')][-1])) as handle:
        return names, json.load(handle)


def test_the_stock_emulator_confirms_every_assumption_and_costs_no_wrong_attempt(start_emulator, tmp_path):
    site, run = check_api(start_emulator, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    names, report = reports(site)
    assert [n.rsplit('.', 1)[1] for n in names] == ['json', 'txt']
    with open(os.path.join(site.report_dir, 'check-api-ledger.json')) as handle:  # written before any PIN left
        ledger = json.load(handle)
    assert not any(r.get('wrong_attempts') or r.get('refused') or r.get('in_flight') for r in ledger['numbers'].values())
    assert report['contradicted'] == [] and report['incomplete'] == []
    assert report['summary'] == {'confirmed': 15, 'contradicted': 0, 'not checked': 3}
    assert '15 confirmed, 0 contradicted, 3 not checked. Not checked (the report says why): new_password_field, ' \
        'dac_operation_field, wrong_pin_refused.' in run.stdout
    state = site.emulator.state()
    assert wrong_attempts(state) == {}
    assert site.emulator.passwords() == dict((n, s['password']) for n, s in site.emulator.site['devices'].items())
    assert state['stats']['op_altera-senha'] == 1 and state['stats']['op_login-logout-dac'] == 1  # the empty bodies
    pins = [v for k, v in api_check_vars(site.emulator).items() if k.endswith('_password')]
    for pin in pins + [site.emulator.api_key]:
        assert pin not in run.stdout + run.stderr + json.dumps(report)


def test_a_renamed_slug_is_named_and_fails_the_run(start_emulator, tmp_path):
    site, run = check_api(start_emulator, tmp_path, served=RENAMED_SLUG)
    assert run.returncode != 0
    assert 'digitro_api_overrides.slugs.verify_password' in run.stdout
    report = reports(site)[1]
    assert report['contradicted'] == ['slug_verify_password']
    evidence = [c['evidence'] for c in report['checks'] if c['id'] == 'slug_verify_password'][0]
    assert '/verifica-senha {} -> HTTP 404' in evidence
    assert wrong_attempts(site.emulator.state()) == {}


def test_renamed_fields_are_named_and_the_found_channel_field_is_suggested(start_emulator, tmp_path):
    site, run = check_api(start_emulator, tmp_path, served=RENAMED_FIELDS)
    assert run.returncode != 0
    report = reports(site)[1]
    assert set(report['contradicted']) == set(['channel_id_field', 'verify_device'])
    assert report['suggested_overrides'] == {'channel_id_field': 'CANAL'}
    assert 'digitro_api_overrides.fields.device_password' in run.stdout
    assert 'digitro_api_overrides.channel_id_field = "CANAL"' in run.stdout
    assert wrong_attempts(site.emulator.state()) == {}


def test_matching_overrides_confirm_every_assumption(start_emulator, tmp_path):
    served = dict(RENAMED_SLUG, **RENAMED_FIELDS)
    site, run = check_api(start_emulator, tmp_path, served=served, overrides=served)
    assert run.returncode == 0, run.stdout[-3000:]
    report = reports(site)[1]
    assert report['summary']['confirmed'] == 15 and report['api_overrides'] == served


# -- the attack on issue 17, at the playbook's level ---------------------------------------------------------------

def test_a_refused_pin_is_not_sent_again_by_the_next_run(start_emulator, tmp_path):
    """1: the playbook keeps the ledger in the reports directory; the second run sends no PIN for the device."""
    emulator = start_emulator(devices=3, accounts=2, dac_devices=1, lockout_threshold=2)
    site = Site(emulator, tmp_path, dict(api_check_vars(emulator), digitro_check_device_password='99999999'))
    device = api_check_vars(emulator)['digitro_check_device']
    first, second = site.run('check_api.yml'), site.run('check_api.yml')
    assert first.returncode != 0 and second.returncode != 0
    assert 'the PABX refused this PIN for device %s in an earlier check_api run' % device in second.stdout
    record = emulator.state()['devices'][device]
    assert record['wrong_attempts'] == 1 and not record['locked']
    with open(os.path.join(site.report_dir, 'check-api-ledger.json')) as handle:
        assert '99999999' not in handle.read()


def test_check_mode_sends_no_pin(start_emulator, tmp_path):
    """6: --check: the checks without a PIN run, the others say why they did not."""
    emulator = start_emulator(devices=3, accounts=2, dac_devices=1)
    site = Site(emulator, tmp_path, dict(api_check_vars(emulator), digitro_check_device_password='99999999'))
    run = site.run('check_api.yml', check=True)
    assert 'check mode: no PIN is sent' in run.stdout
    assert wrong_attempts(emulator.state()) == {} and emulator.state()['stats']['op_verifica-senha'] == 1


def test_the_play_checks_one_pabx_per_run(start_emulator, tmp_path):
    """4: the PINs given belong to one PABX: a pattern matching two fails before any request."""
    emulators = [start_emulator(devices=2, accounts=1, dac_devices=1, random_seed=seed) for seed in (7, 8)]
    check = api_check_vars(emulators[0])
    hosts = dict(('pabx%d' % i, {'digitro_url': e.url}) for i, e in enumerate(emulators, 1))
    inventory = write_json(tmp_path / 'inventory.json', {'pabx': {'hosts': hosts}})
    pins = write_json(tmp_path / 'check-pins.json', dict(check, password_rotation_report_dir=str(tmp_path)))
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory,
                          os.path.join(REPO_ROOT, 'playbooks', 'check_api.yml'), '-e', '@' + pins],
                         cwd=str(tmp_path), env=ansible_env({'DIGITRO_API_KEY': API_KEY}), capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode != 0
    assert 'the host pattern matches 2 hosts (pabx1, pabx2); run it with --limit <host>' in run.stdout
    for emulator in emulators:
        assert not [k for k in emulator.state()['stats'] if k.startswith('op_')]


@pytest.mark.parametrize('host_vars, env, message', [
    # 5: an unquoted 01234567 is the octal number 342391, another PIN
    ({'digitro_check_device_password': 342391}, {}, 'quote the digitro_check_* numbers and PINs'),
    # 3: one device, two PINs
    ({'digitro_check_dac_device_password': '87654321'}, {}, 'dac_device_password differs from device_password'),
    # 8: a read pointed at the change of a PIN
    ({'digitro_api_overrides': {'slugs': {'validate_user': 'altera-senha', 'change_password': 'x-altera'},
                                'fields': {'account': 'NOVA_SENHA', 'new_password': 'CONTA'}}}, {},
     'api_overrides.slugs.validate_user must not be altera-senha'),
    # 22, 23: the environment's overrides are strict JSON
    ({}, {'DIGITRO_API_OVERRIDES': '{"slugs": {"verify_password": "x"}'}, 'DIGITRO_API_OVERRIDES is not valid JSON'),
    ({}, {'DIGITRO_API_OVERRIDES': '{"slugs": {"verify_password": "x", "verify_password": "verifica-senha"}}'},
     'DIGITRO_API_OVERRIDES gives the key(s) verify_password twice'),
    # 11: a credential in the URL is refused, never echoed
    ({'digitro_url': 'URL-WITH-TOKEN'}, {}, 'url must not carry a user name or password'),
], ids=['octal-pin', 'dac-pin', 'read-to-write', 'env-json', 'env-duplicate', 'url-userinfo'])
def test_bad_input_is_refused_before_any_request(start_emulator, tmp_path, host_vars, env, message):
    emulator = start_emulator(devices=3, accounts=2, dac_devices=1)
    host_vars = dict(host_vars)
    if host_vars.get('digitro_url') == 'URL-WITH-TOKEN':
        host_vars['digitro_url'] = emulator.url.replace('http://', 'http://operator-token-S3CR3T@')
    site = Site(emulator, tmp_path, dict(api_check_vars(emulator), **host_vars))
    site.env.update(env)
    run = site.run('check_api.yml')
    assert run.returncode != 0 and message in run.stdout, run.stdout[-2000:]
    assert 'S3CR3T' not in run.stdout + run.stderr
    assert not [k for k in emulator.state()['stats'] if k.startswith('op_')]
    assert not os.path.exists(site.report_dir) or not [n for n in os.listdir(site.report_dir) if 'S3CR3T' in open(
        os.path.join(site.report_dir, n)).read()]
