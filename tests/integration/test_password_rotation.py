"""The password_rotation role against the emulator: scale, idempotence, interruption, faults, refused PINs."""
import os
import signal
import subprocess
import time

from pabx_site import Site


def imported_site(start_emulator, tmp_path, **emulator_settings):
    devices = emulator_settings.pop('devices', 50)
    accounts = emulator_settings.pop('accounts', 5)
    emulator = start_emulator(devices=devices, accounts=accounts, dac_devices=0, **emulator_settings)
    site = Site(emulator, tmp_path)
    done = site.run('import_passwords.yml')
    assert done.returncode == 0, done.stdout + done.stderr
    return site


def test_rotates_1000_extensions_and_a_second_run_does_nothing(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path, devices=1000, accounts=20)
    before = site.emulator.passwords()
    run = site.run('rotate_passwords.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert 'devices 1-1000 of 1000' in run.stdout  # progress
    assert site.mismatched() == []                  # every real password is the store's current one
    after = site.emulator.passwords()
    assert all(after[n] != before[n] for n in before)
    report = site.latest_report()
    assert report['counts']['rotated'] == 1020 and report['counts']['failed'] == 0
    assert 'rotated' in site.latest_report('.txt')
    ops = site.emulator.state()['stats']
    assert ops['op_altera-senha'] == 1020 and ops['op_verifica-senha'] == 2040  # 3 requests per rotation
    again = site.run('rotate_passwords.yml', {'password_rotation_max_age_days': 30})
    assert again.returncode == 0
    assert site.latest_report()['counts']['skipped'] == 1020
    assert site.emulator.passwords() == after
    assert site.emulator.state()['stats']['op_altera-senha'] == 1020


def test_check_mode_plans_and_writes_nothing(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path)
    store_before = site.store()
    for check, variables in ((True, None), (False, {'digitro_dry_run': 'true'})):   # --check, or an AWX survey
        run = site.run('rotate_passwords.yml', variables, check=check)
        assert run.returncode == 0, run.stdout[-3000:]
        assert 'would_rotate' in run.stdout and 'dry run: no PIN changed' in run.stdout
        # the plan is a report file too (for a change request), accounts included as what they would be
        report = site.latest_report()
        assert report['check_mode'] and report['counts']['skipped'] == 0
        assert report['counts']['would_rotate'] == len(store_before['devices']) + len(store_before['accounts'])
        assert site.store() == store_before
        assert 'op_altera-senha' not in site.emulator.state()['stats']


def test_a_killed_run_is_rolled_forward(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path, devices=160, accounts=0, latency=0.05)
    job = site.start('rotate_passwords.yml', {'password_rotation_concurrency': 4})
    deadline = time.monotonic() + 120
    while site.emulator.state()['stats'].get('op_altera-senha', 0) < 40 and time.monotonic() < deadline:
        time.sleep(0.2)
    # SIGKILL to the job's process group. From ansible-core 2.19 the workers run in sessions of their own, so the
    # worker and its module survive it until the worker sees its job gone (_controller_watch.py) and the module
    # lets its requests in flight finish: the next run's module waits for it (the lock file).
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    assert site.unknown_to_store() == []  # staged before the PABX was touched
    pending = sum(1 for entry in site.store()['devices'].values() if entry['pending'])
    assert pending == 160
    # the next run settles every change in doubt by verification only: never a second change request (the
    # killed job's module finishes its chunk first, and the next module waits for it)
    run = site.run('rotate_passwords.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert site.mismatched() == []
    assert site.emulator.state()['stats']['op_altera-senha'] <= 160
    rows = site.latest_report()['entries']
    rolled = [r for r in rows if 'interrupted' in r['reason']]
    assert len(rolled) >= 40 and all(r['status'] in ('rotated', 'verified') for r in rows)  # rolled forward
    # and the run after rotates those whose change never applied, once each
    not_applied = sum(1 for r in rows if r['status'] == 'verified')
    initial = {n: spec['password'] for n, spec in site.emulator.site['devices'].items()}
    assert site.run('rotate_passwords.yml', {'password_rotation_max_age_days': 1,
                                             'password_rotation_late_apply_hours': 0}).returncode == 0
    assert site.emulator.state()['stats']['op_altera-senha'] <= 160 + not_applied
    assert site.mismatched() == [] and all(p != initial[n] for n, p in site.emulator.passwords().items())
    assert max(d['wrong_attempts'] for d in site.emulator.state()['devices'].values()) <= 2
    # nothing of the killed job may be left by now (tests/integration/test_killed_job.py says why); in case, end it
    subprocess.run(['pkill', '-9', '-f', site.inventory], check=False)


def test_faults_never_lose_a_password(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path, devices=200, accounts=10, fault_seed=11,
                         drop_after_apply_rate=0.1, delayed_apply_rate=0.1, apply_delay=1.0, error_rate=0.05)
    variables = {'password_rotation_max_fail_percent': 100, 'password_rotation_confirm_timeout': 3}
    run = site.run('rotate_passwords.yml', variables)
    assert run.returncode == 0, run.stdout[-3000:]
    faults = site.emulator.state()['faults']
    assert faults['drop_after_apply'] and faults['delayed_apply'] and faults['error_500']
    assert site.unknown_to_store() == []
    site.emulator.control(settings={'error_rate': 0, 'drop_after_apply_rate': 0, 'delayed_apply_rate': 0})
    time.sleep(1.5)  # let delayed changes land
    for _attempt in range(3):
        if not site.mismatched():
            break
        assert site.run('rotate_passwords.yml', variables).returncode == 0
    assert site.mismatched() == []
    state = site.emulator.state()
    assert not any(r['locked'] for kind in ('devices', 'accounts') for r in state[kind].values())


def test_a_refused_pin_gets_a_fresh_one_not_a_loop(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path, devices=100, accounts=0, pin_reject_pattern='^[0-4]')
    run = site.run('rotate_passwords.yml', {'password_rotation_refused_retries': 3,
                                            'password_rotation_max_fail_percent': 100})
    assert run.returncode == 0, run.stdout[-3000:]
    assert site.mismatched() == []  # a refused entry keeps its current PIN, and the store knows it
    counts = site.latest_report()['counts']
    assert counts['rotated'] >= 75  # half the PINs are refused each round; 4 rounds leave ~6 of 100 (P(>25) ~ 0)
    assert counts['rotated'] + counts['failed'] == 100
    assert site.emulator.state()['stats']['op_altera-senha'] <= 100 * 4
    initial = {n: spec['password'] for n, spec in site.emulator.site['devices'].items()}
    assert all(p[0] in '56789' for n, p in site.emulator.passwords().items() if p != initial[n])


def test_wrong_store_secret_stops_before_the_pabx(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path)
    site.env['DIGITRO_STORE_SECRET'] = 'not-the-secret'
    run = site.run('rotate_passwords.yml')
    assert run.returncode != 0
    assert 'Could not read the credential store' in run.stdout and 'does not decrypt it' in run.stdout
    assert 'op_verifica-senha' not in site.emulator.state()['stats']


def test_custom_store_backend(start_emulator, tmp_path):
    emulator = start_emulator(devices=20, accounts=0, dac_devices=0)
    files = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'files')
    document = str(tmp_path / 'external-secret-store.json')
    site = Site(emulator, tmp_path, host_vars={
        'credential_store_backend': 'custom', 'custom_store_document': document,
        'credential_store_load_tasks': os.path.join(files, 'custom_store_load.yml'),
        'credential_store_save_tasks': os.path.join(files, 'custom_store_save.yml')})
    imported = site.run('import_passwords.yml')
    assert imported.returncode == 0, imported.stdout[-3000:]
    run = site.run('rotate_passwords.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert not os.path.exists(site.store_path) and os.path.exists(document)
    site.store_path = document
    assert site.mismatched() == []


def test_a_long_module_run_shows_its_progress_and_never_a_number(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path, devices=120, accounts=0, latency=0.03)
    run = site.run('rotate_passwords.yml', {'password_rotation_concurrency': 2, 'digitro_progress_interval': 1})
    assert run.returncode == 0, run.stdout[-3000:]
    lines = [line for line in run.stdout.splitlines() if 'entries done' in line]
    assert len(lines) >= 2, run.stdout[-3000:]  # about 5 s of requests, a line a second
    assert all(line.startswith('pabx1: digitro_password ') and ' of 120 entries done, 0 failed (' in line
               for line in lines), lines
    numbers = set(site.store()['devices'])
    assert not any(number in line for line in lines for number in numbers if len(number) > 3)
    quiet = site.run('rotate_passwords.yml', {'password_rotation_concurrency': 2, 'digitro_progress_interval': 0})
    assert quiet.returncode == 0 and 'entries done' not in quiet.stdout


def test_a_progress_interval_that_is_not_seconds_fails_before_the_pabx_is_asked(start_emulator, tmp_path):
    site = imported_site(start_emulator, tmp_path, devices=5, accounts=0)
    run = site.run('rotate_passwords.yml', {'digitro_progress_interval': 'often'})
    assert run.returncode != 0
    assert "digitro_progress_interval must be 0 (no progress) or a number of seconds from 1 to 3600, not 'often'" \
        in run.stdout, run.stdout[-3000:]
    assert 'op_altera-senha' not in site.emulator.state()['stats']
