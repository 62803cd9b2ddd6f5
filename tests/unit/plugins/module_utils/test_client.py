"""The shared client: parsing, scrubbing, validation, and its retry rules against the emulator."""
import time

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._channel import parse_sse
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient, RateLimiter
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError, scrub
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_number, check_password, check_url
from conftest import API_KEY


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
                                     ('127.0.0.1:8080', False), ('ftp://pabx', False), ('', False)])
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
