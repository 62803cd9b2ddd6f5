"""Mistakes that used to pass silently now fail loudly: a misspelled option, a host pattern that matches nothing."""
import pytest

from pabx_site import Site

PLAYBOOKS = ('rotate_passwords.yml', 'import_passwords.yml', 'audit_passwords.yml', 'dac_sessions.yml')
VALUE = '70707'  # a value that must never be shown


def pabx_requests(emulator):
    stats = emulator.state()['stats']
    return dict((op, stats.get(op, 0)) for op in ('op_verifica-senha', 'op_altera-senha', 'op_valida-usuario'))


def test_a_misspelled_option_fails_before_the_pabx_is_touched(start_emulator, tmp_path):
    emulator = start_emulator(devices=20, accounts=2, dac_devices=0)
    site = Site(emulator, tmp_path)
    imported = site.run('import_passwords.yml')  # correct variables: not affected by the check
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert 'entries imported' in imported.stdout
    store = site.store()
    run = site.run('rotate_passwords.yml', {'password_rotation_targes': VALUE})
    assert run.returncode != 0
    assert ('password_rotation_targes is not an option of digitro.pabx (did you mean password_rotation_targets?)'
            in run.stdout)
    assert 'ansible-doc -t role digitro.pabx.password_rotation' in run.stdout
    assert VALUE not in run.stdout + run.stderr
    assert pabx_requests(emulator) == {'op_verifica-senha': 0, 'op_altera-senha': 0, 'op_valida-usuario': 0}
    assert site.store() == store
    # spelled right, the same run gets past the check (what the role does then is its own tests' business)
    run = site.run('rotate_passwords.yml', {'password_rotation_targets': ','.join(list(emulator.site['devices'])[:2])},
                   check=True)
    assert 'Fail on unknown digitro.pabx variables (a misspelled option would be ignored)] ***' in run.stdout
    check = run.stdout.split('Fail on unknown digitro.pabx variables')[1].split('TASK [')[0]
    assert check.count('ok: [pabx1]') == 1
    assert 'is not an option of digitro.pabx' not in run.stdout


def test_a_misspelled_inventory_variable_fails_too(start_emulator, tmp_path):
    emulator = start_emulator(devices=5, accounts=0, dac_devices=2)
    site = Site(emulator, tmp_path, host_vars={'dac_sessions_rooster': [{'account': VALUE}]})
    run = site.run('dac_sessions.yml')
    assert run.returncode != 0
    assert 'dac_sessions_rooster is not an option of digitro.pabx (did you mean dac_sessions_roster?)' in run.stdout
    assert VALUE not in run.stdout + run.stderr
    assert not any(op.startswith('op_') for op in emulator.state()['stats'])


@pytest.mark.parametrize('playbook', PLAYBOOKS)
def test_no_inventory_fails_with_the_pattern(run_playbook, playbook):
    run = run_playbook('playbooks/' + playbook)  # no -i: only the implicit localhost exists
    assert run.rc != 0
    assert ("the host pattern 'pabx' matches no host of the inventory: check -i/--inventory, the group name "
            "(default 'pabx') or digitro_hosts") in run.output


