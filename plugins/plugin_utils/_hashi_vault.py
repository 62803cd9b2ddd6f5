# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The credential store as one secret of a HashiCorp Vault / OpenBao KV version 2 engine, on the controller.

The secret's KV version is the store's generation: a write is a check-and-set (``cas``) on the version the run
loaded, so Vault itself refuses a second writer, and KV's own versions are the store's history. The connection is
read as the Vault CLI and community.hashi_vault read it (VAULT_ADDR, VAULT_TOKEN or ~/.vault-token,
VAULT_NAMESPACE, VAULT_CACERT, VAULT_SKIP_VERIFY, AppRole's role and secret id) and made with hvac, the client
community.hashi_vault uses. Every error is told in our own words: never a token, a secret id or a PIN.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import gzip
import json
import math
import os
import re
import socket
import time
import uuid

try:
    import hvac
    from hvac import exceptions as hvac_exceptions
    import requests
    HVAC_IMPORT_ERROR = None
except ImportError as exc:  # reported by connect(), in words an operator can act on
    hvac = hvac_exceptions = requests = None
    HVAC_IMPORT_ERROR = exc

GENERATION = 'generation'
FORMAT = 'digitro-pabx-store/gzip+base64'

# (option, environment variables in order of precedence): the Vault CLI's names, then community.hashi_vault's
ENVIRONMENT = (
    ('url', ('VAULT_ADDR', 'ANSIBLE_HASHI_VAULT_ADDR')),
    ('token', ('VAULT_TOKEN', 'ANSIBLE_HASHI_VAULT_TOKEN')),
    ('namespace', ('VAULT_NAMESPACE', 'ANSIBLE_HASHI_VAULT_NAMESPACE')),
    ('role_id', ('VAULT_ROLE_ID', 'ANSIBLE_HASHI_VAULT_ROLE_ID')),
    ('secret_id', ('VAULT_SECRET_ID', 'ANSIBLE_HASHI_VAULT_SECRET_ID')),
    ('auth_mount', ('VAULT_AUTH_MOUNT', 'ANSIBLE_HASHI_VAULT_MOUNT_POINT')),
    ('ca_cert', ('VAULT_CACERT', 'ANSIBLE_HASHI_VAULT_CA_CERT')),
)
TRUE = ('1', 'true', 'yes', 'on')
LOCK_SUFFIX = '.lock'  # the run lock of a store: a secret beside it, in the same engine


class StoreError(Exception):
    """Why the store could not be read or written, for the operator: never a secret, never the content."""


class NoStore(StoreError):
    """The secret does not exist yet."""


def settings(args, environ=None):
    """The connection settings: each option as given, else from the environment as the Vault CLI reads it."""
    environ = os.environ if environ is None else environ
    found = dict(args)
    for option, names in ENVIRONMENT:
        if not found.get(option):
            found[option] = next((environ[name] for name in names if environ.get(name)), None)
    for option in ('url', 'token', 'role_id', 'secret_id', 'namespace'):
        if isinstance(found.get(option), str):  # a pasted value's newline or spaces: the Vault CLI trims them too
            found[option] = found[option].strip() or None
    if found.get('validate_certs') is None:
        skip = environ.get('VAULT_SKIP_VERIFY', '')
        found['validate_certs'] = skip.lower() not in TRUE
    if not found.get('token') and not found.get('role_id'):
        token_file = os.path.join(environ.get('HOME') or os.path.expanduser('~'), '.vault-token')
        if os.path.isfile(token_file):
            with open(token_file) as handle:
                found['token'] = handle.read().strip() or None
    found['auth_mount'] = found.get('auth_mount') or 'approle'
    return found


def scrub(text, secrets):
    """``text`` without any of ``secrets`` and without credentials in a URL's user part."""
    text = re.sub(r'(://)[^/@\s]+@', r'\1', str(text))
    for secret in secrets:
        if secret:
            text = text.replace(secret, '********')
    return text


class KV2Store(object):
    """One store secret: ``mount`` (a KV v2 engine) and ``path`` in it, on an authenticated client."""

    def __init__(self, options, mount, path, timeout=30):
        self.options = settings(options)
        self.mount = mount.strip('/')
        self.path = path.strip('/')
        self.where = '%s/%s at %s' % (self.mount, self.path, scrub(self.options.get('url') or '', ()))
        self._secrets = (self.options.get('token'), self.options.get('secret_id'))
        self.client = self._connect(timeout)

    # --- connection -------------------------------------------------------------------------------------------
    def _connect(self, timeout):
        if HVAC_IMPORT_ERROR is not None:
            raise StoreError('the hashi_vault credential store backend needs the Python library hvac on the '
                             'controller (in the execution environment): pip install hvac (%s)' % HVAC_IMPORT_ERROR)
        options = self.options
        if not options.get('url'):
            raise StoreError('no Vault address: set VAULT_ADDR (the AWX credential type "Digitro PABX API" sets it '
                             'from its Vault address input) or credential_store_hashi_vault_url')
        address = options['url']
        if not re.match(r'^https?://[^/\s]+/?$', address):
            raise StoreError('the Vault address %r is not a server address: give the scheme, host and port only, as '
                             'in https://vault.example.com:8200 (no /v1 or other path) in VAULT_ADDR, the AWX '
                             'credential or credential_store_hashi_vault_url' % scrub(address, ()))
        options['url'] = address.rstrip('/')
        if not options.get('token') and not (options.get('role_id') and options.get('secret_id')):
            raise StoreError('no Vault credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole '
                             '(or the credential_store_hashi_vault_* variables)')
        verify = options['ca_cert'] if options.get('ca_cert') and options['validate_certs'] else options['validate_certs']
        client = hvac.Client(url=options['url'], token=options.get('token'), namespace=options.get('namespace'),
                             verify=verify, timeout=timeout)
        if options.get('role_id') and options.get('secret_id') and not options.get('token'):
            self._call(client.auth.approle.login, 'log in with AppRole (mount %s)' % options['auth_mount'],
                       role_id=options['role_id'], secret_id=options['secret_id'], mount_point=options['auth_mount'])
        elif not self._call(client.is_authenticated, 'check the Vault token'):
            raise StoreError('the Vault server %s refused the token (unknown, expired or revoked): renew VAULT_TOKEN '
                             '(or credential_store_hashi_vault_token, or the AWX credential)'
                             % scrub(options['url'], ()))
        return client

    def _call(self, method, doing, **kwargs):
        """Call hvac, translating its errors (which name the URL and may quote the server) into ours."""
        try:
            return method(**kwargs)
        except Exception as exc:  # hvac and requests raise many kinds; none may escape with its text unchecked
            raise StoreError(self._explain(exc, doing))

    def _explain(self, exc, doing):
        server = scrub(self.options.get('url') or '', ())
        if requests is not None and isinstance(exc, requests.exceptions.SSLError):
            if 'WRONG_VERSION_NUMBER' in str(exc) or 'wrong version number' in str(exc):
                return ('could not %s: the Vault server %s does not speak TLS on that port: use http:// in its '
                        'address (VAULT_ADDR), or the port where it serves HTTPS' % (doing, server))
            return ('could not %s: the TLS certificate of the Vault server %s is not trusted; give its CA '
                    '(VAULT_CACERT, credential_store_hashi_vault_ca_cert)' % (doing, server))
        if requests is not None and isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return 'could not %s: the Vault server %s is unreachable (%s)' % (doing, server, type(exc).__name__)
        errors = scrub('; '.join(getattr(exc, 'errors', None) or []), self._secrets)[:300]
        if hvac_exceptions is not None and isinstance(exc, (hvac_exceptions.Forbidden, hvac_exceptions.Unauthorized)):
            return ('could not %s: permission denied by the Vault server %s (%s): the token or AppRole needs a policy '
                    'with read on %s/data/%s and %s/metadata/%s, and create and update on %s/data/%s'
                    % (doing, server, errors or 'no reason given', self.mount, self.path, self.mount, self.path,
                       self.mount, self.path))
        if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.VaultDown):
            return 'could not %s: the Vault server %s is sealed or in maintenance' % (doing, server)
        if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.VaultError):
            return 'could not %s: the Vault server %s answered %s%s' % (
                doing, server, type(exc).__name__, (' (%s)' % errors) if errors else '')
        return 'could not %s on the Vault server %s: %s' % (doing, server, type(exc).__name__)

    # --- reads ------------------------------------------------------------------------------------------------
    def check_engine(self):
        """Fail unless ``mount`` is a KV version 2 engine the token may use (the Vault CLI asks the same)."""
        try:
            mount = self.client.adapter.get('/v1/sys/internal/ui/mounts/%s/%s' % (self.mount, self.path))
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.Forbidden):
                raise StoreError('there is no secrets engine mounted at %s/ on the Vault server %s that this token '
                                 'may use (the mount is missing, or no policy grants anything under %s/%s): check '
                                 'credential_store_hashi_vault_mount and the policy'
                                 % (self.mount, scrub(self.options['url'], ()), self.mount, self.path))
            raise StoreError(self._explain(exc, 'look up the secrets engine %s/' % self.mount))
        data = (mount or {}).get('data') or {}
        if data.get('type') != 'kv' or str((data.get('options') or {}).get('version')) != '2':
            raise StoreError('the secrets engine at %s/ is not a KV version 2 engine (it is %s %s): the store needs '
                             'KV version 2 for its versions and check-and-set'
                             % (self.mount, data.get('type'), (data.get('options') or {}).get('version') or ''))

    def metadata(self):
        """The secret's metadata, or None when there is no secret yet."""
        try:
            return self.client.secrets.kv.v2.read_secret_metadata(path=self.path, mount_point=self.mount)['data']
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.InvalidPath):
                return None
            raise StoreError(self._explain(exc, 'read the versions of the store %s' % self.where))

    def _version_data(self, version):
        try:
            answer = self.client.secrets.kv.v2.read_secret_version(
                path=self.path, mount_point=self.mount, version=version, raise_on_deleted_version=True)
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.InvalidPath):
                raise StoreError('version %s of the store %s is deleted or destroyed' % (version, self.where))
            raise StoreError(self._explain(exc, 'read version %s of the store %s' % (version, self.where)))
        try:
            return unpack((answer.get('data') or {}).get('data'))
        except ValueError as exc:
            raise StoreError('version %s of the store %s cannot be read: %s' % (version, self.where, exc))

    def read(self, allow_gone=False):
        """(generation, store, metadata): the current version and its store; (0, None, None) when there is none.

        With ``allow_gone`` (a restore), a deleted or destroyed latest version reads as an empty store at the
        current generation, so that an earlier version can be listed and restored with check-and-set."""
        self.check_engine()
        meta = self.metadata()
        if not meta or not meta.get('current_version'):
            return 0, None, meta
        current = int(meta['current_version'])
        state = (meta.get('versions') or {}).get(str(current)) or {}
        if gone(state):
            if allow_gone:
                return current, None, meta
            raise StoreError('the latest version (%d) of the store %s is %s: %srestore an earlier version with '
                             'playbooks/restore_store.yml (it lists the versions it can read, and restores one with '
                             '-e digitro_store_version=N); nothing was changed'
                             % (current, self.where, 'destroyed' if state.get('destroyed') else 'deleted',
                                'a destroyed version cannot be undeleted; ' if state.get('destroyed') else
                                'undelete it (bao kv undelete -mount=%s -versions=%d %s), or '
                                % (self.mount, current, self.path)))
        return current, self._version_data(current), meta

    def read_version(self, version):
        """(store of ``version``, current generation), for a restore that saves with check-and-set."""
        self.check_engine()
        meta = self.metadata()
        if not meta:
            raise NoStore('there is no store at %s yet, so no version %d of it' % (self.where, version))
        return self._version_data(version), int(meta.get('current_version') or 0)

    def versions(self):
        """(the versions newest first, how many were skipped as deleted or destroyed, current generation)."""
        self.check_engine()
        meta = self.metadata()
        if not meta:
            return [], 0, 0
        current = int(meta.get('current_version') or 0)
        listed, skipped = [], 0
        for key, state in sorted((meta.get('versions') or {}).items(), key=lambda item: -int(item[0])):
            if gone(state):
                skipped += 1
                continue
            data = self._version_data(int(key))
            listed.append(dict(version=int(key), generation=int(key), saved_at=saved_at(state.get('created_time')),
                               devices=len(data.get('devices') or {}), accounts=len(data.get('accounts') or {}),
                               current=int(key) == current))
        return listed, skipped, current

    # --- write ------------------------------------------------------------------------------------------------
    def write(self, data, expect):
        """Write ``data`` as version ``expect`` + 1, unless the secret is at another version; the new version."""
        try:
            answer = self.client.secrets.kv.v2.create_or_update_secret(
                path=self.path, secret=pack(data), cas=expect, mount_point=self.mount)
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.InvalidRequest) \
                    and 'check-and-set' in ' '.join(getattr(exc, 'errors', None) or []):
                raise StoreError(refused(self.where, expect, self.metadata()))
            raise StoreError(self._explain(exc, 'save the store %s (nothing was saved)' % self.where))
        version = ((answer or {}).get('data') or {}).get('version')
        if not isinstance(version, int):
            raise StoreError('the Vault server did not return the new version of the store %s: is %s/ a KV version 2 '
                             'engine?' % (self.where, self.mount))
        return version

    # --- the run lock: a secret beside the store, taken and released with check-and-set ------------------------
    def _lock_read(self):
        """(KV version of the lock secret, its record or None when free: none yet, released or deleted)."""
        where = self.path + LOCK_SUFFIX
        try:
            meta = self.client.secrets.kv.v2.read_secret_metadata(path=where, mount_point=self.mount)['data']
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.InvalidPath):
                return 0, None
            raise StoreError(self._explain(exc, 'read the run lock %s/%s' % (self.mount, where)))
        current = int((meta or {}).get('current_version') or 0)
        if not current or gone((meta.get('versions') or {}).get(str(current)) or {}):
            return current, None
        try:
            answer = self.client.secrets.kv.v2.read_secret_version(
                path=where, mount_point=self.mount, version=current, raise_on_deleted_version=False)
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.InvalidPath):
                return current, None
            raise StoreError(self._explain(exc, 'read the run lock %s/%s' % (self.mount, where)))
        record = (answer.get('data') or {}).get('data') or {}
        return current, (record if record.get('owner') else None)

    def _lock_write(self, record, version):
        """Write the lock record with check-and-set on ``version``; False when another run wrote it first."""
        where = self.path + LOCK_SUFFIX
        try:
            self.client.secrets.kv.v2.create_or_update_secret(path=where, secret=record, cas=version,
                                                              mount_point=self.mount)
        except Exception as exc:
            if hvac_exceptions is not None and isinstance(exc, hvac_exceptions.InvalidRequest) \
                    and 'check-and-set' in ' '.join(getattr(exc, 'errors', None) or []):
                return False
            raise StoreError(self._explain(exc, 'write the run lock %s/%s (the token needs create and update on '
                                                '%s/data/%s too)' % (self.mount, where, self.mount, where)))
        return True

    def acquire_lock(self, pid, ttl, timeout, break_lock=False, label=None, sleep=2.0):
        """Take the run lock of the store for ``ttl`` seconds: (record, the record taken over or None).

        A lock held by another live run is waited for up to ``timeout`` seconds, then refused naming its holder. An
        expired lock, one whose holder process on this host is gone, or (``break_lock``) any, is taken over."""
        deadline = time.monotonic() + max(0, timeout)
        host = socket.gethostname()
        while True:
            version, held = self._lock_read()
            now = time.time()
            stale = held is not None and (break_lock or self._expiry(held) <= now or dead_here(held, host))
            if held is None or stale:
                record = dict(owner=uuid.uuid4().hex, host=host, pid=int(pid), started_at=stamp(now),
                              expires=int(now + ttl), expires_at=stamp(now + ttl), job=label or '',
                              machine=machine(), pid_start=process_start(pid))
                if self._lock_write(record, version):
                    return record, held
                continue  # another run took it between the read and the write: look again
            if time.monotonic() >= deadline:
                raise StoreError(
                    'the store %s is locked by another run: host %s, process %s, started %s, lock valid until %s%s. '
                    'Waited %d seconds (credential_store_lock_timeout); nothing was sent to the PABX and nothing '
                    'was saved. Run again when it has finished. Only if you are sure that run is dead (its job '
                    'cancelled, its node lost), break the lock with -e credential_store_break_lock=true; an expired '
                    'lock is taken over by itself.'
                    % (self.where, held.get('host'), held.get('pid'), held.get('started_at'),
                       held.get('expires_at'), (', job %s' % held['job']) if held.get('job') else '', timeout))
            time.sleep(max(0.1, min(sleep, deadline - time.monotonic())))

    def _expiry(self, held):
        """When a held lock expires; a lock whose expiry cannot be read (edited by hand) is refused, not guessed."""
        try:
            expires = float(held.get('expires') or 0)
        except (TypeError, ValueError):
            expires = float('nan')
        if not math.isfinite(expires):
            raise StoreError('the run lock %s.lock holds an expires field this collection cannot read (edited by hand?): '
                             'nothing was sent to the PABX. If no run of this PABX is active, break it with '
                             '-e credential_store_break_lock=true' % self.where)
        return expires

    def release_lock(self, owner):
        """Release the run lock if ``owner`` holds it: (released, the holder's record when another run holds it)."""
        for _attempt in range(5):
            version, held = self._lock_read()
            if held is None or held.get('owner') != owner:
                return False, held
            record = dict(owner='', released_at=stamp(time.time()), released_by=socket.gethostname())
            if self._lock_write(record, version):
                return True, None
        return False, None


