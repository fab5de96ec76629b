/*
 * netns.h: a real network link between the two QEMUs of a case.  Each
 * QEMU runs in a network namespace of its own (created with iproute2),
 * joined by a veth pair, so the migration stream crosses a kernel link
 * that can be shaped and cut without touching the host's network:
 *   delay  tc netem on each end's egress (the kernel needs sch_netem);
 *   rate   tc tbf on each end's egress;
 *   loss   an nftables rule dropping that share of each end's packets;
 *   cut    an nftables rule dropping everything in the destination's
 *          namespace, both directions, until restored.
 * TCP in both namespaces gives up on a silent peer after a few seconds
 * (net.ipv4.tcp_retries2, tcp_syn_retries), as a cut must end in a failed
 * or paused migration within a case's time, not after 15 minutes.
 *
 * Names carry migtest's pid and a sequence number ("mt<pid>-<n>s" and
 * "...d"), so parallel cases and parallel runs never collide; the pair
 * is deleted when freed, and netns_sweep_stale() deletes the namespaces
 * of migtest processes that no longer exist (a run killed with SIGKILL).
 */
#ifndef MIGTEST_NETNS_H
#define MIGTEST_NETNS_H

#include <glib.h>
#include "mt-error.h"

/* How the link behaves; all zero: a plain veth. */
typedef struct {
    guint delay_ms;             /* one way, on each end (so RTT is twice) */
    guint rate_mbit;            /* each direction; 0: unshaped */
    guint loss_pct;             /* each direction, percent of packets */
} LinkShape;

typedef enum {
    NETNS_SRC,
    NETNS_DST,
} NetnsSide;

typedef struct NetPair NetPair;

/* Create the two namespaces, the veth between them and the shaping.
 * MT_ERROR_UNSUPPORTED (a SKIP) when this host cannot: not root, no
 * iproute2 or nftables, no netem in the kernel, ... naming what. */
NetPair *netns_pair_new(const LinkShape *shape, GError **error);
/* Delete both namespaces (and so the veth); NULL-safe. */
void netns_pair_free(NetPair *np);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetPair, netns_pair_free)

/* An O_CLOEXEC fd of @side's namespace for setns(2), owned by @np. */
int netns_pair_fd(NetPair *np, NetnsSide side);
/* @side's address on the veth ("10.77.0.1" or "10.77.0.2"). */
const char *netns_pair_addr(NetPair *np, NetnsSide side);
/* Cut (@up FALSE) or restore the link. */
gboolean netns_pair_set_link(NetPair *np, gboolean up, GError **error);
/* Packets the loss rule dropped so far, both ends. */
guint64 netns_pair_lost_packets(NetPair *np);
/* The link as one line, for messages: "veth mt123-4s<->mt123-4d, 10 ms..." */
char *netns_pair_describe(NetPair *np);

/* Delete namespaces left by migtest processes that are gone. */
void netns_sweep_stale(void);

#endif
