"""A queue made while a commit's deliveries run (a module first imported by a delivery) breaks nothing."""
from app.services.after_commit import AfterCommit


def test_a_queue_created_during_delivery(db):
    made, seen = [], []

    def deliver(item):
        seen.append(item)
        made.append(AfterCommit(f"late{len(made)}", seen.append, "late item"))

    first = AfterCommit("first-for-test", deliver, "item")
    with db.session() as s:
        first.add(s, 1)
    with db.session() as s:
        made[0].add(s, 2)
    assert seen == [1, 2]
