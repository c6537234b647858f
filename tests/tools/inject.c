// SPDX-License-Identifier: GPL-2.0-only
/*
 * inject.c - write crafted Ethernet frames onto an interface with an
 * AF_PACKET raw socket, for end-to-end tests of paths that real traffic on
 * this kernel cannot take (802.1Q/802.1ad tags, IPv6 extension headers,
 * fragments, truncated headers). Frames come from lib/pktbuild (pb_build),
 * so every length, next-header value and checksum is filled in.
 *
 *   inject -i IFACE --dmac MAC [--smac MAC] [--src ADDR --dst ADDR]
 *          [--proto tcp|udp|icmp|NUM] [--sport N] [--dport N] [--payload N]
 *          [--vlan ID[,ID]] [--tpid HEX[,HEX]] [--v6ext LIST]
 *          [--frag-offset N] [--mf] [--ipv4-optlen N] [--ethertype HEX]
 *          [--pppoe SID [--ppp-proto HEX] [--ppp-pfc]]
 *          [--truncate N] [--count N] [--interval-us N] [--dry-run] [--hex]
 *          [--spray-dst PREFIX [--seed N]]
 *
 * --pppoe SID wraps the IP packet (or, without --src/--dst, a PPP payload
 * of --payload bytes) in a PPPoE session frame with that session id, after
 * the VLAN tags if any; --ppp-proto gives the PPP protocol in hex (default
 * 0021/0057 by family; c021 is LCP), --ppp-pfc writes it in one byte.
 * --v6ext takes a comma-separated list of hop, routing, dstopt, frag, ah,
 * optionally with a size in bytes (dstopt:24). --truncate N sends only the
 * first N bytes of the frame; a negative N cuts -N bytes from its end.
 * TPIDs and the EtherType are hex, with or without 0x (88a8, 0x88cc).
 * Prints one line, "sent COUNT frames of LEN bytes", on success (the length
 * actually sent); --dry-run builds without sending, --hex prints the frame.
 * Exit status: 0 sent, 1 a system call failed, 2 bad usage.
 *
 * --spray-dst PREFIX sends frame i to address number perm(i) of PREFIX (of
 * the family of --src; --dst is not needed): perm is a bijection on the
 * prefix's host bits (at most 64 of them vary; seeded by --seed), so the
 * first 2^hostbits frames go to distinct addresses in a scattered order,
 * like a scan or a spray of spoofed traffic. Each frame is built anew, with
 * its checksums.
 *
 * Bounded: at most INJECT_COUNT_MAX frames, at most INJECT_INTERVAL_MAX_US
 * between them. The caller chooses the namespace (ip netns exec).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "addr.h"
#include "pktbuild.h"

#define INJECT_COUNT_MAX       1000000 /* frames per run */
#define INJECT_INTERVAL_MAX_US 1000000 /* 1 s between frames at most */
#define INJECT_FRAME_MAX       9216    /* bytes: a jumbo frame at most */
#define INJECT_VLAN_ID_MAX     4095    /* 12-bit VLAN ID */
#define INJECT_RETRY_MAX       10000   /* sends of one frame into a full queue */
#define INJECT_RETRY_US	       100     /* between them: at most 1 s a frame */

#define EXIT_SYS   1
#define EXIT_USAGE 2

struct ext_name {
	const char *name;
	enum pb_v6ext type;
};

static const struct ext_name ext_names[] = {
	{ "hop", PB_EXT_HOP },	 { "routing", PB_EXT_ROUTING }, { "dstopt", PB_EXT_DSTOPT },
	{ "frag", PB_EXT_FRAG }, { "ah", PB_EXT_AH },
};

