"""The Vault run lock against records a person or a killed run left (the re-attack of issue 14): an expiry that
cannot be read, a pid another process now has, a holder in another pid namespace, a default path spelt another
way under AWX."""
import os
import socket
import subprocess
import time

import pytest

from ansible_collections.digitro.pabx.plugins.plugin_utils import _hashi_vault
from ansible_collections.digitro.pabx.plugins.plugin_utils._hashi_vault import KV2Store, StoreError
from openbao import OpenBao

PATH = 'digitro-pabx/pabx1'


@pytest.fixture(name='bao')
def bao_server(tmp_path):
    server = OpenBao(tmp_path)
    yield server
    server.stop()


def kv(bao):
    return KV2Store({'url': bao.url, 'token': bao.token}, 'secret', PATH, 10)


@pytest.mark.parametrize('expires', ['tomorrow', 'nan', 'inf', None])
def test_a_lock_whose_expiry_cannot_be_read_is_refused_naming_break_lock(bao, expires):
    bao.put(PATH + '.lock', {'owner': 'someone', 'host': 'elsewhere', 'pid': 1, 'expires': expires or 'x'})
    with pytest.raises(StoreError, match='expires field .* credential_store_break_lock=true'):
        kv(bao).acquire_lock(os.getpid(), 600, 0)
    assert kv(bao).acquire_lock(os.getpid(), 600, 0, break_lock=True)[1]['owner'] == 'someone'


def test_a_pid_another_process_now_has_is_a_dead_holder(bao):
    holder = subprocess.Popen(['sleep', '60'])
    record = dict(owner='killed-run', host=socket.gethostname(), pid=holder.pid, expires=int(time.time()) + 14400,
                  machine=_hashi_vault.machine(), pid_start=_hashi_vault.process_start(holder.pid))
    holder.kill()
    holder.wait()
    time.sleep(0.05)  # start times count in clock ticks
    reused = subprocess.Popen(['sleep', '60'])  # a later process: another start time, whatever its pid
    try:
        bao.put(PATH + '.lock', dict(record, pid=reused.pid))
        assert kv(bao).acquire_lock(os.getpid(), 600, 0)[1]['owner'] == 'killed-run'
    finally:
        reused.kill()
        reused.wait()


def test_a_live_holder_elsewhere_or_in_another_pid_namespace_is_waited_for(bao):
    for machine in ('another-boot/1', ''):  # another machine or pid namespace; a record without one
        bao.put(PATH + '.lock', dict(owner='live', host=socket.gethostname(), pid=999999, machine=machine,
                                     expires=int(time.time()) + 600))
        with pytest.raises(StoreError, match='locked by another run'):
            kv(bao).acquire_lock(os.getpid(), 600, 0)
