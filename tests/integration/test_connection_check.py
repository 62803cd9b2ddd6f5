"""The rotation's connection check (digitro_password with batch: []) runs in the action's worker, without a module
process, and answers as the module does: the same messages, warnings and result, and the same failures before
anything is staged."""
import json
import os

from conftest import API_KEY
from pabx_site import Site
from tls import make_certificate

CHECK = 'digitro.pabx.password_rotation : Check that the PABX answers before anything is staged'

# Each case runs twice: batch: [] (checked in the worker) and batch: '[]' (its JSON text: the module, as before).
PLAYBOOK = '''---
- name: Check the connection in the worker and by the module
  hosts: localhost
  gather_facts: false
  tasks:
    - name: In the worker
      digitro.pabx.digitro_password: &connection
        batch: []
        url: "{{ item.url | default(omit) }}"
        api_key: "{{ item.api_key | default(omit) }}"
        ca_path: "{{ item.ca_path | default(omit) }}"
        validate_certs: "{{ item.validate_certs | default(omit) }}"
        timeout: "{{ item.timeout | default(omit) }}"
      loop: "{{ cases }}"
      register: worker
      ignore_errors: true

    - name: By the module
      digitro.pabx.digitro_password:
        <<: *connection
        batch: '[]'
      loop: "{{ cases }}"
      register: module
      ignore_errors: true

    - name: Save the results for the test
      ansible.builtin.copy:
        content: "{{ {'worker': worker.results, 'module': module.results} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
'''

# Noted by every Python process started with it on PYTHONPATH: a module process (its code on standard input,
# AnsiballZ) writes its module's name (never its arguments); ansible-playbook and its workers write nothing.
SITECUSTOMIZE = '''import sys
if sys.argv[:1] in ([''], ['-']):
    with open(%r, 'a') as log:
        log.write('module\\n')
'''


COMPARED = ('failed', 'msg', 'status', 'changed', 'results', 'summary', 'warnings')


def _noting_modules(tmp_path):
    """(PYTHONPATH, log) under which each module process notes itself in the log."""
    log = str(tmp_path / 'module-runs.log')
    directory = tmp_path / 'noting'
    directory.mkdir()
    (directory / 'sitecustomize.py').write_text(SITECUSTOMIZE % log)
    return str(directory), log


def _runs(log):
    if not os.path.exists(log):
        return 0
    with open(log) as handle:
        return len(handle.read().split())


def test_the_check_runs_no_module_and_answers_as_the_module(start_emulator, run_playbook, tmp_path):
    cert, key = make_certificate(tmp_path)
    emulator, secure = start_emulator(devices=2, accounts=0, dac_devices=0), start_emulator(tls=(cert, key))
    not_pem = tmp_path / 'not-a-certificate.txt'
    not_pem.write_text('hello')
    # an environment of the task's own runs the module (it could break the module's Python): the worker reads the
    # environment fallbacks from its own process (the rotation tests below, and the unit tests)
    cases = [
        dict(url=emulator.url, api_key=API_KEY),                                      # answers
        dict(url=emulator.url, api_key='not-the-key'),                                # HTTP 401
        dict(url='http://127.0.0.1:9', api_key=API_KEY),                              # nobody there
        dict(),                                                                       # not set
        dict(url='http://user:s3cr3t@127.0.0.1:9', api_key=API_KEY),                  # userinfo, never echoed
        dict(url=secure.url, api_key=API_KEY),                                        # self-signed: refused
        dict(url=secure.url, api_key=API_KEY, ca_path=cert),                          # trusted
        dict(url=secure.url, api_key=API_KEY, ca_path=str(not_pem)),                  # not a certificate
        dict(url=secure.url, api_key=API_KEY, validate_certs=False),                  # warned
        dict(url=emulator.url, api_key=API_KEY, timeout='soon'),                      # the argument spec's own message
    ]
    pythonpath, log = _noting_modules(tmp_path)
    playbook = tmp_path / 'check.yml'
    playbook.write_text(PLAYBOOK)
    run = run_playbook(str(playbook), dict(cases=cases), env={'PYTHONPATH': pythonpath})
    assert run.rc == 0 and run.result, run.output[-3000:]
    assert _runs(log) == len(cases)  # the JSON text's tasks only: batch: [] started no module process
    for case, worker, module in zip(cases, run.result['worker'], run.result['module']):
        assert 'Traceback' not in json.dumps(worker)
        if isinstance(module.get('results'), str):  # a batch given as text gets its results as text
            module['results'] = json.loads(module['results'])
        assert dict((k, worker.get(k)) for k in COMPARED) == dict((k, module.get(k)) for k in COMPARED), case
    worker = run.result['worker']
    assert [bool(r.get('failed')) for r in worker] == [False, True, True, True, True, True, False, True, False, True]
    assert worker[0]['results'] == [] and worker[0]['summary'] == {} and worker[0]['changed'] is False
    assert 'HTTP 401' in worker[1]['msg'] and 'check api_key' in worker[1]['msg']
    assert 'url is not set' in worker[3]['msg'] and 'api_key is not set' in worker[3]['msg']
    assert 'must not carry a user name or password' in worker[4]['msg']
    assert 'certificate' in worker[5]['msg'].lower() and 'ca_path' in worker[5]['msg']
    assert 'ca_path %s cannot be read as CA certificates' % not_pem in worker[7]['msg']
    assert 'validate_certs is false' in run.output
    answers = json.dumps([dict((k, r.get(k)) for k in COMPARED) for r in worker])  # the items hold them: not those
    for secret in ('not-the-key', API_KEY, 's3cr3t'):
        assert secret not in answers


