# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only probe of digitro_api_check: each assumption of docs/api-contract.md checked against one PABX.

Rules the probe keeps, so that it can be pointed at a production PABX:

- it never sends a change: the write operations get an empty body ``{}``, which names no device and carries
  no password, and which a PABX must refuse (a missing field) without changing anything;
- it never sends a PIN that was refused: each PIN given is sent first in one request, and again only once
  the PABX accepted it; across runs, a ``Ledger`` file keeps a salted hash of every PIN the PABX refused and each
  number's wrong attempts caused by the probe, and no PIN is sent for a number the probe already cost a wrong
  attempt until a person says its count was reset at the console; so the probe adds at most one wrong attempt
  to a number, ever (it cannot see the attempts others made: docs/api-contract.md);
- it never sends a PIN to a write operation's slug, nor any PIN in check mode;
- whether an operation exists is told by comparing its answer to ``{}`` with the answer to ``{}`` of an
  operation that surely does not exist (assumed: the two differ, e.g. 400 and 404);
- the evidence (HTTP status and body) is scrubbed of every secret given.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii
import fcntl
import hashlib
import json
import os
import re
import socket
import tempfile
import time

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2
    from urlparse import urlsplit

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._channel import EventChannel
from ansible_collections.digitro.pabx.plugins.module_utils._errors import ChannelError, PabxError, explain, scrub

CONFIRMED, CONTRADICTED, NOT_CHECKED = 'confirmed', 'contradicted', 'not checked'
UNKNOWN_SLUG = _api.PROBE_SLUG
SETTING = 'digitro_api_overrides'
EVIDENCE_MAX = 300
# the order the operations' slugs are checked in (reads first) and the words of each
SLUG_ORDER = (_api.VERIFY_PASSWORD, _api.VALIDATE_USER, _api.DAC_QUERY, _api.CHANGE_PASSWORD, _api.DAC_LOGIN_LOGOUT)
NO_SETTING = 'no setting covers this: open an issue with this report attached'
API_KEY_WORDS = 'a request without x-api-key is refused with 401'


LOCKED_WORDS = ('bloquead', 'locked', 'lockout', 'excesso de tentativas', 'too many')
# What the probe cannot check without sending a change or a wrong PIN: listed as "not checked", with why.
UNCHECKABLE = (
    ('new_password_field', 'altera-senha takes the new PIN in %(new_password)s',
     'only a change shows it; the probe sends altera-senha an empty body'),
    ('dac_operation_field', 'login-logout-dac takes %(dac_operation)s = %(login)s or %(logout)s',
     'only a DAC login or logout shows it; the probe sends login-logout-dac an empty body'),
    ('wrong_pin_refused', 'verifica-senha refuses a wrong PIN with 403',
     'the probe never sends a wrong PIN on purpose; a refused PIN given to it shows it'),
)


def _json(text):
    """The JSON in ``text`` (None when it is not JSON, or nested too deeply to read)."""
    try:
        return json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        return None


def cut(text, limit=EVIDENCE_MAX):
    return text if len(text) <= limit else text[:limit - 3] + '...'


class ProbeAbort(Exception):
    """Nothing can be checked (no answer, a refused API key): the module fails with this message."""


class Answer(object):
    """One HTTP answer: status, body text, and the JSON in it (None when it is not JSON)."""

    def __init__(self, status, text):
        self.status = status
        self.text = text
        self.data = _json(text)

    def words(self, secrets):
        # scrubbed whole, then cut: a cut first could split a secret, and its first characters would show
        text = ' '.join(self.text.split())
        return cut(scrub('HTTP %d %s' % (self.status, text or '(empty body)'), secrets))

    @property
    def locked(self):
        """Whether a refusal says the device or account is locked (the emulator's and common wording)."""
        lowered = self.text.lower()
        return self.status == 403 and any(w in lowered for w in LOCKED_WORDS)


_HELD = {}  # the ledger locks this process holds, by path


