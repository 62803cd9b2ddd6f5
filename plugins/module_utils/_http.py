# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP transport of the collection: the standard library's http.client, kept lean.

A PABX's CTI API answers small JSON bodies, thousands of times a run, to up to
256 threads. requests spent more CPU on each answer (cookies, header mappings,
per-request environment checks) than the module spent on everything else, so
the requests to one PABX go through persistent connections of this module
instead: one request head built once as bytes, one ``sendall``, the answer read
within a deadline and a size cap. A connection is dropped after any error and
after ``Connection: close``. Redirects are never followed.

The environment's proxy settings (``http_proxy``, ``https_proxy``, ``all_proxy``,
``no_proxy``) are honoured as requests honoured them: an http:// PABX is asked
through the proxy with the absolute URI, an https:// one through a CONNECT tunnel.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import io
import ipaddress
import os
import re
import select
import socket
import ssl
import time

import http.client as http_client
import queue
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

READ_SIZE = 65536
# A CTI answer's head is a few hundred bytes. http.client caps the length of a header line and the number of header
# lines, not their sum, and it skips only 100 Continue: this caps the head, interim 1xx answers included.
HEAD_MAX_BYTES = 65536
TIMEOUT_SLACK = 0.05  # seconds a wait may end past a request's deadline, so that its timeout is seldom set anew
STREAM_LINE_LIMIT = 65536  # an event line longer than this is cut: it is not one the modules use
DEFAULT_PORTS = {'http': 80, 'https': 443}
# What a broken exchange raises: the socket's errors (timeouts, resets, TLS alerts) and http.client's (a bad status
# line, a connection closed before the answer, a chunk cut short).
BROKEN_ERRORS = (OSError, http_client.HTTPException)
# Sent with every request, as requests sent its own: some proxies and firewalls refuse a request without them.
COMMON_HEADERS = {'User-Agent': 'digitro.pabx', 'Accept': '*/*'}


class TransportError(Exception):
    """A request that got no (complete) answer. ``sent``: the request may have reached the PABX. ``partial``: the
    answer's head came, its body broke off. ``tls``: the TLS handshake failed (a setting to fix, not a PABX that is
    down). ``setting``: another setting to fix (a proxy URL that cannot be read); nothing was sent. The message is
    in words: what the socket said, never a header or a body."""

    def __init__(self, message, sent=False, tls=False, partial=False, setting=False):
        super(TransportError, self).__init__(message)
        self.message = message
        self.sent = sent or partial
        self.tls = tls
        self.partial = partial
        self.setting = setting

    def __str__(self):
        return self.message


class AnswerTooSlow(Exception):
    """The answer did not complete within the timeout."""


class AnswerTooLarge(Exception):
    """The answer grew past the size cap: whatever answers is not a PABX's CTI API."""


class ProtocolError(http_client.HTTPException):
    """An answer no CTI API sends (101 Switching Protocols to a POST): the request may have been processed."""


