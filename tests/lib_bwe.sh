# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# tests/lib_bwe.sh - the gateway testbed with bwctld on it, for e2e suites.
# Source after tests/lib.sh:
#   . "$(dirname "$0")/lib_bwe.sh"
#   bwe_testbed_up NAME [OPTS]     # testbed (scripts/testbed.sh up OPTS; without
#                                  # OPTS $BWE_TESTBED_OPTS, e.g. --routed, else
#                                  # the testbed's default, a NAT gateway),
#                                  # private bpffs and run directory
#   write_config [EXTRA_YAML]      # $CFG for lan0 + wan0 (wan0's nat as the
#                                  # testbed translates), paths in $DIR;
#                                  # INTERNAL= other internal_networks,
#                                  # EXEMPT= other exempt items,
#                                  # FF= both interfaces' fast_forward
#   is_nat FAMILY                  # the testbed translates IPv4 (4) / IPv6 (6)
#   from_net FAMILY                # the LAN host's address as the internet
#                                  # host reaches it: the gateway's WAN address
#                                  # (a port forward) when translated
#   start_daemon / stop_daemon [SIG]
#   deferred                       # packets counted NAT_DEFERRED (bwctl stats)
#   gw|lan|lan2|net CMD..., bwctl ARGS..., reach NSFUNC ADDR, unreach NSFUNC ADDR
# The XDP fast path (interfaces[].fast_forward):
#   ff_config MODE                 # $CFG: lan0 and wan0 with fast_forward MODE
#                                  # (an http listener on $HTTP_PORT if set)
#   ffc IF NAME                    # a fast-path counter of IF (bwctl status)
#   xmit_of IF, xmit_is IF BOOL    # can IF transmit redirected XDP frames
#   peers_xdp on|off               # XDP_PASS on the peers of lan0 and wan0
#                                  # (off again on exit)
#   txcsum_off NSFUNC              # TX checksum offload off on a host's eth0
#   ge A B WHAT                    # A >= B, or says which was short
#   ft_on, ft_off                  # an nftables flowtable on lan0 and wan0
# Everything is removed on exit, also after a failure.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BWCTLD=$ROOT/build/bwctld
BWCTL_BIN=$ROOT/build/bwctl
PASS_OBJ=$ROOT/build/tools/xdp_foreign.bpf.o # a counting XDP_PASS program