class Ledger(object):
    """What earlier check_api runs learnt about the PINs given, in a small JSON file (``path``).

    Per PABX (its URL) and number: the wrong attempts the probe caused that no accepted PIN cleared since, and
    a salted PBKDF2 hash of each PIN the PABX refused (never a PIN). A PIN refused once is never sent again; no
    PIN is sent for a number with a wrong attempt on the ledger until ``reset`` (a person says the count was reset
    at the PABX console). A None path keeps nothing (the module alone, without the playbook).
    """

    ITERATIONS = 100000

    def __init__(self, path, url):
        self.path = path
        self.pabx = canonical_pabx(url)
        self.data = {'salt': binascii.hexlify(os.urandom(16)).decode(), 'numbers': {}}
        self.lock = None
        if not path:
            return
        self.lock = self._locked(path + '.lock')
        if os.path.exists(path):
            try:
                with open(path) as handle:
                    data = json.load(handle)
                if not isinstance(data.get('salt'), str) or not isinstance(data.get('numbers'), dict):
                    raise ValueError('not a check_api ledger')
            except (IOError, OSError, ValueError, AttributeError) as exc:
                raise ProbeAbort('the check_api ledger %s cannot be read (%s): it records the PINs the PABX refused; '
                                 'restore it, or remove it once you know no extension is near its lockout'
                                 % (path, type(exc).__name__))
            self.data = data
        for record in self.data['numbers'].values():
            if record.get('in_flight'):  # a run killed while a PIN was on its way: it may have counted
                record['wrong_attempts'] = int(record.get('wrong_attempts') or 0) + 1
                record.update(at=record['in_flight'].get('at'), why='a request with a PIN was cut off (a killed run?) '
                              'and may have counted')
                record.pop('in_flight')
        self.save()  # before any PIN leaves: a ledger that cannot be written stops the probe here

    @staticmethod
    def _locked(path):
        """One probe per ledger at a time: two at once would each send the PIN the other's refusal records. Held
        until the process ends (a module run is one probe)."""
        if os.path.abspath(path) in _HELD:
            return _HELD[os.path.abspath(path)]
        try:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except (IOError, OSError) as exc:
            raise ProbeAbort('the check_api ledger %s cannot be written (%s): it records the PINs the PABX refuses, '
                             'so nothing was sent; give a writable reports directory' % (path[:-5], exc.strerror))
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            os.close(handle)
            raise ProbeAbort('another check_api run holds the ledger %s: run one at a time (nothing was sent)'
                             % path[:-5])
        _HELD[os.path.abspath(path)] = handle
        return handle

    def _key(self, kind, number):
        return '%s %s %s' % (self.pabx, kind, number)

    def _hash(self, pin):
        digest = hashlib.pbkdf2_hmac('sha256', pin.encode('utf-8'), self.data['salt'].encode(), self.ITERATIONS)
        return binascii.hexlify(digest).decode()

    def record(self, kind, number):
        return self.data['numbers'].get(self._key(kind, number)) or {}

    def refusal(self, kind, number, pin):
        """Why ``pin`` must not be sent for ``kind`` ``number`` (None: it may be sent)."""
        record = self.record(kind, number)
        if pin and self._hash(pin) in record.get('refused', []):
            return ('the PABX refused this PIN for %s %s in an earlier check_api run (%s): it is never sent again; '
                    'give the current PIN' % (kind, number, record.get('at')))
        if record.get('wrong_attempts') and record.get('reset_refused'):
            return ('check_api cost %s %s a wrong attempt after a reset at the console was said to be done (%s): no '
                    'further reset is taken for it, since the PABX may count more wrong attempts than check_api knows; '
                    'check at the console that it is not locked and which PIN it holds, and check that PIN by logging '
                    'in on a phone' % (kind, number, record.get('reset_refused')))
        if record.get('wrong_attempts'):
            return ('check_api already cost %s %s a wrong attempt (%s, %s) that no accepted PIN has cleared: no PIN '
                    'is sent for it until its count of wrong attempts is reset at the PABX console and check_api runs '
                    'with digitro_check_wrong_attempts_reset=true'
                    % (kind, number, record.get('at'), record.get('why')))
        return None

    def sending(self, kind, number, pin):
        """A request with ``pin`` is about to leave: on disk first, so that a kill in flight still counts it."""
        record = self.data['numbers'].setdefault(self._key(kind, number), {'refused': [], 'wrong_attempts': 0})
        record['in_flight'] = {'at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
        self.save()

    def answered(self, kind, number):
        """The PABX answered the request in flight (whatever it said is recorded by its caller)."""
        record = self.data['numbers'].get(self._key(kind, number))
        if record and record.pop('in_flight', None) is not None:
            self.save()

    def refused(self, kind, number, pin, why):
        """A wrong attempt the probe caused (or may have: a timeout); ``pin`` None: not the PIN's fault."""
        record = self.data['numbers'].setdefault(self._key(kind, number), {'refused': [], 'wrong_attempts': 0})
        record.pop('in_flight', None)
        record['wrong_attempts'] += 1
        record.update(at=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), why=why)
        if record.pop('after_reset', None):  # the reset a person said was done did not hold
            record['reset_refused'] = record['at']
        if pin and self._hash(pin) not in record['refused']:
            record['refused'].append(self._hash(pin))
        self.save()

    def accepted(self, kind, number):
        """The PABX accepted a PIN of this number: its count of wrong attempts is back to 0 (assumed)."""
        record = self.data['numbers'].get(self._key(kind, number))
        if record and (record.get('wrong_attempts') or record.get('in_flight') or record.get('after_reset')):
            record.update(wrong_attempts=0, why=None)
            for field in ('in_flight', 'after_reset', 'reset_refused'):
                record.pop(field, None)
            self.save()

    def reset(self, numbers):
        """A person reset these numbers' counts at the console: their wrong attempts are forgotten (the refused
        PINs stay refused)."""
        for kind, number in numbers:
            record = self.data['numbers'].get(self._key(kind, number))
            if record and record.get('wrong_attempts') and not record.get('reset_refused'):
                record.update(wrong_attempts=0, why=None, after_reset=True)  # taken once: proven by the next answer
        self.save()

    def save(self):
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix='.check-api-ledger-')
        try:
            with os.fdopen(handle, 'w') as out:
                json.dump(self.data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise


def canonical_pabx(url):
    """The PABX a URL reaches, spelt one way (its addresses and port), so that another spelling of the same URL
    (a host name, upper case, 127.1) finds the same ledger records."""
    parts = urlsplit(url or '')
    host = (parts.hostname or '').lower()
    try:
        port = parts.port or (443 if parts.scheme == 'https' else 80)
    except ValueError:
        port = 0
    try:
        host = ','.join(sorted(set(info[4][0] for info in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))))
    except (socket.error, UnicodeError, ValueError):
        pass  # unresolvable here: the host as written (lower case)
    return '%s:%d' % (host, port)


def check(key, assumption, status, evidence, setting=None, advice=None, run_again=False):
    """One row; ``run_again``: not checked because of this run's circumstances (a 5xx, no answer), not by design."""
    return {'id': key, 'assumption': assumption, 'status': status, 'evidence': evidence, 'setting': setting,
            'advice': advice, 'run_again': run_again}


