"""The client against a PABX that answers badly: every case ends in a PabxError naming the cause, within the timeout."""
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
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