def test_a_pattern_that_matches_no_host_fails(run_playbook, tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[pabx]\nsite-a\nsite-b\n')
    run = run_playbook('playbooks/audit_passwords.yml', {'digitro_hosts': 'site-x:site-y'},
                       args=('-i', str(inventory)))
    assert run.rc != 0
    assert "the host pattern 'site-x:site-y' matches no host of the inventory" in run.output
    assert 'PLAY [Audit' not in run.output  # stopped before the main play
    empty = tmp_path / 'empty.ini'
    empty.write_text('')
    run = run_playbook('playbooks/rotate_passwords.yml', args=('-i', str(empty)))
    assert run.rc != 0 and "the host pattern 'pabx' matches no host" in run.output


def test_a_pattern_that_matches_some_hosts_passes_the_check(run_playbook, tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[pabx]\nsite-a\nsite-b\n')
    # check mode, and a store secret missing on purpose: the role stops at its own settings check
    run = run_playbook('playbooks/audit_passwords.yml', {'digitro_hosts': 'site-a:site-b'},
                       args=('-i', str(inventory)), check=True, env={'DIGITRO_STORE_SECRET': ''})
    assert 'FAILED' not in run.output.split('PLAY [Audit')[0]
    assert 'ok: [site-a]' in run.output and 'ok: [site-b]' in run.output
    assert 'Credential store settings for site-a are incomplete' in run.output


def test_targets_that_select_nothing_fail_naming_the_option(start_emulator, tmp_path):
    emulator = start_emulator(devices=6, accounts=2, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    account = list(emulator.site['accounts'])[0]
    for variables, message in (
            ({'password_rotation_targets': '100000\n 999999'}, 'does not have: its 2nd item'),
            ({'password_rotation_pattern': '^9'}, "password_rotation_pattern '^9' matches none of the 8"),
            ({'password_rotation_pattern': '(['}, 'is not a valid regular expression'),
            ({'password_rotation_targets': account, 'password_rotation_accounts': False},
             'password_rotation_accounts is false')):
        run = site.run('rotate_passwords.yml', variables)
        assert run.returncode != 0 and message in run.stdout, run.stdout[-2000:]
        assert 'Traceback' not in run.stdout + run.stderr
    assert pabx_requests(emulator) == {'op_verifica-senha': 0, 'op_altera-senha': 0, 'op_valida-usuario': 0}


def test_quarantined_accounts_fail_a_devices_only_run_too(start_emulator, tmp_path):
    emulator = start_emulator(devices=4, accounts=2, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    account = list(emulator.site['accounts'])[0]
    emulator.control(set_passwords=[['accounts', account, '613029']])
    assert site.run('rotate_passwords.yml').returncode != 0   # found: quarantined
    run = site.run('rotate_passwords.yml', {'password_rotation_accounts': False})
    assert run.returncode != 0 and '1 entries are quarantined' in run.stdout
    assert emulator.state()['accounts'][account]['most_in_a_row'] == 1


def test_a_limit_outside_the_pabx_group_fails(run_playbook, tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[pabx]\nsite-a\n[other]\nweb1\n')
    run = run_playbook('playbooks/rotate_passwords.yml', args=('-i', str(inventory), '--limit', 'web1'))
    assert run.rc != 0
    assert "the host pattern 'pabx' with --limit web1 matches no host of the inventory" in run.output
    assert 'PLAY [Rotate' not in run.output


@pytest.mark.parametrize('playbook, variables', [
    ('set_passwords.yml', {'digitro_passwords': {'100001': VALUE + '1'}}),
    ('resolve_passwords.yml', {'digitro_passwords': {'100001': VALUE + '1'}}),
    ('remove_passwords.yml', {'digitro_numbers': '100001'}),
    ('restore_store.yml', {'digitro_store_version': 3}),
])
def test_a_playbook_for_one_pabx_refuses_several(run_playbook, tmp_path, playbook, variables):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[pabx]\nsite-a\nsite-b\n')
    run = run_playbook('playbooks/' + playbook, variables, args=('-i', str(inventory)))
    assert run.rc != 0
    assert "this playbook acts on one PABX at a time" in run.output and 'matches 2 hosts (site-a, site-b)' in run.output
    assert 'PLAY [' + playbook.split('_')[0].capitalize() not in run.output  # stopped before the main play
    assert VALUE not in run.output
    limited = run_playbook('playbooks/' + playbook, variables, args=('-i', str(inventory), '--limit', 'site-a'),
                           env={'DIGITRO_STORE_SECRET': ''})
    assert 'acts on one PABX at a time' not in limited.output and 'Credential store settings for site-a' in limited.output


def test_a_limit_that_names_a_missing_host_fails(run_playbook, tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[pabx]\nsite-a\nsite-b\nfe80::1\n')
    run = run_playbook('playbooks/audit_passwords.yml', args=('-i', str(inventory), '--limit', 'site-a,stie-b'))
    assert run.rc != 0 and 'the limit names stie-b, which the inventory does not have' in run.output
    (tmp_path / 'limit.txt').write_text('site-a\n')
    for limit in ('site-a:site-b', 'pabx:!site-b', 'site-*', '~site-[ab]', 'all', 'pabx[0:1]', '@limit.txt',
                  'site-a,fe80::1'):
        run = run_playbook('playbooks/audit_passwords.yml', args=('-i', str(inventory), '--limit', limit),
                           check=True, env={'DIGITRO_STORE_SECRET': ''})
        assert 'which the inventory does not have' not in run.output, limit
        assert 'Credential store settings for site-a' in run.output, limit


def test_two_pabx_hosts_on_one_pabx_or_one_store_fail_before_anything(run_playbook, tmp_path):
    inventory = tmp_path / 'inventory.ini'
    inventory.write_text('[pabx]\nsite-a\nsite-b digitro_url=https://127.0.0.1:9\n'
                         'site-c digitro_url=https://127.0.0.1:10 credential_store_path=%s/shared.store\n'
                         'site-d digitro_url=https://127.0.0.1:11 credential_store_path=%s/shared.store\n'
                         % (tmp_path, tmp_path))
    run = run_playbook('playbooks/rotate_passwords.yml', args=('-i', str(inventory)),
                       env={'DIGITRO_URL': 'https://127.0.0.1:9/'})
    assert run.rc != 0 and 'PLAY [Rotate' not in run.output
    assert 'site-a and site-b use one PABX URL' in run.output
    assert 'site-c and site-d use one credential store (file %s/shared.store)' % tmp_path in run.output
    limited = run_playbook('playbooks/rotate_passwords.yml', args=('-i', str(inventory), '--limit', 'site-b'),
                           env={'DIGITRO_URL': 'https://127.0.0.1:9/'})  # a limit does not hide the other host
    assert limited.rc != 0 and 'site-a and site-b use one PABX URL' in limited.output
