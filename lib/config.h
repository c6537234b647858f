/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * config.h - the daemon's configuration file (bwenforce.yaml(5)): loader,
 * validated result, limits and defaults. Included by the daemon (bwctld),
 * the command when it checks a file, and the tests. BPF code does not
 * include this file.
 *
 * Contract:
 *  - bwe_config_load() reads one YAML document with libyaml and checks it
 *    against one table of keys in config.c (a row a key: YAML path, kind,
 *    converter, limits, default, required): unknown keys, duplicate keys
 *    and wrong node kinds are errors; every scalar is converted by the
 *    project's strict parsers (addr.h, units.h) and checked against the
 *    limits below. A struct is handed out only when the whole file is
 *    valid: every field is then set (absent keys hold their documented
 *    default) and every value is within limits.
 *  - On failure *out is untouched, the return value is -EINVAL for any
 *    content error, -errno for an I/O error (-ENOENT, -EACCES, -EISDIR,
 *    -EFBIG over BWE_CFG_FILE_MAX) or -ENOMEM, and err (when errlen > 0)
 *    holds one line without a trailing newline:
 *        FILE:LINE: KEY.PATH: reason
 *    LINE is 1-based and left out (with its colon) only when no line
 *    applies, e.g. "FILE: interfaces: required key missing". KEY.PATH names
 *    the value as written, with 0-based sequence indexes:
 *    "interfaces[1].name", "paths.socket", "feeds[0].refresh".
 *  - Everything in the struct is owned by it; free with bwe_config_free()
 *    (NULL-safe).
 *  - The loader keeps no global state and never logs.
 */
#ifndef BWE_CONFIG_H
#define BWE_CONFIG_H

#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "bwe_abi.h"
#include "detect.h"
#include "proto.h"
#include "units.h"

#define BWE_CFG_PATH_DEFAULT "/etc/bwenforce/bwenforce.yaml"
#define BWE_CFG_FILE_MAX     (1024 * 1024) /* bytes: a larger file is refused */
#define BWE_CFG_DEPTH_MAX    16		   /* nesting levels of YAML nodes */
#define BWE_CFG_ERR_LEN	     512	   /* a comfortable err buffer */

#define BWE_IFNAME_LEN	   16	/* IFNAMSIZ, including the NUL */
#define BWE_CFG_IFACES_MAX 4096 /* entries of "interfaces" */

/* ---- maps: entries; defaults are the BWE_*_MAX of bwe_abi.h ----------- */
#define BWE_CFG_MAP_MIN		1024		    /* entries, every map but netclass */
#define BWE_CFG_NETCLASS_MIN	64		    /* entries */
#define BWE_CFG_MAP_MAX		(16U * 1024 * 1024) /* entries, every map */
/*
 * maps.host_idle: a host record without a packet for this long is
 * forgotten by the daemon (bwe_dp_hosts_forget()); 0 ("off"): never, the
 * LRU alone evicts bwe_hosts entries and a slot's host stays one. A week
 * by default: longer than a weekend or a holiday week a laptop sleeps
 * through, since a host forgotten loses its counters and its detector
 * state and comes back as a new host (the new_host signal, baselines
 * learnt again); short enough that a DHCP lease's address, or one a LAN
 * host forged inside a slotted /24, leaves bwctl top and the metrics.
 */
#define BWE_CFG_HOST_IDLE_S	(7ULL * BWE_SECS_PER_DAY) /* seconds */
#define BWE_CFG_HOST_IDLE_MIN_S 600ULL /* seconds: several samples, never a host's pause */

/* ---- global defaults --------------------------------------------------- */
#define BWE_CFG_PIN_DIR		"/sys/fs/bpf/bwenforce"
#define BWE_CFG_STATE_DIR	"/var/lib/bwenforce"
#define BWE_CFG_SOCKET		BWE_SOCKET_DEFAULT /* proto.h */
#define BWE_CFG_EVENT_LOG	"/var/log/bwenforce/events.json"
#define BWE_CFG_SOCKET_PATH_MAX 107	 /* bytes: sun_path minus the NUL */
#define BWE_CFG_GROUP_NAME_MAX	32	 /* bytes of a group name */
#define BWE_CFG_SANDBOX_USER	"nobody" /* default sandbox_user */
#define BWE_CFG_USER_NAME_MAX	32	 /* bytes of a user name */