def pack(store):
    """The KV secret of a store: the document compressed into one field, beside its counts.

    Vault and OpenBao refuse a request of more than a few thousand JSON strings (OpenBao's listener
    max_request_json_strings, 1000 by default), which a store of a few hundred entries exceeds, and Raft storage
    refuses an entry over 1 MiB; compressed, a store of 10,000 entries is a few hundred kilobytes.
    """
    document = dict(store)
    document.pop(GENERATION, None)  # the KV version is the generation
    text = json.dumps(document, sort_keys=True, separators=(',', ':')).encode('utf-8')
    return {'format': FORMAT, 'schema': document.get('schema'), 'devices': len(document.get('devices') or {}),
            'accounts': len(document.get('accounts') or {}),
            'store': base64.b64encode(gzip.compress(text, 6, mtime=0)).decode('ascii')}


def unpack(secret):
    """The store in a KV secret written by pack(), or written by hand as the plain document."""
    if not isinstance(secret, dict):
        raise ValueError('it is not a JSON object')
    if 'store' in secret and secret.get('format') == FORMAT:
        try:
            document = json.loads(gzip.decompress(base64.b64decode(secret['store'])).decode('utf-8'))
        except (ValueError, TypeError, OSError, EOFError):
            raise ValueError('its store field is not gzip-compressed, base64-encoded JSON')
    elif 'store' in secret or 'format' in secret:
        raise ValueError('it is in a format this version of digitro.pabx does not know (%s): upgrade the collection'
                         % secret.get('format'))
    else:
        document = secret
    if not isinstance(document, dict):
        raise ValueError('it is not a JSON object')
    document = dict(document)
    document.pop(GENERATION, None)  # the KV version is the generation
    check_entries(document)
    return document


