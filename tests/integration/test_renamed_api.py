"""The roles and modules against a PABX that names every path, slug and field differently, given the matching
digitro_api_overrides (host variable) or DIGITRO_API_OVERRIDES (environment)."""
import csv
import json

from conftest import API_KEY, seeded
from pabx_site import Site, wrong_attempts

VARIANT = {
    'events_path': '/cti/eventos',
    'channel_id_field': 'CANAL',
    'slugs': {'change_password': 'alterar-senha', 'verify_password': 'verificar-senha',
              'validate_user': 'validar-usuario', 'dac_login_logout': 'dac-login-logout', 'dac_query': 'dac-consulta'},
    'fields': {'device': 'RAMAL', 'device_password': 'SENHA_RAMAL', 'account': 'AGENTE',
               'account_password': 'SENHA_AGENTE', 'new_password': 'SENHA_NOVA', 'dac_operation': 'ACAO',
               'dac_state': 'SITUACAO', 'user_name': 'NOME_AGENTE', 'user_category': 'PERFIL', 'error': 'MENSAGEM'},
}


def test_import_rotation_audit_and_dac_roles_work_against_a_renamed_api(start_emulator, tmp_path):
    emulator = start_emulator(devices=6, accounts=3, dac_devices=3, api_overrides=VARIANT)
    site = Site(emulator, tmp_path, {'digitro_api_overrides': VARIANT})
    assert site.run('import_passwords.yml').returncode == 0

    rotation = site.run('rotate_passwords.yml')
    assert rotation.returncode == 0, rotation.stdout[-3000:]
    assert site.mismatched() == []
    assert site.latest_report()['counts']['rotated'] == 9
    stats = emulator.state()['stats']
    assert stats['op_alterar-senha'] == 9 and 'op_altera-senha' not in stats

    audit = site.run('audit_passwords.yml', check=True)
    assert audit.returncode == 0, audit.stdout[-3000:]
    assert site.latest_report(prefix='pabx1-audit-')['counts']['healthy'] == 9

    roster = str(tmp_path / 'shift.csv')
    with open(roster, 'w', newline='') as handle:
        csv.writer(handle).writerows([['device', 'account']] + list(zip(emulator.site['devices'],
                                                                        emulator.site['accounts'])))
    shift = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster})
    assert shift.returncode == 0, shift.stdout[-3000:]
    assert 'pabx1: 3 moved, 0 already there, 0 failed' in shift.stdout
    sessions = dict((n, d['dac_account']) for n, d in emulator.state()['devices'].items() if d['dac_account'])
    assert sessions == dict(zip(emulator.site['devices'], emulator.site['accounts']))
    assert wrong_attempts(emulator.state()) == {}


def test_overrides_from_the_environment_and_unknown_keys_refused(start_emulator, run_playbook):
    emulator = start_emulator(devices=2, accounts=1, dac_devices=0, api_overrides=VARIANT)
    (device, device_pin), (account, account_pin) = seeded(emulator, count=1)[0], seeded(emulator, 'accounts')[0]
    variables = dict(pabx_url=emulator.url, pabx_api_key=API_KEY, device=device, device_password=device_pin,
                     account=account, account_password=account_pin)
    playbook = 'tests/integration/playbooks/user_validate.yml'
    run = run_playbook(playbook, variables, env={'DIGITRO_API_OVERRIDES': json.dumps(VARIANT)})
    assert run.result['valid'] is True and run.result['user']['name'] == 'Agente 0001', run.output
    wrong = dict(VARIANT, slug={'verify_password': 'x'})
    refused = run_playbook(playbook, variables, env={'DIGITRO_API_OVERRIDES': json.dumps(wrong)})
    assert refused.result['failed'] is True
    assert ('api_overrides has unknown key(s) slug; allowed: channel_id_field, events_path, fields, slugs'
            in refused.result['msg'])
    assert emulator.state()['stats'].get('op_validar-usuario') == 1  # the refused run sent nothing
