"""The client's messages: each names the request and its target, says the cause in words, and keeps its parentheses."""
import shutil
import ssl
import subprocess
import time

import pytest
import requests

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import run_batch
from ansible_collections.digitro.pabx.plugins.module_utils._client import MAX_ANSWER_BYTES, PabxClient
from ansible_collections.digitro.pabx.plugins.module_utils._errors import TLS_ADVICE, PabxError, explain
from pabx_test_server import PabxHandler, serve
from tls import make_certificate

API_KEY = 'key-0b7d41'
BODY = {_api.DEVICE: '1000', _api.DEVICE_PASSWORD: '48151623'}
CHANGE = dict(BODY, **{_api.NEW_PASSWORD: '73310945'})


class Answer:
    """What the server does with the next POST: 'ok', 'huge', 'short' (closes mid-body), 'stall' (headers only)."""
    mode, posts = 'ok', 0


class Handler(PabxHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        Answer.posts += 1
        body = b'x' * (MAX_ANSWER_BYTES + 4096) if Answer.mode == 'huge' else b'{}'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body) + (100 if Answer.mode in ('short', 'stall') else 0)))
        self.end_headers()
        try:
            if Answer.mode == 'stall':
                time.sleep(3)
            else:
                self.wfile.write(body)
        except OSError:
            pass
        if Answer.mode in ('short', 'stall'):
            self.close_connection = True


@pytest.fixture
def plain():
    Answer.mode, Answer.posts = 'ok', 0
    with serve(Handler) as server:
        yield server.port


@pytest.fixture
def tls_port(tmp_path):
    cert, key = make_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    Answer.mode, Answer.posts = 'ok', 0
    with serve(Handler, context) as server:
        yield server.port


def failure_of(client, operation=_api.VERIFY_PASSWORD, body=None):
    with pytest.raises(PabxError) as raised:
        client.call(operation, dict(body or BODY))
    client.close()
    message = raised.value.message
    assert '48151623' not in message and '73310945' not in message and API_KEY not in message
    return raised.value


# -- a. https:// on a plain-HTTP port --------------------------------------------------------------

@pytest.mark.parametrize('validate_certs', [True, False])
def test_https_url_on_a_plain_http_port_says_so(plain, validate_certs):
    client = PabxClient('https://127.0.0.1:%d' % plain, API_KEY, timeout=2, channel_id=7,
                        validate_certs=validate_certs)
    error = failure_of(client)
    assert error.message == ("verifica-senha for device 1000 failed: the PABX answered in plain HTTP on an https:// "
                             "URL: use http://127.0.0.1:%d or the PABX's HTTPS port" % plain)
    assert 'certificate' not in error.message


def test_https_url_on_a_plain_http_port_says_so_for_the_event_channel(plain):
    client = PabxClient('https://127.0.0.1:%d' % plain, API_KEY, timeout=2)
    with pytest.raises(PabxError) as raised:
        client.channel_id()
    client.close()
    assert raised.value.message == ("Could not open the event channel at https://127.0.0.1:%d/events: the PABX "
                                    "answered in plain HTTP on an https:// URL: use http://127.0.0.1:%d or the "
                                    "PABX's HTTPS port" % (plain, plain))


def test_a_certificate_failure_keeps_the_certificate_advice(tls_port):
    client = PabxClient('https://127.0.0.1:%d' % tls_port, API_KEY, timeout=2, channel_id=7)
    error = failure_of(client)
    assert error.message.startswith('verifica-senha for device 1000 failed: %s (' % TLS_ADVICE)
    assert 'CERTIFICATE_VERIFY_FAILED' in error.message and error.message.endswith(')')
    assert 'plain HTTP' not in error.message


def test_ca_path_may_be_a_directory_of_hashed_certificates(tls_port, tmp_path):
    if not shutil.which('openssl'):
        pytest.skip('no openssl to hash the CA directory')
    directory = tmp_path / 'cas'
    directory.mkdir()
    shutil.copy(str(tmp_path / 'pabx-cert.pem'), str(directory / 'pabx.pem'))
    subprocess.run(['openssl', 'rehash', str(directory)], check=True, capture_output=True)
    client = PabxClient('https://127.0.0.1:%d' % tls_port, API_KEY, timeout=2, channel_id=7, ca_path=str(directory))
    assert client.call(_api.VERIFY_PASSWORD, dict(BODY)) == {}
    client.close()


def test_a_certificate_for_another_name_is_refused(tls_port, tmp_path):
    client = PabxClient('https://localhost:%d' % tls_port, API_KEY, timeout=2, channel_id=7,
                        ca_path=str(tmp_path / 'pabx-cert.pem'))  # the certificate names 127.0.0.1 only
    error = failure_of(client)
    assert error.message.startswith('verifica-senha for device 1000 failed: %s (' % TLS_ADVICE)
    assert 'mismatch' in error.message and Answer.posts == 0


@pytest.mark.parametrize('words', ["[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)",
                                   "[SSL] record layer failure (_ssl.c:1000)",
                                   "[SSL: UNKNOWN_PROTOCOL] unknown protocol (_ssl.c:1000)"])