/* the control socket: concurrent clients and the deadline of one request and its reply */
#define BWE_CFG_CLIENTS		  32U	 /* default control_max_clients */
#define BWE_CFG_CLIENTS_MAX	  1024U	 /* control_max_clients at most */
#define BWE_CFG_CTL_TIMEOUT_S	  10ULL	 /* default control_timeout, seconds */
#define BWE_CFG_CTL_TIMEOUT_MAX_S 300ULL /* control_timeout at most, seconds */
/* event_limits: a token bucket per event type (action) */
#define BWE_CFG_EV_RATE		  5U	   /* events per second, default */
#define BWE_CFG_EV_BURST	  100U	   /* events, default */
#define BWE_CFG_EV_RATE_MAX	  1000000U /* events per second */
#define BWE_CFG_EV_BURST_MAX	  1000000U /* events */
#define BWE_CFG_EV_SUMMARY_S	  60ULL	   /* seconds between summaries, default */
#define BWE_CFG_EV_SUMMARY_MAX_S  BWE_SECS_PER_DAY
#define BWE_CFG_EV_TYPES_MAX	  64 /* entries of event_limits.types */
#define BWE_CFG_EV_ACTION_MAX	  48 /* bytes of an event action name */

#define BWE_CFG_EVENT_DEDUP_S	  60ULL			  /* seconds */
#define BWE_CFG_EVENT_DEDUP_MAX_S BWE_SECS_PER_DAY	  /* seconds */
#define BWE_CFG_MAX_TTL_S	  (30 * BWE_SECS_PER_DAY) /* seconds; max BWE_DURATION_MAX_S */
/*
 * default_burst, bytes: 0 means "a quarter of a second of the rate, at
 * least BWE_CFG_BURST_AUTO_MIN"; a non-zero value must hold at least one
 * full-size Ethernet frame with a VLAN tag.
 */
#define BWE_CFG_BURST_AUTO_MIN	  (16 * 1024ULL) /* bytes */
#define BWE_CFG_BURST_AUTO_DIV	  4		 /* default burst: a quarter second of the rate */
#define BWE_CFG_BURST_MIN	  1518ULL	 /* bytes */
#define BWE_CFG_BURST_MAX	  (1024ULL * 1024 * 1024) /* bytes (1 GiB) */

/* identity: containment keyed on a host's MAC address (issue #12) */
#define BWE_CFG_ROUTER_ADDRS	 8U    /* default identity.router_addresses */
#define BWE_CFG_ROUTER_ADDRS_MAX 4096U /* identity.router_addresses at most */
#define BWE_CFG_MAX_LEARNT	 64U   /* default identity.max_learnt */
#define BWE_CFG_MAX_LEARNT_MAX	 4096U /* identity.max_learnt at most */

