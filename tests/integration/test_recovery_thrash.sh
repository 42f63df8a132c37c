#!/usr/bin/env bash
# test_recovery_thrash — the short variant of tests/soak/thrash.sh for make check: 30 s of
# random kill -9 / restart / out / in under a verified write load, then active+clean. The
# sequence of actions is fixed (seed 2024) so that CI runs the same thrash every time;
# THRASH_SEED=N picks another one, and `make soak` runs thrash.sh with a random seed.
# timeout: 200
THRASH_SECONDS=${THRASH_SECONDS:-30} THRASH_SEED=${THRASH_SEED:-2024} \
    exec "$CAIRN_ROOT/tests/soak/thrash.sh"
