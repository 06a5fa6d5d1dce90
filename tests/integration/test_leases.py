"""Leases: one holder at a time; an expired lease or one left by a dead process is taken over."""

import socket
import subprocess
import sys

from gateway.db.leases import Lease, holder_is_dead_local


def test_a_lease_has_one_holder_until_released(db):
    first, second = Lease(db, "job", "host-a:1:x", 60), Lease(db, "job", "host-b:2:y", 60)
    assert first.hold() and first.hold()          # taken, then renewed
    assert not second.hold()
    first.release()
    assert second.hold() and second.current_holder() == "host-b:2:y"


def test_an_expired_lease_is_taken_over(db):
    assert Lease(db, "job", "host-a:1:x", -1).hold()
    assert Lease(db, "job", "host-b:2:y", 60).hold()


def test_a_lease_left_by_a_dead_local_process_is_taken_over_at_once(db):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder = f"{socket.gethostname()}:{dead.stdout.strip()}:zz"
    assert holder_is_dead_local(holder)
    assert Lease(db, "job", holder, 600).hold()
    assert Lease(db, "job", "other:3:q", 60).hold()
