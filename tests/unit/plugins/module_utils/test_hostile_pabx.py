"""The client against a PABX that answers badly: every case ends in a PabxError naming the cause, within the timeout."""
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._password import Budget
from pabx_test_server import CHANNEL_OPENING, PabxHandler, serve

BODY = {_api.DEVICE: '1000', _api.DEVICE_PASSWORD: '48151623'}


class Answer:
    status, body, content_type, trickle, sse = 200, b'{}', 'application/json', 0, None


class HostileHandler(PabxHandler):
    def channel_stream(self):
        return CHANNEL_OPENING if Answer.sse is None else Answer.sse

    @property
    def channel_open_seconds(self):
        return 30 if Answer.sse is None else 0  # a bad stream ends at once, so the client reads all of it

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        self.send_response(Answer.status)
        self.send_header('Content-Type', Answer.content_type)
        self.send_header('Content-Length', str(len(Answer.body) + (5 if Answer.trickle else 0)))
        self.end_headers()
        if Answer.trickle:
            try:
                for byte in Answer.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(Answer.trickle)
            except BrokenPipeError:
                pass  # the client gave up, as it should
        else:
            self.wfile.write(Answer.body)


@pytest.fixture(scope='module')
def hostile():
    with serve(HostileHandler) as server:
        yield server.url


@pytest.fixture
def client(hostile):
    Answer.status, Answer.body, Answer.content_type = 200, b'{}', 'application/json'
    Answer.trickle, Answer.sse = 0, None
    # no circuit breaker: hypothesis reuses this client for all its examples, and a run of 5xx examples
    # would open it and leave the later ones untested
    client = PabxClient(hostile, 'key-9d2f7a', timeout=1, channel_id=7, breaker_threshold=0)
    yield client
    client.close()


@pytest.mark.parametrize('status, body, content_type, expected', [
    (200, b'<html><body>Welcome</body></html>', 'text/html', 'not a JSON object'),
    (200, b'[1, 2]', 'application/json', 'not a JSON object'),
    (200, b'{"ERRO": ', 'application/json', 'not a JSON object'),          # truncated
    (500, b'<html>Internal</html>', 'text/html', 'HTTP 500 Internal Server Error: <html>Internal</html>'),
    (403, b'', 'text/plain', 'HTTP 403 Forbidden'),
    (401, b'{"ERRO": "chave invalida"}', 'text/plain', 'HTTP 401 Unauthorized: chave invalida'),  # wrong type
])
def test_bad_answers_are_clear_errors(client, status, body, content_type, expected):
    Answer.status, Answer.body, Answer.content_type = status, body, content_type
    with pytest.raises(PabxError) as raised:
        client.call(_api.VERIFY_PASSWORD, dict(BODY))
    assert expected in raised.value.message
    assert raised.value.message.startswith('verifica-senha for device 1000')


def test_empty_200_is_an_empty_object(client):
    Answer.body = b''
    assert client.call(_api.VERIFY_PASSWORD, dict(BODY)) == {}


def test_a_trickling_answer_does_not_outlast_the_timeout(client):
    Answer.body, Answer.trickle = b'{"A": "' + b'x' * 40 + b'"}', 0.1
    started = time.monotonic()
    with pytest.raises(PabxError) as raised:
        client.call(_api.CHANGE_PASSWORD, dict(BODY, **{_api.NEW_PASSWORD: '1234'}))
    assert time.monotonic() - started < 3
    assert 'no complete answer within 1s' in raised.value.message and raised.value.ambiguous


@pytest.mark.parametrize('stream', [b'garbage\n\n', b'event: EVENTO_DE_ABERTURA_DE_CANAL\ndata: {"ID": 1}\n\n',
                                    b'event: EVENTO_DE_ABERTURA_DE_CANAL\ndata: {"ID_CANAL": "x;y"}\n\n', b''])
def test_a_bad_event_channel_is_a_clear_error(hostile, stream):
    Answer.sse = stream
    client = PabxClient(hostile, 'key-9d2f7a', timeout=1)
    with pytest.raises(PabxError) as raised:
        client.channel_id()
    client.close()
    assert 'EVENTO_DE_ABERTURA_DE_CANAL' in raised.value.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 500, 502, 503]),
       body=st.one_of(st.binary(max_size=300), st.builds(lambda v: json.dumps(v).encode(), st.recursive(
           st.none() | st.booleans() | st.integers() | st.text(max_size=20),
           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
           max_leaves=8))),
       content_type=st.sampled_from(['application/json', 'text/html', 'text/plain; charset=latin-1', '']))