def _without_slug(text, slug):
    """``text`` with ``slug`` left out where it stands as a whole name (not inside a word: 'o' in 'operação')."""
    return re.sub(r'(?<![\w.~-])%s(?![\w.~-])' % re.escape(slug), '<slug>', text)


def same_answer(one, other, one_slug, other_slug):
    """Whether two answers say the same (the slug each names, if any, left out)."""
    if one.status != other.status:
        return False
    return _without_slug(one.text, one_slug) == _without_slug(other.text, other_slug)


def error_field_of(answer, field):
    """(status, suggested field) of an error body against the assumed ``{"<field>": "..."}``."""
    data = answer.data
    if isinstance(data, dict) and isinstance(data.get(field), str):
        return CONFIRMED, None
    texts = [k for k, v in data.items() if isinstance(v, str)] if isinstance(data, dict) else []
    return CONTRADICTED, (texts[0] if len(texts) == 1 else None)


def channel_id_candidates(data, field):
    """(status, the field that carries the channel ID when it is not ``field``) of an opening event's data."""
    parsed = _json(data or '')
    if not isinstance(parsed, dict) or not data.strip():
        return CONTRADICTED, None
    if str(parsed.get(field, '')).isdigit() and not isinstance(parsed.get(field), bool):
        return CONFIRMED, None
    numeric = [k for k, v in parsed.items() if not isinstance(v, bool) and str(v).isdigit()]
    return CONTRADICTED, (numeric[0] if len(numeric) == 1 else None)


def fields_named(text, contract, sent):
    """The override keys of the fields ``sent`` (wire names) that a PABX's message names (a refused body)."""
    words = set(re.findall(r'[A-Za-z_][A-Za-z0-9_]*', text or ''))
    return sorted(key for key, name in _api.FIELD_KEYS.items() if contract.wire(name) in words & set(sent))