/* ---- feeds -------------------------------------------------------------- */
/* Feed i gets blocklist id BWE_FEED_FIRST + i; ids end at BWE_FEED_MAX. */
#define BWE_CFG_FEEDS_MAX	 (BWE_FEED_MAX - BWE_FEED_FIRST + 1)
#define BWE_FEED_NAME_MAX	 32			/* bytes of [A-Za-z0-9_.-] */
#define BWE_FEED_REFRESH_S	 3600ULL		/* seconds */
#define BWE_FEED_REFRESH_MIN_S	 10ULL			/* seconds */
#define BWE_FEED_MIN_PREFIX_V4	 8			/* default; range BWE_TBL24_MIN_PLEN..32 */
#define BWE_FEED_MIN_PREFIX_V6	 19			/* default; range BWE_BL_V6_MIN_PLEN..128 */
#define BWE_FEED_MAX_SHRINK	 0.5			/* share 0..1 */
#define BWE_FEED_MAX_REJECT	 0.1			/* share 0..1 */
#define BWE_FEED_REJ_FLOOR	 20U			/* lines (max_reject_floor) */
#define BWE_FEED_REJ_FLOOR_MX	 1000000000U		/* lines */
#define BWE_FEED_STALE_AFTER	 3U			/* refresh periods */
#define BWE_FEED_STALE_AFTER_MAX 10000U			/* refresh periods */
#define BWE_FEED_MAX_BYTES	 (256ULL * 1024 * 1024) /* bytes */
#define BWE_FEED_MAX_BYTES_MIN	 1024ULL		/* bytes */
#define BWE_FEED_MAX_BYTES_MAX	 (16ULL * 1024 * 1024 * 1024) /* bytes */
#define BWE_FEED_TIMEOUT_S	 60ULL			      /* seconds */
#define BWE_FEED_TIMEOUT_MAX_S	 BWE_SECS_PER_HOUR	      /* seconds */
#define BWE_FEED_CA_FILE_MAX	 1023			      /* bytes of a ca_file path */
/* feed_worker_memory: the feed worker's RLIMIT_DATA, bytes */
#define BWE_CFG_WORKER_MEM	 (1024ULL * 1024 * 1024)      /* default 1 GiB */
#define BWE_CFG_WORKER_MEM_MIN	 (32ULL * 1024 * 1024)	      /* 32 MiB */
#define BWE_CFG_WORKER_MEM_MAX	 (64ULL * 1024 * 1024 * 1024) /* 64 GiB */

/* Secret files (bytes of a path) and the CrowdSec filters (issue #16). */
#define BWE_FEED_SECRET_PATH_MAX 1023 /* api_key_file, bearer_file, auth.password_file */
#define BWE_FEED_AUTH_USER_MAX	 255  /* bytes of auth.user */
#define BWE_FEED_CS_FILTER_MAX	 64   /* entries of origins, scenarios_(not_)containing */
#define BWE_FEED_COLLECTION_MAX	 128  /* bytes of a TAXII collection id */

/* The guards of a feed's versions and of its domains (issue #11). */
#define BWE_FEED_MAX_GROWTH	 1.0	    /* factor above 0: at most (1 + it) times the entries */
#define BWE_FEED_MAX_GROWTH_MAX	 1000000ULL /* max_growth's ceiling */
/* max_coverage_vN: a prefix length; a version may cover at most as many
 * addresses as one prefix of that length holds (0: no limit). */
#define BWE_FEED_MAX_COVERAGE_V4 4U  /* 2^28 addresses, 1/16 of IPv4 */
#define BWE_FEED_MAX_COVERAGE_V6 12U /* 2^116 addresses: 128 /19s, 2^20 /32s */
#define BWE_FEED_DOMAIN_ADDRS	 16U /* max_domain_addrs: addresses kept per domain */
#define BWE_FEED_DOMAIN_ADDRS_MX 64U /* its maximum = BWE_WIRE_ADDRS_MAX, what the worker sends */

/* ---- policy (defaults: BWE_POLICY_* etc. in detect.h) --------------------- */
#define BWE_CFG_INTERVAL_MAX_S BWE_SECS_PER_HOUR       /* seconds; min 1s */
#define BWE_CFG_LEARNING_MAX_S (30 * BWE_SECS_PER_DAY) /* seconds; min: interval */
#define BWE_CFG_WINDOW_MAX_S   BWE_SECS_PER_DAY	       /* seconds; min: interval */
#define BWE_CFG_Z_MAX	       100.0		       /* spike.z, above 0 */
#define BWE_CFG_SUSTAIN_MAX    1000U		       /* intervals */
#define BWE_CFG_HITS_MAX       1000000000ULL	       /* blocklist.min_hits */
#define BWE_CFG_PEERS_MAX      10000000U	       /* fanout.peers */
#define BWE_CFG_PORTS_MAX      65535U		       /* fanout.ports */
#define BWE_CFG_PPS_MAX	       100000000U	       /* flood.min_pps: packets/s */
#define BWE_CFG_FRAME_MIN      64U		       /* flood.max_size: bytes */
#define BWE_CFG_FRAME_MAX      65535U
#define BWE_CFG_RATIO_MAX      1000000.0    /* upload_ratio.ratio, above 0 */
#define BWE_CFG_VOLUME_MAX     (1ULL << 40) /* bytes (1 TiB): min_bytes, new_host.bytes */
#define BWE_CFG_COOLDOWN_MAX_S (30 * BWE_SECS_PER_DAY) /* seconds */
#define BWE_CFG_DET_HOSTS_MAX  (1U << 24)	       /* policy.max_hosts */

