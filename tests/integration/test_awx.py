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
import pytest
import yaml

import awx_rules  # tests/awx_rules.py: AWX's validators, reimplemented
from conftest import API_KEY, REPO_ROOT, ansible_env, build_and_install
import openbao as bao  # tests/openbao.py
from emulator.seed import write_csv

AWX_DIR = os.path.join(REPO_ROOT, 'playbooks', 'awx')
BIN = os.path.dirname(sys.executable)


@pytest.fixture(scope='module', name='openbao')
def openbao_server(tmp_path_factory):
    """One OpenBao dev server for this module's tests."""
    yield from bao.serve(tmp_path_factory)


class _Loader(yaml.SafeLoader):
    """Safe loading that takes Ansible's !unsafe tag (AWX's templates are passed to AWX untouched)."""


_Loader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))


def load_yaml(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=_Loader)


def credential_type():
    return load_yaml(os.path.join(AWX_DIR, 'credential_type.yml'))


class _Filenames(object):
    def __init__(self, **names):
        self.__dict__.update(names)


def injected_env(inputs, ca_file='', vault_ca_file=''):
    """The environment AWX's injectors would set for a credential with these inputs, by AWX's own rule
    (awx/main/models/credential/__init__.py, inject_credential): a boolean input missing from the credential is
    False, whatever the type's ``default`` says; a string input missing or empty renders as ''."""
    spec = credential_type()
    context = dict((f['id'], False if f.get('type') == 'boolean' else '')
                   for f in spec['digitro_awx_credential_type_inputs']['fields'])
    context.update(inputs)
    context['tower'] = {'filename': _Filenames(pabx_ca=ca_file, vault_ca=vault_ca_file)}
    injectors = spec['digitro_awx_credential_type_injectors']
    return dict((name, jinja2.Template(template).render(**context)) for name, template in injectors['env'].items())


def test_credential_type_injects_what_the_collection_reads():
    spec = credential_type()
    fields = set(field['id'] for field in spec['digitro_awx_credential_type_inputs']['fields'])
    assert fields == {'url', 'api_key', 'skip_tls_verify', 'ca_cert', 'store_secret', 'vault_addr', 'vault_token',
                      'vault_role_id', 'vault_secret_id', 'vault_namespace', 'vault_skip_verify', 'vault_ca_cert'}
    # a credential without the booleans (AWX injects a missing boolean as False): TLS stays verified
    env = injected_env({'url': 'https://pabx', 'api_key': 'k', 'store_secret': 's'})
    assert env == {'DIGITRO_URL': 'https://pabx', 'DIGITRO_API_KEY': 'k', 'DIGITRO_VALIDATE_CERTS': 'true',
                   'DIGITRO_STORE_SECRET': 's', 'DIGITRO_CA_PATH': '', 'VAULT_ADDR': '', 'VAULT_TOKEN': '',
                   'VAULT_ROLE_ID': '', 'VAULT_SECRET_ID': '', 'VAULT_NAMESPACE': '', 'VAULT_SKIP_VERIFY': 'false',
                   'VAULT_CACERT': ''}
    env = injected_env({'api_key': 'k', 'vault_addr': 'https://vault:8200', 'vault_token': 't', 'ca_cert': 'PEM',
                        'vault_ca_cert': 'PEM', 'vault_skip_verify': True, 'skip_tls_verify': True}, '/tmp/a.pem',
                       '/tmp/b.pem')
    assert env['VAULT_ADDR'] == 'https://vault:8200' and env['VAULT_TOKEN'] == 't'
    assert env['DIGITRO_CA_PATH'] == '/tmp/a.pem' and env['VAULT_CACERT'] == '/tmp/b.pem'
    assert env['VAULT_SKIP_VERIFY'] == 'true' and env['DIGITRO_VALIDATE_CERTS'] == 'false'
    secret_fields = [f['id'] for f in spec['digitro_awx_credential_type_inputs']['fields'] if f.get('secret')]
    secret_vars = [name for name, template in spec['digitro_awx_credential_type_injectors']['env'].items()
                   if any(re.search(r'\b%s\b' % field, template) for field in secret_fields)]
    assert secret_vars == ['DIGITRO_API_KEY', 'DIGITRO_STORE_SECRET', 'VAULT_TOKEN', 'VAULT_SECRET_ID']
    assert all(re.search('KEY|SECRET|PASSWORD|TOKEN', name) for name in secret_vars)  # names AWX redacts in job_env
    with open(os.path.join(REPO_ROOT, 'plugins', 'module_utils', '_module.py')) as handle:
        module = handle.read()
    for name in ('DIGITRO_URL', 'DIGITRO_API_KEY', 'DIGITRO_VALIDATE_CERTS', 'DIGITRO_CA_PATH'):
        assert name in module  # the env_fallback the modules read
    from ansible_collections.digitro.pabx.plugins.plugin_utils._hashi_vault import ENVIRONMENT
    read = set(name for _option, names in ENVIRONMENT for name in names) | {'VAULT_SKIP_VERIFY'}
    assert set(n for n in env if n.startswith('VAULT_')) <= read  # what the hashi_vault backend reads


