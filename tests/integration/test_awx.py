"""AWX as far as this machine allows: the execution environment definition, and a job run the way AWX runs it."""
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys

import jinja2
import yaml

from conftest import API_KEY, REPO_ROOT, ansible_env, build_and_install
from emulator.seed import write_csv

AWX_DIR = os.path.join(REPO_ROOT, 'playbooks', 'awx')
BIN = os.path.dirname(sys.executable)


def credential_type():
    with open(os.path.join(AWX_DIR, 'credential_type.yml')) as handle:
        return yaml.safe_load(handle)


def injected_env(inputs, ca_file):
    """The environment AWX's injectors would set for a credential with these inputs."""
    injectors = credential_type()['digitro_awx_credential_type_injectors']
    context = dict(inputs, tower={'filename': ca_file})
    return dict((name, jinja2.Template(template).render(**context)) for name, template in injectors['env'].items())


def test_credential_type_injects_what_the_collection_reads():
    spec = credential_type()
    fields = set(field['id'] for field in spec['digitro_awx_credential_type_inputs']['fields'])
    assert fields == {'url', 'api_key', 'validate_certs', 'ca_cert', 'store_secret'}
    env = injected_env({'url': 'https://pabx', 'api_key': 'k', 'validate_certs': True, 'ca_cert': '', 'store_secret': 's'},
                       '/tmp/ca.pem')
    assert env == {'DIGITRO_URL': 'https://pabx', 'DIGITRO_API_KEY': 'k', 'DIGITRO_VALIDATE_CERTS': 'True',
                   'DIGITRO_STORE_SECRET': 's', 'DIGITRO_CA_PATH': ''}
    secret_fields = [f['id'] for f in spec['digitro_awx_credential_type_inputs']['fields'] if f.get('secret')]
    secret_vars = [name for name, template in spec['digitro_awx_credential_type_injectors']['env'].items()
                   if any(field in template for field in secret_fields)]
    assert secret_vars == ['DIGITRO_API_KEY', 'DIGITRO_STORE_SECRET']
    assert all(re.search('KEY|SECRET|PASSWORD|TOKEN', name) for name in secret_vars)  # names AWX redacts in job_env
    for name in ('DIGITRO_URL', 'DIGITRO_API_KEY', 'DIGITRO_VALIDATE_CERTS', 'DIGITRO_CA_PATH'):
        with open(os.path.join(REPO_ROOT, 'plugins', 'module_utils', '_module.py')) as handle:
            assert name in handle.read()  # the env_fallback the modules read


def test_execution_environment_definition(tmp_path):
    tarball, collections = build_and_install(tmp_path)
    context = tmp_path / 'ee'
    shutil.copytree(AWX_DIR, context)
    shutil.copy(tarball, context)
    created = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', 'execution-environment.yml',
                              '--context', 'context', '--output-filename', 'Containerfile'], cwd=str(context), capture_output=True, text=True, check=False)
    assert created.returncode == 0, created.stdout + created.stderr
    with open(context / 'context' / 'Containerfile') as handle:
        containerfile = handle.read()
    assert 'COPY _build/collections/ /build/collections/' in containerfile
    assert (context / 'context' / '_build' / 'collections' / os.path.basename(tarball)).exists()
    introspect = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'introspect', '--sanitize', collections],
                                capture_output=True, text=True, check=False)
    assert introspect.returncode == 0 and 'requests' in introspect.stdout, introspect.stdout + introspect.stderr