def _rotation_site(start_emulator, tmp_path, env=None, **emulator_settings):
    emulator = start_emulator(devices=30, accounts=2, dac_devices=0, **emulator_settings)
    site = Site(emulator, tmp_path)
    site.env.update(env or {})
    done = site.run('import_passwords.yml')
    assert done.returncode == 0, done.stdout[-3000:]
    return site


def _store_bytes(site):
    with open(site.store_path, 'rb') as handle:
        return handle.read()


def _fails_at_the_check(site, expected, variables=None):
    before = _store_bytes(site)
    run = site.run('rotate_passwords.yml', variables)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    failed_task = output[:output.index('fatal: ')].rsplit('TASK [', 1)[1].split(']', 1)[0]
    assert failed_task == CHECK, output[-3000:]
    assert expected in output, output[-3000:]
    assert 'Traceback' not in output and 'not-the-key' not in output and API_KEY not in output
    assert _store_bytes(site) == before  # nothing staged
    assert 'op_verifica-senha' not in site.emulator.state()['stats'] and site.mismatched() == []


def test_a_rotation_with_a_wrong_key_or_url_fails_at_the_check(start_emulator, tmp_path):
    site = _rotation_site(start_emulator, tmp_path)
    site.env['DIGITRO_API_KEY'] = 'not-the-key'
    _fails_at_the_check(site, 'check api_key')
    site.env.update(DIGITRO_API_KEY=API_KEY, DIGITRO_URL='http://127.0.0.1:9')
    _fails_at_the_check(site, 'Could not open the event channel at http://127.0.0.1:9')
    del site.env['DIGITRO_URL']
    _fails_at_the_check(site, 'url is not set: set the PABX host\'s variable digitro_url')


def test_a_rotation_with_an_unreadable_ca_path_fails_at_the_check(start_emulator, tmp_path):
    cert, key = make_certificate(tmp_path)
    site = _rotation_site(start_emulator, tmp_path, env={'DIGITRO_CA_PATH': cert}, tls=(cert, key))
    not_pem = tmp_path / 'not-a-certificate.txt'
    not_pem.write_text('hello')
    site.env['DIGITRO_CA_PATH'] = str(not_pem)
    _fails_at_the_check(site, 'ca_path %s cannot be read as CA certificates' % not_pem)
    site.env['DIGITRO_CA_PATH'] = cert  # and with the certificate, the rotation goes on past the check
    run = site.run('rotate_passwords.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert site.mismatched() == [] and site.emulator.state()['stats']['op_altera-senha'] == 32


def test_a_rotation_whose_module_cannot_start_fails_at_the_check(start_emulator, tmp_path):
    """localhost names a Python that does not exist: the rotation's module cannot run, so neither may its check
    pass (it did in the worker, and the rotation staged and saved PINs it never sent)."""
    site = _rotation_site(start_emulator, tmp_path)
    with open(site.inventory) as handle:
        inventory = json.load(handle)
    inventory['all'] = {'hosts': {'localhost': {'ansible_connection': 'local',
                                                'ansible_python_interpreter': '/nonexistent/python3'}}}
    with open(site.inventory, 'w') as handle:
        json.dump(inventory, handle)
    _fails_at_the_check(site, '/nonexistent/python3')
    # a shell meant for the managed hosts, set for all of them, reaches the implicit localhost too
    inventory['all'] = {'vars': {'ansible_shell_executable': '/nonexistent/bash'}}
    with open(site.inventory, 'w') as handle:
        json.dump(inventory, handle)
    _fails_at_the_check(site, 'fatal: ')
