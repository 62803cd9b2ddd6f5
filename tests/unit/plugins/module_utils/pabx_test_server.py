"""A small HTTP server that plays the PABX for the client's unit tests; each test file scripts its own POST answers."""
import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CHANNEL_OPENING = b'event: EVENTO_DE_ABERTURA_DE_CANAL\ndata: {"ID_CANAL": "7"}\n\n'


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that gives up or closes a pooled connection is what these tests make happen

    @property
    def port(self):
        return self.server_address[1]

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port


class PabxHandler(BaseHTTPRequestHandler):
    """Opens the event channel on GET; a subclass adds do_POST and may change what the channel sends."""
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True  # small answers leave at once instead of waiting for a delayed ACK
    channel_open_seconds = 5  # the channel stays open a while after its opening event, as a PABX's does

    def log_message(self, *args):
        pass  # keep the test output free of one access-log line per request

    def channel_stream(self):
        return CHANNEL_OPENING

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream')
        self.send_header('Connection', 'close')  # the stream has no length: it ends when the connection does
        self.end_headers()
        self.wfile.write(self.channel_stream())
        self.wfile.flush()
        time.sleep(self.channel_open_seconds)
        self.close_connection = True


@contextlib.contextmanager
def serve(handler_class, tls_context=None):
    """Run a QuietServer with handler_class on a free loopback port, in a thread, until the block ends."""
    server = QuietServer(('127.0.0.1', 0), handler_class)
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class ForwardingProxy:
    """An HTTP proxy on loopback: CONNECT tunnels and absolute-URI requests, piped as they are to the origin.

    ``first_lines`` holds the first line of each connection, which says how the client used the proxy.
    """

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.first_lines = []
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        head = b''
        while b'\r\n\r\n' not in head:
            data = client.recv(65536)
            if not data:
                client.close()
                return
            head += data
        first = head.split(b'\r\n', 1)[0].decode('latin-1')
        self.first_lines.append(first)
        method, target = first.split(' ')[:2]
        if method == 'CONNECT':
            host, _sep, port = target.rpartition(':')
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
            head = head.split(b'\r\n\r\n', 1)[1]
        else:
            origin = urlsplit(target)
            upstream = socket.create_connection((origin.hostname, origin.port))
        if head:
            upstream.sendall(head)
        threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
        self._pipe(client, upstream)

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()
