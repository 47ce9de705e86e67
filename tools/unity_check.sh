#!/usr/bin/env bash
# Compile the Unity package's C# with Mono's mcs, against reference stubs of the external
# APIs it calls, so CI catches C# errors without Unity. Run by `make unity-check`.
#
# Each asmdef of the package is one mcs invocation with its references, in the table below;
# each folder under unity/ReferenceStubs/ is one stub assembly. To add an assembly later,
# add a row (and its stubs); to run NUnit 2.6 tests, name the test assemblies in TESTS.
#
# Needs Mono's mcs (Debian: mono-mcs). As root it installs what is missing with apt-get;
# otherwise it prints the command and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

# C# language version: mcs 6.8 accepts at most 7.2, and Unity 2021.3 (C# 9) accepts all of it.
LANGVERSION=7.2
STUB_SRC=unity/ReferenceStubs
PKG_SRC=unity/Assets/StyleTransfer
STUB_OUT=build/unity-stubs
PKG_OUT=build/unity

# Reference stubs, compiled first.  name | source folder | references (stub names) | listing
# A listing (a file in $UNITY_API) is the real assembly's public API: tools/check_stub_api.py fails
# the run when the compiled stub declares any type or member that the listing lacks.
STUBS=(
  "Google.Protobuf|$STUB_SRC/Google.Protobuf||Google.Protobuf-3.9.1.api.txt"
  "UnityEngine|$STUB_SRC/UnityEngine||"
  "UnityEditor|$STUB_SRC/UnityEditor|UnityEngine|"
  "Unity.Barracuda|$STUB_SRC/Unity.Barracuda|UnityEngine|"
  "Unity.Barracuda.ONNX|$STUB_SRC/Unity.Barracuda.ONNX|Unity.Barracuda|"
  "Unity.Sentis|$STUB_SRC/Unity.Sentis|UnityEngine|"
  "System.Interactive.Async|$STUB_SRC/System.Interactive.Async||System.Interactive.Async-3.0.1000.api.txt"
  "Grpc.Core|$STUB_SRC/Grpc.Core|Ix=System.Interactive.Async|Grpc.Core-1.10.0.api.txt"
  "Unity.ML-Agents|$STUB_SRC/Unity.ML-Agents||"
  "Unity.PerformanceTesting|$STUB_SRC/Unity.PerformanceTesting||"
)
# The real assemblies' listings (see that folder's README): ../shared/unity-api beside the checkout.
UNITY_API="${STYLEBRIDGE_UNITY_API:-${STYLEBRIDGE_SHARED:-$PWD/../shared}/unity-api}"
# Package assemblies, in dependency order; the name must match the folder's asmdef.
#   name | source folder (sub-folders with their own asmdef are skipped) | references | defines
# References (space-separated) name a stub (ALIAS=NAME for an extern alias), an earlier package assembly, nunit.framework or a
# path to a .dll; defines are `;`-separated, like the asmdef's versionDefines would set them.
ASSEMBLIES=(
  "StyleBridge.Generated|$PKG_SRC/Generated|Google.Protobuf|GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE"
  "StyleBridge.Core|$PKG_SRC/Runtime/Core||"
  "StyleBridge.Client|$PKG_SRC/Runtime/Client|StyleBridge.Core StyleBridge.Generated Google.Protobuf System.Interactive.Async Grpc.Core|UNITY_STANDALONE;STYLEBRIDGE_MLAGENTS"
  "StyleBridge.Runtime|$PKG_SRC/Runtime/Unity|StyleBridge.Core StyleBridge.Client StyleBridge.Generated Google.Protobuf UnityEngine Unity.Barracuda Unity.Barracuda.ONNX Unity.ML-Agents Unity.Sentis|UNITY_STANDALONE;STYLEBRIDGE_MLAGENTS;STYLEBRIDGE_SENTIS"
  "StyleBridge.Editor|$PKG_SRC/Editor|StyleBridge.Runtime StyleBridge.Client StyleBridge.Core UnityEngine UnityEditor|"
  "StyleBridge.Tests.PlayMode|$PKG_SRC/Tests/PlayMode|StyleBridge.Runtime StyleBridge.Core UnityEngine Unity.Barracuda Unity.PerformanceTesting nunit.framework|"
  "StyleBridge.Samples.StylizedCamera|$PKG_SRC/Samples~/StylizedCamera|StyleBridge.Runtime UnityEngine|"
  "StyleBridge.Tests.EditMode|$PKG_SRC/Tests/EditMode|StyleBridge.Core nunit.framework|"
)
# Package assemblies (names from ASSEMBLIES) holding NUnit 2.6 tests, run with nunit-console.
# Test assemblies list `nunit.framework` among their references.
TESTS=(StyleBridge.Tests.EditMode)
# Where the C# tests find the shared vectors (tests/vectors); see Tests/EditMode/Vectors.cs.
export STYLEBRIDGE_VECTORS="${STYLEBRIDGE_VECTORS:-$PWD/tests/vectors}"
NUNIT_FRAMEWORK_GLOB='/usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll'  # libnunit-cil-dev
# Framework assemblies every compilation gets (mcs runs with -noconfig).
SYSTEM_REFS=(System.dll System.Core.dll)

START=$SECONDS

die() { echo "unity-check: $*" >&2; exit 1; }

