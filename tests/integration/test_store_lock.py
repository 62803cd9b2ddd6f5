"""One writer per PABX: the credential store's run lock, its generation check, and loud loads."""
import json
import os
import signal
import subprocess
import time

from ansible.parsing.vault import VaultLib, VaultSecret

from pabx_site import HOST, Site

from ansible_collections.digitro.pabx.plugins.plugin_utils._run_lock import _is_locked, alive, read_holder

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks')
HOLD = os.path.join(PLAYBOOKS, 'store_hold.yml')
LOAD = os.path.join(PLAYBOOKS, 'store_load.yml')
STALE = os.path.join(PLAYBOOKS, 'store_stale.yml')


def small_site(start_emulator, tmp_path, name='site', imported=True, **host_vars):
    workdir = tmp_path / name
    workdir.mkdir()
    site = Site(start_emulator(devices=10, accounts=2, dac_devices=0), workdir, host_vars=host_vars)
    site.lock_path = site.store_path + '.run.lock'
    if imported:
        done = site.run('import_passwords.yml')
        assert done.returncode == 0, done.stdout + done.stderr
    return site


def hold(site, name, seconds, **variables):
    """Start store_hold.yml in its own process group; its result file is returned with it."""
    result = os.path.join(site.workdir, name + '.json')
    command = site.command(HOLD, dict(variables, store_hold_seconds=seconds, store_hold_marker=name,
                                      store_hold_result=result))
    # each run its own extra-vars file: Site.command writes one file per site
    extra = os.path.join(site.workdir, name + '-vars.json')
    os.replace(command[command.index('-e') + 1][1:], extra)
    command[command.index('-e') + 1] = '@' + extra
    process = subprocess.Popen(command, cwd=site.workdir, env=site.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return process, result


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def processes_of(site):
    """Pids of the processes of a site's runs (their command line names its inventory): ours to end."""
    found = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                with open('/proc/%s/cmdline' % name, 'rb') as handle:
                    if site.inventory.encode() in handle.read():
                        found.append(int(name))
            except OSError:
                pass
    return found


def test_two_runs_at_once_take_turns_and_lose_nothing(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    first, first_result = hold(site, '90001', 4)
    assert wait_until(lambda: read_holder(site.lock_path), 60), 'the first run never took the lock'
    second, second_result = hold(site, '90002', 0)
    first_output, second_output = first.communicate(timeout=300)[0], second.communicate(timeout=300)[0]
    assert first.returncode == 0, first_output[-3000:]
    assert second.returncode == 0, second_output[-3000:]
    with open(first_result) as handle:
        one = json.load(handle)
    with open(second_result) as handle:
        two = json.load(handle)
    assert two['locked_at'] >= one['unlocked_at']  # the second waited for the first's final save
    store = site.store()
    assert store['devices']['90001']['current'] == '434343' and store['devices']['90002']['current'] == '434343'
    assert store['generation'] == 1 + 2 + 2  # the import, then two saves per run
    assert one['lock'] == {} and two['lock'] == {} and read_holder(site.lock_path) == {}
    assert not _is_locked(site.lock_path)


def test_a_second_run_gives_up_after_the_timeout_naming_the_first(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    first, _result = hold(site, '90001', 15)
    try:
        assert wait_until(lambda: read_holder(site.lock_path), 60)
        holder = read_holder(site.lock_path)
        assert holder['watch_pid'] == first.pid  # the holder watches ansible-playbook, not the task's worker
        before = open(site.store_path, 'rb').read()
        began = time.monotonic()
        second = site.run(HOLD, {'credential_store_lock_timeout': 2, 'store_hold_seconds': 0,
                                 'store_hold_marker': '90002'})
        assert second.returncode != 0
        assert time.monotonic() - began >= 2
        output = ' '.join((second.stdout + second.stderr).split())
        assert ("another run of %s's credential store (pid %d, started at %s) still holds %s after 2s: wait for it "
                "to end; in AWX, leave concurrent jobs off on the job template"
                % (HOST, holder['pid'], holder['started_at'], site.lock_path)) in output, output[-3000:]
        assert open(site.store_path, 'rb').read() == before  # it never loaded, let alone saved
        assert alive(holder['pid']) and read_holder(site.lock_path) == holder  # the first run's lock is intact
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
        for pid in processes_of(site):
            os.kill(pid, signal.SIGKILL)


def test_a_killed_run_releases_the_lock_within_seconds(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    job, _result = hold(site, '90001', 30)
    try:
        assert wait_until(lambda: read_holder(site.lock_path), 60)
        holder = read_holder(site.lock_path)
        os.killpg(job.pid, signal.SIGKILL)  # as AWX cancels a job, or the OOM killer; the job is not reaped yet
        assert wait_until(lambda: not alive(holder['pid']), 3), 'the holder outlived its killed run'
        assert not _is_locked(site.lock_path)
        job.communicate()
        began = time.monotonic()
        again = site.run(HOLD, {'store_hold_seconds': 0, 'store_hold_marker': '90002'})
        assert again.returncode == 0, again.stdout[-3000:]
        assert time.monotonic() - began < 60
        assert '90002' in site.store()['devices'] and '90001' not in site.store()['devices']
    finally:
        for pid in processes_of(site):  # the killed job's worker outlives it (a session of its own)
            os.kill(pid, signal.SIGKILL)


def test_check_mode_takes_and_releases_the_lock_and_reports_no_change(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    before = open(site.store_path, 'rb').read()
    checked = site.run(HOLD, {'store_hold_seconds': 0}, check=True)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert 'Take the run lock' in checked.stdout
    assert open(site.store_path, 'rb').read() == before
    assert read_holder(site.lock_path) == {} and not _is_locked(site.lock_path)


def test_a_save_over_a_newer_store_is_refused(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    stale = site.run(STALE)
    assert stale.returncode != 0
    output = ' '.join(stale.stdout.split())
    assert ('the credential store %s changed since this run loaded it (generation 1, now 2): another run wrote it; '
            'nothing was saved' % site.store_path) in output, output[-3000:]
    store = site.store()
    assert '88888' in store['devices'] and '77777' not in store['devices'] and store['generation'] == 2
    assert '717171' not in stale.stdout + stale.stderr and '818181' not in stale.stdout + stale.stderr


def test_a_missing_store_fails_loudly_unless_allowed(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path, imported=False)
    missing = site.run(LOAD)
    assert missing.returncode != 0
    output = ' '.join(missing.stdout.split())
    assert ("no credential store for %s at %s: import the PABX's passwords first (digitro.pabx.import_passwords), or "
            "set credential_store_allow_empty=true for a deliberate first run" % (HOST, site.store_path)) in output
    allowed = site.run(LOAD, {'credential_store_allow_empty': True})
    assert allowed.returncode == 0, allowed.stdout[-3000:]
    assert 'loaded 0 devices, generation 0' in allowed.stdout
    os.makedirs(os.path.dirname(site.store_path), exist_ok=True)
    open(site.store_path, 'wb').close()  # an empty file: a store that lost its content
    assert 'no credential store for' in ' '.join(site.run(LOAD).stdout.split())
    assert site.run('import_passwords.yml').returncode == 0  # the import starts from nothing by itself
    loaded = site.run(LOAD)
    assert loaded.returncode == 0 and 'loaded 10 devices, generation 1' in loaded.stdout


def test_a_store_of_an_unknown_schema_fails(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path, imported=False)
    vault = VaultLib([('digitro_pabx', VaultSecret(site.secret.encode()))])
    for schema, loads in ((2, True), (3, False), ('1', False)):
        document = {'schema': schema, 'devices': {'1000': {'current': '583920', 'pending': None, 'history': [],
                                                           'changed_at': None}}, 'accounts': {}, 'generation': 4}
        os.makedirs(os.path.dirname(site.store_path), exist_ok=True)
        with open(site.store_path, 'wb') as handle:
            handle.write(vault.encrypt(json.dumps(document), vault_id='digitro_pabx'))
        run = site.run(LOAD)
        output = ' '.join(run.stdout.split())
        if loads:
            assert run.returncode == 0 and 'loaded 1 devices, generation 4' in output, output[-3000:]
        else:
            assert run.returncode != 0 and 'unknown schema' in output and 'Upgrade the collection' in output
            assert '583920' not in run.stdout + run.stderr


def test_custom_backend_is_locked_and_checks_its_generation(start_emulator, tmp_path):
    files = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'files')
    document = str(tmp_path / 'site' / 'external-secret-store.json')
    site = small_site(start_emulator, tmp_path, credential_store_backend='custom', custom_store_document=document,
                      credential_store_load_tasks=os.path.join(files, 'custom_store_load.yml'),
                      credential_store_save_tasks=os.path.join(files, 'custom_store_save.yml'))
    site.store_path = document
    site.lock_path = os.path.join(site.workdir, 'credentials', HOST + '.run.lock')
    assert site.store()['generation'] == 1
    first, _first_result = hold(site, '90001', 3)
    assert wait_until(lambda: read_holder(site.lock_path), 60)
    second, _second_result = hold(site, '90002', 0)
    assert first.communicate(timeout=300)[0] is not None and second.communicate(timeout=300)[0] is not None
    assert first.returncode == 0 and second.returncode == 0
    store = site.store()
    assert '90001' in store['devices'] and '90002' in store['devices'] and store['generation'] == 5


def test_a_lock_file_that_is_not_one_is_refused_and_left_intact(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    store_bytes = open(site.store_path, 'rb').read()
    for variables in ({'credential_store_lock_file': site.store_path},          # the store itself
                      {'credential_store_lock_file': site.store_path + '.save.lock'},
                      {'credential_store_lock_file': 'relative.lock'}):
        run = site.run('rotate_passwords.yml', variables, check=True)
        assert run.returncode != 0 and 'run lock file' in run.stdout + run.stderr, run.stdout[-1500:]
        assert open(site.store_path, 'rb').read() == store_bytes
    assert 'op_verifica-senha' not in site.emulator.state()['stats']


def test_two_hosts_sharing_one_store_fail_at_once(start_emulator, tmp_path):
    site = small_site(start_emulator, tmp_path)
    with open(site.inventory) as handle:
        inventory = json.load(handle)
    hosts = inventory['pabx']['hosts']
    hosts['pabx2'] = dict(hosts[HOST])
    with open(site.inventory, 'w') as handle:
        json.dump(inventory, handle)
    started = time.monotonic()
    run = site.run('audit_passwords.yml')
    # refused before the play (check_hosts.yml), naming both: the same URL and the same store
    assert run.returncode != 0 and '%s and pabx2 use one PABX URL' % HOST in run.stdout
    assert '%s and pabx2 use one credential store' % HOST in run.stdout and 'PLAY [Audit' not in run.stdout
    assert time.monotonic() - started < 120
