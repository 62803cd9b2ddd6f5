"""check_api against the stock emulator and against emulators that name the API differently (--api-overrides)."""
import json
import os

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
    assert report['contradicted'] == [] and report['summary']['not checked'] == 0
    assert report['summary']['confirmed'] == len(report['checks']) == 15
    assert '15 confirmed, 0 contradicted, 0 not checked' in run.stdout
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