class Probe(object):
    """One run of the checks on ``client`` (a PabxClient) for one ``entry`` (the module's options).

    ``ledger``: the Ledger of earlier runs (None: one that keeps nothing); ``send_pins`` False (check mode): no
    request carries a PIN.
    """

    def __init__(self, client, entry, closed_channel_wait=1.0, sleep=time.sleep, ledger=None, send_pins=True):
        self.client = client
        self.contract = client.contract
        self.entry = entry
        self.secrets = client.secrets | set(entry.get(k) for k in (
            'device_password', 'account_password', 'dac_device_password') if entry.get(k))
        self.closed_channel_wait = closed_channel_wait
        self.sleep = sleep
        self.ledger = ledger if ledger is not None else Ledger(None, client.url)
        self.send_pins = send_pins
        self.checks = []
        self.channels = []
        self.sessions = []
        self.channel = None
        self.found = {}  # overrides the probe found the PABX needs, in the api_overrides shape
        self.no_answer = None  # why the last request got no answer
        self.maybe_processed = False  # whether that request may have reached the PABX
        self.lenient = False  # the PABX answers 200 to an unknown operation: a 200 shows nothing
        self.refusal_seen = None  # evidence of a PIN the PABX refused with 403 in this run
        self.warnings = []

    # -- plumbing --------------------------------------------------------------------------------------------------
    def add(self, *args, **kwargs):
        self.checks.append(check(*args, **kwargs))

    def skip(self, key, assumption, why, advice=None, run_again=False):
        self.add(key, assumption, NOT_CHECKED, why, None, advice, run_again)

    def open_channel(self, contract):
        """An event channel on a session of its own (a channel holds its connection while it is open)."""
        session = self.client.new_session()
        self.sessions.append(session)
        channel = EventChannel(session, self.client.url, self.client.timeout, contract)
        self.channels.append(channel)
        channel.open()
        return channel

    def write_slugs(self):
        return _api.STOCK_WRITE_SLUGS | set(self.contract.operations[n].slug for n in _api.WRITE_OPERATIONS)

    def post(self, slug, body, channel_id=None):
        """Answer to ``body`` (wire names) sent once to ``slug`` on the probe's channel (or on ``channel_id``, as
        it is); None when no answer came (why: ``no_answer``). A channel the PABX closed under the request is
        opened again and the request resent once, as the modules do (the PABX refused the channel, not the body)."""
        if slug in self.write_slugs() and any(v in self.secrets for v in body.values()):
            raise ProbeAbort('check_api refused to send a PIN to %s, an operation that changes something; nothing '
                             'more was sent' % slug)
        for attempt in (1, 2):
            used = channel_id if channel_id is not None else self.channel.channel_id
            answer = self._exchange(slug, used, body)
            if answer is None or channel_id is not None or answer.status != 400 or not self.channel.closed.wait(0.2):
                return answer
            self.maybe_processed = False
            if attempt == 2:
                self.no_answer = ('the PABX closed the event channel under the request twice (%s)'
                                  % answer.words(self.secrets))
                return None
            try:
                self.channel = self.open_channel(self.contract)
            except ChannelError as exc:
                self.no_answer = ('the PABX closed the event channel under the request, and it did not open again: '
                                  '%s' % scrub(exc.message, self.secrets))
                return None

    def _exchange(self, slug, channel_id, body):
        spec = _api.Operation(slug, (), (), False, False)
        try:
            status, content = self.client.exchange(spec, channel_id, json.dumps(body), 'the check', self.secrets)
        except PabxError as exc:
            self.no_answer = cut(scrub(exc.message, self.secrets))
            self.maybe_processed = bool(exc.maybe_processed)
            return None
        return Answer(status, content.decode('utf-8', 'replace'))

    def request(self, operation, body, channel_id=None):
        """``post`` of an operation, with a body under _api's names."""
        return self.post(self.contract.operations[operation].slug, self.contract.to_wire(body), channel_id)

    def say(self, slug, body, answer):
        sent = '{%s}' % ', '.join(sorted(body)) if body else '{}'
        got = answer.words(self.secrets) if answer is not None else 'no answer: %s' % self.no_answer
        return 'POST /requests/<channel>/%s %s -> %s' % (slug, sent, got)

    def setting(self, path, value=None):
        """The setting to change, in words, and the override recorded in ``found`` when its value is known."""
        words = '%s.%s' % (SETTING, path)
        if value is not None:
            where, _sep, key = path.partition('.')
            if key:
                self.found.setdefault(where, {})[key] = value
            else:
                self.found[where] = value
            words += ' = %s' % json.dumps(value)
        return words

    def withheld(self, kind, number, pin):
        """Why no request may carry ``pin`` for ``kind`` ``number`` now (None: it may)."""
        if not self.send_pins:
            return 'check mode: no PIN is sent (run without --check to check it)'
        refusal = self.ledger.refusal(kind, number, pin)
        if refusal is None:
            self.ledger.sending(kind, number, pin)
        return refusal

    def no_answer_to_pin(self, kind, number, pin):
        """The advice for a request with a PIN that got no answer; a possible wrong attempt goes on the ledger."""
        if not self.maybe_processed:
            self.ledger.answered(kind, number)  # it never reached the PABX
            return 'not checked in this run: run check_api again'
        self.ledger.refused(kind, number, pin, 'a request with this PIN got no answer and may have counted')
        words = ('the request with the PIN of %s %s may have reached the PABX without its answer reaching check_api: '
                 'if the PIN is not the current one, it may have counted as a wrong attempt; check_api sends no PIN '
                 'for %s %s until its count is reset at the PABX console (digitro_check_wrong_attempts_reset=true)'
                 % (kind, number, kind, number))
        self.warnings.append(words)
        return words

    def close(self):
        for channel in self.channels:
            channel.close()
        for session in self.sessions:
            session.close()

    # -- the checks ------------------------------------------------------------------------------------------------
    def run(self):
        try:
            self._run()
        finally:
            self.close()
        self.check_uncheckable()
        return self.checks

    def _run(self):
        channel = self.check_channel()
        if self.checks[0]['status'] == CONFIRMED:  # the transport: the events path answers a stream
            self.check_api_key()
        else:
            self.skip('api_key', API_KEY_WORDS, 'the event channel could not be opened')
        if channel is None:
            return self.skip_operations('the event channel could not be opened')
        self.channel = channel
        exists = self.check_slugs()
        if exists is not None:
            self.check_reads(exists)

    def check_uncheckable(self):
        names = {'new_password': self.contract.wire(_api.NEW_PASSWORD),
                 'dac_operation': self.contract.wire(_api.DAC_OPERATION), 'login': _api.DAC_LOGIN,
                 'logout': _api.DAC_LOGOUT}
        for key, words, why in UNCHECKABLE:
            words = words % names
            if key == 'wrong_pin_refused' and self.refusal_seen:
                self.add(key, words, CONFIRMED, self.refusal_seen)
            else:
                self.skip(key, words, why)

    def opening_evidence(self, name, data):
        return 'GET %s -> HTTP 200, first event %s: %s' % (
            self.contract.events_path, name, cut(scrub(data, self.secrets)))

    def check_channel(self):
        """transport, opening event, channel ID field; the channel the other checks use (None: none could open)."""
        path = self.contract.events_path
        transport = 'GET %s with x-api-key answers a Server-Sent Events stream' % path
        opening = 'the stream opens with an %s event whose data is a JSON object' % _api.CHANNEL_OPEN_EVENT
        field = 'the opening event carries the channel ID in %s' % self.contract.channel_id_field
        try:
            probe = self.open_channel(self.contract)
        except ChannelError as exc:
            probe = self.channels[-1]
            return self.channel_refused(probe, exc, transport, opening, field)
        evidence = self.opening_evidence(*probe.opening)
        self.add('transport', transport, CONFIRMED, evidence)
        self.add('opening_event', opening, CONFIRMED, evidence)
        self.add('channel_id_field', field, CONFIRMED, evidence)
        return probe

    def channel_refused(self, probe, exc, transport, opening, field):
        path = self.contract.events_path
        if getattr(exc, 'tls', False):
            raise ProbeAbort('TLS failed on GET %s, so nothing was checked: %s (digitro_validate_certs, '
                             'digitro_ca_path)' % (path, scrub(exc.message, self.secrets)))
        if exc.no_answer:
            raise ProbeAbort('the PABX at %s did not answer: %s' % (self.client.url, scrub(exc.message, self.secrets)))
        if exc.status == 401:
            raise ProbeAbort('the PABX refused the API key (HTTP 401 on GET %s): check digitro_api_key (api_key); '
                             'nothing was checked' % path)
        if exc.status is not None and 300 <= exc.status < 400:
            raise ProbeAbort('%s; nothing was checked' % scrub(exc.message, self.secrets))
        if exc.status is not None and exc.status >= 500:
            raise ProbeAbort('the PABX answered GET %s with HTTP %d (a server error): nothing was checked; run '
                             'check_api again later' % (path, exc.status))
        if exc.status is not None or probe.opening is None:
            said = 'HTTP %d' % exc.status if exc.status is not None else 'no event arrived (%s)' % exc.message
            self.add('transport', transport, CONTRADICTED, 'GET %s -> %s' % (path, scrub(said, self.secrets)),
                     self.setting('events_path'), "set it to the path of the PABX's event channel")
            self.skip('opening_event', opening, 'no event channel')
            self.skip('channel_id_field', field, 'no event channel')
            return None
        name, data = probe.opening
        evidence = self.opening_evidence(name, data)
        self.add('transport', transport, CONFIRMED, evidence)
        if name != _api.CHANNEL_OPEN_EVENT:
            self.add('opening_event', opening, CONTRADICTED, evidence, NO_SETTING)
            self.skip('channel_id_field', field, 'no opening event')
            return None
        status, candidate = channel_id_candidates(data, self.contract.channel_id_field)
        if status == CONFIRMED:  # the ID is there, yet the channel did not open: say what it said
            self.add('opening_event', opening, CONTRADICTED, '%s (%s)' % (evidence, exc.message), NO_SETTING)
            self.skip('channel_id_field', field, 'the channel did not open')
            return None
        if candidate is None:
            if not isinstance(_json(data), dict):
                self.add('opening_event', opening, CONTRADICTED, evidence, NO_SETTING)
                self.skip('channel_id_field', field, 'the opening event is not a JSON object')
                return None
            self.add('opening_event', opening, CONFIRMED, evidence)
            self.add('channel_id_field', field, CONTRADICTED, evidence, self.setting('channel_id_field'),
                     'set it to the field of the opening event that carries the channel ID')
            return None
        self.add('opening_event', opening, CONFIRMED, evidence)
        try:
            contract = _api.contract(dict(self.contract.overrides, channel_id_field=candidate))
        except _api.OverrideError:
            self.add('channel_id_field', field, CONTRADICTED, evidence, NO_SETTING,
                     'the opening event carries a numeric value in %s, which digitro_api_overrides cannot name (a '
                     'field name has no spaces, quotes or control characters)' % json.dumps(cut(candidate, 60)))
            return None
        self.add('channel_id_field', field, CONTRADICTED, evidence, self.setting('channel_id_field', candidate),
                 'the other checks ran with this setting')
        self.contract = contract
        try:
            return self.open_channel(self.contract)
        except ChannelError as exc:
            raise ProbeAbort('the event channel did not open with channel_id_field %s either: %s'
                             % (candidate, scrub(exc.message, self.secrets)))

    def check_api_key(self):
        words = API_KEY_WORDS
        url = self.client.url + self.contract.events_path
        try:
            response = self.client.session.get(url, headers={_api.API_KEY_HEADER: None}, stream=True,
                                               timeout=self.client.timeout, allow_redirects=False)
        except Exception as exc:  # requests raises many types; all mean no answer
            return self.skip('api_key', words, 'GET %s without the key got no answer: %s'
                             % (self.contract.events_path, scrub(explain(exc), self.secrets)), run_again=True)
        status = response.status_code
        response.close()
        evidence = 'GET %s without x-api-key -> HTTP %d' % (self.contract.events_path, status)
        if status >= 500:
            return self.skip('api_key', words, evidence + ' (a server error shows nothing)', run_again=True)
        self.add('api_key', words, CONFIRMED if status == 401 else CONTRADICTED, evidence,
                 None if status == 401 else NO_SETTING)

    def skip_operations(self, why, run_again=False):
        for operation in SLUG_ORDER:
            self.skip('slug_' + operation, 'the PABX has the operation %s' % self.contract.operations[operation].slug,
                      why, run_again=run_again)
        self.skip('error_body', 'an error answer is {"%s": "..."}' % self.contract.error_field, why,
                  run_again=run_again)
        for key, words in self.read_checks():
            self.skip(key, words, why, run_again=run_again)

    def check_slugs(self):
        """{operation: whether its slug exists}; adds the slug and error body checks."""
        unknown = self.post(UNKNOWN_SLUG, {})
        if unknown is None:
            return self.skip_operations('the request to a surely unknown operation got no answer (%s)'
                                        % self.no_answer, run_again=True)
        if unknown.status >= 500:
            return self.skip_operations('the request to a surely unknown operation got a server error (%s): run '
                                        'check_api again' % unknown.words(self.secrets), run_again=True)
        self.lenient = unknown.status == 200
        errors = [unknown] if unknown.status != 200 else []
        exists = {}
        for operation in SLUG_ORDER:
            slug = self.contract.operations[operation].slug
            words = 'the PABX has the operation %s (answers {} unlike an unknown operation)' % slug
            answer = self.post(slug, {})
            evidence = '%s; unknown operation: %s' % (self.say(slug, {}, answer), unknown.words(self.secrets))
            if answer is None:
                self.skip('slug_' + operation, words, evidence, run_again=True)
                continue
            if answer.status >= 500:
                self.skip('slug_' + operation, words, evidence, 'a server error shows nothing: run check_api again',
                          run_again=True)
                continue
            if answer.status != 200:
                errors.append(answer)
            if self.lenient:
                self.skip('slug_' + operation, words, evidence + ' (the PABX answers an unknown operation with 200)')
                continue
            exists[operation] = not same_answer(answer, unknown, slug, UNKNOWN_SLUG)
            if exists[operation]:
                self.add('slug_' + operation, words, CONFIRMED, evidence)
            else:
                self.add('slug_' + operation, words, CONTRADICTED, evidence, self.setting('slugs.' + operation),
                         'set it to the slug of this operation on the PABX (its documentation or vendor)')
        if len(exists) == len(SLUG_ORDER) and not any(exists.values()):
            # every assumed slug answered as the unknown one: this PABX does not tell them apart that way (it may
            # check the body first); the reads below still tell, as a PIN sent to a path that does not exist is
            # not checked
            for item in self.checks[-len(SLUG_ORDER):]:
                item.update(status=NOT_CHECKED, setting=None, advice='the PABX answers {} to every assumed operation '
                            'as to an unknown one, so existence cannot be told this way')
            exists = dict((operation, None) for operation in SLUG_ORDER)
        self.check_error_body(errors)
        return exists

    def check_error_body(self, errors):
        words = 'an error answer is {"%s": "..."}' % self.contract.error_field
        if not errors:
            return self.skip('error_body', words, 'no error answer was seen')
        verdicts = [(answer, error_field_of(answer, self.contract.error_field)) for answer in errors]
        wrong = [(answer, found) for answer, (status, found) in verdicts if status == CONTRADICTED]
        if not wrong:
            return self.add('error_body', words, CONFIRMED, errors[0].words(self.secrets))
        answer, found = wrong[0]
        setting = self.setting('fields.error', found) if found else NO_SETTING
        self.add('error_body', words, CONTRADICTED, answer.words(self.secrets), setting,
                 'the modules then quote the whole body of an error instead' if not found else None)

    # -- the reads, with the known-good PINs -------------------------------------------------------------------------
    def read_checks(self):
        slug = self.contract.operations
        return [
            ('verify_device', '%s accepts the device and its known-good PIN' % slug[_api.VERIFY_PASSWORD].slug),
            ('validate_user', '%s answers {%s, %s, %s} for a valid account' % (
                slug[_api.VALIDATE_USER].slug, self.contract.wire(_api.ACCOUNT), self.contract.wire(_api.USER_NAME),
                self.contract.wire(_api.USER_CATEGORY))),
            ('verify_account', '%s with %s accepts the account and its known-good PIN' % (
                slug[_api.VERIFY_PASSWORD].slug, self.contract.wire(_api.ACCOUNT))),
            ('dac_query', '%s answers {%s: %s or %s, %s}' % (
                slug[_api.DAC_QUERY].slug, self.contract.wire(_api.DAC_STATE), _api.DAC_LOGGED_IN, _api.DAC_LOGGED_OUT,
                self.contract.wire(_api.ACCOUNT))),
            ('closed_channel', 'a request on a closed channel is refused with 400'),
        ]

    def check_reads(self, exists):
        words = dict(self.read_checks())
        if not self.send_pins:
            for key, text in self.read_checks():
                self.skip(key, text, 'check mode: no PIN is sent (run without --check to check it)')
            return
        device = self.verify(exists, 'verify_device', words['verify_device'], 'device', self.entry['device'],
                             self.entry['device_password'])
        self.check_account(exists, device, words)
        self.check_dac(exists, device, words['dac_query'])
        self.check_closed_channel(exists, device, words['closed_channel'])

    def body(self, device, password, **more):
        return dict({_api.DEVICE: device, _api.DEVICE_PASSWORD: password}, **more)

    def refused_body(self, key, words, operation, answer, evidence, body):
        """A 400 to a body of known-good credentials: a field the PABX names differently, or a number it does
        not know."""
        named = fields_named(answer.text, self.contract, self.contract.to_wire(body))
        numbers = [(kind, body[name]) for kind, name in (('device', _api.DEVICE), ('account', _api.ACCOUNT))
                   if body.get(name)]
        quoted = [(kind, number) for kind, number in numbers
                  if re.search(r'(?<![0-9])%s(?![0-9])' % re.escape(number), answer.text)]
        if not named and quoted:
            self.skip(key, words, evidence, 'the PABX refused the body naming %s: it may not know that number; '
                      'check the number given (digitro_check_device, digitro_check_account, '
                      'digitro_check_dac_device) and run again' % ' and '.join('%s %s' % q for q in quoted),
                      run_again=True)
            return
        setting = ', '.join('%s.fields.%s' % (SETTING, k) for k in named) or '%s.fields' % SETTING
        self.add(key, words, CONTRADICTED, evidence, setting,
                 "the PABX refused the body of %s: its message names the field to rename"
                 % self.contract.operations[operation].slug)

    def unanswered(self, key, words, answer, evidence, kind, number, pin):
        """Handles an answer that shows nothing (none, a 5xx); True when it was one."""
        if answer is None:
            self.skip(key, words, evidence, self.no_answer_to_pin(kind, number, pin), run_again=True)
            return True
        self.ledger.answered(kind, number)
        if answer.status >= 500:
            self.skip(key, words, evidence, 'the PABX answered a server error, which shows nothing: run check_api '
                      'again', run_again=True)
            return True
        return False

    def refused_pin(self, key, words, evidence, answer, kind, number, pin, advice):
        """A 403 to a request with ``pin`` for ``kind`` ``number``: on the ledger, and said."""
        if answer.locked:
            self.ledger.refused(kind, number, None, 'the PABX said it is locked')
            self.skip(key, words, evidence, 'the PABX says %s %s is locked: have it unlocked at the PABX console '
                      'before anything else is sent for it; check_api sends no PIN for it until then, and then only '
                      'with digitro_check_wrong_attempts_reset=true' % (kind, number), run_again=True)
            return
        self.ledger.refused(kind, number, pin, 'the PABX refused the PIN given')
        self.refusal_seen = evidence
        self.add(key, words, CONTRADICTED, evidence, None, advice)

    def verify(self, exists, key, words, kind, number, password, account=None, account_password=None):
        """verifica-senha with a PIN never refused; True when the PABX accepted it."""
        slug = self.contract.operations[_api.VERIFY_PASSWORD].slug
        if exists.get(_api.VERIFY_PASSWORD) is False:
            self.skip(key, words, 'the operation %s was not found' % slug)
            return False
        withheld = self.withheld(kind, number, password)
        if withheld:
            self.skip(key, words, withheld, run_again=True)
            return False
        body = self.body(self.entry['device'], self.entry['device_password'])
        if kind == 'device':
            body[_api.DEVICE], body[_api.DEVICE_PASSWORD] = number, password
        else:
            body.update({_api.ACCOUNT: account, _api.ACCOUNT_PASSWORD: account_password})
        answer = self.request(_api.VERIFY_PASSWORD, body)
        evidence = self.say(slug, self.contract.to_wire(body), answer)
        if self.unanswered(key, words, answer, evidence, kind, number, password):
            return False
        if answer.status == 200 and isinstance(answer.data, dict):
            if self.lenient:
                self.skip(key, words, evidence, 'the PABX answers 200 to an unknown operation too, so a 200 shows '
                          'neither that %s exists nor that the PIN was checked' % slug)
                return False
            self.ledger.accepted(kind, number)
            self.add(key, words, CONFIRMED, evidence)
            return True
        if answer.status == 400:
            self.refused_body(key, words, _api.VERIFY_PASSWORD, answer, evidence, body)
            return False
        if answer.status == 403:
            self.refused_pin(key, words, evidence, answer, kind, number, password,
                             'the PABX refused the PIN given for %s %s; it is never sent again: if it is the current '
                             'one, %s checks something else; otherwise give the current PIN' % (kind, number, slug))
            return False
        self.add(key, words, CONTRADICTED, evidence, self.other_refusal(answer, _api.VERIFY_PASSWORD))
        return False

    def other_refusal(self, answer, operation):
        """The setting for a refusal other than 400: none for 403 (a PIN), the slug for 404, else none known."""
        if answer.status == 403:
            return None
        return self.setting('slugs.' + operation) if answer.status == 404 else NO_SETTING

    def check_account(self, exists, device, words):
        account, password = self.entry.get('account'), self.entry.get('account_password')
        slug = self.contract.operations[_api.VALIDATE_USER].slug
        if not account:
            self.skip('validate_user', words['validate_user'], 'no account given (digitro_check_account)')
            return self.skip('verify_account', words['verify_account'], 'no account given (digitro_check_account)')
        if not device or exists.get(_api.VALIDATE_USER) is False:
            why = 'the device PIN was not proven good' if not device else 'the operation %s was not found' % slug
            self.skip('validate_user', words['validate_user'], why)
            return self.skip('verify_account', words['verify_account'], 'the account PIN was not proven good')
        withheld = self.withheld('account', account, password)
        if withheld:
            self.skip('validate_user', words['validate_user'], withheld, run_again=True)
            return self.skip('verify_account', words['verify_account'], 'the account PIN was not sent')
        body = self.body(self.entry['device'], self.entry['device_password'], **{
            _api.ACCOUNT: account, _api.ACCOUNT_PASSWORD: password})
        answer = self.request(_api.VALIDATE_USER, body)
        evidence = self.say(slug, self.contract.to_wire(body), answer)
        good = False
        if not self.unanswered('validate_user', words['validate_user'], answer, evidence, 'account', account,
                               password):
            if answer.status == 403:  # the device's PIN was just accepted: the account's was refused
                self.refused_pin('validate_user', words['validate_user'], evidence, answer, 'account', account,
                                 password, 'the PABX refused the request; the PIN given for account %s is never sent '
                                 'again: check it' % account)
            else:
                good = self.judge_answer('validate_user', words['validate_user'], _api.VALIDATE_USER, answer,
                                         evidence, body, (_api.ACCOUNT, _api.USER_NAME, _api.USER_CATEGORY),
                                         'account %s' % account)
                if good:
                    self.ledger.accepted('account', account)
        if not good:
            return self.skip('verify_account', words['verify_account'], 'the account PIN was not proven good')
        self.verify(exists, 'verify_account', words['verify_account'], 'account', account, password, account,
                    password)

    def judge_answer(self, key, words, operation, answer, evidence, body, expected, whose):
        """A read's answer against the fields it should carry; True when the PABX accepted the PINs sent."""
        if answer.status == 400:
            self.refused_body(key, words, operation, answer, evidence, body)
            return False
        if answer.status != 200 or not isinstance(answer.data, dict):
            advice = None
            if answer.status == 403:
                advice = ('the PABX refused the request (it is not sent again): check the PIN given for %s, and for a '
                          'DAC query that the device is a DAC device' % whose)
            self.add(key, words, CONTRADICTED, evidence, self.other_refusal(answer, operation), advice)
            return False
        if self.lenient and not answer.data:
            self.skip(key, words, evidence, 'the PABX answers 200 to an unknown operation too, and this answer is '
                      'empty: it shows nothing')
            return False
        missing = [name for name in expected if self.contract.wire(name) not in answer.data]
        if not missing:
            self.add(key, words, CONFIRMED, evidence)
            return True
        extra = sorted(k for k in answer.data if k not in set(self.contract.wire(n) for n in expected))
        keys = [k for k, name in sorted(_api.FIELD_KEYS.items()) if name in missing]
        guess = extra[0] if len(missing) == 1 and len(extra) == 1 else None
        setting = ', '.join(self.setting('fields.' + k, guess) for k in keys)
        self.add(key, words, CONTRADICTED, evidence, setting,
                 'the answer lacks %s; it has %s' % (', '.join(self.contract.wire(n) for n in missing),
                                                     cut(', '.join(extra), 200) or 'nothing else'))
        return not self.lenient

    def check_dac(self, exists, device, words):
        number = self.entry.get('dac_device')
        slug = self.contract.operations[_api.DAC_QUERY].slug
        if not number:
            return self.skip('dac_query', words, 'no DAC device given (digitro_check_dac_device)')
        if exists.get(_api.DAC_QUERY) is False:
            return self.skip('dac_query', words, 'the operation %s was not found' % slug)
        if number == self.entry['device']:
            good, password = device, self.entry['device_password']
        else:
            password = self.entry.get('dac_device_password')
            good = self.verify(exists, 'verify_dac_device', '%s accepts the DAC device and its known-good PIN'
                               % self.contract.operations[_api.VERIFY_PASSWORD].slug, 'device', number, password)
        if not good:
            return self.skip('dac_query', words, 'the DAC device PIN was not proven good')
        body = self.body(number, password)
        answer = self.request(_api.DAC_QUERY, body)
        evidence = self.say(slug, self.contract.to_wire(body), answer)
        if self.unanswered('dac_query', words, answer, evidence, 'device', number, password):
            return
        before = len(self.checks)
        self.judge_answer('dac_query', words, _api.DAC_QUERY, answer, evidence, body, (_api.DAC_STATE, _api.ACCOUNT),
                          'device %s' % number)
        state = answer.data.get(self.contract.wire(_api.DAC_STATE)) if isinstance(answer.data, dict) else None
        if self.checks[before]['status'] == CONFIRMED and state not in _api.DAC_STATES:
            self.checks[before].update(status=CONTRADICTED, setting=NO_SETTING,
                                       advice='the state %s is neither %s nor %s' % (
                                           cut(json.dumps(state), 60), _api.DAC_LOGGED_IN, _api.DAC_LOGGED_OUT))

    def check_closed_channel(self, exists, device, words):
        if not device:
            return self.skip('closed_channel', words, 'the device PIN was not proven good')
        try:
            channel = self.open_channel(self.contract)
        except ChannelError as exc:
            return self.skip('closed_channel', words, 'a second channel did not open: %s'
                             % scrub(exc.message, self.secrets), run_again=True)
        closed = channel.channel_id
        channel.close()
        self.sleep(self.closed_channel_wait)  # the PABX notices the closed stream
        body = self.body(self.entry['device'], self.entry['device_password'])
        answer = self.request(_api.VERIFY_PASSWORD, body, channel_id=closed)
        evidence = self.say(self.contract.operations[_api.VERIFY_PASSWORD].slug, self.contract.to_wire(body), answer)
        evidence = evidence.replace('<channel>', '<closed channel>')
        if self.unanswered('closed_channel', words, answer, evidence, 'device', self.entry['device'],
                           self.entry['device_password']):
            return
        if answer.status == 400:
            return self.add('closed_channel', words, CONFIRMED, evidence)
        self.add('closed_channel', words, CONTRADICTED, evidence, NO_SETTING,
                 'the modules resend a request once when their channel closed and it got 400; nothing else '
                 'depends on it')


