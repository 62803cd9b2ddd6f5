"""The benchmark's scenarios: emulated PABXs, the playbooks run against them, and one result row per run."""
import json
import os
import random
import secrets
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from benchmarks.measure import cores, run_measured  # noqa: E402
from emulator.process import Emulator, open_channel  # noqa: E402
from emulator.seed import make_site, write_csv  # noqa: E402

BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(REPO_ROOT, '.venv', 'collections')
PLAYBOOKS = os.path.join(REPO_ROOT, 'playbooks')
BENCHMARKS = os.path.join(REPO_ROOT, 'benchmarks')
# Issue 8's target for the collection: wall time at most 1.25 x the bound plus a fixed start-up under 10 s.
TARGET_FACTOR, TARGET_STARTUP_S = 1.25, 10.0
CTI_OPERATIONS = ('verifica-senha', 'altera-senha')
REQUESTS_PER_ROTATION = 3  # verify, change, confirm: the minimum for a safe rotation
STORE_VAULT_ID = 'digitro_pabx'  # the credential_store role's default credential_store_vault_id
HISTORY_PINS = 24  # a full history: _store.HISTORY_KEPT


class Settings:
    """What every scenario shares: the emulated device's latency and cap, and the role's chunk size."""

    def __init__(self, latency, concurrency, chunk_size=None):
        self.latency, self.concurrency, self.chunk_size = latency, concurrency, chunk_size

    def bound_s(self, extensions):
        """The physical bound for one PABX: N x 3 requests, C at a time, L each."""
        return extensions * REQUESTS_PER_ROTATION * self.latency / self.concurrency


class Pabx:
    """One emulated PABX with ``size`` extensions, and its line in the inventory."""

    def __init__(self, name, size, settings, workdir, random_seed):
        self.name, self.size, self.workdir = name, size, os.path.join(workdir, name)
        os.makedirs(self.workdir)
        self.site = make_site(size, 0, 0, random_seed=random_seed)
        seed = os.path.join(self.workdir, 'seed.json')
        with open(seed, 'w') as handle:
            json.dump(self.site, handle)
        self.csv_path = os.path.join(self.workdir, 'initial.csv')
        write_csv(self.site, self.csv_path)
        self.api_key = secrets.token_hex(16)
        self.emulator = Emulator(self.workdir, seed=seed, api_key=self.api_key, latency=settings.latency,
                                 max_concurrent=settings.concurrency).start()

    def inventory_line(self, settings):
        # host vars, not DIGITRO_URL/DIGITRO_API_KEY: each host of a fleet has its own PABX
        line = '%s digitro_url=%s digitro_api_key=%s credential_store_import_csv=%s password_rotation_concurrency=%d' % (
            self.name, self.emulator.url, self.api_key, self.csv_path, settings.concurrency)
        if settings.chunk_size:
            line += ' password_rotation_chunk_size=%d' % settings.chunk_size
        return line

    def requests(self):
        stats = self.emulator.state()['stats']
        return sum(count for name, count in stats.items() if name.startswith('op_'))

    def request_times(self, since):
        with open(self.emulator.log_file) as handle:
            return [entry['ts'] for entry in map(json.loads, handle)
                    if entry['ts'] >= since and entry.get('op') in CTI_OPERATIONS]

    def close(self):
        self.emulator.stop()


class Fleet:
    """``count`` PABXs of ``size`` extensions each, one inventory host per PABX, one store secret for all."""

    def __init__(self, count, size, settings, workdir):
        self.settings, self.workdir = settings, workdir
        self.secret = secrets.token_hex(16)
        self.pabxs = []
        try:
            for index in range(count):
                name = 'pabx%02d' % (index + 1) if count > 1 else 'bench'
                self.pabxs.append(Pabx(name, size, settings, workdir, random_seed=size * 100 + index))
        except BaseException:
            self.close()
            raise
        self.inventory = os.path.join(workdir, 'inventory.ini')
        with open(self.inventory, 'w') as handle:
            handle.write('[pabx]\n' + ''.join(pabx.inventory_line(settings) + '\n' for pabx in self.pabxs))
        self.env = dict(os.environ, DIGITRO_STORE_SECRET=self.secret, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS)

    def playbook(self, name):
        return [os.path.join(BIN, 'ansible-playbook'), '-i', self.inventory, '--forks', str(len(self.pabxs)),
                os.path.join(PLAYBOOKS, name)]

    def import_passwords(self):
        subprocess.run(self.playbook('import_passwords.yml'), cwd=self.workdir, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)

    def store_path(self, pabx):
        """The credential_store role's default path: beside the inventory."""
        return os.path.join(self.workdir, 'credentials', pabx.name + '.store')

    def requests(self):
        return sum(pabx.requests() for pabx in self.pabxs)

    def phases(self, started_at, wall):
        """From the emulators' request logs: seconds before the first CTI request, from the first to the last
        (of any PABX), and after the last one."""
        times = [ts for pabx in self.pabxs for ts in pabx.request_times(started_at)]
        if not times:
            return {}
        return dict(startup_s=round(min(times) - started_at, 2), requests_s=round(max(times) - min(times), 2),
                    winddown_s=round(started_at + wall - max(times), 2))

    def measure(self, command):
        """Run and measure a command against the fleet; (Measured, requests the PABXs served, phases)."""
        before = self.requests()
        measured = run_measured(command, self.workdir, self.env)
        return measured, self.requests() - before, self.phases(measured.started_at, measured.wall_s)

    def close(self):
        for pabx in self.pabxs:
            pabx.close()


