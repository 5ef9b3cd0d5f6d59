#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# check-identical.sh - check that the evserver_* servers send byte-identical
# responses.
#
#   check-identical.sh [-p BASEPORT] [-a ADDR] [-k] SERVER...
#
# SERVER is a server command, e.g. "./evserver_epoll" or
# "/bin/evserver_kevent --get-events" (quote it if it has options; it is
# split on blanks). Each server is started on its own port (BASEPORT,
# BASEPORT+1, ...; default 18090) and asked, with evget (found next to this
# script, next to the first server, in $EVGET or in $PATH):
#   - GET / keep-alive (HTTP/1.1)
#   - GET / with "Connection: close" (the server must close)
#   - 3 pipelined GETs, the last one with "Connection: close"
#   - GET / HTTP/1.0 (the server must close)
#   - GET /nonexistent/path keep-alive
# The raw bytes of each answer are compared with those of the first server
# (cmp). -k keeps the output directory. Exit 0 if all are identical, 1 on
# any difference or failure, 2 on bad usage.

usage() {
	echo "usage: $0 [-p BASEPORT] [-a ADDR] [-k] SERVER..." >&2
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
[ $# -ge 1 ] || usage

if [ -z "$EVGET" ]; then
	for d in "$(dirname "$0")" "$(dirname "${1%% *}")"; do
		if [ -x "$d/evget" ]; then
			EVGET=$d/evget
			break
		fi
	done
fi
[ -n "$EVGET" ] || EVGET=$(command -v evget)
if [ -z "$EVGET" ] || [ ! -x "$EVGET" ]; then
	echo "$0: evget not found (set EVGET)" >&2
	exit 1
fi

out=$(mktemp -d /tmp/check-identical.XXXXXX) || exit 1
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[ "$keep" = 1 ] && echo "$0: output kept in $out" >&2 ||
		rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cases="ka close pipe http10 404"
fail=0
i=0
for srv in "$@"; do
	port=$((base + i))
	# shellcheck disable=SC2086
	$srv -a "$addr" -p "$port" 2>"$out/$i.log" &
	pid=$!
	pids="$pids $pid"
	for c in $cases; do
		case $c in
		ka)	args= ;;
		close)	args=-c ;;
		pipe)	args="-c -n 3" ;;
		http10)	args=-0 ;;
		404)	args= ;;
		esac
		path=/
		[ "$c" = 404 ] && path=/nonexistent/path
		# shellcheck disable=SC2086
		if ! "$EVGET" -w 3000 $args "$addr" "$port" "$path" \
			>"$out/$i.$c"; then
			echo "FAIL: $srv: request '$c' failed" >&2
			fail=1
		fi
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	i=$((i + 1))
done

i=0
for srv in "$@"; do
	for c in $cases; do
		if [ "$i" -gt 0 ] && ! cmp "$out/0.$c" "$out/$i.$c"; then
			echo "FAIL: '$srv' differs from '$1' ($c)" >&2
			fail=1
		fi
	done
	i=$((i + 1))
done

if [ "$fail" = 0 ]; then
	echo "OK: $# servers, identical responses ($cases)"
	exit 0
fi
exit 1