def test_explain_knows_the_words_of_a_plain_http_answer(words):
    error = requests.exceptions.SSLError("HTTPSConnectionPool(host='pabx', port=8080): Max retries exceeded with "
                                         "url: /events (Caused by SSLError(SSLError(1, '%s')))" % words)
    assert explain(error, 'https://pabx:8080/events') == ("the PABX answered in plain HTTP on an https:// URL: use "
                                                          "http://pabx:8080 or the PABX's HTTPS port")


# -- b. an answer past the size cap -----------------------------------------------------------------

def test_an_oversized_answer_is_not_called_a_timeout(plain):
    Answer.mode = 'huge'
    client = PabxClient('http://127.0.0.1:%d' % plain, API_KEY, timeout=5, channel_id=7)
    error = failure_of(client)
    assert error.message == ("verifica-senha for device 1000 failed: the PABX's answer exceeded 1 MiB, which no CTI "
                             "answer does: is the URL the PABX's CTI API?")
    assert 'timeout' not in error.message
    assert Answer.posts == 1  # a read, yet not retried: it would get the same answer
    assert not client.breaker_open and client._failures_in_row == 0


def test_an_oversized_answer_to_a_change_is_ambiguous(plain):
    Answer.mode = 'huge'
    client = PabxClient('http://127.0.0.1:%d' % plain, API_KEY, timeout=5, channel_id=7)
    error = failure_of(client, _api.CHANGE_PASSWORD, CHANGE)
    assert error.message.startswith("altera-senha for device 1000 failed: the PABX's answer exceeded 1 MiB")
    assert error.ambiguous and error.status is None


# -- c. parentheses kept ----------------------------------------------------------------------------

def test_explain_keeps_a_reason_s_own_parentheses():
    timeout = requests.exceptions.ReadTimeout("HTTPConnectionPool(host='pabx', port=80): Read timed out. "
                                              "(read timeout=10)")
    assert explain(timeout) == "HTTPConnectionPool(host='pabx', port=80): Read timed out. (read timeout=10)"


def test_explain_drops_only_the_parentheses_of_the_wrapper():
    refused = requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='pabx', port=9): Max retries exceeded with url: /events (Caused by "
        "NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a1c2b5d90>: Failed to establish a "
        "new connection: [Errno 111] Connection refused (os error)'))")
    assert explain(refused) == 'Failed to establish a new connection: [Errno 111] Connection refused (os error)'


def test_explain_never_gives_a_type_alone():
    assert explain(requests.exceptions.ConnectionError()) == 'no reason given (ConnectionError)'
    long_reason = explain(requests.exceptions.ConnectionError('x' * 500))
    assert len(long_reason) == 200 and long_reason.endswith('...')


def test_the_timeout_message_keeps_its_closing_parenthesis(plain):
    Answer.mode = 'stall'
    client = PabxClient('http://127.0.0.1:%d' % plain, API_KEY, timeout=0.5, channel_id=7)
    error = failure_of(client, _api.CHANGE_PASSWORD, CHANGE)
    assert error.message == 'altera-senha for device 1000 got no complete answer within 0.5s (timeout)'
    assert error.ambiguous and error.no_answer


# -- d. every failure names the request and its target --------------------------------------------

@pytest.mark.parametrize('mode', ['short', 'stall'])
def test_a_broken_answer_names_the_request_not_a_python_type(plain, mode):
    """An answer cut short or stalled mid-body raised urllib3's own errors, which ended as 'unexpected ...'."""
    Answer.mode = mode
    client = PabxClient('http://127.0.0.1:%d' % plain, API_KEY, timeout=0.5, channel_id=7, concurrency=2)
    entries = [dict(device='1000', account='2000'), dict(device='1001')]

    def worker(entry):
        body = dict(BODY, **{_api.DEVICE: entry['device']})
        if entry.get('account'):
            body.update({_api.ACCOUNT: entry['account'], _api.ACCOUNT_PASSWORD: '42917335'})
        client.call(_api.VALIDATE_USER if entry.get('account') else _api.VERIFY_PASSWORD, body)
        return dict(device=entry['device'], failed=False)

    results = run_batch(entries, worker, 2)
    client.close()
    assert results[0]['msg'].startswith('valida-usuario for account 2000 on device 1000 got no complete answer')
    assert results[1]['msg'].startswith('verifica-senha for device 1001 got no complete answer')
    for result in results:
        assert 'unexpected' not in result['msg'] and 'Error(' not in result['msg']
        assert '42917335' not in result['msg'] and '48151623' not in result['msg']


def test_an_unexpected_exception_names_the_target():
    def worker(entry):
        raise KeyError('ERRO')

    result = run_batch([dict(device='1000', account='2000')], worker, 1)[0]
    assert result['msg'] == 'unexpected KeyError while processing account 2000 on device 1000'


def test_a_channel_failure_inside_a_call_names_the_request():
    client = PabxClient('http://127.0.0.1:9', API_KEY, timeout=1)
    error = failure_of(client)
    assert error.message.startswith('verifica-senha for device 1000 not sent: could not open the event channel at '
                                    'http://127.0.0.1:9/events: ')
    assert error.not_sent and 'Connection refused' in error.message
