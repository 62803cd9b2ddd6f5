"""The wrong-attempt journal between runs: taken at a load, cleared after a save, never losing a later line."""
import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.digitro.pabx.plugins.module_utils._batch import guarded
from ansible_collections.digitro.pabx.plugins.module_utils._journal import (
    Journal, JournalUnreadable, JournalUnwritable, contents, encoded, read_counts)
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_journal import apply, clear, take, taken_path

STORE = {'schema': 2, 'devices': {'1000': {'current': 'x'}, '1001': {'current': 'y', 'wrong_attempts': 1}},
         'accounts': {}}


def test_take_apply_clear(tmp_path):
    path = str(tmp_path / 'pabx1.store.journal')
    assert take(path) == ({}, {}) and apply(STORE, {}) is STORE
    journal = Journal(path)
    journal.record('devices', '1000', 1)
    journal.record('devices', '1001', 0)
    counts, unanswered = take(path)
    assert counts == {('devices', '1000'): 1} and unanswered == {}  # a count of 0 raises no store's count
    journal.record('devices', '1000', 2)  # a module still finishing writes after the take: a new journal
    assert take(path)[0] == {('devices', '1000'): 2}  # newest last, nothing lost
    merged = apply(STORE, *take(path))
    # raised to the journal's count, never lowered: a count the store holds and the journal does not (a disproved
    # reset claim, a charged requesting device) stays
    assert merged['devices']['1000']['wrong_attempts'] == 2 and merged['devices']['1001']['wrong_attempts'] == 1
    assert 'wrong_attempts' not in STORE['devices']['1000']  # the loaded store is left as it was
    assert clear(path) and take(path) == ({}, {}) and not clear(path)


def _moved_away(path, elsewhere):
    # a network file system renames a file removed while a process of the same machine has it open (.nfsXXXX)
    os.rename(path, elsewhere)


def _linked_then_taken(path, elsewhere):
    os.link(path, elsewhere)  # a second name: the open file keeps a link when the journal is taken
    take(path)


def _symlinked_then_taken(path, elsewhere):
    take(path)  # the journal option names a symbolic link: taking the journal removes the link


@pytest.mark.parametrize('away', [_moved_away, _linked_then_taken, _symlinked_then_taken])
def test_a_line_after_the_journal_went_away_starts_a_new_one(tmp_path, away):
    path, elsewhere = str(tmp_path / 'pabx1.store.journal'), str(tmp_path / 'elsewhere')
    if away is _symlinked_then_taken:
        os.symlink(elsewhere, path)
    journal = Journal(path)
    journal.record('devices', '1000', 1)
    away(path, elsewhere)
    journal.record('devices', '1001', 2)  # a module still running: its line must reach the journal the next run reads
    assert read_counts(path) == {('devices', '1001'): 2}


def test_a_journal_that_cannot_be_written_fails_its_entry_with_what_to_do(tmp_path):
    path = str(tmp_path / 'pabx1.store.journal')
    os.mkfifo(path)  # put there by hand mid-run: no reader, so it cannot be written
    result = guarded(lambda entry: Journal(path).out('devices', entry['device'], 1, 'current'))({'device': '1000'})
    assert result['failed'] and result['msg'].startswith('the wrong-attempt journal %s (credential_store_journal_file) '
                                                         'cannot be written' % path)
    assert 'Make that path a regular file' in result['msg']


def test_a_journal_that_failed_to_open_again_closes_no_other_file(tmp_path):
    path, other_path = str(tmp_path / 'pabx1.store.journal'), str(tmp_path / 'other')
    journal = Journal(path)
    journal.record('devices', '1000', 1)
    os.remove(path)
    os.mkdir(path)  # the journal's name now leads to a directory: opening it again fails
    with pytest.raises(JournalUnwritable):
        journal.record('devices', '1000', 2)
    other = os.open(other_path, os.O_WRONLY | os.O_CREAT)  # another thread's file or socket: the freed number
    try:
        with pytest.raises(JournalUnwritable):
            journal.record('devices', '1000', 2)
        os.write(other, b'x')  # still open, and still this file
    finally:
        os.close(other)
    assert content(other_path) == b'x'