struct opts {
	const char *ifname;
	struct pb_spec spec;
	bool have_dmac;
	long truncate; /* bytes to send (> 0), cut from the end (< 0), 0: all */
	long count;
	long interval_us;
	bool dry_run;
	bool hex;
	bool spray; /* --spray-dst */
	struct bwe_prefix spray_pfx;
	__u64 seed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: inject -i IFACE --dmac MAC [--smac MAC] [--src ADDR --dst ADDR]\n"
		"              [--proto tcp|udp|icmp|NUM] [--sport N] [--dport N] [--payload N]\n"
		"              [--vlan ID[,ID]] [--tpid HEX[,HEX]] [--v6ext hop,routing,dstopt,frag,ah[:LEN]]\n"
		"              [--frag-offset N] [--mf] [--ipv4-optlen N] [--ethertype HEX]\n"
		"              [--pppoe SID [--ppp-proto HEX] [--ppp-pfc]]\n"
		"              [--truncate N] [--count N] [--interval-us N] [--dry-run] [--hex]\n"
		"              [--spray-dst PREFIX [--seed N]]\n");
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("inject: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* A whole number in [min, max]: decimal (or 0x hex) with base 0, hex with 16. */
static int parse_long_base(const char *opt, const char *s, int base, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, base);
	if (errno || end == s || *end || v < min || v > max)
		return bad("%s: \"%s\" is not a number from %ld to %ld", opt, s, min, max);
	*out = v;
	return 0;
}

static int parse_long(const char *opt, const char *s, long min, long max, long *out)
{
	return parse_long_base(opt, s, 0, min, max, out);
}

/* TPIDs and EtherTypes: hex, with or without 0x. */
static int parse_hex16(const char *opt, const char *s, long *out)
{
	return parse_long_base(opt, s, 16, 0, UINT16_MAX, out);
}

static int parse_mac(const char *opt, const char *s, __u8 *mac)
{
	unsigned int b[PB_MAC_LEN];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != PB_MAC_LEN)
		return bad("%s: \"%s\" is not a MAC address", opt, s);
	for (i = 0; i < PB_MAC_LEN; i++)
		mac[i] = (__u8)b[i];
	return 0;
}

static int parse_proto(const char *s, __u8 *proto)
{
	long v;

	if (!strcmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcmp(s, "icmp"))
		*proto = 0; /* the family's ICMP */
	else if (parse_long("--proto", s, 0, UINT8_MAX, &v))
		return -EINVAL;
	else
		*proto = (__u8)v;
	return 0;
}

/* "ID[,ID]" (decimal) or "HEX[,HEX]" into up to PB_VLAN_MAX values; returns how many. */
static int parse_list16(const char *opt, const char *s, bool hex, __u16 *out)
{
	char buf[64], *tok, *save = NULL;
	int n = 0;
	long v;

	if (strlen(s) >= sizeof(buf))
		return bad("%s: \"%s\" too long", opt, s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == PB_VLAN_MAX)
			return bad("%s: at most %d values", opt, PB_VLAN_MAX);
		if (hex ? parse_hex16(opt, tok, &v)
			: parse_long(opt, tok, 0, INJECT_VLAN_ID_MAX, &v))
			return -EINVAL;
		out[n++] = (__u16)v;
	}
	if (!n)
		return bad("%s: empty list", opt);
	return n;
}

static int parse_v6ext(const char *s, struct pb_spec *spec)
{
	char buf[256], *tok, *save = NULL, *len;
	size_t i;
	long v;

	if (strlen(s) >= sizeof(buf))
		return bad("--v6ext: \"%s\" too long", s);
	strcpy(buf, s);
	spec->nv6ext = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (spec->nv6ext == PB_V6EXT_MAX)
			return bad("--v6ext: at most %d headers", PB_V6EXT_MAX);
		len = strchr(tok, ':');
		if (len)
			*len++ = '\0';
		for (i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++)
			if (!strcmp(tok, ext_names[i].name))
				break;
		if (i == sizeof(ext_names) / sizeof(ext_names[0]))
			return bad("--v6ext: unknown header \"%s\" (hop, routing, dstopt, frag, ah)",
				   tok);
		spec->v6ext[spec->nv6ext] = (__u8)ext_names[i].type;
		if (len) {
			if (parse_long("--v6ext length", len, 8, 2048, &v))
				return -EINVAL;
			spec->v6ext_len[spec->nv6ext] = (int)v;
		}
		spec->nv6ext++;
	}
	return 0;
}

