# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command line: ``python3 -m emulator serve ...`` and ``python3 -m emulator seed ...``."""
import argparse
import dataclasses
import json
import os
import signal
import sys
import threading

from emulator import contract
from emulator.seed import make_site, write_csv
from emulator.server import EmulatorServer
from emulator.settings import Settings
from emulator.state import PabxState

LOOPBACK = ('127.0.0.1', 'localhost', '::1')


def _settings_arguments(parser):
    for field in dataclasses.fields(Settings):
        flag = '--' + field.name.replace('_', '-')
        if field.type in (bool, 'bool'):
            parser.add_argument(flag, type=lambda v: v.lower() in ('1', 'true', 'yes'), default=field.default,
                                metavar='BOOL', help='default: %(default)s')
        else:
            kind = {'float': float, 'int': int, 'str': str}.get(getattr(field.type, '__name__', field.type), str)
            parser.add_argument(flag, type=kind, default=field.default, help='default: %(default)s')


def build_parser():
    parser = argparse.ArgumentParser(prog='python3 -m emulator', description='Dígitro PABX CTI API emulator.')
    commands = parser.add_subparsers(dest='command', required=True)
    serve = commands.add_parser('serve', help='run the emulator until SIGTERM or Ctrl-C')
    serve.add_argument('--host', default='127.0.0.1', help='address to bind (loopback only)')
    serve.add_argument('--port', type=int, default=8080, help='0 picks a free port')
    serve.add_argument('--seed', help='seed document (JSON): loaded when the state is new, or with --reset')
    serve.add_argument('--state', default=':memory:', help='SQLite file keeping the state across restarts')
    serve.add_argument('--reset', action='store_true', help='reload the seed even if the state exists')
    serve.add_argument('--tls-cert', help='PEM certificate: serve HTTPS')
    serve.add_argument('--tls-key', help='PEM private key for --tls-cert')
    serve.add_argument('--log-file', help='request log, one JSON line per request (never a password)')
    serve.add_argument('--ready-file', help='written with {"url", "pid"} once the server listens')
    serve.add_argument('--api-overrides', metavar='FILE',
                       help='serve a PABX that names things differently: a JSON file of the api_overrides shape '
                            '({"events_path", "channel_id_field", "slugs", "fields"}; docs/api-contract.md)')
    _settings_arguments(serve)
    seed = commands.add_parser('seed', help='write a seed document and the CSV of initial passwords')
    seed.add_argument('--devices', type=int, default=100)
    seed.add_argument('--accounts', type=int, default=0)
    seed.add_argument('--dac-devices', type=int, default=0)
    seed.add_argument('--first-device', type=int, default=100000)
    seed.add_argument('--first-account', type=int, default=500000)
    seed.add_argument('--random-seed', type=int)
    seed.add_argument('--out', required=True, help='seed document to write (JSON)')
    seed.add_argument('--csv', help='also write the initial passwords as CSV (kind,number,password)')
    return parser


def serve(args):
    if args.host not in LOOPBACK:
        sys.exit('refusing to bind %s: the emulator serves loopback only' % args.host)
    settings = Settings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Settings)})
    try:
        served = contract.load(args.api_overrides)
    except (OSError, contract.api.OverrideError) as exc:
        sys.exit('--api-overrides: %s' % exc)
    state = PabxState(args.state)
    if args.seed and (args.reset or state.empty()):
        with open(args.seed) as handle:
            state.load_seed(json.load(handle))
    log = open(args.log_file, 'a') if args.log_file else None
    server = EmulatorServer((args.host, args.port), state, settings, log, contract=served)
    scheme = 'http'
    if args.tls_cert:
        server.enable_tls(args.tls_cert, args.tls_key)
        scheme = 'https'
    url = '%s://%s:%d' % (scheme, args.host, server.server_address[1])
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.ready_file:
        with open(args.ready_file + '.tmp', 'w') as handle:
            json.dump({'url': url, 'pid': os.getpid()}, handle)
        os.replace(args.ready_file + '.tmp', args.ready_file)
    print('PABX emulator listening on %s (%d devices, %d accounts)' % (
        url, len(state.records['devices']), len(state.records['accounts'])), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.channels.close_all()
        server.server_close()
        state.close()
    return 0


def seed(args):
    site = make_site(args.devices, args.accounts, args.dac_devices, args.first_device, args.first_account,
                     args.random_seed)
    with open(args.out, 'w') as handle:
        json.dump(site, handle, indent=1)
    if args.csv:
        write_csv(site, args.csv)
    print('wrote %s: %d devices, %d accounts' % (args.out, args.devices, args.accounts))
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    return serve(args) if args.command == 'serve' else seed(args)