def test_any_answer_is_a_dict_or_a_pabx_error(client, status, body, content_type):
    Answer.status, Answer.body, Answer.content_type = status, body, content_type
    try:
        answer = client.call(_api.VALIDATE_USER,
                             dict(BODY, **{_api.ACCOUNT: '2000', _api.ACCOUNT_PASSWORD: '42917335'}))
    except PabxError as exc:
        assert 'validate' not in exc.message and 'valida-usuario for account 2000 on device 1000' in exc.message
        assert '48151623' not in exc.message and '42917335' not in exc.message
    else:
        assert status == 200 and isinstance(answer, dict)


# -- answers that are not one request's own -------------------------------------------------------------------------
# A scripted PABX: RawScript.answers(n, body) gives what to write for the n-th POST (bytes), and seconds to wait.

class RawScript:
    answers = None
    received = []


class RawHandler(PabxHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get('Content-Length') or 0)))
        RawScript.received.append(body)
        try:
            for piece in RawScript.answers(len(RawScript.received), body):
                if isinstance(piece, bytes):
                    self.wfile.write(piece)
                    self.wfile.flush()
                else:
                    time.sleep(piece)
        except OSError:
            pass  # the client gave up, as it should
        self.close_connection = False


def raw_answer(status, data=None):
    body = json.dumps(data if data is not None else {}).encode()
    return b'HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' % (status, len(body), body)


WRONG_PIN = raw_answer(403, {'ERRO': 'senha invalida'})


@pytest.fixture
def scripted():
    """A client with one connection (so a reused one carries every request) to a scripted PABX."""
    RawScript.received = []
    with serve(RawHandler) as server:
        client = PabxClient(server.url, 'key-9d2f7a', timeout=1, channel_id=7, concurrency=1)
        yield client
        client.close()


def verify_body(device):
    return {_api.DEVICE: device, _api.DEVICE_PASSWORD: '48151623'}


def test_interim_answers_are_skipped_and_the_next_request_reads_its_own_answer(scripted):
    def answers(number, body):
        if number == 1:  # 102 and 103 are not the answer: http.client took them for it, with an empty body
            return [b'HTTP/1.1 102 Processing\r\n\r\n', 0.1, b'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n', 0.1,
                    raw_answer(200, {'DISPOSITIVO': body['DISPOSITIVO']})]
        return [WRONG_PIN]
    RawScript.answers = answers
    assert scripted.call(_api.VERIFY_PASSWORD, verify_body('100001')) == {_api.DEVICE: '100001'}
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.VERIFY_PASSWORD, verify_body('100002'))  # a wrong PIN, never "accepted"
    assert raised.value.status == 403


def test_a_chunked_answer_is_read_and_its_connection_kept(scripted):
    """A PABX (or a proxy before it) may send its answers chunked: the answer is read, and the connection serves the
    next request (http.client closed its reader at the end of a chunked body, and the check for stray bytes failed)."""
    def answers(number, body):
        data = json.dumps({'DISPOSITIVO': body['DISPOSITIVO']}).encode()
        return [b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' % (len(data), data)]
    RawScript.answers = answers
    assert scripted.call(_api.VERIFY_PASSWORD, verify_body('100001')) == {_api.DEVICE: '100001'}
    assert scripted.call(_api.VERIFY_PASSWORD, verify_body('100002')) == {_api.DEVICE: '100002'}
    assert len(RawScript.received) == 2


def test_a_101_answer_is_a_protocol_error_that_may_have_been_processed(scripted):
    RawScript.answers = lambda number, body: [b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n']
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.CHANGE_PASSWORD, dict(verify_body('100001'), **{_api.NEW_PASSWORD: '1234'}))
    assert 'Protocol error' in raised.value.message
    assert raised.value.maybe_processed and raised.value.ambiguous and len(RawScript.received) == 1


def test_endless_interim_answers_end_within_the_timeout(scripted):
    RawScript.answers = lambda number, body: [b'HTTP/1.1 102 Processing\r\n\r\n', 0.05] * 100
    started = time.monotonic()
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.VERIFY_PASSWORD, verify_body('100001'))
    assert time.monotonic() - started < 1.5 and raised.value.maybe_processed and len(RawScript.received) == 1


