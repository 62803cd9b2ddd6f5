"""The hashi_vault credential store backend against a real OpenBao dev server: import, rotation, versions,
check-and-set against a second writer, a killed run and its rerun, loud failures, and no PIN on disk."""
import json
import os
import random
import subprocess
import time

import pytest

import openbao as bao  # tests/openbao.py
from pabx_site import HOST
from ansible_collections.digitro.pabx.plugins.plugin_utils._run_lock import read_holder
from test_no_plaintext_on_disk import assert_no_pin_on_disk, changes, kill_job, start_job, tail

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks')
HOLD = os.path.join(PLAYBOOKS, 'store_hold.yml')
ROTATE = {'password_rotation_concurrency': 4}


@pytest.fixture(scope='module', name='openbao')
def openbao_server(tmp_path_factory):
    """One OpenBao dev server for this module's tests."""
    yield from bao.serve(tmp_path_factory)


def vault_site(start_emulator, tmp_path, openbao, name='site', imported=True, devices=10, **host_vars):
    workdir = tmp_path / name
    workdir.mkdir()
    site = bao.VaultSite(start_emulator(devices=devices, accounts=2, dac_devices=0, random_seed=len(name) + devices),
                         workdir, openbao, host_vars=host_vars)
    if imported:
        done = site.run('import_passwords.yml')
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return site