/* beacon keys */
#define BWE_CFG_BEACON_BURST_MAX_MS 60000U /* beacon.burst_ms */
#define BWE_CFG_BEACON_SAMPLE_MAX   65536U /* beacon.sample */

/* A feed may not be called this: it names the entries of bwctl block. */
#define BWE_FEED_NAME_MANUAL "manual"

/* ---- http: the HTTP listener (metrics and the API), off by default ------ */
#define BWE_CFG_HTTP_LISTEN_MAX	  8U		   /* entries of http.listen */
#define BWE_CFG_HTTP_LISTEN_LEN	  64U		   /* bytes of "[v6 address]:port" */
#define BWE_CFG_HTTP_CLIENTS	  64U		   /* default http.max_clients */
#define BWE_CFG_HTTP_CLIENTS_MAX  1024U		   /* http.max_clients at most */
#define BWE_CFG_HTTP_PER_ADDR	  32U		   /* default http.max_clients_per_address */
#define BWE_CFG_HTTP_TIMEOUT_S	  10ULL		   /* default http.timeout, seconds */
#define BWE_CFG_HTTP_TIMEOUT_MAX  300ULL	   /* http.timeout at most, seconds */
#define BWE_CFG_HTTP_BODY	  (64ULL * 1024)   /* default http.max_body, bytes */
#define BWE_CFG_HTTP_BODY_MIN	  1024ULL	   /* bytes */
#define BWE_CFG_HTTP_BODY_MAX	  (1024ULL * 1024) /* bytes */
#define BWE_CFG_HTTP_TLS_PATH_MAX 1023		   /* bytes of a cert or key path */

/* ---- fleet: etcd (docs/fleet.md), off by default --------------------------- */
#define BWE_CFG_FLEET_ENDPOINTS_MAX 8U	 /* = BWE_FLC_ENDPOINTS_MAX */
#define BWE_CFG_FLEET_NAME_MAX	    63U	 /* bytes of a site name */
#define BWE_CFG_FLEET_PREFIX_MAX    128U /* bytes of the key prefix */
#define BWE_CFG_FLEET_PREFIX	    "/bwenforce/"
#define BWE_CFG_FLEET_HEARTBEAT_S   5U /* default fleet.heartbeat */
#define BWE_CFG_FLEET_HEARTBEAT_MAX 300U
#define BWE_CFG_FLEET_TIMEOUT_S	    2U /* default fleet.request_timeout */
#define BWE_CFG_FLEET_TIMEOUT_MAX   60U
#define BWE_CFG_FLEET_URL_MAX	    255U /* bytes of an endpoint */

/* ---- events.syslog: every event also to a SIEM (syslogfmt.h), off by default -- */
#define BWE_CFG_SLOG_QUEUE     4096U	/* default events.syslog.queue, messages */
#define BWE_CFG_SLOG_QUEUE_MIN 16U	/* messages */
#define BWE_CFG_SLOG_QUEUE_MAX 1000000U /* messages */
#define BWE_CFG_SLOG_MSG       8192U	/* default events.syslog.message_max, bytes */
#define BWE_CFG_SLOG_APP_NAME  "bwenforce"

