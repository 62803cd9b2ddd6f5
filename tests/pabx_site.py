"""A PABX site for role tests: an emulator, an inventory with one PABX host, the store secret, and helpers."""
import base64
import json
import os
import secrets
import subprocess
import sys

from ansible.parsing.vault import VaultLib, VaultSecret

from conftest import API_KEY, REPO_ROOT, ansible_env, write_json
from emulator.seed import write_csv

HOST = 'pabx1'


class Site:
    bin_dir = os.path.dirname(sys.executable)  # where ansible-playbook is; scripts/compat_smoke.py points it elsewhere

    def __init__(self, emulator, workdir, host_vars=None):
        self.emulator = emulator
        self.workdir = str(workdir)
        self.secret = secrets.token_hex(16)
        self.store_path = os.path.join(self.workdir, 'credentials', HOST + '.store')
        self.report_dir = os.path.join(self.workdir, 'reports')
        self.csv_path = os.path.join(self.workdir, 'initial.csv')
        write_csv(emulator.site, self.csv_path)
        variables = dict(credential_store_path=self.store_path, password_rotation_report_dir=self.report_dir,
                         credential_store_import_csv=self.csv_path, **(host_vars or {}))
        self.inventory = os.path.join(self.workdir, 'inventory.json')
        write_json(self.inventory, {'pabx': {'hosts': {HOST: variables}}})
        self.env = ansible_env({'DIGITRO_URL': emulator.url, 'DIGITRO_API_KEY': API_KEY,
                                'DIGITRO_STORE_SECRET': self.secret})

    def command(self, playbook, variables=None, check=False, verbosity=0, diff=False):
        path = os.path.join(REPO_ROOT, 'playbooks', playbook)
        command = [os.path.join(self.bin_dir, 'ansible-playbook'), '-i', self.inventory, path]
        if variables:
            command += ['-e', '@' + write_json(os.path.join(self.workdir, 'extra-vars.json'), variables)]
        command += ['--check'] if check else []
        return command + (['--diff'] if diff else []) + (['-' + 'v' * verbosity] if verbosity else [])

    def run(self, playbook, variables=None, check=False, verbosity=0, diff=False):
        return subprocess.run(self.command(playbook, variables, check, verbosity, diff), cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, timeout=900, check=False)

    def start(self, playbook, variables=None):
        """Start a playbook in its own process group, so that a test can kill all of it as AWX would."""
        return subprocess.Popen(self.command(playbook, variables), cwd=self.workdir, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def reimport(self, pins):
        """What an operator does with PINs read at the console, {(kind, number): PIN}: imports them over what the
        store has, counts reset (import_passwords with overwrite). The run's return code."""
        csv_path = os.path.join(self.workdir, 'reimport.csv')
        with open(csv_path, 'w') as handle:
            handle.write('kind,number,password\n')
            for (kind, number), pin in sorted(pins.items()):
                handle.write('%s,%s,%s\n' % (kind[:-1], number, pin))
        try:
            return self.run('import_passwords.yml', {'credential_store_import_csv': csv_path,
                                                     'credential_store_import_overwrite': True,
                                                     'credential_store_import_reset_attempts': True}).returncode
        finally:
            os.remove(csv_path)

    def store(self):
        with open(self.store_path, 'rb') as handle:
            data = handle.read()
        if not data.startswith(b'$ANSIBLE_VAULT;'):
            data = base64.b64decode(data)  # the test's custom backend keeps it base64-encoded
        assert data.startswith(b'$ANSIBLE_VAULT;'), 'the store is not encrypted'
        return json.loads(VaultLib([('default', VaultSecret(self.secret.encode()))]).decrypt(data))

    def latest_report(self, suffix='.json', prefix=HOST + '-rotation-'):
        names = sorted(n for n in os.listdir(self.report_dir) if n.startswith(prefix) and n.endswith(suffix))
        with open(os.path.join(self.report_dir, names[-1])) as handle:
            return json.load(handle) if suffix == '.json' else handle.read()

    def unknown_to_store(self, kinds=('devices', 'accounts')):
        """Numbers whose real password on the PABX is neither the store's current nor its pending one."""
        store, state = self.store(), self.emulator.state()
        return [n for kind in kinds for n, record in state[kind].items()
                if record['password'] not in (store[kind].get(n, {}).get('current'),
                                              store[kind].get(n, {}).get('pending'))]

    def mismatched(self, kinds=('devices', 'accounts')):
        """Numbers whose real password is not the store's current one, or that still have a pending PIN."""
        store, state = self.store(), self.emulator.state()
        return [n for kind in kinds for n, record in state[kind].items()
                if record['password'] != store[kind][n]['current'] or store[kind][n]['pending']]


def api_check_vars(emulator):
    """The variables of playbooks/check_api.yml for the emulator's first device (a DAC one) and first account."""
    (device, spec), (account, agent) = [next(iter(emulator.site[kind].items())) for kind in ('devices', 'accounts')]
    return {'digitro_check_device': device, 'digitro_check_device_password': spec['password'],
            'digitro_check_account': account, 'digitro_check_account_password': agent['password'],
            'digitro_check_dac_device': device}


def wrong_attempts(state):
    """{(kind, number): wrong passwords received} of an emulator's state, for the numbers that received any."""
    return dict(((kind, number), record['wrong_attempts']) for kind in ('devices', 'accounts')
                for number, record in state[kind].items() if record['wrong_attempts'])