def check_entries(document):
    """Refuse a store (often a plain document written by hand) whose entries are not records with a PIN."""
    for kind in ('devices', 'accounts'):
        section = document.get(kind)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ValueError('its %s section is not a mapping of numbers to entries' % kind)
        for number, entry in section.items():
            if not isinstance(entry, dict) or not isinstance(entry.get('current'), str):
                raise ValueError('its %s entry %s is not a record with the PIN as a string in "current" (as in '
                                 '{"current": "<PIN>"}): correct the secret, or restore an earlier version with '
                                 'playbooks/restore_store.yml' % (kind[:-1] if kind == 'devices' else 'account',
                                                                  scrub(number, ())[:40]))


def refused(where, expect, meta):
    now = int((meta or {}).get('current_version') or 0)
    return ('the credential store %s changed since this run loaded it (generation %d, now %d): another run wrote it; '
            'Vault refused the check-and-set write and nothing was saved; the PINs this run staged are listed as '
            'pending in its report \u2014 run again' % (where, expect, now))


def gone(state):
    """Whether a version (its metadata) is destroyed or deleted; a deletion_time still ahead is only planned."""
    deleted = state.get('deletion_time') or ''
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')
    return bool(state.get('destroyed')) or bool(deleted and deleted[:19] <= now)


