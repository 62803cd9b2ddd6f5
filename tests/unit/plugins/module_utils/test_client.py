"""The shared client: parsing, scrubbing, validation, its retry rules against the emulator, and its transport."""
import ssl
import time

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._channel import parse_sse
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient, RateLimiter
from ansible_collections.digitro.pabx.plugins.module_utils._errors import CHANNEL_CLOSED, PabxError, PabxNotSent, scrub
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_number, check_password, check_url
from conftest import API_KEY
from pabx_test_server import ForwardingProxy, PabxHandler, serve
from tls import make_certificate


def test_parse_sse_events_and_keepalives():
    lines = [': keep-alive', '', 'event: EVENTO_DE_ABERTURA_DE_CANAL', 'data: {"ID_CANAL": "12"}', '',
             'data: a', 'data: b', '']
    assert list(parse_sse(lines)) == [('EVENTO_DE_ABERTURA_DE_CANAL', '{"ID_CANAL": "12"}'), ('message', 'a\nb')]


def test_scrub_masks_longest_first():
    assert scrub('pin 1234 and 12345', ['1234', '12345']) == 'pin ******** and ********'
    assert scrub(None, ['x']) == ''


@pytest.mark.parametrize('value, ok', [('1000', True), ('', False), ('12a', False), ('1' * 17, False)])
def test_check_number(value, ok):
    assert (check_number('device', value) is None) == ok


def test_check_password_never_echoes_the_value():
    message = check_password('new_password', 'has space 4321')
    assert message and '4321' not in message


@pytest.mark.parametrize('url, ok', [('https://pabx:8443', True), ('http://127.0.0.1', True),
                                     ('127.0.0.1:8080', False), ('ftp://pabx', False), ('', False),
                                     ('http://127.0.0.1:99999/', False), ('http://pabx:0', False), ('http://pabx:65535', True)])
def test_check_url(url, ok):
    assert (check_url('url', url) is None) == ok


def test_rate_limiter_spaces_requests():
    limiter = RateLimiter(50)
    started = time.monotonic()
    for _attempt in range(6):
        limiter.wait()
    assert time.monotonic() - started >= 0.09


def body_of(emulator, index=0):
    number, spec = list(emulator.site['devices'].items())[index]
    return {_api.DEVICE: number, _api.DEVICE_PASSWORD: spec['password']}


def test_reads_are_retried_on_500(start_emulator):
    emulator = start_emulator(error_rate=0.5, fault_seed=3)
    client = PabxClient(emulator.url, API_KEY)
    try:
        for index in range(10):
            assert client.call(_api.VERIFY_PASSWORD, body_of(emulator, index)) == {}
    finally:
        client.close()
    assert emulator.state()['faults']['error_500'] > 0


def test_changes_are_never_retried(start_emulator):
    emulator = start_emulator(error_rate=1.0)
    client = PabxClient(emulator.url, API_KEY)
    body = dict(body_of(emulator), **{_api.NEW_PASSWORD: '8642'})
    with pytest.raises(PabxError) as raised:
        client.call(_api.CHANGE_PASSWORD, body)
    client.close()
    assert raised.value.status == 500 and raised.value.ambiguous
    assert emulator.state()['stats']['op_altera-senha'] == 1
    assert body[_api.DEVICE_PASSWORD] not in raised.value.message


def test_a_closed_channel_is_reopened(start_emulator):
    emulator = start_emulator()
    client = PabxClient(emulator.url, API_KEY)
    try:
        client.call(_api.VERIFY_PASSWORD, body_of(emulator))
        first = client.channel_id()
        emulator.control(close_channels=True)
        client.call(_api.VERIFY_PASSWORD, body_of(emulator))
        assert client.channel_id() != first
    finally:
        client.close()


def test_error_message_names_operation_target_and_pabx_words(emulator):
    client = PabxClient(emulator.url, API_KEY)
    body = body_of(emulator)
    wrong = dict(body, **{_api.DEVICE_PASSWORD: '7319'})
    with pytest.raises(PabxError) as raised:
        client.call(_api.VERIFY_PASSWORD, wrong)
    client.close()
    message = raised.value.message
    assert message.startswith('verifica-senha for device %s failed: HTTP 403 Forbidden: ' % body[_api.DEVICE])
    assert 'senha incorreta' in message and '7319' not in message