def private_data_dir(tmp_path, emulator, collections, secret):
    """A private data directory laid out as AWX lays one out for a job."""
    pdd = tmp_path / 'pdd'
    shutil.copytree(os.path.join(REPO_ROOT, 'playbooks'), pdd / 'project' / 'playbooks')
    (pdd / 'inventory').mkdir()
    (pdd / 'env').mkdir()
    write_csv(emulator.site, str(tmp_path / 'initial.csv'))
    (pdd / 'inventory' / 'hosts').write_text('[pabx]\npabx1 credential_store_path=%s\n' % (tmp_path / 'store' / 'pabx1'))
    (pdd / 'env' / 'extravars').write_text(json.dumps({
        'credential_store_import_csv': str(tmp_path / 'initial.csv'),
        'password_rotation_report_dir': str(tmp_path / 'reports'),
        'digitro_pin_policy': {'length': 8}}))
    env = injected_env({'url': emulator.url, 'api_key': API_KEY, 'validate_certs': True, 'ca_cert': '',
                        'store_secret': secret}, '')
    env.update(ANSIBLE_COLLECTIONS_PATH=collections)
    (pdd / 'env' / 'envvars').write_text(json.dumps(env))
    return pdd


def run_job(pdd, playbook, ident):
    """ansible-runner's transmit | worker | process pipeline, as AWX runs a job on an execution node."""
    worker_dir, job_dir = pdd.parent / ('worker-' + ident), pdd.parent / ('job-' + ident)
    worker_dir.mkdir()
    job_dir.mkdir()
    runner = os.path.join(BIN, 'ansible-runner')
    command = '%s transmit %s -p playbooks/%s --ident %s | %s worker --private-data-dir %s | %s process %s' % (
        runner, pdd, playbook, ident, runner, worker_dir, runner, job_dir)
    path = BIN + os.pathsep + os.environ.get('PATH', '')   # the worker runs ansible-playbook from PATH, as in an EE
    done = subprocess.run(['bash', '-o', 'pipefail', '-c', command], capture_output=True, text=True,
                          env=ansible_env({'PATH': path}), timeout=600, check=False)
    return done, job_dir / 'artifacts'


def eight_digit_pins(emulator):
    """PINs no job-event timestamp (six digits of microseconds) can look like."""
    changes = []
    for kind in ('devices', 'accounts'):
        for number, spec in emulator.site[kind].items():
            spec['password'] = '%08d' % random.SystemRandom().randrange(10 ** 7, 10 ** 8)
            changes.append([kind, number, spec['password']])
    emulator.control(set_passwords=changes)


def test_rotation_job_as_awx_runs_it(start_emulator, tmp_path):
    emulator = start_emulator(devices=100, accounts=5, dac_devices=0)
    eight_digit_pins(emulator)
    _tarball, collections = build_and_install(tmp_path)
    secret = 'store-secret-5b2e91c7'
    pdd = private_data_dir(tmp_path, emulator, collections, secret)
    imported, _artifacts = run_job(pdd, 'import_passwords.yml', 'import')
    assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]
    done, artifacts = run_job(pdd, 'rotate_passwords.yml', 'rotate')
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (artifacts / 'status').read_text().strip() == 'successful'
    events = [json.loads(open(path).read()) for path in glob.glob(str(artifacts / 'job_events' / '*.json'))]
    stats = [e for e in events if e.get('event') == 'playbook_on_stats'][0]['event_data']['artifact_data']
    assert stats['digitro_rotation_rotated'] == 105 and stats['digitro_rotation_failed'] == 0
    secrets = [API_KEY, secret]
    secrets += [spec['password'] for kind in ('devices', 'accounts') for spec in emulator.site[kind].values()]
    secrets += [r['password'] for kind in ('devices', 'accounts') for r in emulator.state()[kind].values()]
    seen = [done.stdout, done.stderr]
    for path in glob.glob(str(pdd.parent / 'job-*' / '**' / '*'), recursive=True):
        # artifacts/command is ansible-runner's record of the job's inputs, environment included (AWX keeps it
        # as job_env and hides variables named like secrets; see test_credential_type_injects_...).
        if os.path.isfile(path) and os.path.basename(path) != 'command':
            with open(path, errors='replace') as handle:
                seen.append(handle.read())
    text = '\n'.join(seen)
    leaked = [s for s in set(secrets) if re.search(r'(?<![0-9])%s(?![0-9])' % re.escape(s), text)]
    assert leaked == [], '%d secrets found in the job output or artifacts' % len(leaked)