def test_credential_type_passes_awx_validation():
    spec = credential_type()
    inputs, injectors = spec['digitro_awx_credential_type_inputs'], spec['digitro_awx_credential_type_injectors']
    assert awx_rules.validate_injectors(injectors, inputs) == []
    # the rules are real: AWX refuses community.hashi_vault's ANSIBLE_HASHI_VAULT_* names and a mixed file syntax
    wrong = dict(injectors, env=dict(injectors['env'], ANSIBLE_HASHI_VAULT_TOKEN='{{ vault_token }}'),
                 file=dict(injectors['file'], template='{{ ca_cert }}'))
    errors = awx_rules.validate_injectors(wrong, inputs)
    assert 'Must use multi-file syntax when injecting multiple files' in errors
    assert ('Environment variable ANSIBLE_HASHI_VAULT_TOKEN may affect Ansible configuration so its use is not '
            'allowed in credentials.') in errors
    assert set(inputs['required']) <= set(f['id'] for f in inputs['fields'])


def configure_play():
    return load_yaml(os.path.join(REPO_ROOT, 'playbooks', 'awx_configure.yml'))[0]


def test_every_schedule_passes_awxs_rrule_validation():
    play = configure_play()
    variables = play['vars']
    schedules = variables['digitro_awx_schedules']
    assert len(schedules) == 4
    for timezone in (variables['digitro_awx_timezone'], 'UTC', 'Europe/Lisbon'):
        for schedule in schedules:
            rrule = jinja2.Template(schedule['rrule']).render(
                digitro_awx_timezone=timezone, digitro_awx_schedule_start=variables['digitro_awx_schedule_start'])
            assert awx_rules.validate_rrule(rrule) == [], (schedule['name'], rrule)
    monthly = jinja2.Template(schedules[0]['rrule']).render(**variables)
    assert awx_rules.rrulestr(monthly)[0].day == 1  # the first of the month
    # the rules are real: what the previous version of the playbook sent is refused, as AWX refused it
    old = 'DTSTART;TZID=America/Sao_Paulo:20261130T074500 RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'
    assert awx_rules.validate_rrule(old)[0].startswith('INTERVAL required in rrule')
    assert 'naive datetime' in awx_rules.validate_rrule('DTSTART:20261201T020000 RRULE:FREQ=MONTHLY;INTERVAL=1')[0]
    assert 'TZID' in ' '.join(awx_rules.validate_rrule('DTSTART;TZID=Nowhere/Atlantis:20261201T020000 '
                                                       'RRULE:FREQ=MONTHLY;INTERVAL=1'))


def ansible_doc_options(modules):
    """{module: its option names}, from ansible-doc of the installed collections (one call for all)."""
    done = subprocess.run([os.path.join(BIN, 'ansible-doc'), '--json'] + sorted(set(modules)), capture_output=True,
                          text=True, env=ansible_env(), check=True)
    return dict((name, set(doc['doc']['options'])) for name, doc in json.loads(done.stdout).items())


def test_awx_module_arguments_exist_in_the_installed_awx_collection():
    play = configure_play()
    tasks = play['tasks']
    used = [(name, task[name]) for task in tasks for name in task if name.startswith('awx.awx.')]
    assert len(used) == 10
    options = ansible_doc_options(module for module, _args in used)
    for module, args in used:
        unknown = set(args) - options[module]
        assert unknown == set(), '%s: %s' % (module, sorted(unknown))
    modules = [module for module, _args in used]
    assert modules.index('awx.awx.host') < modules.index('awx.awx.group')  # a group looks its hosts up by name
    group = dict(used)['awx.awx.group']
    assert group['preserve_existing_hosts'] is True
    email = dict(used)['awx.awx.notification_template']['notification_configuration']
    assert set(email) == awx_rules.EMAIL_PARAMETERS
    assert all('{{' in str(value) for name, value in email.items() if name in ('host', 'sender'))  # not hard-coded
    templates = play['vars']['digitro_awx_job_templates']
    playbooks = set(t['playbook'] for t in templates)
    assert 'import_passwords.yml' in playbooks
    assert all(os.path.exists(os.path.join(AWX_DIR, 'project', path)) for path in playbooks)  # the example project
    assert dict(used)['awx.awx.job_template']['extra_vars'] == '{{ digitro_awx_store_settings }}'
    host_vars = dict(used)['awx.awx.host']['variables']
    assert 'dac_sessions_roster' in host_vars and 'dac_sessions_roster_csv' in host_vars


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
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr
    assert 'requests' in introspect.stdout and 'hvac' in introspect.stdout, introspect.stdout  # the EE gets both