def test_unreachable_pabx_is_a_clear_channel_error():
    client = PabxClient('http://127.0.0.1:9', API_KEY, timeout=2)
    with pytest.raises(PabxError) as raised:
        client.channel_id()
    assert 'Could not open the event channel' in raised.value.message


def test_scrub_leaves_other_numbers_whole():
    assert scrub('device 100000: senha 0000 errada', ['0000']) == 'device 100000: senha ******** errada'


# -- the transport: persistent connections, what may have reached the PABX, proxies ----------------------------------

PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY',
                   'NO_PROXY')
VERIFY = {_api.DEVICE: '1000', _api.DEVICE_PASSWORD: '48151623'}
CHANGE = dict(VERIFY, **{_api.NEW_PASSWORD: '73310945'})


class Counted:
    """How the next POSTs are answered ('ok', 'close': with Connection: close, 'drop': not at all), and what came."""
    mode, posts, connections, paths = 'ok', 0, 0, []


class CountingHandler(PabxHandler):
    def setup(self):
        Counted.connections += 1
        super(CountingHandler, self).setup()

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        Counted.posts += 1
        Counted.paths.append(self.path)
        if Counted.mode == 'drop':
            self.close_connection = True  # read, maybe processed, never answered
            return
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', '2')
        if Counted.mode == 'close':
            self.send_header('Connection', 'close')
            self.close_connection = True
        self.end_headers()
        self.wfile.write(b'{}')


