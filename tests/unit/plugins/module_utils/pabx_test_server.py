"""A small HTTP server that plays the PABX for the client's unit tests; each test file scripts its own POST answers."""
import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
