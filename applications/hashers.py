"""The password hasher of 利用者IDs (NACCS IDs), chosen for the UTB gateway's hot path (docs/decisions.md,
"Hashing 利用者ID passwords"): scrypt with N=2^15, r=8, p=1 — 32 MiB and about 0.1 s per check on one core of
this project's machines. Memory-hard, so a GPU cannot test many guesses at once, and cheap enough that a login
is not noticeably slow. Repeated API calls with the same credentials skip it (utb_gateway/services.py)."""

from django.contrib.auth.hashers import ScryptPasswordHasher


class NaccsScryptPasswordHasher(ScryptPasswordHasher):
    algorithm = "naccs_scrypt"
    work_factor = 2**15
    block_size = 8
    parallelism = 1
    maxmem = 64 * 1024 * 1024
