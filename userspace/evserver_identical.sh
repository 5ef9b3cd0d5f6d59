#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# evserver_identical.sh - check that the evserver_* servers send byte-identical
# responses; TAP output (run by `make check` in the guest).
#
#   evserver_identical.sh [-p BASEPORT] [-a ADDR] [-k] [SERVER...]
#
# SERVER is a server command, e.g. "./evserver_epoll" or
# "/bin/evserver_kevent --get-events" (quote it if it has options; it is
# split on blanks). Default: evserver_epoll, evserver_kevent,
# "evserver_kevent --get-events" and evserver_uring found next to this script.
# The first server is the reference. Every server is run in three
# configurations: the fixed response with a 128-byte and a 16 KiB body, and
# static files (-d) from a directory with a 16 KiB file. In each, each server
# is started on its own port (BASEPORT, BASEPORT+1, ...; default 18090) and
# asked, with evget (next to this script, in $EVGET or in $PATH):
#   ka      GET keep-alive (HTTP/1.1)
#   close   GET with "Connection: close" (the server must close)
#   pipe    3 pipelined GETs, the last one with "Connection: close"
#   http10  GET HTTP/1.0 (the server must close)
#   404     GET of a path that does not exist, keep-alive
# The raw bytes of every answer are compared with the reference's (cmp); a
# test point is "<server> <config> <request>". -k keeps the output directory.
# Exit 0 if all are identical, 1 on any difference or failure, 2 on bad usage.

usage() {
	echo "usage: $0 [-p BASEPORT] [-a ADDR] [-k] [SERVER...]" >&2
	exit 2
}

base=18090
addr=127.0.0.1
keep=0
while getopts p:a:kh opt; do
	case $opt in
	p) base=$OPTARG ;;
	a) addr=$OPTARG ;;
	k) keep=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))

here=$(dirname "$0")
if [ $# = 0 ]; then
	set -- "$here/evserver_epoll" "$here/evserver_kevent" \
		"$here/evserver_kevent --get-events" "$here/evserver_uring"
fi

if [ -z "$EVGET" ]; then
	for d in "$here" "$(dirname "${1%% *}")"; do
		if [ -x "$d/evget" ]; then
			EVGET=$d/evget
			break
		fi
	done
fi
[ -n "$EVGET" ] || EVGET=$(command -v evget)
if [ -z "$EVGET" ] || [ ! -x "$EVGET" ]; then
	echo "Bail out! evget not found (set EVGET)"
	exit 1
fi

out=$(mktemp -d /tmp/evserver_identical.XXXXXX) || exit 1
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null
	wait 2>/dev/null
	if [ "$keep" = 1 ]; then
		echo "# output kept in $out"
	else
		rm -rf "$out"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A static file for the -d configuration: 16 KiB of numbered lines.
mkdir -p "$out/www"
awk 'BEGIN { for (i = 0; i < 2048; i++) printf "%07d\n", i }' >"$out/www/file"

configs="s128 s16384 dir"
cases="ka close pipe http10 404"
nsrv=$#
echo "TAP version 13"
echo "1..$((nsrv * 3 * 5))"
n=0
fail=0
for cfg in $configs; do
	case $cfg in
	s*)	opts="-s ${cfg#s}" path=/ ;;
	dir)	opts="-d $out/www" path=/file ;;
	esac
	i=0
	for srv in "$@"; do
		port=$((base + i))
		# shellcheck disable=SC2086
		$srv -a "$addr" -p "$port" $opts 2>"$out/$i.log" &
		pid=$!
		for c in $cases; do
			case $c in
			ka)	args= ;;
			close)	args=-c ;;
			pipe)	args="-c -n 3" ;;
			http10)	args=-0 ;;
			404)	args= ;;
			esac
			p=$path
			[ "$c" = 404 ] && p=/nonexistent/path
			n=$((n + 1))
			name="${srv##*/} $cfg $c"
			# shellcheck disable=SC2086
			if ! "$EVGET" -w 3000 $args "$addr" "$port" "$p" \
				>"$out/$cfg.$i.$c" 2>"$out/err"; then
				echo "# $(cat "$out/err")"
				echo "not ok $n $name # request failed"
				fail=1
			elif [ "$i" = 0 ]; then
				if [ -s "$out/$cfg.0.$c" ]; then
					echo "ok $n $name (reference, $(wc -c <"$out/$cfg.0.$c") bytes)"
				else
					echo "not ok $n $name # empty answer"
					fail=1
				fi
			elif cmp "$out/$cfg.0.$c" "$out/$cfg.$i.$c" >"$out/err" 2>&1; then
				echo "ok $n $name"
			else
				echo "# $(cat "$out/err")"
				echo "not ok $n $name # differs from ${1##*/}"
				fail=1
			fi
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
		i=$((i + 1))
	done
done
exit "$fail"