def summary(checks):
    counts = dict((status, 0) for status in (CONFIRMED, CONTRADICTED, NOT_CHECKED))
    for item in checks:
        counts[item['status']] += 1
    return counts


def table(checks):
    """The checks as text lines: assumption, status, evidence, and what to change."""
    lines = []
    width = max(len(c['id']) for c in checks) if checks else 0
    for item in checks:
        status = item['status'] + (' (run again)' if item.get('run_again') else '')
        lines.append('%-*s  %-12s  %s' % (width, item['id'], status, item['assumption']))
        lines.append('%-*s  %-12s  evidence: %s' % (width, '', '', item['evidence']))
        if item['setting']:
            lines.append('%-*s  %-12s  change: %s' % (width, '', '', item['setting']))
        if item['advice']:
            lines.append('%-*s  %-12s  note: %s' % (width, '', '', item['advice']))
    return lines


def verdict(checks, found):
    """The module's message: the counts, what is contradicted and which setting to change, what was not checked."""
    counts = summary(checks)
    contradicted = [c for c in checks if c['status'] == CONTRADICTED]
    again = [c for c in checks if c.get('run_again')]
    by_design = [c['id'] for c in checks if c['status'] == NOT_CHECKED and not c.get('run_again')]
    message = '%d confirmed, %d contradicted, %d not checked.' % (
        counts[CONFIRMED], counts[CONTRADICTED], counts[NOT_CHECKED])
    if contradicted:
        message += ' Contradicted: %s.' % '; '.join(
            '%s (%s)' % (c['id'], cut(c['setting'] or c['advice'] or 'see the report', 300)) for c in contradicted)
    if again:
        message += ' Not checked in this run: %s.' % '; '.join(
            '%s (%s)' % (c['id'], cut(c['advice'] or c['evidence'], 300)) for c in again)
    if by_design:
        message += ' Not checked (the report says why): %s.' % ', '.join(by_design)
    if found:
        message += ' Values found: digitro_api_overrides %s.' % json.dumps(found, sort_keys=True)
    if [c for c in contradicted if c['setting'] and c['setting'] != NO_SETTING]:
        message += ' Set them in digitro_api_overrides (docs/api-contract.md), then run check_api again.'
    return message
