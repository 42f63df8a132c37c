#!/usr/bin/env bash
# store_crash.sh — the long variant of test_store_crash: SIGKILL a store writer many more
# times (default 1000 kills or 15 minutes, whichever comes first) and check after each
# reopen that every durable transaction is present and no partial one is visible.
# STORE_CRASH_KILLS / STORE_CRASH_SECONDS override the bounds.
# timeout: 1000
set -eu
BUILD=${CAIRN_BUILD:-build}
bin=$BUILD/tests/integration/test_store_crash
if [ ! -x "$bin" ]; then
    echo "skip: $bin not built (make build-tests)"
    exit 77
fi
exec "$bin" --iterations "${STORE_CRASH_KILLS:-1000}" --seconds "${STORE_CRASH_SECONDS:-900}"
