"""The client's circuit breaker: a PABX that stopped answering costs a few timeouts, not one per entry."""
import socket
import threading
import time

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import run_batch
from ansible_collections.digitro.pabx.plugins.module_utils._client import BREAKER_THRESHOLD, PabxClient
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError, PabxNotAnswering
from pabx_test_server import PabxHandler, serve

API_KEY = 'key-5c1e88'
BREAKER_WORDS = 'is not answering'
CALLS = 3000


def body(number, pin='48151623'):
    return {_api.DEVICE: str(number), _api.DEVICE_PASSWORD: pin}


class SilentServer:
    """Accepts TCP connections and never says a word (a hung PABX, or a firewall that holds connections)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(128)
        self.accepted = []
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _peer = self.sock.accept()
            except OSError:
                return
            self.accepted.append(connection)  # held open, never read, never answered

    def close(self):
        self.sock.close()
        for connection in self.accepted:
            connection.close()


class Scripted:
    """The statuses the next POSTs get, in order (500 once the script is done), and how many POSTs came."""
    statuses, posts = [], 0


class ScriptedHandler(PabxHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        Scripted.posts += 1
        status = Scripted.statuses.pop(0) if Scripted.statuses else 500
        payload = b'{}' if status == 200 else b'{"ERRO": "falha interna"}'
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture
def scripted():
    Scripted.statuses, Scripted.posts = [], 0
    with serve(ScriptedHandler) as server:
        yield server.url


def run_many(url):
    """CALLS verifications through run_batch, as a module runs a batch; (seconds, results, client)."""
    client = PabxClient(url, API_KEY, timeout=1, channel_id=7, concurrency=16)

    def worker(entry):
        client.call(_api.VERIFY_PASSWORD, body(entry['device']))
        return dict(device=entry['device'], failed=False)

    started = time.monotonic()
    try:
        results = run_batch([dict(device=str(10000 + i)) for i in range(CALLS)], worker, 16)
    finally:
        client.close()
    return time.monotonic() - started, results, client


@pytest.mark.parametrize('kind', ['silent', '500'])
def test_a_pabx_that_stops_answering_fails_the_batch_fast(request, kind):
    url = request.getfixturevalue('silent').url if kind == 'silent' else request.getfixturevalue('scripted')
    seconds, results, client = run_many(url)
    print('\n%d calls against a %s PABX (timeout 1s, concurrency 16): %.2f s, %d requests sent'
          % (CALLS, kind, seconds, client.request_count))
    assert seconds < 30  # one timeout per request would be 3000 / 16 * 1s, and 3 attempts each: minutes
    assert all(r['failed'] for r in results)
    fast = [r for r in results if BREAKER_WORDS in r['msg']]
    assert len(fast) > CALLS * 0.95
    assert client.breaker_open and 'requests in a row got no answer or a 5xx' in client.breaker_reason
    assert client.request_count < 16 * 3 + BREAKER_THRESHOLD  # in-flight ones and their retries, no more
    message = fast[-1]['msg']
    assert message.startswith('verifica-senha for device %s not sent: the PABX at %s is not answering ('
                              % (results.index(fast[-1]) + 10000, url))
    assert message.endswith('every pending PIN is kept; check that the PABX is up and reachable, then run again')
    assert '48151623' not in message and API_KEY not in message


def test_the_breaker_error_says_nothing_was_sent(scripted):
    client = PabxClient(scripted, API_KEY, timeout=1, channel_id=7, breaker_threshold=2)
    change = dict(body(1000), **{_api.NEW_PASSWORD: '2222'})
    for _attempt in range(2):
        with pytest.raises(PabxError) as raised:
            client.call(_api.CHANGE_PASSWORD, change)
        assert raised.value.status == 500 and raised.value.ambiguous and not raised.value.not_sent
    with pytest.raises(PabxNotAnswering) as raised:
        client.call(_api.CHANGE_PASSWORD, change)
    client.close()
    error = raised.value
    assert error.not_sent and error.status is None and not error.ambiguous
    assert error.operation == 'altera-senha' and error.target == 'device 1000'
    assert '(2 requests in a row got no answer or a 5xx; the last: HTTP 500)' in error.message
    assert Scripted.posts == 2


def test_an_answer_in_between_resets_the_count(scripted):
    client = PabxClient(scripted, API_KEY, timeout=1, channel_id=7, breaker_threshold=3)
    change = dict(body(1000), **{_api.NEW_PASSWORD: '2222'})  # a change: not retried, one request per call
    Scripted.statuses = [500, 500, 200, 500, 500, 403, 500, 500, 500]
    outcomes = []
    for _attempt in range(10):
        try:
            client.call(_api.CHANGE_PASSWORD, change)
            outcomes.append(200)
        except PabxNotAnswering:
            outcomes.append('breaker')
        except PabxError as exc:
            outcomes.append(exc.status)
        if outcomes[-1] != 'breaker':
            assert not client.breaker_open or len(outcomes) == 9
    client.close()
    assert outcomes == [500, 500, 200, 500, 500, 403, 500, 500, 500, 'breaker']
    assert Scripted.posts == 9


def test_retries_stop_once_the_breaker_opens(scripted):
    client = PabxClient(scripted, API_KEY, timeout=1, channel_id=7, breaker_threshold=2)
    with pytest.raises(PabxError) as raised:
        client.call(_api.VERIFY_PASSWORD, body(1000))  # a read: up to 3 attempts, but the 2nd opens the breaker
    client.close()
    # what the last attempt that was sent got, not "not sent": the PABX did receive this verification
    assert raised.value.status == 500 and not raised.value.not_sent
    assert Scripted.posts == 2 and client.breaker_open


def test_a_verification_that_timed_out_is_never_resent_and_counts(silent):
    client = PabxClient(silent.url, API_KEY, timeout=0.3, channel_id=7, breaker_threshold=3)
    for number in (1000, 1001, 1002):
        with pytest.raises(PabxError) as raised:
            client.call(_api.VERIFY_PASSWORD, body(number))
        # it reached the PABX, which may have counted a wrong password: resending could count it twice
        assert raised.value.maybe_processed and not raised.value.not_sent
        assert 'got no answer' in raised.value.message and raised.value.message.endswith('(read timeout=0.3)')
    assert client.breaker_open and client.request_count == 3
    started = time.monotonic()
    with pytest.raises(PabxNotAnswering):
        client.call(_api.VERIFY_PASSWORD, body(1003))
    assert time.monotonic() - started < 0.1 and client.request_count == 3
    client.close()


def test_the_default_threshold_needs_no_caller_change(scripted):
    client = PabxClient(scripted, API_KEY, timeout=1, channel_id=7)
    assert client.breaker_threshold == BREAKER_THRESHOLD and not client.breaker_open
    assert client.breaker_reason is None
    change = dict(body(1000), **{_api.NEW_PASSWORD: '2222'})
    for _attempt in range(BREAKER_THRESHOLD):
        with pytest.raises(PabxError):
            client.call(_api.CHANGE_PASSWORD, change)
    assert client.breaker_open
    client.close()


def test_a_threshold_of_zero_never_opens(scripted):
    client = PabxClient(scripted, API_KEY, timeout=1, channel_id=7, breaker_threshold=0)
    change = dict(body(1000), **{_api.NEW_PASSWORD: '2222'})
    for _attempt in range(BREAKER_THRESHOLD + 2):
        with pytest.raises(PabxError) as raised:
            client.call(_api.CHANGE_PASSWORD, change)
        assert raised.value.status == 500
    assert not client.breaker_open and Scripted.posts == BREAKER_THRESHOLD + 2
    client.close()


def test_channel_opens_that_get_no_answer_count(silent):
    client = PabxClient('http://127.0.0.1:9', API_KEY, timeout=1, breaker_threshold=2)  # nothing listens on 9
    for _attempt in range(2):
        with pytest.raises(PabxError) as raised:
            client.call(_api.VERIFY_PASSWORD, body(1000))
        assert raised.value.message.startswith('verifica-senha for device 1000 not sent: could not open the event '
                                               'channel at http://127.0.0.1:9/')
        assert raised.value.not_sent
    with pytest.raises(PabxNotAnswering) as raised:
        client.call(_api.VERIFY_PASSWORD, body(1000))
    assert raised.value.message.startswith('verifica-senha for device 1000 not sent: the PABX at http://127.0.0.1:9 '
                                           'is not answering (2 requests in a row')
    client.close()
