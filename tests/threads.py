"""Running test code in threads released together, for the races that only the real PostgreSQL can settle."""

import threading

from django.db import connection


def race(target, count, *, no_thread_may_hang=False):
    """Run target(i) in `count` threads released together; return (results, errors) by index. With
    `no_thread_may_hang`, assert that every thread finished within its two minutes (a hang means a deadlock)."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if no_thread_may_hang:
        assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results, errors