enum bwe_attach_mode { BWE_MODE_AUTO = 0, BWE_MODE_NATIVE, BWE_MODE_GENERIC };
enum bwe_feed_action { BWE_ACT_DROP = 0, BWE_ACT_MONITOR };
/* The detection signal a feed's hits raise (feeds[].signal). */
enum bwe_feed_signal { BWE_FSIG_BLOCKLIST = 0, BWE_FSIG_PROXYWARE };

/*
 * What the kernel translates on an interface (masquerade, SNAT, NAT66,
 * NPTv6 on outbound traffic): inbound packets of that family arrive
 * addressed to the gateway and are judged at the LAN egress
 * (bwe_abi.h, bwe_iface_val). Values are bit sets of the two families.
 */
enum bwe_nat {
	BWE_NAT_NONE = 0,
	BWE_NAT_IPV4 = 1,
	BWE_NAT_IPV6 = 2,
	BWE_NAT_BOTH = 3,
};

/*
 * XDP fast-forward of the traffic arriving on an interface that the verdict
 * passes (xdp/forward.bpf.h): fib routes it past netfilter (never what the
 * gateway translates); flowtable forwards the connections nftables offloaded
 * to a flowtable, translated as conntrack says (the kernel needs
 * bpf_xdp_flow_lookup: bwctld refuses it where the data plane was loaded
 * without; docs/deployment.md, "Fast-forward").
 */
enum bwe_fast_forward {
	BWE_FF_OFF = 0,
	BWE_FF_FIB,	  /* bpf_fib_lookup + devmap: bypasses netfilter */
	BWE_FF_FLOWTABLE, /* bpf_xdp_flow_lookup + bpf_fib_lookup + devmap */
};

struct bwe_cfg_iface {
	char name[BWE_IFNAME_LEN];	    /* a valid Linux interface name */
	enum bwe_attach_mode mode;	    /* default BWE_MODE_AUTO */
	enum bwe_nat nat;		    /* default BWE_NAT_NONE */
	enum bwe_fast_forward fast_forward; /* default BWE_FF_OFF */
};

struct bwe_cfg_prefixes {
	struct bwe_prefix *v; /* host bits clear, never /0 */
	size_t n;
};