enum {
	O_SRC = 256,
	O_DST,
	O_PROTO,
	O_SPORT,
	O_DPORT,
	O_PAYLOAD,
	O_VLAN,
	O_TPID,
	O_V6EXT,
	O_FRAGOFF,
	O_MF,
	O_V4OPT,
	O_ETHERTYPE,
	O_SMAC,
	O_DMAC,
	O_TRUNC,
	O_COUNT,
	O_INTERVAL,
	O_DRYRUN,
	O_HEX,
	O_SPRAY,
	O_SEED,
	O_PPPOE,
	O_PPP_PROTO,
	O_PPP_PFC,
};

static const struct option long_opts[] = {
	{ "iface", required_argument, NULL, 'i' },
	{ "src", required_argument, NULL, O_SRC },
	{ "dst", required_argument, NULL, O_DST },
	{ "proto", required_argument, NULL, O_PROTO },
	{ "sport", required_argument, NULL, O_SPORT },
	{ "dport", required_argument, NULL, O_DPORT },
	{ "payload", required_argument, NULL, O_PAYLOAD },
	{ "vlan", required_argument, NULL, O_VLAN },
	{ "tpid", required_argument, NULL, O_TPID },
	{ "v6ext", required_argument, NULL, O_V6EXT },
	{ "frag-offset", required_argument, NULL, O_FRAGOFF },
	{ "mf", no_argument, NULL, O_MF },
	{ "ipv4-optlen", required_argument, NULL, O_V4OPT },
	{ "ethertype", required_argument, NULL, O_ETHERTYPE },
	{ "smac", required_argument, NULL, O_SMAC },
	{ "dmac", required_argument, NULL, O_DMAC },
	{ "truncate", required_argument, NULL, O_TRUNC },
	{ "count", required_argument, NULL, O_COUNT },
	{ "interval-us", required_argument, NULL, O_INTERVAL },
	{ "dry-run", no_argument, NULL, O_DRYRUN },
	{ "hex", no_argument, NULL, O_HEX },
	{ "spray-dst", required_argument, NULL, O_SPRAY },
	{ "seed", required_argument, NULL, O_SEED },
	{ "pppoe", required_argument, NULL, O_PPPOE },
	{ "ppp-proto", required_argument, NULL, O_PPP_PROTO },
	{ "ppp-pfc", no_argument, NULL, O_PPP_PFC },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	struct pb_spec *s = &o->spec;
	int c, ntpid = 0, err = 0;
	long v = 0;

	o->count = 1;
	while ((c = getopt_long(argc, argv, "i:h", long_opts, NULL)) != -1 && !err) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case O_SRC:
			s->src = optarg;
			break;
		case O_DST:
			s->dst = optarg;
			break;
		case O_PROTO:
			err = parse_proto(optarg, &s->proto);
			break;
		case O_SPORT:
			err = parse_long("--sport", optarg, 0, UINT16_MAX, &v);
			s->sport = (__u16)v;
			break;
		case O_DPORT:
			err = parse_long("--dport", optarg, 0, UINT16_MAX, &v);
			s->dport = (__u16)v;
			break;
		case O_PAYLOAD:
			err = parse_long("--payload", optarg, 0, INJECT_FRAME_MAX, &v);
			s->payload = (__u16)v;
			break;
		case O_VLAN:
			s->nvlan = parse_list16("--vlan", optarg, false, s->vlan_id);
			err = s->nvlan < 0 ? s->nvlan : 0;
			break;
		case O_TPID:
			ntpid = parse_list16("--tpid", optarg, true, s->vlan_tpid);
			err = ntpid < 0 ? ntpid : 0;
			break;
		case O_V6EXT:
			err = parse_v6ext(optarg, s);
			break;
		case O_FRAGOFF:
			err = parse_long("--frag-offset", optarg, 0, PB_FRAG_OFF_MAX, &v);
			s->frag_offset = (__u16)v;
			break;
		case O_MF:
			s->more_fragments = 1;
			break;
		case O_V4OPT:
			err = parse_long("--ipv4-optlen", optarg, 0, PB_IPV4_OPT_MAX, &v);
			s->ipv4_optlen = (int)v;
			break;
		case O_ETHERTYPE:
			err = parse_hex16("--ethertype", optarg, &v);
			s->ethertype = (__u16)v;
			break;
		case O_SMAC:
			err = parse_mac("--smac", optarg, s->smac);
			break;
		case O_DMAC:
			err = parse_mac("--dmac", optarg, s->dmac);
			o->have_dmac = !err;
			break;
		case O_TRUNC:
			err = parse_long("--truncate", optarg, -INJECT_FRAME_MAX, INJECT_FRAME_MAX,
					 &o->truncate);
			break;
		case O_COUNT:
			err = parse_long("--count", optarg, 1, INJECT_COUNT_MAX, &o->count);
			break;
		case O_INTERVAL:
			err = parse_long("--interval-us", optarg, 0, INJECT_INTERVAL_MAX_US,
					 &o->interval_us);
			break;
		case O_DRYRUN:
			o->dry_run = true;
			break;
		case O_HEX:
			o->hex = true;
			break;
		case O_SPRAY:
			if (bwe_prefix_parse(optarg, &o->spray_pfx, 0))
				err = bad("--spray-dst: \"%s\" is not an address prefix", optarg);
			o->spray = !err;
			break;
		case O_SEED:
			err = parse_long("--seed", optarg, 0, LONG_MAX, &v);
			o->seed = (__u64)v;
			break;
		case O_PPPOE:
			err = parse_long("--pppoe", optarg, 0, UINT16_MAX, &v);
			s->pppoe = 1;
			s->pppoe_sid = (__u16)v;
			break;
		case O_PPP_PROTO:
			err = parse_hex16("--ppp-proto", optarg, &v);
			s->ppp_proto = (__u16)v;
			break;
		case O_PPP_PFC:
			s->ppp_pfc = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (err)
		return err;
	if (optind != argc)
		return bad("unexpected argument \"%s\"", argv[optind]);
	if ((s->ppp_proto || s->ppp_pfc) && !s->pppoe)
		return bad("--ppp-proto and --ppp-pfc need --pppoe SID");
	if (s->pppoe && s->ethertype)
		return bad("--pppoe and --ethertype exclude each other (a PPPoE frame is 8864)");
	if (s->pppoe && !s->src && !s->ppp_proto)
		return bad("--pppoe without --src/--dst needs --ppp-proto (c021 is LCP)");
	if (s->ppp_pfc && s->ppp_proto > 0xff)
		return bad("--ppp-pfc: protocol %04x does not fit one byte", s->ppp_proto);
	if (ntpid && ntpid != s->nvlan)
		return bad("--tpid: give one TPID per --vlan tag (%d tags)", s->nvlan);
	if (!o->dry_run && !o->ifname)
		return bad("-i IFACE is required");
	if (!o->dry_run && !o->have_dmac)
		return bad("--dmac is required (the gateway's MAC)");
	return 0;
}

