"""services/words.plural: the counted nouns the console and the CLI print."""

from services.words import plural


def test_one_is_singular_every_other_count_is_plural():
    assert plural(1, "cluster") == "1 cluster"
    assert plural(0, "cluster") == "0 clusters"
    assert plural(3, "cluster") == "3 clusters"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(2, "entry", "entries") == "2 entries"
    assert plural(12345, "row") == "12,345 rows"