struct bwe_cfg_feed {
	char *name;		     /* [A-Za-z0-9_.-]{1,32}, unique */
	char *source;		     /* absolute path or http:// / https:// URL */
	char *format;		     /* "auto","plain","netset","spamhaus","spamhaus-json",
				 * "feodo-csv","stix","freeform","domains",
				 * "zeek-intel" */
	__u64 refresh_s;	     /* seconds, default 3600; min 10 */
	enum bwe_feed_action action; /* default drop */
	enum bwe_feed_signal signal; /* default blocklist; proxyware: that signal instead */
	__u32 min_prefix_v4;	     /* default 8: broader IPv4 prefixes refused */
	__u32 min_prefix_v6;	     /* default 19, 16..128 (the blocklist's limit) */
	double max_shrink;	     /* 0..1, default 0.5: a new version smaller than
				 * (1 - max_shrink) * old is refused */
	double max_reject;	     /* 0..1, default 0.1: more than this share of
				 * lines refused => keep last good */
	__u32 max_reject_floor;	     /* default 20: max_reject refuses a version
				 * only when at least this many lines are refused */
	int may_be_empty;	     /* default false */
	double max_growth;	     /* above 0, default 1: a new version with more than
				 * (1 + max_growth) * old entries is refused */
	__u32 max_coverage_v4;	     /* prefix length 0..32, default 4: a version
				 * covering more IPv4 addresses than one such
				 * prefix is refused; 0 = no limit */
	__u32 max_coverage_v6;	     /* the same for IPv6, 0..128, default 12 */
	__u32 max_domain_addrs;	     /* addresses kept per resolved domain, 1..64, default 16 */
	__u32 stale_after;	     /* refresh periods without success before a
				 * stale event; default 3 */
	__u64 max_bytes;	     /* download size cap, bytes; default 256 MiB */
	__u64 timeout_s;	     /* download timeout, seconds; default 60 */
	int insecure;		     /* an http:// source is refused without it;
				 * only for http:// sources */
	int follow_symlinks;	     /* a file source may be a symbolic link;
				 * only for file sources; default false */
	char *ca_file;		     /* https:// only: PEM CA bundle the worker
				 * trusts instead of the system's; NULL none */
	/*
	 * Secrets never sit in this file: a source that needs one names a
	 * file holding it (root-only; bwctld -n warns otherwise), read by the
	 * parent at each request. At most one of the three per feed.
	 */
	char *api_key_file;	  /* crowdsec-lapi (required there): the bouncer's key */
	char *bearer_file;	  /* http(s): Authorization: Bearer <token> */
	char *auth_user;	  /* auth.user: HTTP basic user ([!-~] but ':') */
	char *auth_password_file; /* auth.password_file: its password */
	/* crowdsec-lapi only (lib/crowdsec.h): the bouncer's filters, and the
	 * decisions held at most (a pull that would hold more is refused) */
	__u32 max_decisions; /* default BWE_CS_SET_MAX_DEF */
	char **cs_scopes;    /* scopes: "Ip", "Range"; none = both */
	size_t n_cs_scopes;
	char **cs_origins; /* origins: exact; none = any */
	size_t n_cs_origins;
	char **cs_scenarios_containing; /* any of these substrings */
	size_t n_cs_scenarios_containing;
	char **cs_scenarios_not_containing; /* none of these substrings */
	size_t n_cs_scenarios_not_containing;
	/* taxii only (lib/taxii.h): source is the API root and this the
	 * collection id, or NULL when source is the collection's objects URL */
	char *taxii_collection;
	__u32 taxii_max_indicators; /* ids kept, default BWE_TAXII_SET_MAX_DEF */
	/* misp only (lib/misp.h): the restSearch "last" window, default "30d" */
	char *misp_last;
};

/* One event type's own limit (event_limits.types[]). */
struct bwe_cfg_evlimit {
	char *action; /* event.action, [a-z0-9-]{1,48}, unique */
	__u32 rate;   /* events per second, 1..BWE_CFG_EV_RATE_MAX */
	__u32 burst;  /* events, 1..BWE_CFG_EV_BURST_MAX */
};