def private_data_dir(tmp_path, emulator, collections, openbao):
    """A private data directory laid out as AWX lays one out for a job, with the store in OpenBao as
    awx_configure.yml's job templates keep it."""
    pdd = tmp_path / 'pdd'
    shutil.copytree(os.path.join(REPO_ROOT, 'playbooks'), pdd / 'project' / 'playbooks')
    (pdd / 'inventory').mkdir()
    (pdd / 'env').mkdir()
    write_csv(emulator.site, str(tmp_path / 'initial.csv'))
    (pdd / 'inventory' / 'hosts').write_text('[pabx]\npabx1\n')
    (pdd / 'env' / 'extravars').write_text(json.dumps({
        'credential_store_backend': 'hashi_vault', 'credential_store_hashi_vault_mount': 'secret',  # the template's
        'credential_store_import_csv': str(tmp_path / 'initial.csv'),
        'password_rotation_report_dir': str(tmp_path / 'reports'),
        # AWX's own extra variable, and the journal and lock that awx_configure.yml passes (a persistent path)
        'awx_job_id': 42, 'credential_store_journal_file': str(tmp_path / 'state' / '{{ inventory_hostname }}.journal'),
        'credential_store_lock_file': str(tmp_path / 'state' / '{{ inventory_hostname }}.run.lock'),
        'digitro_pin_policy': {'length': 8}}))
    env = injected_env({'url': emulator.url, 'api_key': API_KEY, 'vault_addr': openbao.url,
                        'vault_token': openbao.token})
    env = dict((name, value) for name, value in env.items() if value)  # AWX sets them all; empty ones mean unset
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


def test_rotation_job_as_awx_runs_it(start_emulator, tmp_path, openbao):
    emulator = start_emulator(devices=100, accounts=5, dac_devices=0, latency=0.03)
    eight_digit_pins(emulator)
    _tarball, collections = build_and_install(tmp_path)
    pdd = private_data_dir(tmp_path, emulator, collections, openbao)
    extravars = json.loads((pdd / 'env' / 'extravars').read_text())
    # a few seconds of requests, so that the job's output gets progress lines (about 5 s at 2 in flight)
    extravars.update(password_rotation_concurrency=2, digitro_progress_interval=1)
    (pdd / 'env' / 'extravars').write_text(json.dumps(extravars))
    imported, _artifacts = run_job(pdd, 'import_passwords.yml', 'import')
    assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]
    done, artifacts = run_job(pdd, 'rotate_passwords.yml', 'rotate')
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (artifacts / 'status').read_text().strip() == 'successful'
    events = [json.loads(open(path).read()) for path in glob.glob(str(artifacts / 'job_events' / '*.json'))]
    stats = [e for e in events if e.get('event') == 'playbook_on_stats'][0]['event_data']['artifact_data']
    assert stats['digitro_rotation_rotated'] == 105 and stats['digitro_rotation_failed'] == 0
    assert openbao.store('digitro-pabx/pabx1')['generation'] > 1  # the store is in OpenBao
    # the module's progress reaches the job's output as it comes, as events AWX shows
    progress = [e for e in events if 'entries done' in e.get('stdout', '')]
    assert progress and all(e['event'] == 'verbose' for e in progress), [e.get('stdout') for e in progress]
    secrets = [API_KEY, openbao.token]
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


def test_navigator_runs_the_rotation_from_the_example_project_with_the_store_in_openbao(start_emulator, tmp_path,
                                                                                        openbao):
    """The example AWX project, run as a laptop would run it: ansible-navigator, no EE, the store in OpenBao."""
    emulator = start_emulator(devices=10, accounts=2, dac_devices=0)
    project = tmp_path / 'project'
    shutil.copytree(os.path.join(AWX_DIR, 'project'), project)
    before = sorted(os.listdir(project))
    write_csv(emulator.site, str(tmp_path / 'initial.csv'))
    path = 'digitro-pabx/navigator/site-a'
    (tmp_path / 'inventory.json').write_text(json.dumps({'pabx': {'hosts': {'site-a': {}}, 'vars': {
        'credential_store_backend': 'hashi_vault', 'credential_store_hashi_vault_path': path,
        'credential_store_import_csv': str(tmp_path / 'initial.csv'),
        'password_rotation_report_dir': str(tmp_path / 'reports')}}}))
    env = ansible_env(dict(openbao.env(), DIGITRO_URL=emulator.url, DIGITRO_API_KEY=API_KEY, HOME=str(tmp_path),
                           PATH=BIN + os.pathsep + os.environ.get('PATH', '')))
    outputs = []
    for playbook in ('import_passwords.yml', 'rotate_passwords.yml'):
        done = subprocess.run([os.path.join(BIN, 'ansible-navigator'), 'run', playbook, '-i',
                               str(tmp_path / 'inventory.json'), '--ee', 'false', '--mode', 'stdout'],
                              cwd=str(project), env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        outputs.append(done.stdout + done.stderr)
    store, state = openbao.store(path), emulator.state()
    assert store['generation'] > 1
    for kind in ('devices', 'accounts'):
        for number, record in state[kind].items():
            assert record['password'] == store[kind][number]['current'] and not store[kind][number]['pending']
            assert record['password'] != emulator.site[kind][number]['password']  # rotated
    pins = [e['current'] for kind in ('devices', 'accounts') for e in store[kind].values()]
    pins += [spec['password'] for kind in ('devices', 'accounts') for spec in emulator.site[kind].values()]
    assert [pin for pin in pins if pin in '\n'.join(outputs)] == [] and openbao.token not in '\n'.join(outputs)
    assert sorted(os.listdir(project)) == before  # no artifact left in the project