def test_journals_let_their_descriptors_go(tmp_path):
    path, before = str(tmp_path / 'pabx1.store.journal'), len(os.listdir('/proc/self/fd'))
    for count in range(50):  # a process that makes many (a test, a long-lived controller) must not run out of them
        Journal(path).record('devices', '1000', count)
    journal = Journal(path)
    journal.record('devices', '1000', 50)
    journal.close()
    assert len(os.listdir('/proc/self/fd')) == before
    journal.record('devices', '1000', 51)  # opened again
    journal.close()
    assert read_counts(path) == {('devices', '1000'): 51}


def test_counts_of_numbers_the_store_no_longer_has_are_left_out():
    assert apply(STORE, {('devices', '9999'): 2, ('accounts', '1000'): 1}) == STORE


GOOD = b'{"kind":"devices","number":"1000","wrong_attempts":1}\n'
MARK = '583016'  # stands for whatever a hand edit put on a line: never in the message
BAD_LINES = {
    'infinity': '{"kind":"devices","number":"%s","wrong_attempts":Infinity}' % MARK,
    'overflow': '{"kind":"devices","number":"%s","wrong_attempts":1e400}' % MARK,
    'nan': '{"kind":"devices","number":"%s","wrong_attempts":NaN}' % MARK,
    'negative': '{"kind":"devices","number":"%s","wrong_attempts":-1}' % MARK,
    'fraction': '{"kind":"devices","number":"%s","wrong_attempts":1.5}' % MARK,
    'too_many': '{"kind":"devices","number":"%s","wrong_attempts":1001}' % MARK,
    'text_count': '{"kind":"devices","number":"%s","wrong_attempts":"2"}' % MARK,
    'no_count': '{"kind":"devices","number":"%s"}' % MARK,
    'bool_number': '{"kind":"devices","number":true,"wrong_attempts":1,"note":"%s"}' % MARK,
    'unknown_kind': '{"kind":"%s","number":"1000","wrong_attempts":1}' % MARK,
    'not_an_object': '[%s]' % MARK,
    'not_json': 'wrong_attempts=1 %s' % MARK,
    'cut': '{"kind":"devices","number":"%s","wrong_' % MARK,
    'deep': '[' * 200000 + MARK,
    'huge': '{"kind":"devices","number":"1000","wrong_attempts":1,"pad":"%s%s"}' % (MARK, 'x' * 5000),
    'not_utf8': b'{"kind":"devices","number":"\xff\xfe%s","wrong_attempts":1}' % MARK.encode(),
}


def write(path, *lines):
    with open(path, 'wb') as handle:
        handle.write(b''.join(line if isinstance(line, bytes) else (line + '\n').encode() for line in lines))


def content(path):
    with open(path, 'rb') as handle:
        return handle.read()


def assert_clear_message(exc, path, line):
    text = str(exc)
    assert path in text and 'line %d ' % line in text and 'credential_store_journal_file' in text
    assert 'console' in text and 'loses' in text and MARK not in text and 'Traceback' not in text


@pytest.mark.parametrize('kind', sorted(BAD_LINES))
def test_a_line_that_is_not_a_count_fails_the_take_and_stays_where_it_is_to_be_corrected(tmp_path, kind):
    path = str(tmp_path / 'pabx1.store.journal')
    write(path, GOOD, BAD_LINES[kind])
    before = content(path)
    with pytest.raises(JournalUnreadable) as caught:
        take(path)
    assert_clear_message(caught.value, path, 2)
    # nothing moved: no copy of the bad line in the taken file to fail every later run
    assert content(path) == before and not os.path.exists(taken_path(path))
    with pytest.raises(JournalUnreadable) as caught:  # the modules read the same lines the same way
        read_counts(path)
    assert_clear_message(caught.value, path, 2)
    write(path, GOOD, '')  # the person removed the line (an emptied line holds nothing)
    assert take(path) == ({('devices', '1000'): 1}, {}) and not os.path.exists(path)
    assert take(path) == ({('devices', '1000'): 1}, {})