def store_tasks(site, *calls):
    """Run digitro.pabx.hashi_vault_store once per dict of ``calls`` in one playbook; [(failed, msg, result)]."""
    result = os.path.join(site.workdir, 'task-result.json')
    playbook = os.path.join(site.workdir, 'task.yml')
    tasks = [{'name': 'Call %d' % number, 'digitro.pabx.hashi_vault_store': dict({'path': site.vault_path}, **args),
              'register': 'call_%d' % number, 'ignore_errors': True} for number, args in enumerate(calls)]
    tasks.append({'name': 'Tell the test', 'delegate_to': 'localhost', 'ansible.builtin.copy': {
        'content': '{{ [%s] | to_json }}' % ', '.join('call_%d' % number for number in range(len(calls))),
        'dest': result, 'mode': '0600'}})
    with open(playbook, 'w') as handle:
        json.dump([{'hosts': 'pabx', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}], handle)
    done = subprocess.run(site.command(playbook), cwd=site.workdir, env=site.env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0 and os.path.exists(result), done.stdout[-3000:] + done.stderr[-2000:]
    with open(result) as handle:
        found = json.load(handle)
    os.remove(result)
    for one in found:
        assert site.openbao.token not in json.dumps(one)
    return [(bool(one.get('failed')), ' '.join(str(one.get('msg', '')).split()), one) for one in found]


def store_task(site, **args):
    return store_tasks(site, args)[0]


def test_import_rotate_and_the_versions_as_history(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao)
    imported = site.store()
    assert imported['generation'] == 1 and len(imported['devices']) == 10 and len(imported['accounts']) == 2
    assert not os.path.exists(os.path.join(site.workdir, 'credentials', HOST + '.store'))  # nothing on disk
    rotated = site.run('rotate_passwords.yml', ROTATE)
    assert rotated.returncode == 0, rotated.stdout[-3000:]
    assert site.mismatched() == []
    store = site.store()
    assert store['generation'] > 1
    (failed, msg, listed), (failed_too, msg_too, first) = store_tasks(site, {'list_versions': True}, {'version': 1})
    assert not failed and not failed_too, msg + msg_too
    versions = listed['versions']
    assert [v['version'] for v in versions] == list(range(store['generation'], 0, -1))  # newest first
    assert versions[0]['current'] and not any(v['current'] for v in versions[1:])
    assert versions[-1]['devices'] == 10 and versions[-1]['accounts'] == 2
    assert all(v['generation'] == v['version'] and len(v['saved_at']) == 20 and v['saved_at'].endswith('Z')
               for v in versions)
    assert first['generation'] == store['generation']  # a restore saves with cas on the current one
    assert first['data'] == dict((k, v) for k, v in imported.items() if k != 'generation')
    # restore_store on KV's versions: the listing, then version 1 saved with check-and-set on the current one
    listed_run = site.run('restore_store.yml')
    assert listed_run.returncode == 0, listed_run.stdout[-3000:]
    restored = site.run('restore_store.yml', {'digitro_store_version': 1})
    assert restored.returncode == 0, restored.stdout[-3000:]
    after = site.store()
    assert after['generation'] == store['generation'] + 1
    state = site.emulator.state()
    for kind in ('devices', 'accounts'):  # every PIN the PABX holds stays a candidate of the restored store
        for number, record in state[kind].items():
            entry = after[kind][number]
            known = [entry['current'], entry['pending']] + entry['history'] + [s['password'] for s in entry['sent']]
            assert record['password'] in known


def vault_lock(openbao, site):
    """The run lock secret beside the site's store ({} when there is none)."""
    return (openbao.request('GET', 'secret/data/%s.lock' % site.vault_path).get('data') or {}).get('data') or {}


def test_a_second_writer_is_refused_by_check_and_set(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao)
    before = site.store()
    failed, _msg, loaded = store_task(site)
    assert not failed and loaded['generation'] == 1 and loaded['exists']
    openbao.put(site.vault_path, dict(loaded['data'], marker='another run'))  # another writer, version 2
    stale = dict(loaded['data'], devices={})
    failed, text, _result = store_task(site, data=stale, expect_generation=1)
    assert failed
    assert ('changed since this run loaded it (generation 1, now 2): another run wrote it; Vault refused the '
            'check-and-set write and nothing was saved') in text, text[-2000:]
    after = site.store()
    assert after['generation'] == 2 and after['marker'] == 'another run' and after['devices'] == before['devices']
    # two whole runs at once on two controllers (two run lock files, as two AWX execution nodes): the lock secret
    # beside the store in Vault orders them; the second waits, then fails naming the holder, and writes nothing
    lock = os.path.join(site.workdir, 'other-node.run.lock')
    first = subprocess.Popen(site.command(HOLD, {'store_hold_seconds': 6, 'store_hold_marker': '90001'}),
                             cwd=site.workdir, env=site.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_lock = os.path.join(site.workdir, 'credentials', HOST + '.run.lock')
    deadline = time.monotonic() + 60
    while not vault_lock(openbao, site).get('owner') and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)  # the first run holds its locks: it loads now, and saves 6 s later
    assert read_holder(first_lock), first.communicate(timeout=60)[0][-3000:]
    second = site.run(HOLD, {'store_hold_seconds': 0, 'store_hold_marker': '90002', 'credential_store_lock_file': lock,
                             'credential_store_lock_timeout': 1})
    first_output = first.communicate(timeout=300)[0]
    text = ' '.join(second.stdout.split())
    assert second.returncode != 0 and 'is locked by another run: host' in text and 'credential_store_break_lock' in text, \
        text[-2000:]
    assert first.returncode == 0, first_output[-3000:]
    final = site.store()
    assert final['devices']['90001']['current'] == '434343' and '90002' not in final['devices']
    assert final['generation'] == 4
    released = vault_lock(openbao, site)
    assert released['owner'] == '' and released['released_at']
    # the lock free again, the other node runs
    again = site.run(HOLD, {'store_hold_seconds': 0, 'store_hold_marker': '90002', 'credential_store_lock_file': lock})
    assert again.returncode == 0, again.stdout[-3000:]
    assert site.store()['devices']['90002']['current'] == '434343'


def test_a_killed_run_then_a_rerun_lose_nothing_and_leave_no_pin_on_disk(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao, imported=False, devices=150)
    # as the file backend's leak scan: Ansible's temporary directories inside the workdir, every file read
    temp = {'HOME': tmp_path / 'site' / 'home', 'ANSIBLE_REMOTE_TMP': tmp_path / 'site' / 'home' / 'tmp',
            'ANSIBLE_LOCAL_TEMP': tmp_path / 'site' / 'local-tmp', 'TMPDIR': tmp_path / 'site' / 'tmp'}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    site.env.update(dict((name, str(path)) for name, path in temp.items()))
    site.temp_dirs = [str(path) for path in temp.values()]
    started = time.time()
    done = site.run('import_passwords.yml')
    assert done.returncode == 0, done.stdout[-3000:]
    rng, kills = random.Random(1414), 0
    for number in range(3):
        before = changes(site)
        job = start_job(site, number, ROTATE)
        deadline = time.monotonic() + 120
        while changes(site) < before + rng.randint(3, 25) and job.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if job.poll() is None:
            kill_job(job)
            kills += 1
        if kills == 1:
            break
    assert kills == 1, tail(job.log)
    rerun = site.run('rotate_passwords.yml', ROTATE)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert site.mismatched() == [] and site.unknown_to_store() == []
    assert_no_pin_on_disk(site, started)


def test_failures_are_loud_and_name_no_secret(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao, imported=False)
    openbao.request('POST', 'sys/mounts/kv-one', {'type': 'kv', 'options': {'version': '1'}})
    calls = store_tasks(site, {}, {'token': 'not-a-real-token-4c1d'}, {'mount': 'nowhere'}, {'mount': 'kv-one'},
                        {'url': 'http://127.0.0.1:9'}, {'data': {'schema': 2}})
    (failed, _msg, found), bad_token, no_mount, kv_one, unreachable, no_cas = calls
    # no store yet: an empty read
    assert not failed and found['exists'] is False and found['generation'] == 0 and found['data'] == {}
    assert bad_token[0] and 'refused the token (unknown, expired or revoked)' in bad_token[1]
    assert 'not-a-real-token-4c1d' not in bad_token[1]
    assert no_mount[0] and 'there is no secrets engine mounted at nowhere/' in no_mount[1]
    assert kv_one[0] and 'is not a KV version 2 engine' in kv_one[1]
    assert unreachable[0] and 'the Vault server http://127.0.0.1:9 is unreachable' in unreachable[1]
    assert no_cas[0] and 'writes only with check-and-set: give expect_generation' in no_cas[1]
    # the role's load says to import first
    loaded = site.run('rotate_passwords.yml')
    assert loaded.returncode != 0 and 'no credential store for %s at Vault secret/%s' % (HOST, site.vault_path) in \
        ' '.join(loaded.stdout.split())
    site.env.update(HOME=site.workdir)  # no ~/.vault-token there
    site.env.pop('VAULT_TOKEN')
    failed, msg, _result = store_task(site)
    assert failed and 'no Vault credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID' in msg


def test_approle_login(start_emulator, tmp_path, openbao):
    site = vault_site(start_emulator, tmp_path, openbao, imported=False)
    openbao.request('POST', 'sys/auth/approle', {'type': 'approle'})
    policy = ('path "secret/data/digitro-pabx/*" { capabilities = ["create", "read", "update"] }\n'
              'path "secret/metadata/digitro-pabx/*" { capabilities = ["read"] }\n')
    openbao.request('PUT', 'sys/policies/acl/digitro-pabx', {'policy': policy})
    openbao.request('POST', 'auth/approle/role/pabx', {'token_policies': ['digitro-pabx']})
    role_id = openbao.request('GET', 'auth/approle/role/pabx/role-id')['data']['role_id']
    secret_id = openbao.request('POST', 'auth/approle/role/pabx/secret-id')['data']['secret_id']
    site.env.pop('VAULT_TOKEN')
    site.env.update(VAULT_ROLE_ID=role_id, VAULT_SECRET_ID=secret_id)
    done = site.run('import_passwords.yml')
    assert done.returncode == 0, done.stdout[-3000:]
    assert site.store()['generation'] == 1 and secret_id not in done.stdout + done.stderr
    failed, msg, result = store_task(site, mount='secret', path='elsewhere/%s' % HOST)
    assert failed and 'permission denied' in msg and secret_id not in json.dumps(result)


def test_the_journal_stays_a_controller_file_and_reaches_the_vault_store(start_emulator, tmp_path, openbao):
    """The wrong-attempt journal of the hashi_vault backend is <inventory dir>/credentials/<host>.journal (a
    persistent path in AWX: docs/awx.md); what a killed run left there is in the store after the next save."""
    site = vault_site(start_emulator, tmp_path, openbao)
    number = sorted(site.store()['devices'])[0]
    journal = os.path.join(site.workdir, 'credentials', HOST + '.journal')
    assert not os.path.exists(journal)
    with open(journal, 'w') as handle:  # what a killed run's module wrote: one wrong attempt, never a PIN
        handle.write(json.dumps({'kind': 'devices', 'number': number, 'wrong_attempts': 1}) + '\n')
    done = site.run(HOLD, {'store_hold_seconds': 0, 'store_hold_marker': '90003'})
    assert done.returncode == 0, done.stdout[-3000:]
    store = site.store()
    assert store['devices'][number]['wrong_attempts'] == 1 and store['devices']['90003']['current'] == '434343'
    assert not os.path.exists(journal) and not os.path.exists(journal + '.taken')