bwe_testbed_up() { # NAME [testbed.sh up OPTIONS...]
	RUN="$1$$"
	shift
	t_atexit "$ROOT/scripts/testbed.sh down $RUN >/dev/null 2>&1"
	# shellcheck disable=SC2086  # options are words on purpose
	[ $# -gt 0 ] || set -- ${BWE_TESTBED_OPTS:-}
	if ! "$ROOT/scripts/testbed.sh" up "$@" "$RUN" >/dev/null; then
		t_begin "testbed up"; t_fail "scripts/testbed.sh up failed"; t_summary; exit 1
	fi
	# shellcheck disable=SC1090
	. "/run/bwenforce-testbed/$RUN.env"
	t_tmpdir DIR
	t_bpffs "$DIR/bpf"
	# the socket's directory is world-searchable, so an unprivileged peer can reach it
	SOCKDIR=$(mktemp -d /tmp/bwe-sock.XXXXXX) && chmod 0755 "$SOCKDIR"
	t_atexit "rm -rf $SOCKDIR"
	SOCK=$SOCKDIR/bwctld.sock
	CFG=$DIR/bwenforce.yaml
	LOG=$DIR/events.json
	PIDF=$DIR/bwctld.pid
	t_atexit 'stop_daemon TERM; for i in lan0 wan0; do ip netns exec "$BWE_NS_GW" ip link set dev $i xdp off 2>/dev/null; done; peers_xdp off 2>/dev/null; true'
}

is_nat() { # FAMILY
	[ "$(eval "echo \${BWE_NAT$1:-0}")" = 1 ]
}
from_net() { # FAMILY
	if is_nat "$1"; then eval "echo \$BWE_GW_WAN_V$1"; else eval "echo \$BWE_LAN_V$1"; fi
}
# What the testbed's kernel translates on wan0, as interfaces[].nat says it.
wan_nat() {
	if is_nat 4 && is_nat 6; then echo both
	elif is_nat 4; then echo ipv4
	elif is_nat 6; then echo ipv6
	else echo none; fi
}

write_config() { # [EXTRA_YAML] ; MODE=native|generic, INTERNAL=internal_networks' items, FF=fast_forward
	cat >"$CFG" <<EOC
interfaces:
  - { name: lan0, mode: ${MODE:-native}${FF:+, fast_forward: $FF} }
  - { name: wan0, mode: ${MODE:-native}, nat: $(wan_nat)${FF:+, fast_forward: $FF} }
internal_networks: [ ${INTERNAL:-$BWE_LAN_NET_V4, $BWE_LAN_NET_V6} ]
exempt: [ ${EXEMPT:-$BWE_MGMT_V4/32, $BWE_DNS_V4/32, $BWE_MGMT_V6/128, $BWE_DNS_V6/128} ]
allowlist: [ 198.51.100.200/32 ]
paths:
  pin_dir: $DIR/bpf/bwe
  state_dir: $DIR/state
  socket: $SOCK
  event_log: $LOG
event_dedup: 5s
${1:-}
EOC
}

gw() { ip netns exec "$BWE_NS_GW" "$@"; }
lan() { ip netns exec "$BWE_NS_LAN" "$@"; }
lan2() { ip netns exec "$BWE_NS_LAN2" "$@"; }
net() { ip netns exec "$BWE_NS_NET" "$@"; }
bwctl() { gw "$BWCTL_BIN" --socket "$SOCK" "$@"; }
reach() { # NS-FUNC ADDR: one ping, 1 s
	"$1" ping -c1 -W1 -q "$2" >/dev/null 2>&1
}
unreach() { ! reach "$@"; }

# The daemon gets its own session, so that the end of a t_run test (which
# kills the test's process group) never kills a daemon the test restarted.
# LIBXDP_BPFFS: `ip netns exec` hides /sys/fs/bpf; libxdp keeps its
# dispatcher state on our bpffs instead (where the kernel has a dispatcher).
# WRAPPER: a command bwctld runs under (e.g. strace and its options); words
# without quotes or blanks inside them.
start_daemon() { # [WRAPPER...]
	local wrap="$*"
	rm -f "$PIDF"
	setsid bash -c "echo \$\$ >'$PIDF'; LIBXDP_BPFFS='$DIR/bpf' exec ip netns exec '$BWE_NS_GW' $wrap '$BWCTLD' -f -c '$CFG' </dev/null >>'$DIR/bwctld.log' 2>&1" &
	disown
	local i
	for i in $(seq 1 100); do
		[ -S "$SOCK" ] && bwctl status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bwctld did not come up:"; tail -20 "$DIR/bwctld.log"
	return 1
}
daemon_pid() { cat "$PIDF" 2>/dev/null; }
deferred() { bwctl --json stats | jq -r '.anomalies.nat_deferred.packets'; }
stop_daemon() { # [SIGNAL]
	local pid; pid=$(daemon_pid)
	[ -n "$pid" ] || return 0
	kill -"${1:-TERM}" "$pid" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -f "$PIDF"
}
# Polling: WAIT_STEP seconds between tries (0.1 unless the suite sets it).
wait_for() { # TRIES CMD...
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep "${WAIT_STEP:-0.1}"; done
	return 1
}
feed_field() { bwctl --json feeds | jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"; }
field_is() { [ "$(feed_field "$1" "$2")" = "$3" ]; }
field_is_not() { [ "$(feed_field "$1" "$2")" != "$3" ]; }
listed() { # KIND HOST: HOST is in bwctl list KIND
	bwctl --json list "$1" | jq -e --arg h "$2" 'map(.host) | index($h) != null' >/dev/null
}
not_listed() { ! listed "$@"; }
hup_daemon() { kill -HUP "$(daemon_pid)"; sleep 0.5; }

# ---- the XDP fast path ----
# A fast-forward counter of interface IF from bwctl status: "forwarded" or a
# to-stack reason (ttl, mtu, no_neigh, nat, egress, ...).
ffc() { # IF NAME
	bwctl --json status | jq -r --arg i "$1" --arg n "$2" '.interfaces[] | select(.name == $i)
		| .forward | if $n == "forwarded" then .forwarded_packets else .to_stack_packets[$n] end'
}
xmit_of() { bwctl --json status | jq -r --arg i "$1" '.interfaces[] | select(.name == $i) | .xdp_xmit'; }
xmit_is() { [ "$(xmit_of "$1")" = "$2" ]; }
ge() { [ "$1" -ge "$2" ] || { echo "$3: $1 < $2"; return 1; }; }

# A native XDP program on the peers of lan0 (p-gw in the switch) and wan0
# (eth0 of the internet host): a veth transmits redirected frames only then.
peers_xdp() { # on|off
	if [ "$1" = on ]; then
		ip -n "$BWE_NS_SW" link set dev p-gw xdpdrv obj "$PASS_OBJ" sec xdp &&
			ip -n "$BWE_NS_NET" link set dev eth0 xdpdrv obj "$PASS_OBJ" sec xdp
	else
		ip -n "$BWE_NS_SW" link set dev p-gw xdpdrv off
		ip -n "$BWE_NS_NET" link set dev eth0 xdpdrv off
	fi
}

# TX checksum offload off on a host's eth0 (ethtool -K eth0 tx off, without
# ethtool). A veth sender leaves TCP/UDP checksums to be finished on the
# way out (CHECKSUM_PARTIAL); the kernel's forwarding finishes them, but a
# frame redirected in XDP leaves that state behind and arrives with a wrong
# checksum. Frames off a real wire are always finished: docs/deployment.md,
# "Fast-forward", names the case (senders on the gateway itself).
txcsum_off() { # NSFUNC
	"$1" python3 -c '
import array, fcntl, socket, struct
SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
val = array.array("I", [ETHTOOL_STXCSUM, 0])
ifr = struct.pack("16sP", b"eth0", val.buffer_info()[0])
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL, ifr)'
}

# An nftables flowtable in the gateway on lan0 and wan0, TCP and UDP
# offloaded once established (fast_forward: flowtable; a kernel with
# nf_flow_table); ft_off removes it.
ft_on() {
	gw nft -f - <<'EOR'
table inet bwft {
	flowtable ft {
		hook ingress priority filter
		devices = { lan0, wan0 }
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		meta l4proto { tcp, udp } flow add @ft
	}
}
EOR
}
ft_off() { gw nft delete table inet bwft 2>/dev/null || true; }

ff_config() { # MODE: lan0's and wan0's fast_forward; DNS not exempt (it is the internet host)
	FF=$1 EXEMPT="$BWE_MGMT_V4/32, $BWE_MGMT_V6/128" write_config "${HTTP_PORT:+http: { listen: [ \"127.0.0.1:$HTTP_PORT\" ] \}}"
}

# ---- several gateway testbeds at once (the fleet's tests) ----
#   bwe_site_up NAME [OPTS]   one more testbed (run id site_NAME<PID>: its own
#                             gateway/LAN/net namespaces, same addresses
#                             inside), with its own run directory, bpffs,
#                             socket, config, event log and daemon; makes it
#                             the current site
#   site NAME                 switch the globals (RUN, DIR, SOCK, SOCKDIR, CFG,
#                             LOG, PIDF, T_BPFFS and every BWE_* of its env
#                             file) to that site: `site a; bwctl list`
#   site_each CMD...          run CMD once in every site, in the order they came up
# SITES lists the names; SITE_CUR is the current one. Inside a t_run test a
# switch lasts until the test ends (it runs in a subshell): start each test
# with `site NAME`.
SITES=""
SITE_CUR=""
declare -A _SITE_VARS=()

_site_save() { # NAME
	_SITE_VARS[$1]=$(declare -p RUN DIR SOCK SOCKDIR CFG LOG PIDF T_BPFFS 2>/dev/null)
}
_site_unset_env() { # the BWE_* the current site's env file set
	local f="/run/bwenforce-testbed/$RUN.env" v
	[ -n "${RUN:-}" ] && [ -r "$f" ] || return 0
	for v in $(sed -n 's/^\(BWE_[A-Za-z0-9_]*\)=.*/\1/p' "$f"); do unset "$v"; done
}
site() { # NAME
	[ -n "${_SITE_VARS[$1]:-}" ] || { echo "site: no site '$1' (sites: $SITES)" >&2; return 1; }
	_site_unset_env
	eval "${_SITE_VARS[$1]//declare -- /}"
	# shellcheck disable=SC1090
	. "/run/bwenforce-testbed/$RUN.env"
	SITE_CUR=$1
}
site_each() { # CMD...
	local s cur=$SITE_CUR rc=0
	for s in $SITES; do
		site "$s" && "$@" || rc=1
	done
	[ -z "$cur" ] || site "$cur"
	return $rc
}
bwe_site_up() { # NAME [testbed.sh up OPTIONS...]
	local name=$1
	shift
	case " $SITES " in *" $name "*) echo "bwe_site_up: site $name is up already" >&2; return 1 ;; esac
	[ -z "$SITE_CUR" ] || _site_unset_env
	bwe_testbed_up "site_$name" "$@"
	SITES="$SITES${SITES:+ }$name"
	SITE_CUR=$name
	_site_save "$name"
	# bwe_testbed_up's own cleanup stops the daemon of the site current at
	# exit; this one stops this site's, whichever is current then
	t_atexit "site $name && stop_daemon TERM"
}