def saved_at(created_time):
    """KV's created_time (RFC 3339 with nanoseconds) as YYYY-MM-DDTHH:MM:SSZ."""
    match = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)', created_time or '')
    return (match.group(1) + 'Z') if match else None


def stamp(moment):
    """A Unix time as YYYY-MM-DDTHH:MM:SSZ."""
    return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def machine():
    """This boot of this machine, and this process's pid namespace: where a pid means the same process. Two
    containers with one host name have pid namespaces of their own, and see each other's pids as gone."""
    try:
        with open('/proc/sys/kernel/random/boot_id') as handle:
            boot = handle.read().strip()
        return '%s/%d' % (boot, os.stat('/proc/self/ns/pid').st_ino)
    except (IOError, OSError):
        return ''


def process_start(pid):
    """When process ``pid`` started (clock ticks since boot), to tell it from a later process given the same pid."""
    try:
        with open('/proc/%d/stat' % int(pid)) as handle:
            return int(handle.read().rsplit(')', 1)[1].split()[19])
    except (IOError, OSError, ValueError, IndexError):
        return None


def dead_here(held, host):
    """Whether a lock's holder ran here (this host, boot and pid namespace) and its process is gone, or its pid
    now belongs to another process (a run killed here). Anything unsure counts as alive."""
    if held.get('host') != host or not held.get('machine') or held.get('machine') != machine():
        return False
    try:
        pid = int(held.get('pid'))
        os.kill(pid, 0)
    except (TypeError, ValueError):
        return False
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        pass
    started = process_start(pid)
    return held.get('pid_start') is not None and started is not None and started != held.get('pid_start')
