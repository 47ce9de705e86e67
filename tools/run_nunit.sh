#!/usr/bin/env bash
# Run NUnit 2.6's nunit-console on Mono with a watchdog, so that a test run can never hang CI.
#
#   tools/run_nunit.sh RESULTS.xml TEST.dll [TEST.dll ...]
#
# nunit-console under Mono has been seen (once in dozens of runs) to hang at exit after it
# wrote complete results. -domain=None runs the tests without the AppDomain whose unload is
# the usual culprit; and if the process still lingers once the results file is complete, it
# is killed and the results file decides: exit 0 when it reports no error and no failure.
# A run that writes no complete results within NUNIT_TIMEOUT seconds (default 300) exits 124.
set -uo pipefail
(($# >= 2)) || { echo "usage: $0 RESULTS.xml TEST.dll [TEST.dll ...]" >&2; exit 2; }
xml=$1
shift
rm -f "$xml"

nunit-console -nologo -noshadow -domain=None "-xml=$xml" "$@" &
pid=$!
deadline=$((SECONDS + ${NUNIT_TIMEOUT:-300}))
complete_at=
while kill -0 "$pid" 2>/dev/null; do
  if [[ -z $complete_at ]] && [[ -f $xml ]] && grep -q '</test-results>' "$xml"; then
    complete_at=$SECONDS
  fi
  if [[ -n $complete_at ]] && ((SECONDS - complete_at > 10)); then
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    root=$(grep -m1 -o '<test-results [^>]*>' "$xml")
    echo "run_nunit: nunit-console hung after writing its results; killed it, the results decide" >&2
    [[ $root =~ \ errors=\"0\" && $root =~ \ failures=\"0\" ]] && exit 0
    exit 1
  fi
  if ((SECONDS > deadline)); then
    kill -9 "$pid" 2>/dev/null
    echo "run_nunit: no complete results after ${NUNIT_TIMEOUT:-300} s; killed nunit-console" >&2
    exit 124
  fi
  sleep 0.2
done
wait "$pid"
