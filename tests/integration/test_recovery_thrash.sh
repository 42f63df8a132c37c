#!/usr/bin/env bash
# test_recovery_thrash — the short variant of tests/soak/thrash.sh for make check: 30 s of
# random kill -9 / restart / out / in under a verified write load, then active+clean.
# timeout: 200
THRASH_SECONDS=${THRASH_SECONDS:-30} exec "$CAIRN_ROOT/tests/soak/thrash.sh"
