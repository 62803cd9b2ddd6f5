"""The wrong-attempt journal between runs: taken at a load, cleared after a save, never losing a later line."""
from ansible_collections.digitro.pabx.plugins.module_utils._journal import Journal
from ansible_collections.digitro.pabx.plugins.plugin_utils._store_journal import apply, clear, take

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


def test_counts_of_numbers_the_store_no_longer_has_are_left_out():
    assert apply(STORE, {('devices', '9999'): 2, ('accounts', '1000'): 1}) == STORE
