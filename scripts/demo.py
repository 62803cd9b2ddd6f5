"""`make demo`: rotate every password of a bundled, seeded PABX emulator with the collection's playbook.

Starts the emulator on a free loopback port, runs playbooks/rotate_passwords.yml
against it with the credentials in environment variables (as AWX injects
them), shows what changed on the PABX, and stops the emulator.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from emulator.process import Emulator  # noqa: E402
from emulator.seed import make_site, write_csv  # noqa: E402

WORKDIR = os.path.join(REPO_ROOT, 'build', 'demo')
DEVICES, ACCOUNTS = 200, 20


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    site = make_site(DEVICES, ACCOUNTS, dac_devices=10, random_seed=2026)
    seed = os.path.join(WORKDIR, 'site.json')
    with open(seed, 'w') as handle:
        json.dump(site, handle)
    csv_path = os.path.join(WORKDIR, 'initial-passwords.csv')
    write_csv(site, csv_path)
    api_key = secrets.token_hex(16)
    print('== Starting the PABX emulator with %d extensions and %d accounts' % (DEVICES, ACCOUNTS), flush=True)
    with Emulator(WORKDIR, seed=seed, api_key=api_key, latency=0.005, jitter=0.005) as pabx:
        env = dict(os.environ, DIGITRO_URL=pabx.url, DIGITRO_API_KEY=api_key,
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, '.venv', 'collections'))
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
                   os.path.join(REPO_ROOT, 'playbooks', 'rotate_passwords.yml'),
                   '-e', 'digitro_demo_csv=%s' % csv_path]
        print('== Running: ansible-playbook playbooks/rotate_passwords.yml (against %s)' % pabx.url, flush=True)
        completed = subprocess.run(command, cwd=WORKDIR, env=env, check=False)
        after = pabx.state()
    changed = sum(1 for n, d in after['devices'].items() if d['password'] != site['devices'][n]['password'])
    locked = sum(1 for d in after['devices'].values() if d['locked'])
    print('== On the PABX: %d of %d extension passwords changed, %d locked out' % (changed, DEVICES, locked))
    return completed.returncode


if __name__ == '__main__':
    sys.exit(main())
