"""`make demo`: rotate every password of a bundled, seeded PABX emulator with the collection's playbooks.

Starts the emulator on a free loopback port; imports the site's initial
passwords (a CSV export) into an encrypted credential store; runs
playbooks/rotate_passwords.yml with the credentials in environment variables,
as AWX injects them; checks on the PABX that every password changed and
that the store knows it; stops the emulator.
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
DEVICES, ACCOUNTS = 500, 50
BIN = os.path.dirname(sys.executable)


def playbook(name, env, *extra):
    command = [os.path.join(BIN, 'ansible-playbook'), '-i', 'inventory.ini',
               os.path.join(REPO_ROOT, 'playbooks', name)] + list(extra)
    print('\n== ansible-playbook playbooks/%s %s' % (name, ' '.join(extra)), flush=True)
    return subprocess.run(command, cwd=WORKDIR, env=env, check=False).returncode


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    os.makedirs(WORKDIR)
    site = make_site(DEVICES, ACCOUNTS, dac_devices=10, random_seed=2026)
    with open(os.path.join(WORKDIR, 'site.json'), 'w') as handle:
        json.dump(site, handle)
    write_csv(site, os.path.join(WORKDIR, 'initial-passwords.csv'))
    with open(os.path.join(WORKDIR, 'inventory.ini'), 'w') as handle:
        handle.write('[pabx]\ndemo-pabx credential_store_import_csv=%s\n' % os.path.join(WORKDIR, 'initial-passwords.csv'))
    api_key, store_secret = secrets.token_hex(16), secrets.token_hex(16)
    print('== PABX emulator with %d extensions and %d accounts (20 ms latency)' % (DEVICES, ACCOUNTS), flush=True)
    with Emulator(WORKDIR, seed=os.path.join(WORKDIR, 'site.json'), api_key=api_key, latency=0.02) as pabx:
        env = dict(os.environ, DIGITRO_URL=pabx.url, DIGITRO_API_KEY=api_key, DIGITRO_STORE_SECRET=store_secret,
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, '.venv', 'collections'))
        code = playbook('import_passwords.yml', env) or playbook('rotate_passwords.yml', env)
        after = pabx.state()
    changed = sum(1 for kind in ('devices', 'accounts') for number, record in after[kind].items()
                  if record['password'] != site[kind][number]['password'])
    locked = sum(1 for kind in ('devices', 'accounts') for record in after[kind].values() if record['locked'])
    print('\n== On the PABX: %d of %d passwords changed, %d locked out.' % (changed, DEVICES + ACCOUNTS, locked))
    print('== Encrypted store: build/demo/credentials/demo-pabx.store (ansible-vault view, secret in the demo only)')
    print('== Reports: build/demo/reports/')
    return code


if __name__ == '__main__':
    sys.exit(main())
