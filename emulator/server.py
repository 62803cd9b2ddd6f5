# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP server: CTI operations, the SSE event channel, and the /_emulator test endpoints."""
import collections
import hmac
import json
import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emulator.channels import Channels
from emulator.contract import api
from emulator.operations import Operations, Refusal
from emulator.settings import FAULT_KINDS

REQUEST_PREFIX = '/requests/'
MAX_BODY = 64 * 1024


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, state, settings, log=None, contract=api.STOCK):
        super().__init__(address, Handler)
        self.state = state
        self.settings = settings
        self.contract = contract  # the wire names it serves (--api-overrides)
        self.operations = Operations(state, settings, contract)
        self.channels = Channels()
        self.gate = threading.BoundedSemaphore(settings.max_concurrent)
        self.log = log
        self.log_lock = threading.Lock()
        self.stats = collections.Counter()
        self.stats_lock = threading.Lock()
        self.pending_applies = 0

    def count(self, key):
        with self.stats_lock:
            self.stats[key] += 1

    def write_log(self, entry):
        if self.log is not None:
            with self.log_lock:
                self.log.write(json.dumps(entry, sort_keys=True) + '\n')
                self.log.flush()

    def apply_later(self, apply, delay):
        def run():
            time.sleep(delay)
            apply()
            with self.stats_lock:
                self.pending_applies -= 1
        with self.stats_lock:
            self.pending_applies += 1
        threading.Thread(target=run, daemon=True).start()

    def enable_tls(self, cert, key):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.socket = context.wrap_socket(self.socket, server_side=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the client's
    # delayed ACK, adding ~40 ms to every answer. A device answers at once.
    disable_nagle_algorithm = True
    server_version = 'DigitroPABXEmulator/1.0'

    def log_message(self, format, *args):  # noqa: A002  (the server writes its own request log)
        pass

    def parse_request(self):
        # The request line has just arrived: a device's latency runs from here, its own parsing included.
        self._started = time.monotonic()
        return super().parse_request()

    # -- plumbing ------------------------------------------------------------------------------
    def _send(self, status, payload, log=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self._log(status, log)

    def _error(self, status, message, log=None):
        self._send(status, self._error_body(message), log)

    def _error_body(self, message):
        return {self.server.contract.error_field: message}

    def _log(self, status, extra=None):
        entry = {'ts': round(time.time(), 3), 'method': self.command, 'path': self.path.split('?')[0],
                 'status': status, 'ms': round((time.monotonic() - self._started) * 1000, 1)}
        entry.update(extra or {})
        self.server.write_log(entry)
        self.server.count('status_%s' % status)

    def _authorized(self):
        given = self.headers.get(api.API_KEY_HEADER, '')
        return hmac.compare_digest(given.encode(), self.server.settings.api_key.encode())

    def _read_body(self):
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            raise Refusal(400, 'Content-Length inválido')
        if length > MAX_BODY:
            raise Refusal(400, 'corpo grande demais')
        raw = self.rfile.read(length) if length else b''
        try:
            return json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise Refusal(400, 'corpo não é JSON válido')

    # -- routing -------------------------------------------------------------------------------
    def do_GET(self):
        if not self._authorized():
            return self._error(401, 'x-api-key ausente ou inválida')
        if self.path == self.server.contract.events_path:
            return self._event_channel()
        if self.path == '/_emulator/state':
            return self._send(200, self._state_document())
        return self._error(404, 'recurso desconhecido')

    def do_POST(self):
        try:
            body = self._read_body()
        except Refusal as exc:
            body, refusal = None, exc
        else:
            refusal = None
        if not self._authorized():
            return self._error(401, 'x-api-key ausente ou inválida')
        if self.path == '/_emulator/control':
            return self._control(body) if refusal is None else self._error(refusal.status, refusal.message)
        parts = self.path[len(REQUEST_PREFIX):].split('/') if self.path.startswith(REQUEST_PREFIX) else []
        if len(parts) != 2 or parts[1] not in self.server.contract.by_slug:
            return self._error(404, 'operação desconhecida')
        # The gate is the device's processing capacity; writing the answer out is the network's part.
        self._parsed = time.monotonic()
        with self.server.gate:
            status, payload, log = self._operation(parts[0], parts[1], body, refusal)
        if status == 'dropped':
            self._log(status, log)
            return self._drop()
        self._send(status, payload, log)

    # -- CTI operations ------------------------------------------------------------------------
    def _operation(self, channel_id, slug, body, refusal):
        """The answer to one operation as (status, payload, log entry), ``latency`` after the request arrived."""
        served_from = time.monotonic()
        settings = self.server.settings
        log = {'op': slug}
        if isinstance(body, dict):
            wire = self.server.contract.wire
            log.update(device=str(body.get(wire(api.DEVICE), ''))[:20], account=str(body.get(wire(api.ACCOUNT), ''))[:20])
        self.server.count('op_%s' % slug)
        delay = settings.delay()
        if settings.draw(settings.spike_rate):
            delay += settings.spike_latency
            self._fault('latency_spike', log)
        answer = self._answer(channel_id, slug, body, refusal, log)
        # The latency is the device's service time, from the request's arrival to its answer: the emulator's
        # own work (parsing, the state change) is part of it, the wait for a free slot is not.
        served = (self._parsed - self._started) + (time.monotonic() - served_from)
        time.sleep(max(0.0, delay - served))
        return answer

    def _answer(self, channel_id, slug, body, refusal, log):
        """(status, payload, log entry) of one operation; status 'dropped' means none is sent."""
        server, settings = self.server, self.server.settings
        if settings.draw(settings.channel_close_rate) and server.channels.is_open(channel_id):
            server.channels.close(channel_id)
            self._fault('channel_close', log)
        if not channel_id.isdigit() or not server.channels.is_open(channel_id):
            return 400, self._error_body('canal desconhecido ou fechado: %s' % channel_id[:20]), log
        if settings.draw(settings.error_rate):
            self._fault('error_500', log)
            return 500, self._error_body('erro interno do servidor'), log
        if refusal is not None:
            return refusal.status, self._error_body(refusal.message), log
        try:
            status, payload, apply = server.operations.handle(slug, body)
        except Refusal as exc:
            return exc.status, self._error_body(exc.message), log
        if apply is not None:
            if settings.draw(settings.delayed_apply_rate):
                self._fault('delayed_apply', log)
                server.apply_later(apply, settings.apply_delay)
            else:
                apply()
                if settings.draw(settings.drop_after_apply_rate):
                    self._fault('drop_after_apply', log)
                    return 'dropped', None, log
        return status, payload, log

    def _fault(self, kind, log):
        self.server.count('fault_%s' % kind)
        log.setdefault('faults', []).append(kind)

    def _drop(self):
        """Close the connection without an answer, as a device that crashes or loses its link."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- event channel -------------------------------------------------------------------------
    def _event_channel(self):
        channels = self.server.channels
        channel_id, closing = channels.open()
        self.server.count('channels_opened')
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header('Content-Type', 'text/event-stream')
            self.send_header('Cache-Control', 'no-cache')
            self.send_header('Connection', 'close')
            self.end_headers()
            opening = json.dumps({self.server.contract.channel_id_field: channel_id})
            self.wfile.write(('event: %s\ndata: %s\n\n' % (api.CHANNEL_OPEN_EVENT, opening)).encode())
            self.wfile.flush()
            self._log(200, {'op': 'events', 'channel': channel_id})
            self._hold_channel(closing)
        except OSError:
            pass
        finally:
            channels.close(channel_id)

    def _hold_channel(self, closing):
        """Keep the stream open until the client leaves or the channel is closed; send keep-alives."""
        last = time.monotonic()
        while not closing.is_set():
            readable = select.select([self.connection], [], [], 0.05)[0]  # a closed channel ends its stream at once
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                return  # the client closed its end
            if time.monotonic() - last >= self.server.settings.keepalive:
                self.wfile.write(b': keep-alive\n\n')
                self.wfile.flush()
                last = time.monotonic()

    # -- test endpoints ------------------------------------------------------------------------
    def _state_document(self):
        snapshot = self.server.state.snapshot()
        most = self.server.state.most_in_a_row
        devices = {n: {'password': r['password'], 'dac': bool(r['dac']), 'wrong_attempts': r['wrong_attempts'],
                       'locked': self._locked(r), 'in_a_row': r['consecutive_failures'],
                       'most_in_a_row': most['devices'].get(n, 0),
                       'dac_state': api.DAC_LOGGED_IN if r['dac_account'] else api.DAC_LOGGED_OUT,
                       'dac_account': r['dac_account'] or ''} for n, r in snapshot['devices'].items()}
        accounts = {n: {'password': r['password'], 'name': r['name'], 'category': r['category'],
                        'wrong_attempts': r['wrong_attempts'], 'locked': self._locked(r),
                        'in_a_row': r['consecutive_failures'], 'most_in_a_row': most['accounts'].get(n, 0)}
                    for n, r in snapshot['accounts'].items()}
        with self.server.stats_lock:
            stats = dict(self.server.stats)
            pending = self.server.pending_applies
        faults = {kind: stats.get('fault_%s' % kind, 0) for kind in FAULT_KINDS}
        return {'devices': devices, 'accounts': accounts, 'stats': stats, 'faults': faults,
                'pending_applies': pending, 'open_channels': self.server.channels.count(),
                'settings': self.server.settings.public()}

    def _locked(self, record):
        threshold = self.server.settings.lockout_threshold
        return bool(threshold and record['consecutive_failures'] >= threshold)

    def _control(self, body):
        """Test-only changes: faults and latency, a password set at the console, channels closed."""
        if not isinstance(body, dict):
            return self._error(400, 'o corpo deve ser um objeto JSON')
        unknown = self.server.settings.update(body.get('settings', {}))
        if unknown:
            return self._error(400, 'ajustes desconhecidos: %s' % ', '.join(sorted(unknown)))
        for kind, number, password in body.get('set_passwords', []):
            if self.server.state.get(kind, number) is None:
                return self._error(400, '%s desconhecido: %s' % (kind, number))
            self.server.state.update(kind, number, password=password, consecutive_failures=0)
        if body.get('close_channels'):
            self.server.channels.close_all()
        self._send(200, {'settings': self.server.settings.public()}, {'op': 'control'})