def test_a_bad_line_already_in_the_taken_file_is_named_there_and_a_corrected_one_is_taken(tmp_path):
    path = str(tmp_path / 'pabx1.store.journal')
    taken = taken_path(path)
    write(taken, GOOD, BAD_LINES['infinity'])  # left by a version that moved the journal before reading it
    write(path, b'{"kind":"devices","number":"1001","wrong_attempts":2}\n')
    with pytest.raises(JournalUnreadable) as caught:
        take(path)
    assert_clear_message(caught.value, taken, 2)
    assert 'which a load took from %s' % path in str(caught.value)
    assert os.path.exists(path) and content(taken).count(b'\n') == 2  # both left as they were
    write(taken, GOOD.rstrip(b'\n'))  # corrected, and saved without its last newline
    assert take(path)[0] == {('devices', '1000'): 1, ('devices', '1001'): 2}
    assert read_counts(taken) == {('devices', '1000'): 1, ('devices', '1001'): 2}


def test_a_bad_line_of_the_journal_is_numbered_in_the_journal_not_after_the_taken_lines(tmp_path):
    path = str(tmp_path / 'pabx1.store.journal')
    write(taken_path(path), GOOD, GOOD)
    write(path, GOOD, GOOD, GOOD, BAD_LINES['overflow'])
    with pytest.raises(JournalUnreadable) as caught:
        take(path)
    assert_clear_message(caught.value, path, 4)
    assert 'which a load took' not in str(caught.value)


def test_a_whole_count_written_as_a_float_still_counts(tmp_path):
    path = str(tmp_path / 'pabx1.store.journal')
    write(path, '{"kind":"accounts","number":1234,"wrong_attempts":2.0}')
    assert take(path) == ({('accounts', '1234'): 2}, {})


@pytest.mark.parametrize('kind', ['fifo', 'device'])
def test_a_journal_that_is_no_regular_file_is_refused_at_once_never_read_for_ever(tmp_path, kind):
    path = str(tmp_path / 'pabx1.store.journal')
    if kind == 'fifo':
        os.mkfifo(path)      # would block an open for reading until a writer comes
    else:
        os.symlink('/dev/zero', path)   # would fill the memory
    with pytest.raises(OSError, match='not a regular file'):
        take(path)
    with pytest.raises(OSError, match='not a regular file'):
        contents(path)


def test_a_journal_beyond_any_run_s_size_is_refused(tmp_path, monkeypatch):
    from ansible_collections.digitro.pabx.plugins.module_utils import _journal
    monkeypatch.setattr(_journal, 'MAX_BYTES', 1000)
    path = tmp_path / 'pabx1.store.journal'
    path.write_bytes(b'x' * 5000)
    with pytest.raises(OSError, match='larger than'):
        contents(str(path))


@settings(max_examples=300)
@given(number=st.text(), count=st.integers(min_value=0, max_value=10 ** 6),
       role=st.one_of(st.none(), st.sampled_from(['current', 'new', 'sent:3', 'unknown'])), run=st.one_of(st.none(), st.text()))
def test_a_line_is_the_json_text_of_its_fields(number, count, role, run):
    """The journal writes its lines field by field (json.dumps cost a tenth of a module's CPU): each must read
    back as json.dumps would have written it, whatever a number holds (quotes, control characters, non-ASCII)."""
    item = {'kind': 'devices', 'number': number, 'wrong_attempts': count}
    if role is not None:
        item['out'] = role
    if run is not None:
        item['run'] = run
    assert encoded(item) == (json.dumps(item, separators=(',', ':')) + '\n').encode('ascii')