static void print_hex(const __u8 *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%02x%s", buf[i], (i + 1) % 16 == 0 || i + 1 == len ? "\n" : " ");
}

static void sleep_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A bijection on the low bits of x (mask = 2^bits - 1): odd multiplies and xor-shifts. */
static __u64 permute(__u64 x, unsigned int bits, __u64 seed)
{
	__u64 mask = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
	unsigned int sh = bits > 1 ? bits / 2 : 1;
	int r;

	x = (x + seed) & mask;
	for (r = 0; r < 3; r++) {
		x = (x * 0x9e3779b97f4a7c15ULL) & mask; /* odd: a bijection mod 2^bits */
		x ^= x >> sh;				/* a bijection too */
	}
	return x;
}

/* Address number n of the spray prefix: its host bits (the low 64 at most) set to perm(n). */
static void spray_addr(const struct opts *o, long n, char *buf, size_t len)
{
	struct bwe_addr a = o->spray_pfx.addr;
	unsigned int host = BWE_ADDR_BITS - o->spray_pfx.plen, bits = host > 64 ? 64 : host, i;
	__u64 v = bits ? permute((__u64)n, bits, o->seed) : 0;

	for (i = 0; i < bits; i++)
		if (v & (1ULL << i))
			a.a[15 - i / 8] |= (__u8)(1U << (i % 8));
	bwe_addr_fmt(&a, buf, len);
}

