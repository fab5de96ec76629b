/* netns.c: namespaces, veth, tc and nftables for a case (see netns.h). */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Fixed addresses: each namespace is private, so no two runs collide. */
#define ADDR_SRC "10.77.0.1"
#define ADDR_DST "10.77.0.2"
#define VETH "mtv"
/* TCP declares a silent peer dead after 4 retransmissions (~3 s at the
 * 200 ms minimum RTO, doubling) and a SYN after one retry (~3 s): a cut
 * then ends a migration within seconds; the kernel default is ~15 min. */
#define TCP_RETRIES2 "4"
#define TCP_SYN_RETRIES "1"
/* tbf's bucket: 64 KiB bursts at 1 Gbit/s are 0.5 ms, and a 20 ms queue
 * absorbs the bursts of a migration stream without dropping. */
#define TBF_BURST "64kb"
#define TBF_LATENCY "20ms"

struct NetPair {
    char *name[2];              /* namespace names, "mt<pid>-<n>s" and "...d" */
    int fd[2];
    LinkShape shape;
    gboolean cut;
};

static gint next_seq;           /* atomic: namespaces of this process */

/* Run @argv (NULL-terminated); on failure, MT_ERROR_ENV with its stderr. */
static gboolean run_tool(const char *const *argv, GError **error)
{
    g_autofree char *err = NULL;
    g_autofree char *out = NULL;
    g_autofree char *cmd = g_strjoinv(" ", (char **)argv);
    int status;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, error))
        return FALSE;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, MT_ERROR, MT_ERROR_ENV, "'%s' failed: %s", cmd,
                    err && *err ? g_strstrip(err) : "no message");
        return FALSE;
    }
    return TRUE;
}

/* `ip -n NS ...` or `ip netns exec NS tool ...` in @np's @side. */
#define IN_NS(np, side) "ip", "netns", "exec", (np)->name[side]

static gboolean make_namespaces(NetPair *np, GError **error)
{
    for (int s = 0; s < 2; s++) {
        const char *add[] = { "ip", "netns", "add", np->name[s], NULL };
        const char *lo[] = { "ip", "-n", np->name[s], "link", "set", "lo", "up", NULL };
        const char *r2[] = { IN_NS(np, s), "sysctl", "-q", "-w",
                             "net.ipv4.tcp_retries2=" TCP_RETRIES2,
                             "net.ipv4.tcp_syn_retries=" TCP_SYN_RETRIES, NULL };
        g_autofree char *path = g_build_filename("/run/netns", np->name[s], NULL);

        if (!run_tool(add, error) || !run_tool(lo, error) || !run_tool(r2, error))
            return FALSE;
        np->fd[s] = open(path, O_RDONLY | O_CLOEXEC);
        if (np->fd[s] < 0) {
            g_set_error(error, MT_ERROR, MT_ERROR_ENV, "cannot open '%s': %s", path,
                        g_strerror(errno));
            return FALSE;
        }
    }
    return TRUE;
}

/* The veth is created inside the source's namespace with its peer in the
 * destination's: it never appears in the host's, where names could clash. */
static gboolean make_veth(NetPair *np, GError **error)
{
    const char *add[] = { "ip", "-n", np->name[NETNS_SRC], "link", "add", VETH, "type", "veth",
                          "peer", "name", VETH, "netns", np->name[NETNS_DST], NULL };
    const char *addr[2] = { ADDR_SRC "/30", ADDR_DST "/30" };

    if (!run_tool(add, error))
        return FALSE;
    for (int s = 0; s < 2; s++) {
        const char *a[] = { "ip", "-n", np->name[s], "addr", "add", addr[s], "dev", VETH, NULL };
        const char *up[] = { "ip", "-n", np->name[s], "link", "set", VETH, "up", NULL };

        if (!run_tool(a, error) || !run_tool(up, error))
            return FALSE;
    }
    return TRUE;
}

/* Delay with netem (rate too, when delaying: one qdisc), else rate with tbf. */
static gboolean shape_qdisc(NetPair *np, int s, GError **error)
{
    const LinkShape *sh = &np->shape;
    g_autofree char *delay = g_strdup_printf("%ums", sh->delay_ms);
    g_autofree char *rate = g_strdup_printf("%umbit", sh->rate_mbit);
    const char *netem[] = { "tc", "-n", np->name[s], "qdisc", "add", "dev", VETH, "root",
                            "netem", "delay", delay, sh->rate_mbit ? "rate" : NULL, rate, NULL };
    const char *tbf[] = { "tc", "-n", np->name[s], "qdisc", "add", "dev", VETH, "root", "tbf",
                          "rate", rate, "burst", TBF_BURST, "latency", TBF_LATENCY, NULL };
    g_autoptr(GError) local = NULL;

    if (sh->delay_ms) {
        if (run_tool(netem, &local))
            return TRUE;
        /* "Specified qdisc kind is unknown": the kernel has no sch_netem. */
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "a %u ms link delay needs tc's "
                    "netem qdisc, which this kernel lacks (%s)", sh->delay_ms, local->message);
        return FALSE;
    }
    return !sh->rate_mbit || run_tool(tbf, error);
}

/* Table "mt" in each namespace: chain "loss" drops loss_pct% of what
 * leaves; chains "cut_in"/"cut_out" hold a drop-all rule while cut. */
