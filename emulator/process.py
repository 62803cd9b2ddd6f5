# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start and stop the emulator as a child process: one helper for the tests, the demo and the benchmarks."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Emulator:
    """A running emulator on 127.0.0.1; ``state()`` and ``control()`` use its test endpoints."""

    def __init__(self, workdir, seed=None, api_key='emulator-key', tls=None, api_overrides=None, **settings):
        self.workdir = os.path.abspath(workdir)   # the emulator runs from the repository root
        self.seed = os.path.abspath(seed) if seed else None
        self.api_key = api_key
        self.tls = tls
        self.api_overrides = api_overrides  # a dict of the api_overrides shape: serve that variant of the API
        self.settings = settings
        self.port = free_port()
        self.state_file = os.path.join(self.workdir, 'emulator-state.sqlite')
        self.log_file = os.path.join(self.workdir, 'emulator-requests.log')
        self.url = '%s://127.0.0.1:%d' % ('https' if tls else 'http', self.port)
        self.process = None

    def start(self, reset=True):
        ready = os.path.join(self.workdir, 'emulator-ready.json')
        if os.path.exists(ready):
            os.remove(ready)
        command = [sys.executable, '-m', 'emulator', 'serve', '--port', str(self.port), '--api-key', self.api_key,
                   '--state', self.state_file, '--log-file', self.log_file, '--ready-file', ready]
        if self.seed:
            command += ['--seed', self.seed] + (['--reset'] if reset else [])
        if self.tls:
            command += ['--tls-cert', self.tls[0], '--tls-key', self.tls[1]]
        if self.api_overrides is not None:
            overrides = os.path.join(self.workdir, 'emulator-api-overrides.json')
            with open(overrides, 'w') as handle:
                json.dump(self.api_overrides, handle)
            command += ['--api-overrides', overrides]
        for name, value in self.settings.items():
            command += ['--' + name.replace('_', '-'), str(value)]
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                        stderr=open(os.path.join(self.workdir, 'emulator-stderr.log'), 'a'))
        deadline = time.monotonic() + 15
        while not os.path.exists(ready):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('the emulator did not start; see %s/emulator-stderr.log' % self.workdir)
            time.sleep(0.05)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self):
        """Stop and start again on the same port, keeping the state (as a rebooted PABX does)."""
        self.stop()
        return self.start(reset=False)

    def _request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={'x-api-key': self.api_key, 'Content-Type': 'application/json'})
        context = None
        if self.tls:
            import ssl
            context = ssl.create_default_context(cafile=self.tls[0])
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return json.loads(response.read())

    def state(self):
        return self._request('GET', '/_emulator/state')

    def control(self, **body):
        return self._request('POST', '/_emulator/control', body)

    def passwords(self, kind='devices'):
        return {number: record['password'] for number, record in self.state()[kind].items()}

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def open_channel(url, api_key):
    """Open an event channel with the standard library; returns (channel_id, response to keep open)."""
    request = urllib.request.Request(url + '/events', headers={'x-api-key': api_key})
    stream = urllib.request.urlopen(request, timeout=30)
    while True:
        line = stream.readline().decode().strip()
        if line.startswith('data:'):
            return json.loads(line[5:])['ID_CANAL'], stream
