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
