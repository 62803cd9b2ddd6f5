"""The collection builds, installs from its tarball, and every module's documentation renders from there.

Only the collection's own content ships (galaxy.yml's manifest: directives), and every shipped file carries the
licence.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest

from conftest import REPO_ROOT, ansible_env, build_and_install

MODULES = ['digitro_password', 'digitro_user_validate', 'digitro_dac_session', 'digitro_api_check']
ROLES = ['password_rotation', 'password_audit', 'dac_sessions', 'credential_store']
BIN = os.path.dirname(sys.executable)


def test_build_install_and_ansible_doc(tmp_path):
    tarball, collections = build_and_install(tmp_path)
    names = tarball_files(tarball)
    assert 'plugins/modules/digitro_password.py' in names
    assert not [n for n in names if not ships(n) and n not in GENERATED], sorted(names)
    env = ansible_env({'ANSIBLE_COLLECTIONS_PATH': collections})
    for module in MODULES:
        doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), 'digitro.pabx.' + module], capture_output=True,
                             text=True, env=env, cwd=str(tmp_path), check=False)
        assert doc.returncode == 0, doc.stderr
        assert 'DIGITRO_URL' in doc.stdout and 'EXAMPLES' in doc.stdout and 'RETURN VALUES' in doc.stdout
        assert str(collections) in doc.stdout  # rendered from the installed copy, not the checkout
    for action in ('ansible_vault_store', 'hashi_vault_store', 'report_files', 'store_lock', 'store_journal'):
        doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), 'digitro.pabx.' + action], capture_output=True,
                             text=True, env=env, cwd=str(tmp_path), check=False)
        assert doc.returncode == 0 and 'RETURN VALUES' in doc.stdout, doc.stderr
    for role in ROLES:
        doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', 'role', 'digitro.pabx.' + role],
                             capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
        assert doc.returncode == 0 and re.search(r'ENTRY POINT: \W*main', doc.stdout), (role, doc.stderr)


# What ships (galaxy.yml's manifest: directives): the collection's own content. Not tests/ (pytest suites tied
# to a checkout: .venv, the emulator at the repository root, scripts/; nothing a consumer can run from an
# installed collection), benchmarks/ (tooling and one machine's results; docs/performance.md has the figures),
# scripts/, .ci/, the Makefile and requirements-dev.txt (development only).
SHIPPED_FILES = ('README.md', 'README.pt-BR.md', 'CHANGELOG.rst', 'COPYING', 'requirements.txt')
SHIPPED_DIRS = ('LICENSES/', 'meta/', 'plugins/', 'roles/', 'playbooks/', 'docs/', 'changelogs/', 'emulator/')
GENERATED = ('MANIFEST.json', 'FILES.json')  # written by ansible-galaxy build (MANIFEST.json replaces galaxy.yml)
EXPECTED = ['README.md', 'README.pt-BR.md', 'COPYING', 'LICENSES/GPL-3.0-or-later.txt', 'requirements.txt',
            'meta/runtime.yml', 'meta/execution-environment.yml', 'plugins/modules/digitro_password.py',
            'plugins/module_utils/_client.py', 'plugins/filter/rotation.py', 'plugins/filter/store_import.yml',
            'plugins/doc_fragments/connection.py', 'plugins/action/ansible_vault_store.py',
            'roles/password_rotation/README.md', 'roles/password_rotation/tasks/main.yml',
            'roles/password_rotation/meta/argument_specs.yml', 'roles/password_audit/templates/audit.txt.j2',
            'playbooks/rotate_passwords.yml', 'playbooks/awx/execution-environment.yml', 'docs/rotation.md',
            'docs/requirements.yml', 'changelogs/changelog.yaml', 'changelogs/config.yaml',
            'emulator/__main__.py', 'emulator/server.py']

# What a used checkout accumulates: the README's commands, the demo, the tests, builds, editors.
PLANTED = {
    'credentials/site-a.store': '$ANSIBLE_VAULT;1.2;AES256;digitro_pabx\n3132333435\n',
    'credentials/site-a.store.run.lock': '4242 1700000000\n',
    'credentials/site-a.lock': '',
    'playbooks/credentials/site-a.store': '$ANSIBLE_VAULT;1.2;AES256;digitro_pabx\n3132333435\n',
    'playbooks/reports/rotation-site-a.txt': 'rotated 500\n',
    'playbooks/reports/rotation-site-a.json': '{}',
    'playbooks/host_vars/site-a.yml': 'digitro_url: https://pabx-a.example.com:8443\n',
    'playbooks/inventory.ini': '[pabx]\nsite-a\n',
    'playbooks/awx/digitro-pabx-1.0.0.tar.gz': 'an earlier build, for ansible-builder',
    'reports/rotation-site-a-20261127.txt': 'rotated 500\n',
    'reports/audit-site-a.json': '{}',
    'host_vars/site-a.yml': 'digitro_url: https://pabx-a.example.com:8443\n',
    'inventory.ini': '[pabx]\nsite-a\n',
    'initial-passwords.csv': 'kind,number,password\ndevice,1000,4821\n',
    'site.json': '{}',
    'pabx.sqlite': 'SQLite format 3',
    '.hypothesis/examples/04e6b3400353b141/302493aee509c56b': 'x',
    'demo-output/report.txt': 'rotated\n',
    'build/demo/credentials/demo-pabx.store': '$ANSIBLE_VAULT;1.2;AES256;digitro_pabx\n3132333435\n',
    'build/demo/reports/rotation-demo-pabx.txt': 'rotated\n',
    'build/sanity/ansible_collections/digitro/pabx/plugins/modules/digitro_password.py': '# a copy\n',
    'emulator/__pycache__/server.cpython-311.pyc': 'bytecode',
    'plugins/modules/__pycache__/digitro_password.cpython-311.pyc': 'bytecode',
    'plugins/module_utils/_client.pyc': 'bytecode',
    'roles/password_rotation/tasks/main.yml.swp': 'editor',
    'emulator/requests.log': 'GET /\n',
    'digitro-pabx-0.9.0.tar.gz': 'an earlier build',
    '.venv/bin/python': '',
    'tests/output/junit.xml': '<testsuite/>',
}

# Shipped files that carry no licence header, and why.
LICENCE_EXCEPTIONS = {
    'COPYING': 'the licence text itself',
    'LICENSES/GPL-3.0-or-later.txt': 'the licence text itself',
    'MANIFEST.json': 'written by ansible-galaxy build; JSON cannot carry comments',
    'FILES.json': 'written by ansible-galaxy build; JSON cannot carry comments',
    'changelogs/changelog.yaml': 'rewritten by antsibull-changelog at every release, which keeps no comments',
    'CHANGELOG.rst': 'generated from changelogs/ by antsibull-changelog at every release',
    'changelogs/fragments/': 'changelog fragments: input of antsibull-changelog, deleted at release (keep_fragments: false)',
}


def ships(name):
    return name in SHIPPED_FILES or name.startswith(SHIPPED_DIRS)


def checkout_files():
    """The checkout's files as git sees them: tracked, or new and not ignored."""
    listed = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout.decode('utf-8').split('\0')
    return sorted(name for name in listed if name and os.path.isfile(os.path.join(REPO_ROOT, name)))


