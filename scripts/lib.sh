# shellcheck shell=bash
# Common settings for the kevent lab scripts. Sourced, never executed.
#
# Layout (everything under build/, which is git-ignored):
#   build/linux        default kernel tree: Debian linux-source-6.12 tarball,
#                      a git repo whose tag kevent-pristine is the unpacked tarball;
#                      its working tree is the build source (reset to pristine+series)
#   build/wt/am        scratch worktree: `git am patches/0*.patch`
#   build/wt/mkpatches scratch worktree used by scripts/mkpatches
#   build/obj          O= kernel build dir     build/hdr  installed uapi headers
#   build/selftests    selftest binaries       build/initramfs*  guest image
#   build/logs         all logs                build/stamps      skip-if-unchanged stamps
#   build/obj-debug    O= dir of make check-debug (LAB_VARIANT=debug), logs in build/logs/debug
# With KSRC=/path/to/linux the same names live under build/ksrc/ instead and the
# build source is a git worktree of $KSRC on branch kevent-lab (never the user's branch).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mkdir -p "$ROOT/build"
BUILD=$(cd "$ROOT/build" && pwd -P)   # build/ may be a symlink
# LAB_VARIANT=debug (make check-debug; kcsan: make check-debug KCSAN=1): the same lab
# on a debug kernel, config/kevent-$LAB_VARIANT.config merged on top of
# config/kevent.config, with its own O= dir and logs; headers, selftests and the
# initramfs are shared with make check.
LAB_VARIANT=${LAB_VARIANT:-}
LOGS=$BUILD/logs${LAB_VARIANT:+/$LAB_VARIANT}
STAMPS=$BUILD/stamps
DEFAULT_TREE=$BUILD/linux
LINUX_TARBALL=${LINUX_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
PRISTINE_TAG=kevent-pristine
JOBS=${JOBS:-$(nproc)}

# Fixed identity/dates: pristine commit, series commits and `git am` are reproducible.
export GIT_AUTHOR_NAME="The kevent authors" GIT_AUTHOR_EMAIL="kevent-devel@lists.invalid"
export GIT_COMMITTER_NAME="The kevent authors" GIT_COMMITTER_EMAIL="kevent-devel@lists.invalid"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
# Reproducible kernel builds; an empty LOCALVERSION stops setlocalversion adding "+".
export KBUILD_BUILD_TIMESTAMP="2026-01-01 00:00:00 UTC" KBUILD_BUILD_USER=kevent KBUILD_BUILD_HOST=lab
export LOCALVERSION=""
export LC_ALL=C TZ=UTC
# Debian's tools first (e.g. python3 with python3-ply for checkpatch's spdxcheck.py,
# not a pyenv/virtualenv python that lacks it).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

if [ -n "${KSRC:-}" ]; then
	KSRC=$(cd "$KSRC" && pwd)
	LAB=$BUILD/ksrc
	REPO=$KSRC                 # git repo that holds the base commit
	SRC=$LAB/linux             # worktree, branch kevent-lab (same relative layout as build/: ccache hits)
else
	LAB=$BUILD
	REPO=$DEFAULT_TREE
	SRC=$DEFAULT_TREE
fi
WT_AM=$LAB/wt/am
WT_MK=$LAB/wt/mkpatches
OBJ=$LAB/obj${LAB_VARIANT:+-$LAB_VARIANT}
HDR=$LAB/hdr
KSELFTESTS=$LAB/selftests
USERSPACE_OUT=$LAB/userspace
# Merged in this order; for a symbol set in several, the last one wins.
CONFIG_FRAGMENTS=("$ROOT/config/kevent.config")
[ -z "$LAB_VARIANT" ] || CONFIG_FRAGMENTS+=("$ROOT/config/kevent-$LAB_VARIANT.config")

mkdir -p "$LOGS" "$STAMPS"

say() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }
elapsed() { echo "$(( $(now) - $1 ))s"; }

git_base() { git -C "$REPO" "$@"; }

