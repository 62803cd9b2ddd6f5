"""Attacks on check_api's ledger across runs (the re-attack of issue 17): another spelling of the URL, an
unwritable reports directory, two runs at once, a run killed with a PIN in flight, a reset flag left on. None of
them may cost an extension more than one wrong attempt."""
import json
import os
import signal
import subprocess
import time

from conftest import API_KEY, REPO_ROOT
from fakepabx import Fake
from pabx_site import Site, api_check_vars

WRONG = '99999999'


def _site(start_emulator, tmp_path, **more):
    emulator = start_emulator(devices=3, accounts=2, dac_devices=1, lockout_threshold=3)
    variables = dict(api_check_vars(emulator), digitro_check_device_password=WRONG)
    variables.update(more)
    return emulator, Site(emulator, tmp_path, variables), variables['digitro_check_device']


def test_another_spelling_of_the_url_finds_the_same_ledger(start_emulator, tmp_path):
    emulator, site, device = _site(start_emulator, tmp_path)
    first = site.run('check_api.yml')
    assert first.returncode != 0
    port = emulator.url.rsplit(':', 1)[1]
    for spelling in ('http://localhost:%s' % port, 'http://LOCALHOST:%s' % port, 'http://127.1:%s' % port):
        site.env['DIGITRO_URL'] = spelling
        site.run('check_api.yml')
    record = emulator.state()['devices'][device]
    # the PIN refused once is never sent again, at most one wrong attempt caused by check_api
    assert record['wrong_attempts'] == 1 and not record['locked'], record


def test_an_unwritable_ledger_stops_the_probe_before_any_pin(start_emulator, tmp_path):
    blocker = tmp_path / 'not-a-dir'
    blocker.write_text('x')
    emulator, site, device = _site(start_emulator, tmp_path)
    extra = {'password_rotation_report_dir': str(blocker / 'reports')}
    runs = [site.run('check_api.yml', extra) for _run in range(3)]
    assert all(r.returncode != 0 for r in runs)
    record = emulator.state()['devices'][device]
    # the ledger's writability is checked before any PIN is sent; at most one wrong attempt
    assert record['wrong_attempts'] <= 1 and not record['locked'], (record, runs[-1].stdout[-1500:])


def test_two_runs_at_once_cost_at_most_one_wrong_attempt(start_emulator, tmp_path):
    emulator, site, device = _site(start_emulator, tmp_path)
    command = site.command('check_api.yml')
    procs = [subprocess.Popen(command, cwd=site.workdir, env=site.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _job in range(2)]
    for proc in procs:
        proc.wait(timeout=300)
    record = emulator.state()['devices'][device]
    assert record['wrong_attempts'] <= 1, record


def test_a_pin_in_flight_when_the_run_is_killed_counts_for_the_next_run(tmp_path):
    reports = tmp_path / 'reports'
    inventory = tmp_path / 'inventory.json'
    with Fake('verifyslow', API_KEY, slow=60) as fake:
        variables = {'password_rotation_report_dir': str(reports), 'digitro_check_device': '1001',
                     'digitro_check_device_password': WRONG}
        inventory.write_text(json.dumps({'pabx': {'hosts': {'pabx1': variables}}}))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, '.venv', 'collections'),
                   DIGITRO_URL=fake.url, DIGITRO_API_KEY=API_KEY, PYTHONPATH='')
        command = [os.path.join(REPO_ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', str(inventory),
                   os.path.join(REPO_ROOT, 'playbooks', 'check_api.yml')]

        def pin_posts():
            return [s for s in fake.seen if s[0] == 'POST' and s[3] and WRONG in s[3]]

        proc = subprocess.Popen(command, cwd=str(tmp_path), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 120
        while not pin_posts() and time.time() < deadline:
            time.sleep(0.1)
        assert pin_posts(), 'the PIN was never sent'
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        fake.slow = 0
        fake.mode = 'ok200'  # the PABX now answers at once
        subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True, timeout=300, check=False)
        # the first run recorded the PIN as maybe-counted before sending it; the second sends no PIN
        assert len(pin_posts()) == 1, [p[1] for p in pin_posts()]


def test_a_reset_flag_left_on_is_taken_once(start_emulator, tmp_path):
    emulator, site, device = _site(start_emulator, tmp_path)
    for wrong in ('11111111', '22222222', '33333333'):
        site.run('check_api.yml', {'digitro_check_device_password': wrong,
                                   'digitro_check_wrong_attempts_reset': True})
    record = emulator.state()['devices'][device]
    # expected (suggested): a reset is refused when the ledger's count was already reset and nothing was accepted
    # since, or the ledger keeps a total that the flag does not clear
    assert not record['locked'], record