def tarball_files(tarball):
    with tarfile.open(tarball) as archive:
        return {member.name: archive.extractfile(member).read() for member in archive.getmembers() if member.isfile()}


@pytest.fixture(scope='module')
def used_checkout_build(tmp_path_factory):
    """A copy of the checkout, used (stores, reports, caches, build output, tarballs), and the tarball built there."""
    if not os.path.isdir(os.path.join(REPO_ROOT, '.git')):
        pytest.skip('needs a git checkout')
    root = tmp_path_factory.mktemp('used')
    tree = root / 'checkout'
    files = checkout_files()
    for name in files:
        os.makedirs(os.path.dirname(str(tree / name)), exist_ok=True)
        shutil.copy2(os.path.join(REPO_ROOT, name), str(tree / name))
    for name, content in PLANTED.items():
        assert not (tree / name).exists(), name
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(content)
    out = root / 'out'
    env = ansible_env({'ANSIBLE_COLLECTIONS_PATH': str(root / 'collections')})
    built = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out),
                            str(tree)], capture_output=True, text=True, env=env, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = glob.glob(str(out / 'digitro-pabx-*.tar.gz'))[0]
    return files, tarball_files(tarball), tarball


def test_only_the_collections_own_content_ships(used_checkout_build):
    files, shipped, _tarball = used_checkout_build
    assert not [name for name in PLANTED if name in shipped]
    stray = [name for name in shipped if re.search(
        r'(^|/)(credentials|reports|build|\.hypothesis|demo-output|__pycache__|\.venv|tests|scripts|benchmarks|\.ci)/'
        r'|\.(store|lock|pyc|tar\.gz)$', name)]
    assert stray == []
    assert [name for name in EXPECTED if name not in shipped] == []
    expected = set(name for name in files if ships(name)) | set(GENERATED)
    # A file of the checkout that should ship and does not names a pattern missing from galaxy.yml's manifest:
    assert sorted(expected - set(shipped)) == []
    assert sorted(set(shipped) - expected) == []


def test_every_shipped_file_carries_the_licence(used_checkout_build):
    _files, shipped, _tarball = used_checkout_build
    exceptions = tuple(LICENCE_EXCEPTIONS)
    unlicensed = [name for name, content in sorted(shipped.items()) if not name.startswith(exceptions)
                  and b'SPDX-License-Identifier: GPL-3.0-or-later' not in content]
    assert unlicensed == [], 'add the licence header, or an exception with its reason to LICENCE_EXCEPTIONS'
    assert [name for name in shipped if name.endswith(('.py', '.yml', '.yaml', '.j2', '.md', '.rst', '.txt', '.json'))
            or name == 'COPYING'] == list(shipped)  # a new kind of file: decide how it carries the licence


def test_the_consumer_requirements_example_installs(used_checkout_build, tmp_path):
    """docs/requirements.yml, as a consumer uses it beside the release tarball (its name matches galaxy.yml's)."""
    _files, _shipped, tarball = used_checkout_build
    shutil.copy(tarball, str(tmp_path))
    shutil.copy(os.path.join(REPO_ROOT, 'docs', 'requirements.yml'), str(tmp_path))
    collections = tmp_path / 'collections'
    env = ansible_env({'ANSIBLE_COLLECTIONS_PATH': str(collections)})
    done = subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-r',
                           'requirements.yml', '-p', str(collections)], cwd=str(tmp_path), capture_output=True,
                          text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (collections / 'ansible_collections' / 'digitro' / 'pabx' / 'MANIFEST.json').is_file()