@pytest.mark.parametrize('stray_after', [None, 0.05])
def test_bytes_after_a_complete_answer_are_never_the_next_answer(scripted, stray_after):
    """A stray second answer, in the same write as the first (left in the buffer) or a moment later (arrived while the
    connection was idle): the connection is closed, and the next request gets its own answer on a new one."""
    def answers(number, body):
        if number > 1:
            return [0.2, WRONG_PIN]
        if stray_after is None:
            return [raw_answer(200) + raw_answer(200, {'stray': True})]
        return [raw_answer(200), stray_after, raw_answer(200, {'stray': True})]
    RawScript.answers = answers
    assert scripted.call(_api.VERIFY_PASSWORD, verify_body('100001')) == {}
    time.sleep(0.2)  # the late stray has arrived: the check before reuse sees it
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.VERIFY_PASSWORD, verify_body('100002'))
    assert raised.value.status == 403


def test_a_trickling_head_cannot_outlast_the_timeout(scripted):
    """One header line every 0.2 s never leaves the socket idle for the timeout: the whole answer has a deadline."""
    RawScript.answers = lambda number, body: [b'HTTP/1.1 200 OK\r\n'] + [0.2, b'X-Slow: a\r\n'] * 50 + [b'\r\n']
    started = time.monotonic()
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.VERIFY_PASSWORD, verify_body('100001'))
    assert time.monotonic() - started < 1.5
    assert 'timed out' in raised.value.message and raised.value.maybe_processed and len(RawScript.received) == 1


def test_a_head_past_the_cap_is_refused(scripted):
    header_lines = b''.join(b'X-Big-%d: %s\r\n' % (index, b'a' * 1000) for index in range(90))  # 90 KiB, 90 lines
    RawScript.answers = lambda number, body: [b'HTTP/1.1 200 OK\r\n' + header_lines + b'Content-Length: 2\r\n\r\n{}']
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.VERIFY_PASSWORD, verify_body('100001'))
    assert 'head of the answer exceeded 64 KiB' in raised.value.message


# -- gateway errors ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('status, sent, maybe_processed', [(502, 1, True), (504, 1, True), (500, 3, False), (503, 3, False)])
def test_a_gateway_error_may_have_been_processed_and_is_never_resent(scripted, status, sent, maybe_processed):
    """A reverse proxy's 502/504 comes after it passed the request on; a 500/503 is the PABX's own refusal (assumed,
    docs/api-contract.md), so a read is retried after it."""
    RawScript.answers = lambda number, body: [raw_answer(status)]
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.VERIFY_PASSWORD, verify_body('100001'))
    assert len(RawScript.received) == sent and raised.value.maybe_processed == maybe_processed


def test_a_gateway_error_counts_as_a_possible_wrong_attempt(scripted):
    RawScript.answers = lambda number, body: [raw_answer(504)]
    budget = Budget(0, 2)
    with pytest.raises(PabxError):
        budget.verify(scripted, {'device': '100001', 'device_password': '48151623'}, '48151623')
    assert budget.spent == 1


def test_a_write_answered_by_a_gateway_error_is_ambiguous(scripted):
    RawScript.answers = lambda number, body: [raw_answer(502)]
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.CHANGE_PASSWORD, dict(verify_body('100001'), **{_api.NEW_PASSWORD: '1234'}))
    assert raised.value.ambiguous and raised.value.maybe_processed and len(RawScript.received) == 1


# -- an API key echoed by the event channel ---------------------------------------------------------------------------

class EchoingHandler(PabxHandler):
    """Answers the event stream's GET with the request's own x-api-key line for a status line."""

    def do_GET(self):
        self.wfile.write(b'x-api-key: %s\r\n\r\n' % self.headers['x-api-key'].encode())
        self.close_connection = True


def test_an_api_key_echoed_by_the_event_channel_is_scrubbed():
    with serve(EchoingHandler) as server:
        client = PabxClient(server.url, 'echoed-key-1234abcd', timeout=1)
        try:
            with pytest.raises(PabxError) as opening:
                client.channel_id()
            with pytest.raises(PabxError) as request:
                client.call(_api.VERIFY_PASSWORD, verify_body('100001'))
        finally:
            client.close()
    for error in (opening.value, request.value):
        assert 'x-api-key' in error.message and 'echoed-key-1234abcd' not in error.message + str(error)


def test_a_redirect_of_a_write_is_not_followed(scripted):
    location = b'http://127.0.0.1:9/requests/7/altera-senha?k=key-9d2f7a'
    RawScript.answers = lambda number, body: [b'HTTP/1.1 307 Temporary Redirect\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n'
                                              % location]
    with pytest.raises(PabxError) as raised:
        scripted.call(_api.CHANGE_PASSWORD, dict(verify_body('100001'), **{_api.NEW_PASSWORD: '1234'}))
    assert raised.value.status == 307 and len(RawScript.received) == 1 and 'key-9d2f7a' not in raised.value.message
