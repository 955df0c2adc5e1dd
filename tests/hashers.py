"""Cheap password hashers for the test suite only (Django's own advice: slow hashers make slow tests).

The algorithm names stay the same, so code that asks for "scrypt" gets this one and hashes still start with
"scrypt$"; the cost parameters are stored in each hash, so checking works as in production."""

from django.contrib.auth.hashers import ScryptPasswordHasher

from applications.hashers import NaccsScryptPasswordHasher


class FastScryptPasswordHasher(ScryptPasswordHasher):
    work_factor = 2**8
    parallelism = 1


class FastNaccsScryptPasswordHasher(NaccsScryptPasswordHasher):
    work_factor = 2**8


class CountingNaccsScryptPasswordHasher(NaccsScryptPasswordHasher):
    """Records the hash of every check it makes (list.append is atomic, so threads may share it), so that a test
    can count how many guesses were really checked against one 利用者ID's hash. Slow enough (N=2^12, 4 MiB) that
    concurrent checks overlap, as they do with the real cost."""

    work_factor = 2**12
    checked: list[str] = []

    def verify(self, password, encoded):
        type(self).checked.append(encoded)
        return super().verify(password, encoded)