ensure_tools() {
  local missing=()
  command -v mcs >/dev/null 2>&1 || missing+=(mono-mcs)
  command -v mono >/dev/null 2>&1 || missing+=(mono-runtime)  # tools/check_stub_api.py's reflection
  if ((${#TESTS[@]})); then
    command -v nunit-console >/dev/null 2>&1 || missing+=(nunit-console)
    compgen -G "$NUNIT_FRAMEWORK_GLOB" >/dev/null || missing+=(libnunit-cil-dev)
  fi
  ((${#missing[@]})) || return 0
  local cmd="apt-get update -qq && apt-get install -y -qq --no-install-recommends ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    die "missing ${missing[*]}; install with (as root): $cmd"
  fi
  echo "unity-check: installing ${missing[*]} (Debian packages)"
  local log
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "could not install ${missing[*]} (command: $cmd)"
  fi
  rm -f "$log"
}

# The .cs files of an assembly: everything under its folder except sub-folders that hold
# their own asmdef (those are separate assemblies, as in Unity). Sorted for stable builds.
sources_of() {
  local root=$1
  find "$root" -mindepth 1 -type d \
      -exec sh -c 'for f in "$1"/*.asmdef; do [ -e "$f" ] && exit 0; done; exit 1' _ {} \; \
      -prune -o -type f -name '*.cs' -print | LC_ALL=C sort
}

# A reference name -> the -r: path (a stub, an earlier package assembly, NUnit's framework,
# or a path to a .dll).
resolve_ref() {
  local ref=$1
  if [[ -f $STUB_OUT/$ref.dll ]]; then echo "$STUB_OUT/$ref.dll"
  elif [[ -f $PKG_OUT/$ref.dll ]]; then echo "$PKG_OUT/$ref.dll"
  elif [[ $ref == nunit.framework ]] && compgen -G "$NUNIT_FRAMEWORK_GLOB" >/dev/null; then
    compgen -G "$NUNIT_FRAMEWORK_GLOB" | head -1
  elif [[ $ref == *.dll && -f $ref ]]; then echo "$ref"
  else die "reference '$ref' is not a stub, an earlier assembly, nunit.framework or a .dll"
  fi
}

# compile NAME SRC_DIR OUT_DIR "REFS" "DEFINES": one mcs invocation; errors fail the run.
compile() {
  local name=$1 src=$2 out_dir=$3 refs=$4 defines=$5
  [[ -d $src ]] || die "$name: source folder $src does not exist"
  local files=()
  mapfile -t files < <(sources_of "$src")
  ((${#files[@]})) || die "$name: no .cs files under $src"
  local args=(-noconfig -target:library "-langversion:$LANGVERSION" -warnaserror-
    "-out:$out_dir/$name.dll")
  local r path
  for r in "${SYSTEM_REFS[@]}"; do args+=("-r:$r"); done
  for r in $refs; do
    if [[ $r == *=* ]]; then  # ALIAS=NAME: an extern alias (two assemblies define the same type)
      path=$(resolve_ref "${r#*=}") || exit 1
      args+=("-r:${r%%=*}=$path")
    else
      path=$(resolve_ref "$r") || exit 1
      args+=("-r:$path")
    fi
  done
  [[ -z $defines ]] || args+=("-define:$defines")
  mkdir -p "$out_dir"
  local log=$out_dir/$name.log
  if ! mcs "${args[@]}" "${files[@]}" >"$log" 2>&1; then
    grep -E 'error|Compilation failed' "$log" | head -40 >&2
    die "$name: mcs failed (full log: $log)"
  fi
  local warnings
  warnings=$(grep -c 'warning CS' "$log" || true)
  printf '  %-28s %3d files  %3d warnings\n' "$name" "${#files[@]}" "$warnings"
  TOTAL_FILES=$((TOTAL_FILES + ${#files[@]}))
}

check_asmdef_name() {
  local name=$1 src=$2 asmdef
  asmdef=$(find "$src" -maxdepth 1 -name '*.asmdef' | head -1)
  [[ -n $asmdef ]] || die "$name: no .asmdef in $src"
  grep -q "\"name\": *\"$name\"" "$asmdef" || die "$name: $asmdef does not declare that name"
}

run_tests() {
  ((${#TESTS[@]})) || return 0
  local dlls=() t
  for t in "${TESTS[@]}"; do dlls+=("$PKG_OUT/$t.dll"); done
  tools/run_nunit.sh "$PKG_OUT/nunit-results.xml" "${dlls[@]}" \
    || die "NUnit tests failed (results: $PKG_OUT/nunit-results.xml)"
}

ensure_tools
rm -rf "$STUB_OUT" "$PKG_OUT"
TOTAL_FILES=0
echo "unity-check: mcs $(mcs --version | awk '{print $NF}') -langversion:$LANGVERSION"
CHECKED=()
for row in "${STUBS[@]}"; do
  IFS='|' read -r name src refs listing <<<"$row"
  compile "$name" "$src" "$STUB_OUT" "$refs" ""
  [[ -z $listing ]] || CHECKED+=("$STUB_OUT/$name.dll=$UNITY_API/$listing")
done
if ((${#CHECKED[@]})); then
  python3 tools/check_stub_api.py --work build/unity-stub-api "${CHECKED[@]}" \
    || die "a stub declares API the real assembly lacks (see above)"
fi
for row in "${ASSEMBLIES[@]}"; do
  IFS='|' read -r name src refs defines <<<"$row"
  check_asmdef_name "$name" "$src"
  compile "$name" "$src" "$PKG_OUT" "$refs" "$defines"
done
run_tests
echo "unity-check: OK: ${#STUBS[@]} stub + ${#ASSEMBLIES[@]} package assemblies," \
  "$TOTAL_FILES files, ${#TESTS[@]} test assemblies, $((SECONDS - START)) s"