def fill_histories(path, secret, random_seed):
    """Give every entry of a store a full history of distinct earlier PINs, none its current one, as after two
    years of monthly rotations. Rotating 24 times to get there would take far longer than the benchmark."""
    from ansible.parsing.vault import VaultLib, VaultSecret  # the controller's own vault format
    vault = VaultLib([(STORE_VAULT_ID, VaultSecret(secret.encode()))])
    with open(path, 'rb') as handle:
        document = json.loads(vault.decrypt(handle.read()))
    rng = random.Random(random_seed)
    for kind in ('devices', 'accounts'):
        for entry in document[kind].values():
            earlier = ['%06d' % pin for pin in rng.sample(range(10 ** 6), HISTORY_PINS + 1)]
            entry['history'] = [pin for pin in earlier if pin != entry['current']][:HISTORY_PINS]
    ciphertext = vault.encrypt(json.dumps(document, sort_keys=True), vault_id=STORE_VAULT_ID)
    with open(path, 'wb') as handle:
        handle.write(ciphertext)


def row(method, fleet, measured, requests, phases):
    """One result: the run's figures beside the bounds. ``extensions`` is per PABX."""
    settings, size, count = fleet.settings, fleet.pabxs[0].size, len(fleet.pabxs)
    wall, total = measured.wall_s, size * count
    bound = settings.bound_s(size)
    cpu_bound = measured.cpu_s / cores()  # the whole run's CPU work spread perfectly over the machine's cores
    best_bound = max(bound, cpu_bound)
    return dict(
        method=method, pabxs=count, extensions=size, total_extensions=total, latency_ms=settings.latency * 1000,
        concurrency=settings.concurrency, forks=count, cores=cores(), wall_s=round(wall, 2),
        s_per_extension=round(wall / total, 4), extensions_per_s=round(total / wall, 1),
        requests_per_s=round(requests / wall, 1), requests_per_extension=round(requests / total, 2),
        peak_rss_mib=round(measured.peak_rss_mib, 1), peak_pss_mib=round(measured.peak_pss_mib, 1),
        peak_pss_by_role_mib=measured.peak_pss_by_role,
        cpu_s=round(measured.cpu_s, 2), cpu_ms_per_request=round(1000.0 * measured.cpu_s / requests, 3) if requests else None,
        cpu_sampled_s=measured.cpu_by_role, bound_s=round(bound, 2), cpu_bound_s=round(cpu_bound, 2),
        best_bound_s=round(best_bound, 2), wall_over_bound=round(wall / bound, 2), throughput_of_bound=round(bound / wall, 3),
        of_best_bound=round(best_bound / wall, 3), target_s=round(TARGET_FACTOR * bound + TARGET_STARTUP_S, 2),
        requests_of_bound=round(bound / phases['requests_s'], 3) if phases.get('requests_s') else None,
        ok=measured.returncode == 0, error=measured.error, **phases)


def collection(fleet, method, prepare=None):
    """Import the CSV exports, optionally change the stores, then measure rotate_passwords.yml."""
    fleet.import_passwords()
    if prepare:
        prepare(fleet)
    return row(method, fleet, *fleet.measure(fleet.playbook('rotate_passwords.yml')))


def with_full_histories(fleet):
    for index, pabx in enumerate(fleet.pabxs):
        fill_histories(fleet.store_path(pabx), fleet.secret, random_seed=index)


def naive(fleet, playbook, method):
    """A uri-only playbook against the one PABX of ``fleet``, on an event channel the harness keeps open."""
    pabx = fleet.pabxs[0]
    channel_id, stream = open_channel(pabx.emulator.url, pabx.api_key)
    try:
        entries = [dict(device=number, current=spec['password'], new='%06d' % (135790 + index))
                   for index, (number, spec) in enumerate(pabx.site['devices'].items())]
        variables = os.path.join(fleet.workdir, 'naive-vars.json')
        with open(variables, 'w') as handle:
            json.dump(dict(naive_url=pabx.emulator.url, naive_api_key=pabx.api_key, naive_channel=channel_id,
                           naive_entries=entries), handle)
        command = [os.path.join(BIN, 'ansible-playbook'), os.path.join(BENCHMARKS, playbook), '-e', '@' + variables]
        return row(method, fleet, *fleet.measure(command))
    finally:
        stream.close()


# --scenarios name: run(fleet) -> row
SCENARIOS = {
    'single': lambda fleet: collection(fleet, 'collection'),
    'fleet': lambda fleet: collection(fleet, 'collection, fleet'),
    'history': lambda fleet: collection(fleet, 'collection, full history', with_full_histories),
    'naive-include': lambda fleet: naive(fleet, 'naive_rotation.yml', 'naive include_tasks'),
    'naive-loop': lambda fleet: naive(fleet, 'naive_looped.yml', 'naive looped uri'),
}
