/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * top.h - "bwctl top": the busiest internal hosts, once or as a live view
 * redrawn in place (like top(1)) until q or Ctrl-C.
 *
 * A row of the daemon's array (request "top", lib/proto.h) is read as:
 *   "host"          address string
 *   "tx_bytes"      bytes passed with the host as source (counter)
 *   "rx_bytes"      bytes passed with the host as destination (counter)
 *   "tx_bps", "rx_bps"  bytes per second now ("tx_rate"/"rx_rate" also
 *                   read); when absent the live view derives them from
 *                   two successive counters
 *   "drop_packets"  packets dropped for the host, any reason ("drops" also
 *                   read)
 *   "state"         array of strings ("quarantine", "throttle") or one
 *                   string; empty or null for none
 * Other fields (tx_packets, bl_hits, bl_in_hits, ...) are shown by --json only.
 * A last row with "aggregate": "inbound_untracked" (its "host" a label, not an
 * address) sums inbound traffic to internal addresses that never sent.
 * Text columns: HOST TX TX/s RX RX/s DROPS STATE; bytes in binary units,
 * rates in bits per second as tc(8) writes them.
 */
#ifndef BWCTL_TOP_H
#define BWCTL_TOP_H

#include "bwe_abi.h"
#include "bwctl.h"

#define TOP_INTERVAL_DEFAULT_S 2.0
#define TOP_INTERVAL_MIN_S     0.2
#define TOP_INTERVAL_MAX_S     3600.0
#define TOP_N_MAX	       BWE_HOSTS_MAX /* hosts the data plane tracks */

int cmd_top(struct bwctl *c, int argc, char **argv);

#endif /* BWCTL_TOP_H */