struct bwe_cfgfile {
	char *path; /* the file as named to bwe_config_load() */
	/* interfaces (required, >= 1, unique names) */
	struct bwe_cfg_iface *ifaces;
	size_t n_ifaces;
	/* internal_networks; default 10.0.0.0/8, 172.16.0.0/12,
	 * 192.168.0.0/16, fc00::/7 */
	struct bwe_cfg_prefixes internal;
	struct bwe_cfg_prefixes exempt;	   /* exempt; default none */
	struct bwe_cfg_prefixes allowlist; /* allowlist; default none */
	/* standard_ports, host byte order; default 20 21 22 25 53 80 110 123
	 * 143 443 465 587 853 993 995 */
	__u16 *std_ports;
	size_t n_std_ports;
	/* maps: entries; defaults = BWE_*_MAX of bwe_abi.h */
	struct {
		__u32 blocklist_hosts, blocklist_v6_prefixes, netclass, throttle, hosts;
	} maps;
	/* maps.host_idle, seconds; 0: off; default BWE_CFG_HOST_IDLE_S. Not
	 * a size: outside maps, so a reload changes it */
	__u64 host_idle_s;
	/* paths: absolute; defaults BWE_CFG_PIN_DIR, ... */
	struct {
		char *pin_dir, *state_dir, *socket, *event_log;
	} paths;
	char *control_group; /* admin role on the socket besides root; NULL: none */
	/* read-only role on the socket (status, list, top, ...); NULL: none */
	char *control_readonly_group;
	__u32 control_max_clients; /* concurrent socket clients; default 32 */
	__u64 control_timeout_s;   /* one request and its reply, seconds; default 10 */
	/*
	 * event_limits: every event type (event.action) has a token bucket of
	 * rate events per second and burst events; operators' state changes
	 * are never limited. Suppressed events are counted and summarised
	 * every summary_s seconds and when the type's suppression ends.
	 */
	struct {
		__u32 rate, burst;
		__u64 summary_s;
		struct bwe_cfg_evlimit *types;
		size_t n_types;
	} event_limits;
	/*
	 * The unprivileged user that bwctld's feed worker (and later other
	 * network-facing children) runs as: [a-z_][a-z0-9_-]*, at most
	 * BWE_CFG_USER_NAME_MAX bytes; default BWE_CFG_SANDBOX_USER.
	 */
	char *sandbox_user;
	int monitor_only;	    /* global dry run; default false */
	__u64 event_dedup_s;	    /* seconds; default 60 */
	__u64 max_ttl_s;	    /* longest TTL a command may set, seconds; default 30d */
	__u64 default_burst;	    /* bytes; 0: see BWE_CFG_BURST_AUTO_MIN */
	__u64 feed_worker_memory;   /* the feed worker's RLIMIT_DATA, bytes */
	struct bwe_cfg_feed *feeds; /* feeds[i] has blocklist id BWE_FEED_FIRST + i */
	size_t n_feeds;
	/*
	 * identity: a MAC address the neighbour table shows with more than
	 * router_addresses internal addresses is a router's, and is refused
	 * as a host's identity unless forced (default 8); a host contained by
	 * its MAC address gains at most max_learnt addresses it was not given
	 * (from the neighbour table and from traffic; default 64).
	 */
	struct {
		__u32 router_addresses, max_learnt;
	} identity;
	/*
	 * http: one listener for GET /metrics and the API under /v1/; none
	 * (n_listen 0) by default. Every listen address is "IPv4:port" or
	 * "[IPv6]:port" (bwe_cfg_listen_parse()); one that is not loopback
	 * needs tls (cert and key both set). Paths are read at start and
	 * reload.
	 */
	struct {
		char **listen;
		size_t n_listen;
		char *tls_cert, *tls_key;      /* PEM files; NULL: plain HTTP (loopback only) */
		int metrics_auth;	       /* /metrics needs a token with the read scope */
		__u32 max_clients;	       /* connections at once; default 64 */
		__u32 max_clients_per_address; /* of them from one client address; default 32 */
		__u64 timeout_s; /* idle seconds before a connection is closed; default 10 */
		__u64 max_body;	 /* bytes of a request body; default 64 KiB; more: 413 */
	} http;
	/*
	 * policy: detection and automatic response (detect.h); absent keys
	 * hold bwe_policy_default()'s values, an absent "rules" the default
	 * rules (their TTLs and escalation steps cut to max_ttl_s; a written
	 * rule above max_ttl_s is an error). never_quarantine.v is owned by
	 * the struct.
	 */
	struct bwe_policy policy;
	/*
	 * events.syslog: a copy of every event written to the event log, as
	 * RFC 5424 or CEF (syslogfmt.h), to target ("udp://HOST:PORT",
	 * "tcp://HOST:PORT", "unix:/PATH"; NULL: none), through a queue of
	 * queue messages that never blocks the daemon.
	 */
	struct {
		char *target;	   /* NULL: no syslog output */
		int format;	   /* enum bwe_slog_format; default rfc5424 */
		int facility;	   /* 0..23; default daemon (3) */
		char *app_name;	   /* RFC 5424 APP-NAME; default "bwenforce" */
		char *hostname;	   /* RFC 5424 HOSTNAME; NULL: the host's name */
		__u32 queue;	   /* messages held while the receiver is slow or away */
		__u32 message_max; /* bytes of one message; longer ones are cut */
	} syslog;
	/*
	 * fleet: one containment state shared by many gateways through etcd
	 * v3 (docs/fleet.md); off (name NULL) when the block is absent.
	 * endpoints are http(s)://host:port (http:// only with insecure); the
	 * TLS files and password_file are read by bwctld at start and reload
	 * and handed to the sandboxed fleet worker.
	 */
	struct {
		char *name; /* this site: NULL no fleet */
		char **endpoints;
		size_t n_endpoints;
		char *prefix; /* "/bwenforce/": starts and ends with '/' */
		char *tls_ca, *tls_cert, *tls_key;
		char *auth_user, *auth_password_file;
		int insecure;
		__u64 heartbeat_s;	 /* the site's heartbeat; its lease lives 3 times as long */
		__u64 request_timeout_s; /* one request to etcd */
		int share_addresses;	 /* apply other sites' address entries here */
	} fleet;
};