@pytest.fixture
def counting(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    Counted.mode, Counted.posts, Counted.connections, Counted.paths = 'ok', 0, 0, []
    with serve(CountingHandler) as server:
        yield server


@pytest.fixture
def tls_counting(counting, tmp_path):
    """The counting server behind TLS; yields (server, its certificate)."""
    cert, key = make_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serve(CountingHandler, context) as server:
        yield server, cert


@pytest.fixture
def proxy():
    forwarding = ForwardingProxy()
    yield forwarding
    forwarding.close()


def test_one_connection_serves_many_requests(counting):
    client = PabxClient(counting.url, API_KEY, channel_id=7, concurrency=1)
    for _attempt in range(20):
        assert client.call(_api.VERIFY_PASSWORD, dict(VERIFY)) == {}
    client.close()
    assert Counted.posts == 20 and Counted.connections == 1
    assert Counted.paths[0] == '/requests/7/verifica-senha'


def test_one_tls_connection_serves_many_requests(tls_counting):
    server, cert = tls_counting
    client = PabxClient('https://127.0.0.1:%d' % server.port, API_KEY, channel_id=7, concurrency=1, ca_path=cert)
    for _attempt in range(20):
        assert client.call(_api.VERIFY_PASSWORD, dict(VERIFY)) == {}
    client.close()
    assert Counted.posts == 20 and Counted.connections == 1  # one handshake for the run, not one per request


def test_a_connection_the_pabx_closes_is_replaced(counting):
    Counted.mode = 'close'
    client = PabxClient(counting.url, API_KEY, channel_id=7, concurrency=1)
    for _attempt in range(3):
        assert client.call(_api.VERIFY_PASSWORD, dict(VERIFY)) == {}
    client.close()
    assert Counted.posts == 3 and Counted.connections == 3


def test_a_refused_connection_sent_nothing():
    client = PabxClient('http://127.0.0.1:9', API_KEY, timeout=2, channel_id=7)
    with pytest.raises(PabxError) as raised:
        client.call(_api.CHANGE_PASSWORD, dict(CHANGE))
    client.close()
    error = raised.value
    assert error.message == ('altera-senha for device 1000 got no answer: Failed to establish a new connection: '
                             '[Errno 111] Connection refused')
    assert error.no_answer and not error.maybe_processed and not error.ambiguous


def test_a_request_read_and_never_answered_may_have_been_processed(counting):
    Counted.mode = 'drop'
    client = PabxClient(counting.url, API_KEY, timeout=2, channel_id=7)
    with pytest.raises(PabxError) as raised:
        client.call(_api.CHANGE_PASSWORD, dict(CHANGE))
    assert raised.value.ambiguous and raised.value.maybe_processed
    assert raised.value.message.startswith('altera-senha for device 1000 got no answer: Connection aborted')
    with pytest.raises(PabxError) as raised:
        client.call(_api.VERIFY_PASSWORD, dict(VERIFY))  # a read, yet never resent: it may have counted
    client.close()
    assert raised.value.maybe_processed and not raised.value.ambiguous
    assert Counted.posts == 2
    assert '48151623' not in raised.value.message and API_KEY not in raised.value.message


def test_an_http_pabx_is_asked_through_the_environment_s_proxy(counting, proxy, monkeypatch):
    monkeypatch.setenv('http_proxy', proxy.url)
    client = PabxClient(counting.url, API_KEY, timeout=5)
    client.call(_api.VERIFY_PASSWORD, dict(VERIFY))
    client.close()
    assert set(proxy.first_lines) == set(['GET %s/events HTTP/1.1' % counting.url,
                                          'POST %s/requests/7/verifica-senha HTTP/1.1' % counting.url])


def test_an_https_pabx_is_reached_through_a_tunnel(tls_counting, proxy, monkeypatch):
    server, cert = tls_counting
    monkeypatch.setenv('https_proxy', proxy.url)
    url = 'https://127.0.0.1:%d' % server.port
    client = PabxClient(url, API_KEY, timeout=5, ca_path=cert)
    client.call(_api.VERIFY_PASSWORD, dict(VERIFY))
    client.close()
    # the channel's connection and the request's, each through a tunnel (HTTP/1.0 or 1.1, as http.client says it)
    assert len(proxy.first_lines) == 2
    assert all(line.startswith('CONNECT 127.0.0.1:%d HTTP/1.' % server.port) for line in proxy.first_lines)
    assert Counted.posts == 1


@pytest.mark.parametrize('no_proxy', ['127.0.0.1', '127.0.0.0/8', '*'])
def test_no_proxy_is_honoured(counting, no_proxy, monkeypatch):
    monkeypatch.setenv('http_proxy', 'http://127.0.0.1:9')  # nothing listens there
    monkeypatch.setenv('no_proxy', no_proxy)
    client = PabxClient(counting.url, API_KEY, timeout=2, channel_id=7)
    assert client.call(_api.VERIFY_PASSWORD, dict(VERIFY)) == {}
    client.close()


def test_a_proxy_that_is_down_is_said(counting, monkeypatch):
    monkeypatch.setenv('http_proxy', 'http://user:proxy-secret@127.0.0.1:9')
    client = PabxClient(counting.url, API_KEY, timeout=2, channel_id=7)
    with pytest.raises(PabxError) as raised:
        client.call(_api.CHANGE_PASSWORD, dict(CHANGE))
    client.close()
    assert raised.value.message.startswith('altera-senha for device 1000 got no answer: Unable to connect to proxy '
                                           '127.0.0.1:9: ')
    assert 'proxy-secret' not in raised.value.message and not raised.value.maybe_processed


PROXY_PASSWORD = 'Zq/9xv#Lk2'


@pytest.mark.parametrize('variable, url', [
    ('http_proxy', 'http://ops:%s@proxy.example:3128' % PROXY_PASSWORD),  # / and #: the password's start read as a port
    ('HTTP_PROXY', 'http://ops:712/9xv@proxy.example:3128'),  # / after digits: read as host "ops", port 712
    ('all_proxy', 'http://ops:Zq#Lk2@proxy.example:3128'),
    ('http_proxy', 'http://proxy.example:99999'),
    ('http_proxy', 'http://proxy.example:31a8'),
])
def test_a_malformed_proxy_url_fails_in_words_without_its_value(counting, monkeypatch, variable, url):
    monkeypatch.setenv(variable, url)
    client = PabxClient(counting.url, API_KEY, timeout=2)  # no traceback from the module's client() either
    try:
        with pytest.raises(PabxError) as opening:
            client.channel_id()
        fixed = PabxClient(counting.url, API_KEY, timeout=2, channel_id=7)
        with pytest.raises(PabxNotSent) as request:
            fixed.call(_api.VERIFY_PASSWORD, dict(VERIFY))
        fixed.close()
    finally:
        client.close()
    named = variable.lower()
    for error in (opening.value, request.value):
        assert '%s (or %s)' % (named, named.upper()) in error.message and 'no_proxy' in error.message
        for part in ('Zq', '712', '9xv', 'Lk2', '99999', '31a8', 'proxy.example'):
            assert part not in error.message
    assert not opening.value.no_answer and not request.value.no_answer  # a setting to fix: not a PABX that is down
    assert Counted.posts == 0 and Counted.connections == 0


def test_a_malformed_proxy_url_is_ignored_for_a_pabx_in_no_proxy(counting, monkeypatch):
    monkeypatch.setenv('http_proxy', 'http://ops:%s@proxy.example:3128' % PROXY_PASSWORD)
    monkeypatch.setenv('no_proxy', '127.0.0.1')
    client = PabxClient(counting.url, API_KEY, timeout=2, channel_id=7)
    assert client.call(_api.VERIFY_PASSWORD, dict(VERIFY)) == {}
    client.close()


def lose_channels(client, emulator, count):
    """The IDs of ``count`` channels of the client the PABX closed, each reopened as another thread would."""
    lost = []
    for _closing in range(count):
        lost.append(client.channel_id())
        emulator.control(close_channels=True)
        deadline = time.monotonic() + 5
        while client.channel_id() == lost[-1] and time.monotonic() < deadline:
            time.sleep(0.05)
    return lost


def test_a_request_refused_for_channels_another_thread_replaced_is_resent(start_emulator):
    """The channel closed while a request was on its way; another request's thread opened the next one before this
    request's refusal came back, and that one closed too. The PABX refused the channels, not the command: the request
    is resent on the next channel each time (it ended as an error, a change in flight unconfirmed, and the next run
    tried a stale PIN first: a good entry quarantined)."""
    emulator = start_emulator()
    client = PabxClient(emulator.url, API_KEY)
    try:
        client.call(_api.VERIFY_PASSWORD, body_of(emulator))
        lost = lose_channels(client, emulator, 2)
        assert client.channel_id() not in lost
        picked = client._channel_for
        client._channel_for = lambda spec, target: lost.pop(0) if lost else picked(spec, target)
        before = emulator.state()['stats'].get('op_verifica-senha', 0)
        assert client.call(_api.VERIFY_PASSWORD, body_of(emulator)) is not None
        assert emulator.state()['stats']['op_verifica-senha'] == before + 3  # refused twice for the channel, then resent
    finally:
        client.close()


def test_a_request_whose_channel_closed_at_every_resend_says_so(start_emulator):
    """Channels lost at every resend: the error says the PABX closed them (its trouble, which the next run retries),
    not only that it answered 400, which the rotation's report would take for a request the PABX refuses."""
    emulator = start_emulator()
    client = PabxClient(emulator.url, API_KEY)
    try:
        client.call(_api.VERIFY_PASSWORD, body_of(emulator))
        lost = lose_channels(client, emulator, 4)
        client._channel_for = lambda spec, target: lost.pop(0)
        with pytest.raises(PabxError) as raised:
            client.call(_api.VERIFY_PASSWORD, body_of(emulator))
        assert raised.value.message.startswith(CHANNEL_CLOSED + ' 4 times') and raised.value.status == 400
        assert str(raised.value) == raised.value.message
    finally:
        client.close()


def test_a_400_about_the_request_on_a_channel_that_closed_later_is_the_requests(start_emulator):
    """The PABX refused the new PIN (its policy), and the request's channel closed a moment later and was replaced
    before this thread looked: the refusal is the request's, reported as it is and not resent (a change refused as a
    channel's kept its PIN staged, and each run sent it again)."""
    emulator = start_emulator(pin_reject_pattern='^7')
    client = PabxClient(emulator.url, API_KEY)
    try:
        client.call(_api.VERIFY_PASSWORD, body_of(emulator))
        sent = client._post_once

        def refused_then_channel_lost(*args):
            try:
                return sent(*args)
            except PabxError:
                time.sleep(0.3)  # past the grace: the channel closed well after the answer
                lose_channels(client, emulator, 1)
                raise
        client._post_once = refused_then_channel_lost
        before = emulator.state()['stats'].get('op_altera-senha', 0)
        with pytest.raises(PabxError) as raised:
            client.call(_api.CHANGE_PASSWORD, dict(body_of(emulator), **{_api.NEW_PASSWORD: '73310945'}))
        assert raised.value.status == 400 and not raised.value.message.startswith(CHANNEL_CLOSED)
        assert emulator.state()['stats']['op_altera-senha'] == before + 1  # sent once: a refusal is not resent
    finally:
        client.close()
