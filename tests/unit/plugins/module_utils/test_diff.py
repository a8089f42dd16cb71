"""DifferenceTracker records changes as data and derives diff."""

from ansible_collections.livescale.cloudstack.plugins.module_utils._diff import DifferenceTracker


def test_no_changes_when_values_are_equal():
    tracker = DifferenceTracker()
    tracker.add("value", "true", "true")
    assert not tracker.has_changes
    assert tracker.changed_keys == []
    assert tracker.diff() == {"before": {"value": "true"}, "after": {"value": "true"}}


def test_changes_keep_order_and_first_before():
    tracker = DifferenceTracker()
    tracker.add("cpunumber", 1, 2)
    tracker.add("memory", 512, 512)
    tracker.add("cpunumber", 2, 4)
    assert tracker.has_changes
    assert tracker.changed_keys == ["cpunumber"]
    assert tracker.before() == {"cpunumber": 1, "memory": 512}
    assert tracker.after() == {"cpunumber": 4, "memory": 512}


def test_a_change_undone_is_no_change():
    tracker = DifferenceTracker()
    tracker.add("value", "a", "b")
    tracker.add("value", "b", "a")
    assert not tracker.has_changes