class DeadlineReader(io.RawIOBase):
    """A socket's bytes for http.client, each recv bounded by the time left before ``deadline``: a server that
    trickles the status line or the headers cannot hold a request past its timeout. With ``deadline`` None, each
    recv waits at most ``idle_timeout`` (an event stream, which lasts as long as the run). At most ``budget`` bytes
    are received (None: no cap), so a head cannot grow without end. ``probing``: a recv takes only what has
    already arrived, never waits."""

    def __init__(self, sock, deadline, budget=None, idle_timeout=None):
        super(DeadlineReader, self).__init__()
        self.sock = sock
        self.deadline = deadline
        self.budget = budget
        self.idle_timeout = idle_timeout
        self.probing = False
        self.ended = False  # the other end closed its side

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.probing:
            return self._read_arrived(buffer)
        if self.deadline is None:
            if self.sock.gettimeout() != self.idle_timeout:
                self.sock.settimeout(self.idle_timeout)
            return self._counted(self.sock.recv_into(buffer))
        while True:
            bound_wait(self.sock, self.deadline - time.monotonic())
            try:
                return self._counted(self.sock.recv_into(buffer))
            except socket.timeout:
                if self.deadline - time.monotonic() <= 0:
                    raise
                # a timeout left shorter than the time left (by an earlier request) ended the wait early: wait on
                self.sock.settimeout(self.deadline - time.monotonic())

    def _read_arrived(self, buffer):
        if isinstance(self.sock, ssl.SSLSocket):
            # TLS: bytes may wait decrypted inside the TLS layer, and readable bytes may not make a whole record
            self.sock.settimeout(0)
        elif not is_dropped(self.sock):
            return None  # nothing has arrived: what BufferedReader takes for "no bytes now"
        try:
            return self._counted(self.sock.recv_into(buffer))
        except (BlockingIOError, ssl.SSLWantReadError):
            return None

    def _counted(self, count):
        if not count:
            self.ended = True
        if self.budget is not None:
            self.budget -= count
            if self.budget < 0:
                raise AnswerTooLarge('the head of the answer exceeded %d KiB, which no CTI answer\'s does' % (HEAD_MAX_BYTES // 1024))
        return count


def bound_wait(sock, left):
    """Make the socket's waits end within ``left`` seconds (socket.timeout when no time is left). settimeout is a
    system call, so a timeout that ends near enough to the deadline is kept: requests in a row rarely need one."""
    if left <= 0:
        raise socket.timeout('timed out')
    current = sock.gettimeout()
    if not current or current > left + TIMEOUT_SLACK:
        sock.settimeout(left)


class _Source(object):
    """What http.client.HTTPResponse takes for a socket: one buffered reader, shared by an interim answer and the
    final one that follows it on the same connection."""

    def __init__(self, reader):
        self.reader = reader

    def makefile(self, mode):
        return self.reader


def final_answer(source, method):
    """The head of the final answer read from ``source``, past every interim 1xx answer (102 Processing, 103 Early
    Hints): http.client skips only 100 and takes any other 1xx for the final answer, with an empty body, which left
    the real answer to be read as the next request's."""
    while True:
        response = http_client.HTTPResponse(source, method=method)
        response.begin()
        if response.status == 101:
            raise ProtocolError('Protocol error: the answer was 101 Switching Protocols, which no CTI API sends')
        if not 100 <= response.status < 200:
            return response
        response.fp = None  # the reader is the final answer's too: the interim answer must not close it when dropped


# As http.client: a longer status, header, chunk-size or trailer line is refused, and so are more header lines.
MAX_LINE = 65536
MAX_FIELDS = 100
FIELD_NAME = re.compile(r'([\x21-\x39\x3b-\x7e]*):')  # what the email package takes for a field's name


def post_answer(reader):
    """The head of the final answer to a POST read from ``reader`` (a buffered reader of the connection), past every
    interim 1xx answer, as an Answer whose body is still to be read.

    Read here rather than by http.client, which parses every head with the email package: at thousands of small
    answers a run that was about a fifth of a module's CPU. The rules are http.client's (the same limits, errors,
    framing and keep-alive reading); the event stream's GET, one a run, keeps http.client (final_answer)."""
    while True:
        version, status = _status_line(reader)
        fields = _head_fields(reader)
        if status == 101:
            raise ProtocolError('Protocol error: the answer was 101 Switching Protocols, which no CTI API sends')
        if not 100 <= status < 200:
            return Answer(reader, version, status, fields)


def _status_line(reader):
    """(version 10 or 11, status) of the status line; http.client's errors when it is not one."""
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http_client.LineTooLong('status line')
    if not line:
        raise http_client.RemoteDisconnected('Remote end closed connection without response')
    text = line.decode('iso-8859-1')
    words = text.split(None, 2)
    if len(words) < 2 or not words[0].startswith('HTTP/'):
        raise http_client.BadStatusLine(text)
    version, status = words[0], words[1]
    if not (len(status) == 3 and status.isdigit() and status.isascii()) or int(status) < 100:
        raise http_client.BadStatusLine(text)
    if version in ('HTTP/1.0', 'HTTP/0.9'):
        return 10, int(status)
    if version.startswith('HTTP/1.'):
        return 11, int(status)
    raise http_client.UnknownProtocol(version)


def _head_fields(reader):
    """{lower-case name: value} of the header lines up to the blank line (the first of a repeated name). As for
    http.client, a line that is not a field ends the fields: the lines after it, up to the blank line, are not read
    as fields."""
    fields, count, last, ended = {}, 0, None, False  # last: the field a folded line would continue
    while True:
        line = reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http_client.LineTooLong('header line')
        count += 1
        if count > MAX_FIELDS:
            raise http_client.HTTPException('got more than %d headers' % MAX_FIELDS)
        if line in (b'\r\n', b'\n', b''):
            return fields
        if ended:
            continue
        text = line.decode('iso-8859-1')
        if text[:1] in (' ', '\t'):  # an obsolete folded line continues the field before it
            if last is not None:
                fields[last] = '%s %s' % (fields[last], text.rstrip('\r\n'))
            continue
        match = FIELD_NAME.match(text)
        if match is None:
            ended, last = not text.startswith('From '), None  # the email package passes over a mailbox's "From " line
            continue
        name, last = match.group(1).lower(), None
        if name not in fields:
            fields[name], last = text[match.end():].lstrip(' \t').rstrip('\r\n'), name  # as the email package


class Answer(object):
    """A final answer's status, whether the connection closes after it (``will_close``), and its body, read as it
    comes with ``read1``; ``length``, the bytes of a Content-Length body not read yet (None for other framings).
    How the body ends follows http.client: chunked, a Content-Length, or the connection's close."""

    def __init__(self, reader, version, status, fields):
        self.reader = reader
        self.status = status
        self.chunked = fields.get('transfer-encoding', '').lower() == 'chunked'
        self.length = None
        length = fields.get('content-length', '').strip(' \t')  # digits alone: '+2', '1_0' read to the close
        if not self.chunked and length.isdigit() and length.isascii():
            self.length = int(length)
        if status in (204, 304):
            self.length = 0
        self.will_close = _closes(version, fields) or (not self.chunked and self.length is None)
        self._chunk_left = None  # bytes left in the current chunk; None before the first and after the last
        self._ended = False

    def read1(self, size):
        """At most ``size`` bytes of the body, as many as have arrived (at least one); b'' at its end."""
        if self._ended:
            return b''
        if self.chunked:
            return self._read1_chunked(size)
        if self.length is not None:
            size = min(size, self.length)
            if not size:
                self._ended = True
                return b''
        data = self.reader.read1(size)
        if not data:
            self._ended = True  # the connection closed: the end of a body without a length, else a cut one
        elif self.length is not None:
            self.length -= len(data)
        return data

    def _read1_chunked(self, size):
        if not self._chunk_left:
            if self._chunk_left is not None:
                _exactly(self.reader, 2)  # the line end after a chunk
            self._chunk_left = _chunk_size(self.reader)
            if self._chunk_left == 0:
                _skip_trailer(self.reader)
                self._ended = True
                return b''
        data = self.reader.read1(min(size, self._chunk_left))
        if not data:
            raise http_client.IncompleteRead(b'')
        self._chunk_left -= len(data)
        return data


def _closes(version, fields):
    """Whether the server closes the connection after this answer (http.client's reading of the head)."""
    connection = fields.get('connection', '').lower()
    if version == 11:
        return 'close' in connection
    return not (fields.get('keep-alive') or 'keep-alive' in connection
                or 'keep-alive' in fields.get('proxy-connection', '').lower())


def _exactly(reader, size):
    data = reader.read(size)
    if len(data) < size:
        raise http_client.IncompleteRead(data, size - len(data))
    return data


def _chunk_size(reader):
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http_client.LineTooLong('chunk size')
    try:
        size = int(line.split(b';', 1)[0], 16)
    except ValueError:
        size = -1
    if size < 0:
        raise http_client.IncompleteRead(b'')
    return size


def _skip_trailer(reader):
    while True:
        line = reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http_client.LineTooLong('trailer line')
        if line in (b'\r\n', b'\n', b''):
            return


def has_leftover(reader):
    """Whether bytes beyond a complete answer were buffered or have arrived, or the other end closed: the connection
    then carries something no request asked for, which the next request would read as its answer."""
    raw = reader.raw
    raw.probing = True
    try:
        return bool(reader.peek(1)) or raw.ended
    except OSError:
        return True
    finally:
        raw.probing = False


def tls_context(validate_certs, ca_path):
    """The TLS settings of every connection: verification with the system's CAs (and certifi's, which requests
    used), or with ``ca_path`` (a file or a directory) alone; none at all when validate_certs is false."""
    if not validate_certs:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_path:
        if os.path.isdir(ca_path):
            return ssl.create_default_context(capath=ca_path)
        return ssl.create_default_context(cafile=ca_path)
    context = ssl.create_default_context()
    bundle = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE') or _certifi_bundle()
    if bundle and os.path.isdir(bundle):
        context.load_verify_locations(capath=bundle)
    elif bundle:
        context.load_verify_locations(cafile=bundle)
    return context


def _certifi_bundle():
    try:
        import certifi
        return certifi.where()
    except Exception:  # certifi absent or broken: the system's CAs alone
        return None


class ProxySettingError(ValueError):
    """A proxy URL of the environment that cannot be read. The message names the variable, never its value: the
    value may hold a password."""


class Proxy(object):
    """An http:// proxy from the environment: where to connect and, when its URL has them, its credentials."""

    def __init__(self, url, variable='http_proxy'):
        parts = _proxy_parts(url, variable)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname
        self.port = parts.port or 80
        self.authorization = None
        if parts.username is not None:
            pair = '%s:%s' % (unquote(parts.username), unquote(parts.password or ''))
            self.authorization = 'Basic ' + base64.b64encode(pair.encode('utf-8')).decode('ascii')

    @property
    def address(self):
        """host:port, never the credentials: what messages may name."""
        return '%s:%d' % (self.host, self.port)


def _proxy_parts(url, variable):
    """The parts of a proxy URL, or ProxySettingError. An unescaped / # ? in a password ends the address part early:
    urlsplit then takes the password's start for a port (and says it), or, worse, for the host, so a URL with an @
    past its address part is refused too."""
    advice = ('the proxy URL in the environment variable %s (or %s) is malformed: percent-encode / # ? @ : in its '
              'user name and password (/ as %%2F, # as %%23), or add the PABX to no_proxy' % (variable, variable.upper()))
    try:
        parts = urlsplit(url if '://' in url else 'http://' + url)
        parts.port  # raises ValueError on a port that is not a number from 0 to 65535
    except ValueError:
        raise ProxySettingError(advice)
    if not parts.hostname or '@' in url[url.find(parts.netloc) + len(parts.netloc):]:
        raise ProxySettingError(advice)
    return parts


def environment_proxy(scheme, host, port):
    """The proxy the environment sets for ``scheme``://``host``:``port``, or None (no proxy, or no_proxy names it);
    ProxySettingError when its URL cannot be read. Read once per client: requests re-read the environment for every
    request."""
    proxies = getproxies()
    key = scheme if proxies.get(scheme) else 'all'
    url = proxies.get(key)
    if not url or proxy_bypass('%s:%d' % (host, port)) or _in_no_proxy_network(host):
        return None
    return Proxy(url, '%s_proxy' % key)


def _in_no_proxy_network(host):
    """Whether an IP address ``host`` lies in a network of no_proxy (10.0.0.0/8), which urllib does not check and
    requests did."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    for entry in (os.environ.get('no_proxy') or os.environ.get('NO_PROXY') or '').split(','):
        entry = entry.strip()
        if '/' not in entry:
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class Endpoint(object):
    """Where the PABX is and how to reach it: scheme, host, port, path prefix, TLS settings, proxy."""

    def __init__(self, url, validate_certs=True, ca_path=None, timeout=10):
        parts = urlsplit(url)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORTS.get(self.scheme, 80)
        self.prefix = parts.path.rstrip('/')
        self.timeout = timeout
        self.origin = '%s://%s' % (self.scheme, parts.netloc.rpartition('@')[2])
        self.host_header = parts.netloc.rpartition('@')[2]
        self.tls = tls_context(validate_certs, ca_path) if self.scheme == 'https' else None
        # A proxy URL that cannot be read fails every request (the module reports it as the first one's error)
        # instead of the client's construction, which a module does not expect to fail.
        self.proxy_error = None
        try:
            self.proxy = environment_proxy(self.scheme, self.host, self.port)
        except ProxySettingError as exc:
            self.proxy, self.proxy_error = None, str(exc)

    def target(self, path):
        """The request target of ``path``: the absolute URI through an http proxy, else the path."""
        if self.proxy is not None and self.tls is None:
            return self.origin + self.prefix + path
        return self.prefix + path

    def head(self, method, path, headers):
        """The bytes of a request head, to which only a body (and its length) is added."""
        lines = ['%s %s HTTP/1.1' % (method, self.target(path)), 'Host: %s' % self.host_header]
        if self.proxy is not None and self.tls is None and self.proxy.authorization:
            lines.append('Proxy-Authorization: %s' % self.proxy.authorization)
        every = dict(COMMON_HEADERS, **headers)
        lines.extend('%s: %s' % (name, value) for name, value in every.items() if value is not None)
        return ('\r\n'.join(lines) + '\r\n').encode('latin-1')

    def connect(self, timeout):
        """A connected socket (TLS done, tunnel made) or TransportError; nothing of a request was sent yet."""
        if self.proxy_error is not None:
            raise TransportError(self.proxy_error, setting=True)
        if self.proxy is not None and self.proxy.scheme != 'http':
            raise TransportError('Failed to establish a new connection: the proxy %s set in the environment is not '
                                 'an http:// proxy, which this client cannot use (add the PABX to no_proxy)'
                                 % self.proxy.address)
        connection = self._connection(timeout)
        try:
            connection.connect()
        except ssl.SSLError as exc:  # certificate or handshake, before any byte of the request: a setting to fix
            connection.close()
            raise TransportError(str(exc), tls=True)
        except socket.timeout:
            connection.close()
            raise TransportError('Connection to %s timed out. (connect timeout=%g)' % (self._first_hop(), timeout))
        except OSError as exc:
            connection.close()
            raise TransportError(self._connect_failure(exc))
        return connection.sock

    def _connection(self, timeout):
        if self.proxy is None:
            host, port = self.host, self.port
        else:
            host, port = self.proxy.host, self.proxy.port
        if self.tls is None:
            return http_client.HTTPConnection(host, port, timeout=timeout)
        connection = http_client.HTTPSConnection(host, port, timeout=timeout, context=self.tls)
        if self.proxy is not None:
            headers = {'Proxy-Authorization': self.proxy.authorization} if self.proxy.authorization else None
            connection.set_tunnel(self.host, self.port, headers=headers)
        return connection

    def _first_hop(self):
        return self.proxy.address if self.proxy is not None else self.host

    def _connect_failure(self, exc):
        if self.proxy is not None:
            return 'Unable to connect to proxy %s: %s' % (self.proxy.address, exc)
        return 'Failed to establish a new connection: %s' % exc


def is_dropped(sock):
    """Whether an idle connection was closed by the other end (or has bytes nobody asked for): not to be reused."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (AttributeError, ValueError, OSError):  # no poll here: select, for the few descriptors a client holds
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (ValueError, OSError):
            return True


def read_body(response, deadline, max_bytes):
    """The whole body, within the deadline and the size cap: a trickling answer must not outlast the timeout."""
    chunks, size = [], 0
    while True:
        # read1 returns what has arrived, so the deadline is checked as the bytes come in
        chunk = response.read1(READ_SIZE)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise AnswerTooLarge()
        if time.monotonic() > deadline:
            raise AnswerTooSlow()
    if response.length:  # the connection closed before the Content-Length was reached
        raise http_client.IncompleteRead(b''.join(chunks), response.length)
    return b''.join(chunks)


def _broken(exc):
    """What a connection that broke midway said, in words."""
    if isinstance(exc, http_client.IncompleteRead):
        return 'Connection broken: IncompleteRead(%d bytes read, %d more expected)' % (len(exc.partial), exc.expected)
    if isinstance(exc, http_client.RemoteDisconnected):
        return 'Connection aborted: %s' % exc
    return str(exc) or type(exc).__name__


class ConnectionPool(object):
    """Persistent connections to one PABX for POSTs, at most ``size`` at once (more callers wait for one)."""

    def __init__(self, endpoint, headers, size, max_answer_bytes):
        self.endpoint = endpoint
        self.max_answer_bytes = max_answer_bytes
        self._headers = dict(headers)
        self._heads = {}  # path -> the request head's bytes up to Content-Length
        self._slots = queue.LifoQueue()  # idle sockets on top (reused first), None for a connection not yet made
        for _slot in range(max(size, 1)):
            self._slots.put(None)
        self._closed = False

    def post(self, path, body, timeout):
        """(status, body bytes) of POSTing ``body`` (bytes) to ``path``, connection, request and whole answer within
        ``timeout`` seconds; TransportError, AnswerTooSlow or AnswerTooLarge when no complete answer came."""
        sock = self._slots.get()
        deadline = time.monotonic() + timeout  # from here: waiting for a free connection is not the request's time
        try:
            if sock is not None and is_dropped(sock):
                sock.close()
                sock = None
            if sock is None:
                sock = self.endpoint.connect(self.endpoint.timeout)
            status, content, reusable = self._exchange(sock, path, body, deadline)
        except BaseException:
            if sock is not None:
                sock.close()  # a half-read connection cannot be reused
            self._slots.put(None)
            raise
        if reusable and not self._closed:
            self._slots.put(sock)
        else:
            sock.close()
            self._slots.put(None)
        return status, content

    def _head(self, path):
        head = self._heads.get(path)
        if head is None:
            head = self.endpoint.head('POST', path, self._headers) + b'Content-Length: '
            self._heads[path] = head
        return head

    def _exchange(self, sock, path, body, deadline):
        """(status, body, whether the connection may be reused) of one request on a connected socket. The whole
        answer, head and body, is read within the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:  # the connection took the whole timeout: nothing was sent
            raise TransportError('Connection to %s timed out. (connect timeout=%g)'
                                 % (self.endpoint.host, self.endpoint.timeout))
        if not left / 2 <= (sock.gettimeout() or 0) <= left + TIMEOUT_SLACK:
            sock.settimeout(left)  # sendall cannot resume after a timeout, so it gets most of the time left
        reader = io.BufferedReader(DeadlineReader(sock, deadline, HEAD_MAX_BYTES))
        try:
            try:
                sock.sendall(b'%s%d\r\n\r\n%s' % (self._head(path), len(body), body))
                response = post_answer(reader)
            except socket.timeout:
                raise TransportError('Read timed out. (read timeout=%g)' % self.endpoint.timeout, sent=True)
            except BROKEN_ERRORS as exc:
                raise TransportError(_broken(exc), sent=True)
            reader.raw.budget = None  # read_body caps the body
            try:
                content = read_body(response, deadline, self.max_answer_bytes)
            except socket.timeout:  # the body stalled midway
                raise AnswerTooSlow()
            except BROKEN_ERRORS as exc:
                raise TransportError(_broken(exc), partial=True)
            reusable = not response.will_close and not has_leftover(reader)
        finally:
            reader.close()
        return response.status, content, reusable

    def close(self):
        """Close the idle connections; one in use is closed when its request ends."""
        self._closed = True
        while True:
            try:
                sock = self._slots.get_nowait()
            except queue.Empty:
                return
            if sock is not None:
                sock.close()


class StreamedResponse(object):
    """An answer whose body is read as it arrives (the event stream): the subset of a requests Response that the
    event channel and digitro_api_check use."""

    def __init__(self, sock, response):
        self._sock = sock
        self._response = response
        self.status_code = response.status
        self.headers = response.headers  # case-insensitive get, as requests' were

    def iter_lines(self, chunk_size=None, decode_unicode=False):
        """The body's lines as they arrive, without their line ends (decoded from UTF-8 with decode_unicode)."""
        while True:
            line = self._response.readline(STREAM_LINE_LIMIT)
            if not line:
                return
            line = line.rstrip(b'\r\n')
            yield line.decode('utf-8', 'replace') if decode_unicode else line

    def shutdown(self):
        """Shut the connection down, so that a read blocked on it in another thread ends now."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self):
        try:
            self._response.close()
        finally:
            self._sock.close()


class HttpSession(object):
    """Streamed GETs to one PABX, each on a connection of its own (a stream holds it while it is open): the subset
    of a requests Session that the event channel and digitro_api_check use."""

    def __init__(self, endpoint, headers):
        self.endpoint = endpoint
        self.headers = dict(headers)

    def get(self, url, headers=None, timeout=None, stream=True, allow_redirects=False):
        """The answer to GET ``url`` (on the session's PABX), its body not read; a header of ``headers`` set to None
        is not sent. Redirects are never followed; ``stream`` and ``allow_redirects`` are there for callers written
        for requests. ``timeout``: seconds, or (connect, read)."""
        connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        connect_timeout = connect_timeout or self.endpoint.timeout
        merged = dict(self.headers, **(headers or {}))
        path = self._path(url)
        sock = self.endpoint.connect(connect_timeout)
        # the head within the read timeout, however it trickles; then each read of the stream within it
        reader = io.BufferedReader(DeadlineReader(sock, time.monotonic() + (read_timeout or self.endpoint.timeout),
                                                  HEAD_MAX_BYTES, idle_timeout=read_timeout))
        try:
            sock.settimeout(read_timeout)
            sock.sendall(self.endpoint.head('GET', path, merged) + b'\r\n')
            response = final_answer(_Source(reader), 'GET')
        except socket.timeout:
            sock.close()
            raise TransportError('Read timed out. (read timeout=%g)' % read_timeout, sent=True)
        except BROKEN_ERRORS as exc:
            sock.close()
            raise TransportError(_broken(exc), sent=True)
        except AnswerTooLarge as exc:
            sock.close()
            raise TransportError(str(exc), sent=True)
        reader.raw.deadline, reader.raw.budget = None, None
        return StreamedResponse(sock, response)

    def _path(self, url):
        """The path of ``url`` below the endpoint's prefix (the channel gives whole URLs, as it did to requests)."""
        parts = urlsplit(url)
        path = parts.path + ('?' + parts.query if parts.query else '')
        if self.endpoint.prefix and path.startswith(self.endpoint.prefix):
            path = path[len(self.endpoint.prefix):]
        return path

    def close(self):
        """Nothing to close: each stream closes its own connection."""
