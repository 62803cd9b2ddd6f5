"""The POST answer reader (_http.post_answer) against http.client, which it replaces for POST answers: the same
status, body, keep-alive reading and errors, for well-formed and broken answers alike."""
import http.client as http_client
import io

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.module_utils._http import ProtocolError, final_answer, post_answer


def _outcome(read_answer, data):
    """(status, body, will_close, bytes left unread) of an answer, or the type of the error reading it raised."""
    reader = io.BufferedReader(io.BytesIO(data))
    try:
        answer = read_answer(reader)
        chunks = []
        while True:
            chunk = answer.read1(7)  # small reads: chunk and length boundaries fall inside them
            if not chunk:
                break
            chunks.append(chunk)
        if answer.length:
            raise http_client.IncompleteRead(b'', answer.length)  # as read_body
        try:
            leftover = reader.read()
        except ValueError:  # http.client closes the reader at the end of a chunked body or at the close: none to compare
            leftover = None
        return answer.status, b''.join(chunks), answer.will_close, leftover
    except (http_client.HTTPException, ProtocolError) as exc:
        return type(exc)


def _ours(data):
    return _outcome(post_answer, data)


def _stdlib(data):
    return _outcome(lambda reader: final_answer(_Source(reader), 'POST'), data)


class _Source(object):
    """What http.client.HTTPResponse takes for a socket."""

    def __init__(self, reader):
        self.reader = reader

    def makefile(self, mode):
        return self.reader


def _same(ours, stdlib):
    """The outcomes agree; the bytes left unread only where http.client left its reader open to read them."""
    if isinstance(stdlib, tuple) and isinstance(ours, tuple) and stdlib[3] is None:
        return ours[:3] == stdlib[:3]
    return ours == stdlib


ANSWERS = [
    b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n',  # a stray answer after it stays unread
    b'HTTP/1.1 403 X\r\ncontent-type: application/json\r\ncontent-length: 24\r\n\r\n{"ERRO": "senha invalida"}',
    b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}',  # cut short
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=1\r\n{\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}',  # a chunk cut short
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',  # not a chunk size
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n{}',  # not plain chunked: read to the close
    b'HTTP/1.1 200 OK\r\n\r\n{"a": 1}',  # no length: to the close
    b'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n',
    b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}',
    b'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n{}',
    b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}',
    b'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\n{}',
    b'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}',  # no reason phrase
    b'HTTP/1.1 200 OK\nContent-Length: 2\n\n{}',  # bare line feeds
    b'',  # closed without an answer
    b'x-api-key: secret\r\n\r\n',  # not a status line
    b'HTTP/1.1 abc OK\r\n\r\n',
    b'HTTP/1.1 99 Low\r\n\r\n',
    b'HTTP/2.0 200 OK\r\n\r\n',
    b'HTTP/1.1 200 OK\r\n' + b'X-A: b\r\n' * 101 + b'\r\n',  # too many header lines
    b'HTTP/1.1 200 OK\r\nX-Long: ' + b'a' * 70000 + b'\r\n\r\n',  # a header line too long
    b'HTTP/1.1 200 ' + b'a' * 70000 + b'\r\n\r\n',  # a status line too long
    b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n',  # the head cut short
]


@pytest.mark.parametrize('data', ANSWERS)
def test_an_answer_reads_as_http_client_reads_it(data):
    assert _same(_ours(data), _stdlib(data))


# heads built from the fields a CTI answer's framing depends on, in any order and case, with any body
FIELDS = st.sampled_from([b'Content-Length: 2', b'content-length: 0', b'Content-Length: 40', b'Content-Length: 1x',
                          b'Transfer-Encoding: chunked', b'transfer-encoding: CHUNKED', b'Connection: close',
                          b'Connection: keep-alive', b'Keep-Alive: 5', b'Proxy-Connection: keep-alive',
                          b'Content-Type: application/json', b'X-Empty:', b'NoColon', b' folded', b'Bad Name: 1',
                          b':empty-name', b'X-Tab:\tv', b'Content-Length:  2 ', b'Transfer-Encoding:chunked ', b'Connection: Keep-Alive, Close', b'From x'])
BODIES = st.sampled_from([b'', b'{}', b'2\r\n{}\r\n0\r\n\r\n', b'1\r\n{', b'0\r\n\r\nrest', b'{"a": "b"}' * 5])


@settings(max_examples=400, deadline=None)
@given(version=st.sampled_from([b'HTTP/1.1', b'HTTP/1.0']), status=st.sampled_from([b'200', b'204', b'403', b'500', b'304']),
       fields=st.lists(FIELDS, max_size=5), body=BODIES)
def test_any_framing_reads_as_http_client_reads_it(version, status, fields, body):
    data = version + b' ' + status + b' X\r\n' + b''.join(field + b'\r\n' for field in fields) + b'\r\n' + body
    assert _same(_ours(data), _stdlib(data))


def test_a_length_with_odd_bytes_around_it_reads_to_the_close():
    """http.client's int() takes '2\\x1c' for 2 (str.strip drops any Unicode space): a length that is not plain digits
    is read as no length, the body to the connection's close, which is not reused."""
    status, body, will_close, _rest = _ours(b'HTTP/1.1 200 OK\r\nContent-Length: 2\x1c\r\n\r\n{}')
    assert (status, body, will_close) == (200, b'{}', True)
