# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection.

Reads are retried with backoff on connection errors that sent nothing and on
a 500 or 503 (not on a gateway's 502 or 504, after which the PABX may have
checked the password); a change is never retried blindly (a lost answer makes
it ``ambiguous`` and the caller verifies instead). Every message is scrubbed of
the request's secrets.

A circuit breaker stops the client once the PABX has not answered
``breaker_threshold`` requests in a row: thousands of entries would otherwise
each wait out the timeout, for hours, against a PABX that is down.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import select
import sys
import threading
import time

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._entry import describe
from ansible_collections.digitro.pabx.plugins.module_utils._channel import EventChannel
from ansible_collections.digitro.pabx.plugins.module_utils._errors import (
    CHANNEL_CLOSED, ChannelError, PabxError, PabxNotAnswering, PabxNotSent, explain, scrub)
from ansible_collections.digitro.pabx.plugins.module_utils._http import (
    AnswerTooLarge, AnswerTooSlow, ConnectionPool, Endpoint, HttpSession, TransportError)

HTTP_REASONS = {400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
                500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}
READ_RETRIES = 3
# A request the PABX refused because our event channel had closed was not processed: it is resent on the next
# channel, a few times (a PABX under load may close several in a row; each refusal left a change in doubt).
CHANNEL_RESENDS = 3
# A 400 is the channel's only when the channel was seen closed before the answer, or within this many seconds after
# it (the event stream's end may be read a moment after the refusal): a 400 about the request itself, on a channel
# that closed later, is the request's (a PIN the PABX's policy refused must be reported as refused, not resent).
CHANNEL_GRACE = 0.2
BACKOFF_SECONDS = 0.2
MAX_ANSWER_BYTES = 1024 * 1024  # a CTI answer is a few hundred bytes; anything near this is not one
# A gateway's errors: a reverse proxy answers them after passing the request on, so the PABX behind it may have
# processed it (checked a PIN). 500 and 503 come from the PABX itself, which refuses before processing (assumed).
GATEWAY_STATUSES = (502, 504)
BREAKER_THRESHOLD = 5  # requests in a row without an answer (or with a 5xx) after which nothing more is sent


class RateLimiter(object):
    """Spaces request starts at least 1/rate seconds apart, across threads."""

    def __init__(self, per_second):
        self._interval = 1.0 / per_second if per_second else 0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self):
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


def describe_target(body):
    """The target of a request body, in the words every message uses."""
    return describe({'device': body.get(_api.DEVICE), 'account': body.get(_api.ACCOUNT)})


def pabx_message(content, error_field=_api.ERROR_FIELD, secrets=()):
    """What the PABX said, from a JSON error body or, failing that, the start of the text; scrubbed of
    ``secrets`` before it is cut (a cut first could split a secret and show its first characters)."""
    text = content.decode('utf-8', 'replace')
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data.get(error_field):
            return scrub(str(data[error_field]), secrets)[:200]
    except (ValueError, RecursionError):
        pass
    return scrub(' '.join(text.split()), secrets)[:200]


def _size(count):
    """1048576 -> '1 MiB'."""
    for unit, scale in (('MiB', 1024 * 1024), ('KiB', 1024)):
        if count >= scale:
            return '%g %s' % (count / scale, unit)
    return '%d bytes' % count


def _json_object(content, spec, target):
    """The JSON object of a 200 answer (an empty body counts as {})."""
    try:
        data = json.loads(content.decode('utf-8')) if content.strip() else {}
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise PabxError('%s for %s: the PABX answered 200 with a body that is not a JSON object'
                        % (spec.slug, target), status=200, operation=spec.slug, target=target)
    return data


