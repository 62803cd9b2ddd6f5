"""Attack round 14 on the hashi_vault backend and the AWX configuration, as regression tests against a real OpenBao
dev server and the emulator: AWX jobs and their journal, two nodes at once (the run lock in Vault), TLS in the AWX
credential, a deleted latest version, a hand-edited secret, connection settings pasted wrong, the example
project's navigator settings, awx_configure.yml's check of the schedules."""
import json
import os
import signal
import subprocess
import time

import pytest
import yaml

import openbao as bao  # tests/openbao.py
from awx_rules import validate_rrule
from test_awx import injected_env

from ansible_collections.digitro.pabx.plugins.plugin_utils import _hashi_vault as hv

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(os.path.abspath(os.sys.executable))


@pytest.fixture(scope='module', name='openbao')
def openbao_server(tmp_path_factory):
    yield from bao.serve(tmp_path_factory)


def vault_site(start_emulator, tmp_path, openbao, name='site', devices=10, accounts=2, emulator_settings=None,
               **host_vars):
    workdir = tmp_path / name
    workdir.mkdir()
    site = bao.VaultSite(start_emulator(devices=devices, accounts=accounts, dac_devices=0, random_seed=len(name) + devices,
                                        **(emulator_settings or {})), workdir, openbao, host_vars=host_vars)
    done = site.run('import_passwords.yml')
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return site


def node_files(site, node):
    """The files of a run on another AWX node (or in another AWX job): its own run lock, journal, PABX lock."""
    base = os.path.join(str(site.workdir), node)
    os.makedirs(base, exist_ok=True)
    return dict(credential_store_lock_file=os.path.join(base, 'run.lock'),
                credential_store_journal_file=os.path.join(base, 'journal'),
                password_rotation_lock_file=os.path.join(base, 'pabx.lock'),
                password_rotation_report_dir=os.path.join(base, 'reports'))


def node_command(site, node, playbook, variables):
    command = site.command(playbook, dict(variables, **node_files(site, node)))
    extra = os.path.join(str(site.workdir), node + '-vars.json')
    os.replace(command[command.index('-e') + 1][1:], extra)
    command[command.index('-e') + 1] = '@' + extra
    return command


def wrong_attempts(site):
    return sum(r['wrong_attempts'] for r in site.emulator.state()['devices'].values())


