"""The collection builds, installs from its tarball, and every module's documentation renders from there."""
import os
import re
import subprocess
import sys
import tarfile

from conftest import ansible_env, build_and_install

MODULES = ['digitro_password', 'digitro_user_validate', 'digitro_dac_session']
ROLES = ['password_rotation', 'password_audit', 'dac_sessions', 'credential_store']
BIN = os.path.dirname(sys.executable)


def test_build_install_and_ansible_doc(tmp_path):
    tarball, collections = build_and_install(tmp_path)
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert 'plugins/modules/digitro_password.py' in names
    assert not [n for n in names if n.startswith(('.venv', 'build/', 'tests/output')) or '__pycache__' in n]
    env = ansible_env({'ANSIBLE_COLLECTIONS_PATH': collections})
    for module in MODULES:
        doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), 'digitro.pabx.' + module], capture_output=True,
                             text=True, env=env, cwd=str(tmp_path), check=False)
        assert doc.returncode == 0, doc.stderr
        assert 'DIGITRO_URL' in doc.stdout and 'EXAMPLES' in doc.stdout and 'RETURN VALUES' in doc.stdout
        assert str(collections) in doc.stdout  # rendered from the installed copy, not the checkout
    for action in ('vault_store', 'report_files', 'store_lock'):
        doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), 'digitro.pabx.' + action], capture_output=True,
                             text=True, env=env, cwd=str(tmp_path), check=False)
        assert doc.returncode == 0 and 'RETURN VALUES' in doc.stdout, doc.stderr
    for role in ROLES:
        doc = subprocess.run([os.path.join(BIN, 'ansible-doc'), '-t', 'role', 'digitro.pabx.' + role],
                             capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
        assert doc.returncode == 0 and re.search(r'ENTRY POINT: \W*main', doc.stdout), (role, doc.stderr)