/*
 * The burst of a throttle given no --burst: default_burst, or a quarter of
 * a second of the rate (at least BWE_CFG_BURST_AUTO_MIN). A shorter bucket
 * empties between a TCP sender's retransmission timeouts and halves its
 * throughput (measured: 125 kB at 10 Mbit/s gave 4.7 Mbit/s of goodput).
 */
__u64 bwe_default_burst(const struct bwe_cfgfile *cfg, __u64 rate);

/*
 * Load and validate. On error returns -EINVAL (or -errno for I/O) and
 * writes "FILE:LINE: reason" (LINE when known; always the file) into err.
 */
int bwe_config_load(const char *path, struct bwe_cfgfile **out, char *err, size_t errlen);
/*
 * Every key of the format, outermost first, in the loader's order, as a
 * dotted path with "[]" after a sequence of mappings: "interfaces",
 * "interfaces[].name", ..., "policy.rules[].ttl". Stops at, and returns,
 * the first non-zero value cb returns; else 0.
 */
int bwe_config_keys(int (*cb)(const char *path, void *ctx), void *ctx);
void bwe_config_free(struct bwe_cfgfile *cfg);
/*
 * An http.listen address: "IPv4:port" or "[IPv6]:port", port 1..65535, no
 * host names. Fills *sa (sin or sin6) and *len; *loopback tells whether the
 * address is 127.0.0.0/8 or ::1. 0 or -EINVAL.
 */
struct sockaddr_storage;
int bwe_cfg_listen_parse(const char *s, struct sockaddr_storage *sa, unsigned int *len,
			 int *loopback);
/*
 * The secret files the feeds name (api_key_file, bearer_file,
 * auth.password_file) and the fleet's (tls.key, auth.password_file),
 * each checked: cb gets the feed (NULL for the fleet's: the key says
 * "fleet.tls.key"), the key, the path
 * and NULL when the file is a regular file owned by root and not readable
 * by group or others, else why not ("readable by group or others (mode
 * 0644)", "owned by uid 1000, not root", "cannot stat: ..."). Returns how
 * many were not fine.
 */
size_t bwe_config_check_secrets(const struct bwe_cfgfile *cfg,
				void (*cb)(const char *feed, const char *key, const char *path,
					   const char *problem, void *ctx),
				void *ctx);
/* "auto", "native", "generic"; "?" for a value outside the enum. */
const char *bwe_attach_mode_name(enum bwe_attach_mode m);
/* "none", "ipv4", "ipv6", "both"; "?" outside the enum. */
const char *bwe_nat_name(enum bwe_nat n);
/* "off", "fib", "flowtable"; "?" for a value outside the enum. */
const char *bwe_fast_forward_name(enum bwe_fast_forward f);
/* "drop", "monitor"; "?" for a value outside the enum. */
const char *bwe_feed_action_name(enum bwe_feed_action a);
/* "blocklist", "proxyware"; "?" */
const char *bwe_feed_signal_name(enum bwe_feed_signal s);
/* The signal of the feed of that name; blocklist for "manual", NULL or an unknown name. */
enum bwe_feed_signal bwe_cfg_feed_signal(const struct bwe_cfgfile *cfg, const char *feed);

#endif /* BWE_CONFIG_H */