# The commit everything is based on: the pristine tarball commit or KSRC's HEAD.
base_commit() {
	if [ -n "${KSRC:-}" ]; then
		cat "$LAB/base-commit"
	else
		git -C "$DEFAULT_TREE" rev-parse "$PRISTINE_TAG^{commit}"
	fi
}

# kmake SRC OBJ ARGS...: kernel make, out of tree, with ccache when present
# (CCACHE_BASEDIR makes cache hits independent of the checkout path).
kmake() {
	local src=$1 obj=$2
	shift 2
	if command -v ccache >/dev/null; then
		export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$BUILD}
		set -- "CC=ccache gcc" "$@"
	fi
	make -C "$src" O="$obj" -j"$JOBS" "$@"
}

# no_warnings LOG WHAT: fail (return 1) if build log LOG has compiler or sparse
# warnings or errors, after printing the first 20 and how many there are.
no_warnings() {
	local log=$1 what=$2 n
	n=$(grep -Ec '(warning|error):' "$log" || true)
	[ "$n" != 0 ] || return 0
	grep -E '(warning|error):' "$log" | head -n 20 | sed 's/^/[lab]   /' >&2
	say "$what: $n warning(s) (log: ${log#"$ROOT"/})"
	return 1
}

# Run a command with output in a log file; print a progress line every 20 seconds
# (number of log lines and the last one) and the log tail on failure.
run_logged() {
	local log=$1 what=$2 t0 pid rc=0 last
	shift 2
	t0=$(now)
	say "$what (log: ${log#"$ROOT"/})..."
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		for _ in $(seq 20); do
			sleep 1
			kill -0 "$pid" 2>/dev/null || break
		done
		if kill -0 "$pid" 2>/dev/null; then
			last=$(tail -n 1 "$log" | cut -c1-100)
			say "  ... $(elapsed "$t0"), $(wc -l <"$log") lines: $last"
		fi
	done
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		say "$what FAILED after $(elapsed "$t0"); last lines of ${log#"$ROOT"/}:"
		tail -n 40 "$log" >&2
		return "$rc"
	fi
	say "$what done in $(elapsed "$t0")"
}

# The host's TSC frequency in kHz (TCG guests read a TSC that ticks at this rate):
# from the kernel's calibration message if readable, else /proc/cpuinfo.
host_tsc_khz() {
	local mhz
	mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	[ -n "$mhz" ] || mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -n 1)
	[ -n "$mhz" ] || mhz=$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
	awk -v m="${mhz:-2000}" 'BEGIN { printf "%d\n", m * 1000 }'
}

# Content hash of a list of files/dirs (names + contents), for stamps.
hash_paths() {
	local p
	for p in "$@"; do
		[ -e "$p" ] || { echo "missing $p"; continue; }
		find "$p" -type f -print0 | sort -z | xargs -0r sha256sum
	done | sha256sum | cut -d' ' -f1
}

# cached NAME KEY CMD...: run CMD only if KEY differs from the last run's; otherwise
# replay the stored stdout and exit status (used for slow checks with unchanged inputs).
cached() {
	local name=$1 key=$2 rc=0 c=$STAMPS/cache-$1
	shift 2
	if [ "$(cat "$c.key" 2>/dev/null)" = "$key" ] && [ -f "$c.rc" ] && [ -f "$c.out" ]; then
		say "$name: inputs unchanged, result of the previous run reused"
		cat "$c.out"
		return "$(cat "$c.rc")"
	fi
	rm -f "$c.key"
	"$@" >"$c.out" || rc=$?
	cat "$c.out"
	echo "$rc" >"$c.rc"
	echo "$key" >"$c.key"
	return "$rc"
}

# lab_lock: one lab command at a time per build/ (they share worktrees and build dirs).
# Child scripts inherit the lock (LAB_LOCKED); waits up to an hour for another run.
lab_lock() {
	[ -z "${LAB_LOCKED:-}" ] || return 0
	exec 9>"$BUILD/.lock"
	if ! flock -n 9; then
		say "another lab command is running in this build/ directory; waiting for it..."
		flock -w 3600 9 || die "timed out waiting for the lock on build/.lock"
	fi
	export LAB_LOCKED=1
}