def test_two_nodes_staggered_rotations_never_interleave(start_emulator, tmp_path, openbao):
    """Node B starts while node A, after its write-ahead save, changes PINs: B waits on the lock in Vault, then
    fails naming A, before it asks the PABX anything; nothing is overwritten and no wrong attempt is spent."""
    site = vault_site(start_emulator, tmp_path, openbao, devices=10, accounts=0, emulator_settings={'latency': 0.1})
    rotate = {'password_rotation_concurrency': 1}
    a = subprocess.Popen(node_command(site, 'node-a', 'rotate_passwords.yml', rotate), cwd=site.workdir,
                         env=site.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while site.store()['generation'] < 2 and a.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.poll() is None, 'node A finished before node B could start'
    b = subprocess.run(node_command(site, 'node-b', 'rotate_passwords.yml',
                                    dict(rotate, credential_store_lock_timeout=2)),
                       cwd=site.workdir, env=site.env, capture_output=True, text=True, timeout=600, check=False)
    a_out = a.communicate(timeout=600)[0]
    b_out = ' '.join(b.stdout.split())
    assert a.returncode == 0, a_out[-3000:]
    assert b.returncode != 0 and 'is locked by another run: host' in b_out, b_out[-2000:]
    assert 'credential_store_break_lock' in b_out and 'nothing was sent to the PABX' in b_out
    state = site.emulator.state()['devices']
    store = site.store()['devices']
    assert not [n for n, r in state.items() if r['password'] != store[n]['current'] or store[n].get('pending')]
    assert not [n for n, r in state.items() if r['wrong_attempts']]


def test_an_awx_job_without_a_persistent_journal_refuses_before_the_pabx(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao, devices=4, accounts=0)
    before = site.store()['generation']
    done = site.run('rotate_passwords.yml', {'awx_job_id': 4711})
    text = ' '.join(done.stdout.split())
    assert done.returncode != 0 and 'this run is an AWX job (4711)' in text, text[-2000:]
    assert 'Paths to expose to isolated jobs' in text and 'credential_store_journal_ephemeral' in text
    assert 'Take the run lock of the credential store]' not in text
    assert site.store()['generation'] == before and not wrong_attempts(site)
    store = site.store()['devices']
    assert all(r['password'] == store[n]['current'] for n, r in site.emulator.state()['devices'].items())
    accepted = site.run('rotate_passwords.yml', {'awx_job_id': 4712, 'credential_store_journal_ephemeral': True,
                                                 'digitro_dry_run': True})
    assert accepted.returncode == 0, accepted.stdout[-3000:]
    # the defaults spelt another way are still the defaults
    creds = os.path.join(site.workdir, 'credentials')
    spelt = site.run('rotate_passwords.yml', {'awx_job_id': 4713, 'digitro_dry_run': True,
                                              'credential_store_journal_file': creds + '//pabx1.journal',
                                              'credential_store_lock_file': creds + '/./pabx1.run.lock'})
    assert spelt.returncode != 0 and 'this run is an AWX job (4713)' in ' '.join(spelt.stdout.split())


def test_awx_jobs_killed_with_a_persistent_journal_never_lock_an_extension(start_emulator, tmp_path, openbao):
    """Each AWX job (awx_job_id) is killed after it spent wrong attempts; with the journal where awx_configure.yml
    puts it (a path that outlives the job), the next jobs know them, and no extension locks."""
    site = vault_site(start_emulator, tmp_path, openbao, devices=8, accounts=0, emulator_settings={'latency': 0.1})
    numbers = sorted(site.store()['devices'])
    site.emulator.control(set_passwords=[['devices', n, '%06d' % (424200 + i)] for i, n in enumerate(numbers)])
    kept = node_files(site, 'persistent')
    for job in range(5):
        before = wrong_attempts(site)
        variables = dict(kept, password_rotation_concurrency=1, awx_job_id=100 + job,
                         password_rotation_report_dir=os.path.join(str(site.workdir), 'job-%d' % job))
        command = site.command('rotate_passwords.yml', variables)
        extra = os.path.join(str(site.workdir), 'job-%d-vars.json' % job)
        os.replace(command[command.index('-e') + 1][1:], extra)
        command[command.index('-e') + 1] = '@' + extra
        run = subprocess.Popen(command, cwd=site.workdir, env=site.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while run.poll() is None and time.monotonic() < deadline and wrong_attempts(site) < before + 3:
            time.sleep(0.02)
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)  # AWX cancels the job, or its node is lost
        run.wait()
    state = site.emulator.state()['devices']
    assert wrong_attempts(site) >= 3  # the jobs did spend wrong attempts before they were killed
    locked = [n for n, r in state.items() if r.get('locked') or (r.get('in_a_row') or 0) >= 5]
    assert not locked, dict((n, r['wrong_attempts']) for n, r in state.items())


@pytest.mark.parametrize('operation', ['destroy'])  # delete takes the same way (a destroyed version is the harder)
def test_restore_store_recovers_from_a_deleted_latest_version(start_emulator, tmp_path, openbao, operation):
    site = vault_site(start_emulator, tmp_path, openbao, devices=4, accounts=0)
    assert site.run('rotate_passwords.yml', {'password_rotation_concurrency': 4}).returncode == 0
    latest = site.store()['generation']
    openbao.request('POST' if operation == 'delete' else 'PUT', 'secret/%s/%s' % (operation, site.vault_path),
                    {'versions': [latest]})
    rotation = site.run('rotate_passwords.yml')
    text = ' '.join(rotation.stdout.split())
    assert rotation.returncode != 0 and 'restore_store.yml' in text, text[-1500:]
    if operation == 'destroy':
        assert 'a destroyed version cannot be undeleted' in text
    listed = site.run('restore_store.yml')
    assert listed.returncode == 0, ' '.join(listed.stdout.split())[-1500:]
    restored = site.run('restore_store.yml', {'digitro_store_version': latest - 1})
    assert restored.returncode == 0, ' '.join(restored.stdout.split())[-1500:]
    assert site.store()['generation'] == latest + 1
    restored_store = site.store()
    assert restored_store['devices'] and all(entry['current'] for entry in restored_store['devices'].values())


def test_a_secret_edited_by_hand_fails_with_a_message_naming_the_entry(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao, devices=4, accounts=0)
    openbao.put(site.vault_path, {'schema': 2, 'devices': {'100000': '123456'}, 'accounts': {}})
    done = site.run('rotate_passwords.yml')
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert 'Traceback' not in out and 'object has no attribute' not in out, ' '.join(out.split())[-1500:]
    assert 'device entry 100000 is not a record' in ' '.join(out.split())
    assert '123456' not in out


def connect_message(**options):
    try:
        hv.KV2Store(dict(options), 'secret', 'digitro-pabx/probe').read()
    except hv.StoreError as exc:
        return str(exc)
    return None


def test_connection_settings_pasted_wrong(openbao):
    assert connect_message(url=openbao.url, token=openbao.token + '\n') is None
    assert connect_message(url=' %s/ ' % openbao.url, token=' %s ' % openbao.token) is None
    for address in (openbao.url.split('://')[1], openbao.url + '/v1'):
        message = connect_message(url=address, token=openbao.token)
        assert 'is not a server address' in message and 'refused the token' not in message, message
        assert openbao.token not in message
    message = connect_message(url=openbao.url.replace('http://', 'https://'), token=openbao.token)
    assert 'does not speak TLS' in message and 'not trusted' not in message, message


def test_awx_credential_without_the_tls_booleans_keeps_tls_verification_on():
    env = injected_env({'url': 'https://pabx.example.com:8443', 'api_key': 'k',
                        'vault_addr': 'https://vault.example.com:8200', 'vault_role_id': 'r', 'vault_secret_id': 's'})
    assert env['VAULT_SKIP_VERIFY'] == 'false' and env['DIGITRO_VALIDATE_CERTS'] == 'true', env


def test_example_projects_navigator_config_passes_everything_the_collection_reads():
    with open(os.path.join(REPO_ROOT, 'playbooks', 'awx', 'project', 'ansible-navigator.yml')) as handle:
        config = yaml.safe_load(handle)['ansible-navigator']
    passed = set(config['execution-environment']['environment-variables']['pass'])
    assert {'DIGITRO_URL', 'DIGITRO_API_KEY', 'DIGITRO_VALIDATE_CERTS', 'DIGITRO_CA_PATH', 'DIGITRO_STORE_SECRET',
            'VAULT_ADDR', 'VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_ROLE_ID', 'VAULT_SECRET_ID', 'VAULT_AUTH_MOUNT',
            'VAULT_CACERT', 'VAULT_SKIP_VERIFY'} <= passed


@pytest.mark.parametrize('odd', [{}, {'digitro_awx_schedule_start': '2026-12-01'},
                                 {'digitro_awx_timezone': 'Sao Paulo'},
                                 {'digitro_awx_timezone': 'America/Nowhere'},
                                 {'digitro_awx_schedules': [{'name': 'odd', 'template': 'PABX password audit',
                                                             'rrule': 'DTSTART;TZID=UTC:20261201T030000 '
                                                                      'RRULE:FREQ=WEEKLY;BYDAY=SU'}]}],
                         ids=['good', 'date_with_dashes', 'timezone_with_space', 'unknown_timezone', 'no_interval'])
def test_awx_configure_names_bad_schedules_before_touching_awx(tmp_path, odd):
    settings = {'digitro_awx_sites': [{'name': 'site-a', 'url': 'https://pabx-a:8443'}], 'digitro_awx_api_key': 'k',
                'digitro_awx_vault_addr': 'https://vault:8200', 'digitro_awx_vault_token': 't'}
    settings.update(odd)
    variables = tmp_path / 'settings.json'
    variables.write_text(json.dumps(settings))
    env = dict(os.environ, CONTROLLER_HOST='http://127.0.0.1:9', CONTROLLER_OAUTH_TOKEN='x', ANSIBLE_NOCOLOR='1')
    done = subprocess.run([os.path.join(BIN, 'ansible-playbook'), os.path.join(REPO_ROOT, 'playbooks', 'awx_configure.yml'),
                           '-e', '@%s' % variables], env=env, capture_output=True, text=True, timeout=300, check=False)
    out = ' '.join(done.stdout.split())
    if not odd:  # the defaults pass the checks; AWX (nobody at 127.0.0.1:9) is asked next
        assert 'TASK [Create the credential type]' in out, out[-1500:]
        return
    assert done.returncode != 0 and 'AWX would refuse these schedules' in out, out[-1500:]
    assert 'TASK [Create the credential type]' not in out
    if 'digitro_awx_schedules' not in odd and odd.get('digitro_awx_timezone') != 'America/Nowhere':
        tz = settings.get('digitro_awx_timezone', 'America/Sao_Paulo')
        start = settings.get('digitro_awx_schedule_start', '20261201')
        assert validate_rrule('DTSTART;TZID=%s:%sT020000 RRULE:FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=1' % (tz, start))