class PabxClient(object):
    """A session with one PABX: connection pool, event channel, bounded retries."""

    def __init__(self, url, api_key, validate_certs=True, ca_path=None, timeout=10, channel_id=None,
                 concurrency=8, rate_limit=0, breaker_threshold=BREAKER_THRESHOLD, contract=_api.STOCK):
        self.url = url.rstrip('/')
        self.contract = contract  # the PABX's wire names (api_overrides); callers use _api's
        self.timeout = timeout
        self._fixed_channel = channel_id
        self._channel = None
        self._channel_lock = threading.Lock()
        self._lost_channels = {}  # ID -> our channel that closed and was replaced
        self._limiter = RateLimiter(rate_limit)
        self.stopped = threading.Event()  # set when the controller is gone: send nothing more
        self._secrets = set([api_key])
        self.request_count = 0
        self._count_lock = threading.Lock()
        self.breaker_threshold = breaker_threshold  # 0 or None: never stop sending
        self._failures_in_row = 0
        self._last_failure = None
        self._breaker_lock = threading.Lock()
        # TLS and proxy settings are made once here: every connection and request of the run shares them.
        self._endpoint = Endpoint(self.url, validate_certs, ca_path, timeout)
        self._headers = {_api.API_KEY_HEADER: api_key}
        self._pool = ConnectionPool(self._endpoint, dict(self._headers, **{'Content-Type': 'application/json'}),
                                    concurrency, MAX_ANSWER_BYTES)
        # The event stream holds its connection for the whole run, apart from the pool's: with concurrency 1 it
        # would otherwise take the only one.
        self.session = self.new_session()

    @property
    def secrets(self):
        """What every message of this client is scrubbed of (the API key)."""
        return set(self._secrets)

    def new_session(self):
        """Streamed GETs with this client's settings (its own connections): the event channel's, and
        digitro_api_check's for the channels it opens."""
        return HttpSession(self._endpoint, self._headers)

    # -- event channel -------------------------------------------------------------------------
    def channel_id(self):
        if self._fixed_channel is not None:
            return str(self._fixed_channel)
        with self._channel_lock:
            if self._channel is None or self._channel.closed.is_set():
                if self._channel is not None:
                    self._lost_channels[self._channel.channel_id] = self._channel
                    self._channel.close()
                self._refuse_if_breaker_open('open-channel', 'the event channel')
                self._channel = None  # kept only once open: a failed one has no ID for the next request
                channel = EventChannel(self.session, self.url, self.timeout, self.contract)
                try:
                    channel.open()
                except ChannelError as exc:
                    # what the PABX (or whatever answers) said is in it: an echoed API key must not be
                    exc.message = scrub(exc.message, self._secrets)
                    exc.args = (exc.message,)
                    self._count(exc.no_answer or (exc.status or 0) >= 500, exc.message)
                    raise
                self._count(False)
                self._channel = channel
            return self._channel.channel_id

    def _channel_lost(self, channel_id, answered):
        """True when our own channel closed after this request used it, and before its answer came (``answered``,
        time.monotonic()) or just after: safe to resend. Another request's thread may have replaced it already, when
        the answer that says so took longer to come."""
        if self._fixed_channel is not None:
            return False
        with self._channel_lock:
            channel = self._lost_channels.get(channel_id) or self._channel
        if channel is None or channel.channel_id != channel_id or not channel.closed.wait(CHANNEL_GRACE):
            return False
        return channel.closed_at is not None and channel.closed_at <= answered + CHANNEL_GRACE

    # -- circuit breaker -----------------------------------------------------------------------
    @property
    def breaker_open(self):
        """True once ``breaker_threshold`` requests in a row got no answer or a 5xx: nothing more is sent."""
        return bool(self.breaker_threshold) and self._failures_in_row >= self.breaker_threshold

    @property
    def breaker_reason(self):
        """Why the breaker is open, in a few words (None while it is closed)."""
        if not self.breaker_open:
            return None
        return '%d requests in a row got no answer or a 5xx; the last: %s' % (
            self._failures_in_row, self._last_failure)

    def _count(self, failed, reason=None):
        """Count a request's outcome: a failure adds one to the run of failures, an answer ends the run."""
        with self._breaker_lock:
            if failed:
                self._failures_in_row += 1
                self._last_failure = reason
            else:
                self._failures_in_row = 0

    def _refuse_if_breaker_open(self, operation, target):
        reason = self.breaker_reason
        if reason is not None:
            raise PabxNotAnswering(
                '%s for %s not sent: the PABX at %s is not answering (%s); every pending PIN is kept; check '
                'that the PABX is up and reachable, then run again'
                % (operation, target, self.url, scrub(reason, self._secrets)), operation=operation, target=target)

    def close(self):
        if self._channel is not None:
            self._channel.close()
        self._pool.close()
        self.session.close()

    # -- requests ------------------------------------------------------------------------------
    def call(self, operation, body):
        """POST one operation (a name of _api.OPERATIONS, a body under _api's field names); return the JSON object of
        a 200 answer under _api's names, or raise PabxError (whose ``operation_name`` is ``operation``)."""
        try:
            return self._call(operation, body)
        except PabxError as exc:
            exc.operation_name = operation
            raise

    def _call(self, operation, body):
        spec = self.contract.operations[operation]
        secrets = self._secrets | set(v for k, v in body.items() if k in _api.SECRET_FIELDS)
        target = describe_target(body)
        body = self.contract.to_wire(body)
        retries_left = 0 if spec.writes else READ_RETRIES - 1
        channel_resends = CHANNEL_RESENDS
        sent_error = None  # the error of an attempt of this call that was sent
        while True:
            channel_id = None
            try:
                self._refuse_if_breaker_open(spec.slug, target)
                channel_id = self._channel_for(spec, target)
                return self._post_once(spec, channel_id, body, target, secrets)
            except PabxNotSent:
                if sent_error is not None:
                    raise sent_error  # an earlier attempt was sent: "nothing was sent" would mislead the caller
                raise
            except PabxError as exc:
                sent_error = exc
                if exc.status == 400 and self._channel_lost(channel_id, getattr(exc, 'answered_at', time.monotonic())):
                    if channel_resends:
                        channel_resends -= 1  # the PABX refused the channel, not the command: nothing applied
                        continue
                    exc.message = '%s %d times, so it did not process this %s: run again; %s' % (
                        CHANNEL_CLOSED, CHANNEL_RESENDS + 1, spec.slug, exc.message)
                    exc.args = (exc.message,)
                    raise
                # Every operation carries a password: one that may have been processed is never resent, as a
                # wrong password would count twice towards the PABX's lockout. A 500 or 503 did nothing (assumed);
                # a 502 or 504 may have (GATEWAY_STATUSES), so it is maybe_processed and not resent.
                if (retries_left and (exc.no_answer or (exc.status or 0) >= 500) and not exc.maybe_processed
                        and not self.breaker_open):
                    time.sleep(BACKOFF_SECONDS * (2 ** (READ_RETRIES - 1 - retries_left)))
                    retries_left -= 1
                    continue
                raise

    def _channel_for(self, spec, target):
        """The channel ID for a request; a failure to get one is said for that request, as not sent."""
        try:
            return self.channel_id()
        except PabxNotAnswering:
            self._refuse_if_breaker_open(spec.slug, target)  # the same, in the words of this request
            raise
        except ChannelError as exc:
            said = exc.message[:1].lower() + exc.message[1:]
            raise PabxNotSent('%s for %s not sent: %s' % (spec.slug, target, said), status=exc.status,
                              operation=spec.slug, target=target, no_answer=exc.no_answer)

    def _post_once(self, spec, channel_id, body, target, secrets):
        status, content = self.exchange(spec, channel_id, json.dumps(body), target, secrets)
        if status == 200:
            return self.contract.from_wire(_json_object(content, spec, target))
        answered = time.monotonic()
        said = pabx_message(content, self.contract.error_field, secrets)
        refused = PabxError('%s for %s failed: HTTP %d %s%s' % (
            spec.slug, target, status, HTTP_REASONS.get(status, ''),
            ': %s' % said if said else ''), status=status, operation=spec.slug, target=target,
            ambiguous=spec.writes and status >= 500, pabx_message=said, maybe_processed=status in GATEWAY_STATUSES)
        refused.answered_at = answered  # whether its channel had closed by then decides whose a 400 is
        raise refused

    def exchange(self, spec, channel_id, payload, target, secrets):
        """POST ``payload`` (text, sent as it is) to ``spec.slug`` once: (HTTP status, body bytes), whatever the
        status; PabxError when no (complete) answer came. digitro_api_check sends its probes with it."""
        if self.stopped.is_set():
            raise PabxNotSent('%s for %s was not sent: the Ansible run that started this module has ended'
                              % (spec.slug, target), operation=spec.slug, target=target)
        path = _api.REQUEST_PATH.format(channel_id=channel_id, slug=spec.slug)
        self._limiter.wait()
        self._refuse_if_breaker_open(spec.slug, target)  # it may have opened while this request waited its turn
        with self._count_lock:
            self.request_count += 1
        try:
            status, content = self._pool.post(path, payload.encode('utf-8'), self.timeout)
        except AnswerTooSlow:
            raise self._no_answer(spec, target, 'got no complete answer within %gs (timeout)' % self.timeout, True)
        except AnswerTooLarge as exc:
            # not counted by the breaker (something answers) and not retried (it would answer the same)
            what = str(exc) or "the PABX's answer exceeded %s, which no CTI answer does" % _size(MAX_ANSWER_BYTES)
            raise PabxError("%s for %s failed: %s: is the URL the PABX's CTI API?" % (spec.slug, target, what),
                            operation=spec.slug, target=target, ambiguous=spec.writes)
        except TransportError as exc:
            raise self._transport_error(spec, target, exc, secrets)
        self._count(status >= 500, 'HTTP %d' % status)
        return status, content

    def _transport_error(self, spec, target, exc, secrets):
        """The PabxError of a request whose connection failed: a TLS failure is a setting to fix (not counted,
        not retried), and so is a proxy URL that cannot be read (nothing sent); a request that never reached the
        PABX is safe to resend; one that may have is not."""
        if exc.setting:
            return PabxNotSent('%s for %s not sent: %s' % (spec.slug, target, scrub(exc.message, secrets)),
                               operation=spec.slug, target=target)
        said = scrub(explain(exc, self.url), secrets)
        if exc.tls:
            return PabxError('%s for %s failed: %s' % (spec.slug, target, said), operation=spec.slug, target=target)
        if exc.partial:
            return self._no_answer(spec, target, 'got no complete answer: %s' % said, True)
        return self._no_answer(spec, target, 'got no answer: %s' % said, exc.sent)

    def _no_answer(self, spec, target, what, reached):
        """The error of a request that got no (complete) answer, counted by the breaker; ``reached``: it may
        have been processed."""
        self._count(True, what)
        return PabxError('%s for %s %s' % (spec.slug, target, what), operation=spec.slug, target=target,
                         ambiguous=spec.writes and reached, no_answer=True, maybe_processed=reached)


def stop_when_orphaned(client, interval=0.5):
    """Stop the client once nobody reads this process's output any more.

    The module runs in its worker's session, and from ansible-core 2.19 each worker has a session of its
    own: a job killed by its process group leaves both running. The worker ends itself when its
    ansible-playbook process is gone (plugin_utils/_controller_watch.py); the pipe this process writes its
    result to then reports an error (no reader left), and the client sends nothing more, so that the
    batch does not race the next run. The pipe is looked at once before the thread starts: a module that
    waited for the lock file while its worker died must not send even its first request.
    """
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLERR | select.POLLHUP)
    except (AttributeError, ValueError, OSError):
        return None  # no pollable stdout here (a test harness, a platform without poll)

    def watch():
        while not client.stopped.is_set():
            if poller.poll(interval * 1000):
                client.stopped.set()

    if poller.poll(0):
        client.stopped.set()
        return None
    thread = threading.Thread(target=watch, name='digitro-orphan-watch')
    thread.daemon = True
    thread.start()
    return thread