static gboolean make_nft(NetPair *np, int s, GError **error)
{
    g_autofree char *loss = np->shape.loss_pct
                            ? g_strdup_printf("numgen random mod 100 < %u counter drop",
                                              np->shape.loss_pct) : g_strdup("");
    g_autofree char *script = g_strdup_printf(
        "table inet mt {\n"
        "  chain loss {\n    type filter hook output priority 0;\n    %s\n  }\n"
        "  chain cut_in {\n    type filter hook input priority 0;\n  }\n"
        "  chain cut_out {\n    type filter hook output priority 1;\n  }\n"
        "}\n", loss);
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("migtest-nft-XXXXXX", &path, error);
    gboolean ok;

    if (fd < 0)
        return FALSE;
    close(fd);
    ok = g_file_set_contents(path, script, -1, error);
    if (ok) {
        const char *nft[] = { IN_NS(np, s), "nft", "-f", path, NULL };
        ok = run_tool(nft, error);
    }
    unlink(path);
    return ok;
}

static gboolean tools_present(GError **error)
{
    const char *tools[] = { "ip", "tc", "nft", "sysctl" };

    if (geteuid() != 0) {
        g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "network namespaces need root");
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(tools); i++) {
        g_autofree char *p = g_find_program_in_path(tools[i]);
        if (!p) {
            g_set_error(error, MT_ERROR, MT_ERROR_UNSUPPORTED, "'%s' not found; run "
                        "scripts/setup (iproute2, nftables, procps)", tools[i]);
            return FALSE;
        }
    }
    return TRUE;
}

NetPair *netns_pair_new(const LinkShape *shape, GError **error)
{
    g_autoptr(NetPair) np = g_new0(NetPair, 1);
    int seq = g_atomic_int_add(&next_seq, 1);

    np->fd[0] = np->fd[1] = -1;
    np->shape = *shape;
    if (!tools_present(error))
        return NULL;
    np->name[NETNS_SRC] = g_strdup_printf("mt%d-%ds", (int)getpid(), seq);
    np->name[NETNS_DST] = g_strdup_printf("mt%d-%dd", (int)getpid(), seq);
    if (!make_namespaces(np, error) || !make_veth(np, error))
        goto fail;
    for (int s = 0; s < 2; s++)
        if (!shape_qdisc(np, s, error) || !make_nft(np, s, error))
            goto fail;
    return g_steal_pointer(&np);
fail:
    /* "ip netns add" failing as root with EPERM: a container without the
     * capability; say it is this host, not migtest, that cannot. */
    if (g_error_matches(*error, MT_ERROR, MT_ERROR_ENV) &&
        strstr((*error)->message, "ip netns add"))
        (*error)->code = MT_ERROR_UNSUPPORTED;
    return NULL;
}

void netns_pair_free(NetPair *np)
{
    if (!np)
        return;
    for (int s = 0; s < 2; s++) {
        if (np->fd[s] >= 0)
            close(np->fd[s]);
        if (np->name[s]) {
            const char *del[] = { "ip", "netns", "del", np->name[s], NULL };
            run_tool(del, NULL);        /* best effort: it may not exist yet */
        }
        g_free(np->name[s]);
    }
    g_free(np);
}

int netns_pair_fd(NetPair *np, NetnsSide side)
{
    return np->fd[side];
}

const char *netns_pair_addr(NetPair *np, NetnsSide side)
{
    (void)np;
    return side == NETNS_SRC ? ADDR_SRC : ADDR_DST;
}

gboolean netns_pair_set_link(NetPair *np, gboolean up, GError **error)
{
    const char *dst = np->name[NETNS_DST];

    for (int i = 0; i < 2; i++) {
        const char *chain = i ? "cut_out" : "cut_in";
        const char *cut[] = { "ip", "netns", "exec", dst, "nft", "add", "rule", "inet", "mt",
                              chain, "drop", NULL };
        const char *heal[] = { "ip", "netns", "exec", dst, "nft", "flush", "chain", "inet",
                               "mt", chain, NULL };

        if (!run_tool(up ? heal : cut, error)) {
            g_prefix_error(error, "cannot %s the link: ", up ? "restore" : "cut");
            return FALSE;
        }
    }
    np->cut = !up;
    return TRUE;
}

guint64 netns_pair_lost_packets(NetPair *np)
{
    guint64 total = 0;

    for (int s = 0; s < 2; s++) {
        const char *argv[] = { IN_NS(np, s), "nft", "list", "chain", "inet", "mt", "loss", NULL };
        g_autofree char *out = NULL;
        const char *p;
        int status;

        if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, &out, NULL, &status, NULL) ||
            !(p = strstr(out ? out : "", "packets ")))
            continue;
        total += g_ascii_strtoull(p + strlen("packets "), NULL, 10);
    }
    return total;
}

char *netns_pair_describe(NetPair *np)
{
    return g_strdup_printf("veth %s<->%s, delay %u ms each way, rate %u Mbit/s, loss %u%%%s",
                           np->name[NETNS_SRC], np->name[NETNS_DST], np->shape.delay_ms,
                           np->shape.rate_mbit, np->shape.loss_pct, np->cut ? ", cut" : "");
}

void netns_sweep_stale(void)
{
    g_autoptr(GDir) dir = g_dir_open("/run/netns", 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        int pid = 0, seq = 0;
        char side = 0;

        if (sscanf(name, "mt%d-%d%c", &pid, &seq, &side) != 3 || pid <= 0 ||
            (side != 's' && side != 'd'))
            continue;
        if (kill(pid, 0) == 0 || errno != ESRCH)
            continue;           /* its migtest still runs */
        const char *del[] = { "ip", "netns", "del", name, NULL };
        run_tool(del, NULL);
    }
}
