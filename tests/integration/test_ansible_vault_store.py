"""The ansible_vault_store action: an encrypted, atomic, truthful store file on the controller."""
import json
import os
import stat

from ansible.parsing.vault import VaultLib, VaultSecret

PLAYBOOK = 'tests/integration/playbooks/ansible_vault_store.yml'
SECRET = 'store-secret-6172'
STORE = {'schema': 1, 'devices': {'1000': {'current': '583920', 'pending': None, 'history': [], 'changed_at': None}},
         'accounts': {}}


def store_run(run_playbook, path, check=False, verbosity=0, **variables):
    return run_playbook(PLAYBOOK, dict(variables, store_path=str(path), store_secret=SECRET), check=check,
                        verbosity=verbosity)


def test_write_then_read_back_encrypted_and_private(run_playbook, tmp_path):
    path = tmp_path / 'credentials' / 'pabx1.store'
    written = store_run(run_playbook, path, store_data=STORE, verbosity=3)
    assert written.result['changed'] is True and written.result['exists'] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    content = path.read_bytes()
    assert content.startswith(b'$ANSIBLE_VAULT;1.2;AES256;digitro_pabx') and b'583920' not in content
    assert json.loads(VaultLib([('x', VaultSecret(SECRET.encode()))]).decrypt(content)) == dict(STORE, generation=1)
    assert '583920' not in written.output and SECRET not in written.output  # shown at -vvv, hidden as no_log
    read = store_run(run_playbook, path)
    assert read.result['data'] == STORE and read.result['changed'] is False and read.result['generation'] == 1


def test_saving_the_same_store_changes_nothing_and_check_mode_writes_nothing(run_playbook, tmp_path):
    path = tmp_path / 'pabx1.store'
    store_run(run_playbook, path, store_data=STORE)
    before = path.read_bytes()
    assert store_run(run_playbook, path, store_data=STORE).result['changed'] is False
    other = dict(STORE, devices={'1000': dict(STORE['devices']['1000'], current='690417')})
    checked = store_run(run_playbook, path, check=True, store_data=other)
    assert checked.result['changed'] is True and path.read_bytes() == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.pabx1.store')]  # no temporary file left


def test_missing_file_reads_empty_and_bad_files_fail_clearly(run_playbook, tmp_path):
    missing = store_run(run_playbook, tmp_path / 'none.store')
    assert missing.result['data'] == {} and missing.result['exists'] is False and missing.result['generation'] == 0
    empty = tmp_path / 'empty.store'
    empty.write_bytes(b'')
    assert store_run(run_playbook, empty).result['data'] == {}  # an empty file is no store, as a missing one
    plain = tmp_path / 'plain.store'
    plain.write_text(json.dumps(STORE))
    failed = store_run(run_playbook, plain)
    assert failed.result['failed'] and 'is not an Ansible Vault file' in failed.result['msg']
    assert '583920' not in failed.output
    encrypted = tmp_path / 'pabx1.store'
    store_run(run_playbook, encrypted, store_data=STORE)
    wrong = run_playbook(PLAYBOOK, dict(store_path=str(encrypted), store_secret='another-secret-99'))
    assert wrong.result['failed'] and 'does not decrypt it' in wrong.result['msg']
    lines = encrypted.read_bytes().splitlines()
    for cut in (lines[:3], lines[:-1] + [lines[-1][:-4]]):   # cut at a line, or mid-line (a full disk, a bad copy)
        truncated = tmp_path / 'truncated.store'
        truncated.write_bytes(b'\n'.join(cut) + b'\n')
        damaged = store_run(run_playbook, truncated)
        assert damaged.result['failed'] and 'truncated or damaged' in damaged.result['msg']
        assert 'does not decrypt' not in damaged.result['msg']


def decrypt(path):
    return json.loads(VaultLib([('x', VaultSecret(SECRET.encode()))]).decrypt(path.read_bytes()))


def test_generation_counts_writes_and_a_stale_save_is_refused(run_playbook, tmp_path):
    path = tmp_path / 'pabx1.store'
    first = store_run(run_playbook, path, store_data=STORE, store_expect_generation=0)
    assert first.result['changed'] is True and first.result['generation'] == 1
    other = dict(STORE, devices={'1000': dict(STORE['devices']['1000'], current='690417')})
    second = store_run(run_playbook, path, store_data=other, store_expect_generation=1)
    assert second.result['generation'] == 2 and decrypt(path)['generation'] == 2
    # the same content again: nothing written, the generation stays
    same = store_run(run_playbook, path, store_data=other, store_expect_generation=2)
    assert same.result['changed'] is False and same.result['generation'] == 2
    before = path.read_bytes()
    stale = store_run(run_playbook, path, store_data=STORE, store_expect_generation=1)
    assert stale.result['failed'] and path.read_bytes() == before
    assert ('the credential store %s changed since this run loaded it (generation 1, now 2): another run wrote it; '
            'nothing was saved' % path) in stale.result['msg']
    assert '583920' not in stale.output and '690417' not in stale.output
    checked = store_run(run_playbook, path, check=True, store_data=STORE, store_expect_generation=0)
    assert checked.result['failed'] and path.read_bytes() == before  # check mode checks it too
    # without expect_generation, as before generations: written, and counted
    forced = store_run(run_playbook, path, store_data=STORE)
    assert forced.result['changed'] is True and decrypt(path) == dict(STORE, generation=3)


def test_an_old_store_without_generation_is_generation_0(run_playbook, tmp_path):
    path = tmp_path / 'pabx1.store'
    path.write_bytes(VaultLib([('x', VaultSecret(SECRET.encode()))]).encrypt(json.dumps(STORE)))
    read = store_run(run_playbook, path)
    assert read.result['generation'] == 0 and read.result['data'] == STORE
    assert store_run(run_playbook, path, store_data=STORE, store_expect_generation=1).result['failed']
    saved = store_run(run_playbook, path, store_data=dict(STORE, accounts={}), store_expect_generation=0)
    assert saved.result['failed'] is False and saved.result['changed'] is False  # same content
