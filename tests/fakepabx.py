"""A tiny misbehaving 'PABX' on 127.0.0.1 (a free port), for the tests of digitro_api_check's hostile answers.

``Fake(mode, api_key)`` is a context manager; ``seen`` records (method, path, headers, body) of every request.
Modes: echo (a 400 quoting the body, the PIN across the evidence's cut), redirect (GET events -> ``redirect_to``),
collector (answers anything), nested / nested_open (a deeply nested JSON answer / opening event), spacefield
(the channel ID in "ID CANAL"), ok200 (200 {} to any POST), verify500 (503 to any body with a field),
verifyslow (no answer within the client's timeout to a body with a field).
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OPEN = 'EVENTO_DE_ABERTURA_DE_CANAL'
UNKNOWN = 'digitro-check-api-no-such-operation'


class Fake(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode, api_key, redirect_to=None, slow=3.0):
        super().__init__(('127.0.0.1', 0), Handler)
        self.mode, self.api_key, self.redirect_to, self.slow = mode, api_key, redirect_to, slow
        self.seen = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _send(self, status, text, headers=()):
        data = text.encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        server = self.server
        server.seen.append(('GET', self.path, dict(self.headers), None))
        if server.mode == 'collector':
            return self._send(200, '{}')
        if self.headers.get('x-api-key') != server.api_key:
            return self._send(401, '{"ERRO": "x-api-key"}')
        if server.mode == 'redirect':
            return self._send(302, '', headers=[('Location', server.redirect_to + self.path + '?token=abc')])
        data = json.dumps({'ID_CANAL': '42'})
        if server.mode == 'spacefield':
            data = json.dumps({'ID CANAL': '42'})
        if server.mode == 'nested_open':
            data = '[' * 5000 + ']' * 5000
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(('event: %s\ndata: %s\n\n' % (OPEN, data)).encode())
        self.wfile.flush()
        self.close_connection = True
        try:
            while not server.stopping.wait(0.1):
                self.wfile.write(b': k\n\n')
                self.wfile.flush()
        except OSError:
            pass

    def do_POST(self):
        server = self.server
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0)).decode()
        server.seen.append(('POST', self.path, dict(self.headers), body))
        slug = self.path.rsplit('/', 1)[-1]
        if server.mode in ('ok200', 'collector'):
            return self._send(200, '{}')
        if server.mode == 'nested':
            return self._send(200, '[' * 5000 + ']' * 5000)
        if slug == UNKNOWN:
            return self._send(404, json.dumps({'ERRO': 'operacao desconhecida'}))
        if body in ('', '{}'):
            return self._send(400, json.dumps({'ERRO': 'campo ausente'}))
        if server.mode == 'verify500':
            return self._send(503, json.dumps({'ERRO': 'ocupado, tente de novo'}))
        if server.mode == 'verifyslow':
            server.stopping.wait(server.slow)
            return self._send(200, '{}')
        if server.mode == 'echo':  # a message quoting the body it got, the PIN just across the evidence's cut
            marker = 'SENHA_DISPOSITIVO\\": \\"'
            shown = 'HTTP 400 ' + json.dumps({'ERRO': ' invalid request ' + body})
            pad = max(0, 293 - (shown.index(marker) + len(marker))) if marker in shown else 0
            return self._send(400, json.dumps({'ERRO': 'x' * pad + ' invalid request ' + body}))
        return self._send(200, '{}')