static int send_frames(const struct opts *o, __u8 *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	long i;
	int fd, r, err = 0;

	sll.sll_ifindex = (int)if_nametoindex(o->ifname);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "inject: %s: %s\n", o->ifname, strerror(errno));
		return -ENODEV;
	}
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, o->spec.dmac, ETH_ALEN);
	/* Protocol 0: a send-only socket that receives nothing. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "inject: socket(AF_PACKET): %s\n", strerror(-err));
		return err;
	}
	for (i = 0; i < o->count; i++) {
		ssize_t n;

		if (o->spray && i) {
			/* frame 0 was built by main(); the same length for every address */
			char dst[BWE_ADDR_STRLEN];
			struct pb_spec s = o->spec;

			spray_addr(o, i, dst, sizeof(dst));
			s.dst = dst;
			int b = pb_build(&s, frame, INJECT_FRAME_MAX);

			if (b < 0 || (size_t)b < len) {
				err = -EINVAL;
				fprintf(stderr, "inject: cannot build a frame to %s\n", dst);
				break;
			}
		}
		n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
		/* a full transmit queue: wait for it to drain, a bounded number of times */
		for (r = 0; n < 0 && (errno == ENOBUFS || errno == EAGAIN) && r < INJECT_RETRY_MAX;
		     r++) {
			sleep_us(INJECT_RETRY_US);
			n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
		}

		if (n < 0) {
			err = -errno;
			fprintf(stderr, "inject: sendto %s (frame %ld of %zu bytes): %s\n",
				o->ifname, i + 1, len, strerror(-err));
			break;
		}
		if ((size_t)n != len) {
			err = -EIO;
			fprintf(stderr, "inject: short send: %zd of %zu bytes\n", n, len);
			break;
		}
		if (o->interval_us && i + 1 < o->count)
			sleep_us(o->interval_us);
	}
	close(fd);
	if (!err)
		printf("sent %ld frames of %zu bytes\n", o->count, len);
	return err;
}

int main(int argc, char **argv)
{
	static __u8 frame[INJECT_FRAME_MAX];
	struct opts o = { 0 };
	size_t len;
	int n;

	char dst0[BWE_ADDR_STRLEN];

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	if (o.spray) {
		struct bwe_addr src;

		if (!o.spec.src || bwe_addr_parse(o.spec.src, &src) ||
		    bwe_addr_is_v4(&src) != bwe_addr_is_v4(&o.spray_pfx.addr)) {
			bad("--spray-dst needs a --src of the prefix's family");
			return EXIT_USAGE;
		}
		spray_addr(&o, 0, dst0, sizeof(dst0));
		o.spec.dst = dst0;
	}
	n = pb_build(&o.spec, frame, sizeof(frame));
	if (n < 0) {
		fprintf(stderr, "inject: cannot build that frame: %s\n", strerror(-n));
		return EXIT_USAGE;
	}
	len = (size_t)n;
	if (o.truncate > 0) {
		if ((size_t)o.truncate > len) {
			bad("--truncate %ld: the frame has only %zu bytes", o.truncate, len);
			return EXIT_USAGE;
		}
		len = (size_t)o.truncate;
	} else if (o.truncate < 0) {
		if ((size_t)-o.truncate >= len) {
			bad("--truncate %ld: the frame has only %zu bytes", o.truncate, len);
			return EXIT_USAGE;
		}
		len -= (size_t)-o.truncate;
	}
	if (len < ETH_HLEN) {
		bad("a frame needs at least its %d-byte Ethernet header", ETH_HLEN);
		return EXIT_USAGE;
	}
	if (o.hex)
		print_hex(frame, len);
	if (o.dry_run) {
		printf("built 1 frame of %zu bytes\n", len);
		return 0;
	}
	return send_frames(&o, frame, len) ? EXIT_SYS : 0;
}
