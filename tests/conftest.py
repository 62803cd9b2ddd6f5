"""Fixtures shared by every test suite: a seeded emulator on loopback and a real ansible-playbook runner."""
import json
import os
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO_ROOT, '.venv', 'collections')
sys.path.insert(0, REPO_ROOT)       # the emulator package
sys.path.insert(0, COLLECTIONS)     # ansible_collections.digitro.pabx, for unit tests
sys.path.insert(0, os.path.join(REPO_ROOT, 'tests', 'chaos'))

from emulator.process import Emulator  # noqa: E402
from emulator.seed import make_site  # noqa: E402

API_KEY = 'test-api-key-7f3a9c'


def write_json(path, data):
    with open(path, 'w') as handle:
        json.dump(data, handle)
    return str(path)


@pytest.fixture
def start_emulator(tmp_path):
    """Start emulators seeded with a generated site; all are stopped when the test ends."""
    started = []

    def start(devices=20, accounts=5, dac_devices=5, random_seed=7, **settings):
        workdir = tmp_path / ('emulator-%d' % len(started))
        workdir.mkdir()
        site = make_site(devices, accounts, dac_devices, random_seed=random_seed)
        seed = write_json(workdir / 'seed.json', site)
        emulator = Emulator(str(workdir), seed=seed, api_key=API_KEY, **settings).start()
        emulator.site = site
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_emulator):
    return start_emulator()


class PlaybookRun:
    def __init__(self, completed, result_file):
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.result = None
        if os.path.exists(result_file):
            with open(result_file) as handle:
                self.result = json.load(handle)

    @property
    def output(self):
        return self.stdout + self.stderr


def ansible_env(extra=None):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
               ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
               PYTHONPATH='')
    env.update(extra or {})
    return env


@pytest.fixture
def run_playbook(tmp_path):
    """Run a playbook with real ansible-playbook; variables go in a file so no secret is on the command line."""
    counter = [0]

    def run(playbook, variables=None, check=False, diff=False, verbosity=0, env=None, args=(), timeout=600):
        counter[0] += 1
        result_file = str(tmp_path / ('result-%d.json' % counter[0]))
        variables = dict(variables or {}, result_file=result_file)
        vars_file = write_json(tmp_path / ('vars-%d.json' % counter[0]), variables)
        path = playbook if os.path.isabs(playbook) else os.path.join(REPO_ROOT, playbook)
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), path, '-e', '@' + vars_file]
        command += (['--check'] if check else []) + (['--diff'] if diff else [])
        command += (['-' + 'v' * verbosity] if verbosity else []) + list(args)
        completed = subprocess.run(command, cwd=str(tmp_path), env=ansible_env(env), capture_output=True,
                                   text=True, timeout=timeout, check=False)
        return PlaybookRun(completed, result_file)

    return run


@pytest.fixture
def connection(emulator):
    """The module_defaults a test playbook needs to reach the emulator."""
    return {'pabx_url': emulator.url, 'pabx_api_key': API_KEY}


def seeded(emulator, kind='devices', count=None):
    """The first ``count`` (number, password) pairs of the emulator's seed."""
    pairs = [(number, spec['password']) for number, spec in emulator.site[kind].items()]
    return pairs[:count] if count else pairs


def build_and_install(tmp_path):
    """Build the collection's tarball and install it into tmp_path/collections; returns (tarball, path)."""
    import glob
    bin_dir = os.path.dirname(sys.executable)
    collections = str(tmp_path / 'collections')
    env = ansible_env({'ANSIBLE_COLLECTIONS_PATH': collections})  # not the checkout's development link
    subprocess.run([os.path.join(bin_dir, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(tmp_path),
                    REPO_ROOT], check=True, capture_output=True, env=env)
    tarball = glob.glob(str(tmp_path / 'digitro-pabx-*.tar.gz'))[0]
    subprocess.run([os.path.join(bin_dir, 'ansible-galaxy'), 'collection', 'install', '--force', tarball,
                    '-p', collections], check=True, capture_output=True, env=env)
    return tarball, collections
