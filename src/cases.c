/* cases.c: the scenario table (see cases.h). */
#include "cases.h"

#include "migtest-abi.h"
#include "mt-error.h"
#include "tlscreds.h"

#define MiB (1024ull * 1024)
#define QEMU_VERSION(a, b, c) ((a) * 10000 + (b) * 100 + (c))

static const char *const caps_auto_converge[] = { "auto-converge", NULL };
static const char *const caps_xbzrle[] = { "xbzrle", NULL };
static const char *const caps_multifd[] = { "multifd", NULL };
static const char *const caps_postcopy[] = { "postcopy-ram", NULL };
static const char *const caps_preempt[] = { "postcopy-ram", "postcopy-preempt", NULL };
static const char *const caps_pause[] = { "pause-before-switchover", NULL };
static const char *const caps_uuid[] = { "validate-uuid", NULL };

/* Throttle early and hard, so the rise shows within a few iterations. */
static const MigrateParam params_auto_converge[] = {
    { .name = "cpu-throttle-initial", .num = 30 },
    { .name = "cpu-throttle-increment", .num = 20 },
    { NULL },
};
static const MigrateParam params_xbzrle[] = {
    { .name = "xbzrle-cache-size", .num = 256 * MiB },
    { NULL },
};
#define MULTIFD_PARAMS(compression) {                                         \
    { .name = "multifd-channels", .num = 4, .both_sides = TRUE },             \
    { .name = "multifd-compression", .str = compression, .both_sides = TRUE },\
    { NULL },                                                                 \
}
static const MigrateParam params_multifd_none[] = MULTIFD_PARAMS("none");
static const MigrateParam params_multifd_zlib[] = MULTIFD_PARAMS("zlib");
static const MigrateParam params_multifd_zstd[] = MULTIFD_PARAMS("zstd");
static const MigrateParam params_tls[] = {
    { .name = "tls-creds", .str = TLSCREDS_ID, .both_sides = TRUE },
    { NULL },
};

static gboolean throttled(const MigrateStats *s, gpointer unused)
{
    (void)unused;
    return s->max_throttle_pct > 0;
}

static gboolean xbzrle_hit(const MigrateStats *s, gpointer unused)
{
    (void)unused;
    return s->xbzrle_pages > 0;
}

/* XBZRLE has encoded pages through XBZRLE_SYNCS dirty syncs and for
 * XBZRLE_MS: a page is first cached at the sync after the first pass (a
 * miss) and only encoded from the next one, so a cache left stale by one
 * encoding (or by a zero page) shows only in the encodings after that;
 * and a zero run must come and go in that time, which takes the guest
 * passes, not syncs (on a loaded host 20 syncs took < 1 s and caught
 * nothing). */
#define XBZRLE_SYNCS 20
/* From pass 256 on, the heads' second byte is not zero: a page restored
 * from a zero run and encoded against its stale pre-zero copy keeps that
 * byte equal, so the encoding skips it and the destination keeps the 0 it
 * got (ram-07 was caught only in runs whose guest got that far). */
#define XBZRLE_PASSES 300
#define XBZRLE_MS 4000
static gboolean xbzrle_settled(const MigrateStats *s, gpointer unused)
{
    gint64 encoding_since = -1;

    (void)unused;
    for (guint i = 0; s->samples && i < s->samples->len && encoding_since < 0; i++) {
        const MigrateSample *m = &g_array_index(s->samples, MigrateSample, i);
        if (m->dirty_sync_count >= 3)     /* the second round: hits from here */
            encoding_since = m->t_ms;
    }
    return s->xbzrle_pages > 0 && s->dirty_sync_count >= XBZRLE_SYNCS && encoding_since >= 0 &&
           g_array_index(s->samples, MigrateSample, s->samples->len - 1).t_ms - encoding_since
               >= XBZRLE_MS;
}

/* A bandwidth that keeps precopy going for seconds, so that a feature
 * acting between iterations (throttle, xbzrle, postcopy switch, a cancel)
 * has iterations to act in: the window is ~99 MiB. */
#define SLOW_BANDWIDTH (32 * MiB)
/* Non-converging: 1 MiB/s cannot send a 99 MiB window in 1 ms. */
#define TINY_BANDWIDTH (1 * MiB)
/* TLS and multifd compression run at ~150 MB/s here: the last copy of a
 * 99 MiB window needs ~0.7 s, so 500 ms would never converge. */
#define SLOW_CHANNEL_DOWNTIME_MS 2000
/* A hot set like a real guest's per-cpu data and locks: 64 pages
 * rewritten between every two sweep steps (issue: "at least 64"). */
#define HOT_PAGES 64
/* 1 MiB: four 64-page words of the dirty bitmap at the end of the block. */
#define TOP_PAGES 256
/* QEMU sizes RAM in 8 KiB steps: the smallest tail that is not a whole
 * 64-page (256 KiB) word of its dirty bitmap. */
#define ODD_MEM_TAIL_KIB 8
/* mmu-off-late: ~2 s of passes under TCG after the first 'B', so the
 * start check, made right after that 'B', sees the MMU on; the migration
 * is held back (SLOW_BANDWIDTH) until the guest has printed this many
 * 'B' and so has turned it off, then released to reach pre-switchover. */
#define MMU_OFF_LATE_PASSES 200
/* cancel-stalled: pages flow before the destination is stopped. */
#define STALL_HOLD_MS 300
/* Long enough to prove "does not converge" across many iterations. */
#define HOLD_ACTIVE_MS 3000
/* Zero runs (migtest-abi.h): 4 MiB of pages (8 multifd packets of 128
 * pages, so whole packets are all-zero) zeroed every other pass, by plain
 * stores and rep stosq / dc zva in turn, and written back two passes
 * later. */
#define ZERO_RUNS .zero_every = 2, .zero_pages = 1024, .zero_method = MT_ZERO_ALTERNATE

/* Real links between network namespaces (netns.h).  wan: a long fat
 * link, 10 ms each way (20 ms RTT, a metro/regional path) at 1 Gbit/s;
 * lossy: 1% of packets dropped each way, TCP's worst ordinary day; plain:
 * an unshaped veth for the cuts. */
static const LinkShape link_wan = { .delay_ms = 10, .rate_mbit = 1000 };
static const LinkShape link_lossy = { .loss_pct = 1 };
static const LinkShape link_plain = { 0 };
/* Postcopy over a link to be cut: the background copy is held to 32 MiB/s
 * so that postcopy lasts seconds and the cut lands inside it. */
static const MigrateParam params_postcopy_slow[] = {
    { .name = "max-postcopy-bandwidth", .num = 32 << 20 },
    { NULL },
};

/* Rows the libvirt backend can express too (libvirt-migrate.h); the rest
 * run on the qemu backend only. */
#define BOTH_BACKENDS (BACKEND_QEMU | BACKEND_LIBVIRT)

static const CaseDesc case_table[] = {
    { .name = "precopy/tcp", .backends = BOTH_BACKENDS, .summary = "plain precopy of a live guest over a TCP socket", .transport = TRANSPORT_TCP, .smoke = TRUE },
    { .name = "precopy/tcp/wan", .summary = "precopy over a 1 Gbit/s link with 10 ms each way (veth between network namespaces, tc netem)", .transport = TRANSPORT_TCP,
      .link = &link_wan, .observe = OBSERVE_LINK },
    { .name = "precopy/tcp/lossy", .summary = "precopy over a link that drops 1% of packets each way (veth between network namespaces, nftables)", .transport = TRANSPORT_TCP,
      .link = &link_lossy, .observe = OBSERVE_LINK },
    { .name = "multifd/none/wan", .summary = "multifd with 4 channels over a 1 Gbit/s link with 10 ms each way", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none, .link = &link_wan, .observe = OBSERVE_LINK },
    { .name = "precopy/tcp/cut", .summary = "the link is cut mid-precopy: the migration fails, the source runs on clean, a second migration over the restored link passes", .transport = TRANSPORT_TCP,
      .link = &link_plain, .link_cut = LINK_CUT_PRECOPY, .max_bandwidth = SLOW_BANDWIDTH,
      .expect = EXPECT_FAILED, .observe = OBSERVE_LINK },
    { .name = "postcopy/tcp/cut", .summary = "the link is cut in postcopy: both sides pause, then migrate-recover on a new port and resume after it is restored", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .params = params_postcopy_slow, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .link = &link_plain, .link_cut = LINK_CUT_POSTCOPY,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_LINK },
    { .name = "postcopy/tcp/cut-recovery", .summary = "the link is cut in postcopy and cut again as the recovery starts (a double failure), then restored and recovered", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .params = params_postcopy_slow, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .link = &link_plain, .link_cut = LINK_CUT_RECOVERY,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_LINK },
    { .name = "precopy/unix", .summary = "plain precopy of a live guest over a UNIX socket", .transport = TRANSPORT_UNIX, .smoke = TRUE },
    { .name = "precopy/tcp/hot", .backends = BOTH_BACKENDS, .summary = "precopy over TCP while the guest keeps rewriting a hot set of pages", .transport = TRANSPORT_TCP, .hot_pages = HOT_PAGES },
    /* The default window ends at 100 MiB: bugs at the end of a RAM block
     * (the last bitmap word, the last page of a TLB reset range) need the
     * guest writing there (docs/oracle-strength.md). */
    { .name = "precopy/tcp/top-of-ram", .summary = "precopy while the guest also rewrites the last 1 MiB of its RAM", .transport = TRANSPORT_TCP,
      .only_arch = "x86_64", .top_pages = TOP_PAGES },
    /* The same pages as the guest's only range, all of them hot: the
     * sweep above comes back to them once a pass (~1% of its time), so
     * a copy made early and never refreshed mostly still matched
     * (dirty-02 survived top-of-ram); here each is rewritten after every
     * page the guest visits. */
    { .name = "precopy/tcp/hot-top", .summary = "precopy while the guest rewrites only the last 1 MiB of its RAM, every page of it hot", .transport = TRANSPORT_TCP,
      .top_pages = TOP_PAGES, .top_only = TRUE, .hot_pages = TOP_PAGES },
    /* QEMU moves a RAM block's dirty bits a 64-page word at a time when
     * the block is a multiple of 256 KiB, and page by page otherwise;
     * whole-MiB guests never take the second path (dirty-09). */
    { .name = "precopy/tcp/odd-size", .summary = "precopy with a hot set in a guest of --mem plus 8 KiB of RAM (not a multiple of 256 KiB)", .transport = TRANSPORT_TCP,
      .hot_pages = HOT_PAGES, .mem_tail_kib = ODD_MEM_TAIL_KIB },
    { .name = "precopy/fd", .summary = "precopy into a socketpair passed to both QEMUs with getfd", .transport = TRANSPORT_FD },
    { .name = "precopy/exec", .summary = "precopy through an exec: channel (QEMU runs cat into and out of a file)", .transport = TRANSPORT_EXEC },
    { .name = "precopy/file", .summary = "precopy into a file: URI and back in from it", .transport = TRANSPORT_FILE,
      .min_version = QEMU_VERSION(8, 2, 0) },
    { .name = "stopped-source/tcp", .backends = BOTH_BACKENDS, .summary = "migration of a guest whose source was paused before migrate", .transport = TRANSPORT_TCP,
      .stop_source_first = TRUE, .observe = OBSERVE_STOPPED_SOURCE },
    { .name = "auto-converge/tcp", .backends = BOTH_BACKENDS, .summary = "auto-converge throttling the vCPUs of a guest that dirties faster than the link", .transport = TRANSPORT_TCP,
      .capabilities = caps_auto_converge, .params = params_auto_converge,
      .max_bandwidth = SLOW_BANDWIDTH, .downtime_limit_ms = 1,
      .release_when = throttled, .observe = OBSERVE_THROTTLE },
    { .name = "xbzrle/tcp", .backends = BOTH_BACKENDS, .summary = "XBZRLE delta compression of re-dirtied pages", .transport = TRANSPORT_TCP,
      .capabilities = caps_xbzrle, .params = params_xbzrle,
      .max_bandwidth = SLOW_BANDWIDTH, .downtime_limit_ms = 1,
      .release_when = xbzrle_hit, .release_stops_source = TRUE, .observe = OBSERVE_XBZRLE },
    /* A page that turns zero and back is encoded against whatever the
     * xbzrle cache holds for it: a stale cache shows (docs/oracle-strength.md). */
    { .name = "xbzrle/tcp/zero-run", .summary = "XBZRLE while the guest zeroes runs of pages and writes them back", .transport = TRANSPORT_TCP,
      .capabilities = caps_xbzrle, .params = params_xbzrle, ZERO_RUNS,
      .max_bandwidth = SLOW_BANDWIDTH, .downtime_limit_ms = 1,
      .release_when = xbzrle_hit, .release_stops_source = TRUE, .observe = OBSERVE_XBZRLE },
    /* Released only after several syncs of encoding, while the guest
     * zeroes and restores runs: pages are encoded again and again against
     * what the cache kept (ram-06, ram-07 survived the row above, which
     * is released at the first hit). */
    { .name = "xbzrle/tcp/settled", .summary = "XBZRLE through several dirty syncs of encoding while the guest zeroes runs of pages and writes them back", .transport = TRANSPORT_TCP,
      .capabilities = caps_xbzrle, .params = params_xbzrle, ZERO_RUNS,
      .max_bandwidth = SLOW_BANDWIDTH, .downtime_limit_ms = 1,
      .release_when = xbzrle_settled, .release_after_passes = XBZRLE_PASSES,
      .release_stops_source = TRUE, .observe = OBSERVE_XBZRLE },
    { .name = "multifd/none", .backends = BOTH_BACKENDS, .summary = "multifd with 4 channels, no compression", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none,
      .observe = OBSERVE_MULTIFD },
    { .name = "multifd/none/hot", .backends = BOTH_BACKENDS, .summary = "multifd with 4 channels while the guest rewrites a hot set of pages", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none,
      .hot_pages = HOT_PAGES, .observe = OBSERVE_MULTIFD },
    /* The hot set through TCG's atomic path (lock xadd / cmpxchg, LSE
     * ldadd / ldxr-stxr) instead of plain stores. */
    { .name = "precopy/tcp/hot-atomic", .summary = "precopy over TCP while the guest updates a hot set with atomic instructions", .transport = TRANSPORT_TCP, .hot_pages = HOT_PAGES, .hot_op = MT_HOT_ATOMIC },
    { .name = "multifd/none/hot-atomic", .summary = "multifd while the guest updates a hot set with atomic instructions", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none,
      .hot_pages = HOT_PAGES, .hot_op = MT_HOT_ATOMIC, .observe = OBSERVE_MULTIFD },
    /* Registers the workload does not use hold canaries the guest checks
     * every pass, on the destination too (migtest-abi.h). */
    { .name = "precopy/tcp/canaries", .summary = "precopy while the guest checks SIMD and control registers it set", .transport = TRANSPORT_TCP, .canaries = TRUE },
    /* Device and chipset registers the guest programmed (and locked,
     * where the hardware allows), re-read every pass on the destination
     * too (migtest-abi.h, "Device-state probes"); q35 has another chipset. */
    { .name = "precopy/tcp/devprobe", .summary = "precopy while the guest checks device and chipset registers it set", .transport = TRANSPORT_TCP, .devprobe = TRUE },
    { .name = "precopy/tcp/devprobe-q35", .summary = "precopy on q35 while the guest checks device and chipset registers it set and locked", .transport = TRANSPORT_TCP,
      .only_arch = "x86_64", .machine = "q35", .machine_family = "pc-q35-", .devprobe = TRUE },
    /* Several vCPUs (migtest-abi.h): each sweeps its own slice of the
     * window (smp-hot: vCPU 0 also the hot set), so writes race the bitmap
     * sync from several threads; every vCPU must beat again on the
     * destination (aarch64: PSCI CPU_ON; x86_64: INIT-SIPI-SIPI). */
    /* Four TCG vCPU threads on a loaded 2-core host leave the migration
     * thread 20-50 MB/s for a window dirtied every pass: with 500 ms the
     * last iteration often never fits (docs/findings/003, non-convergence
     * runs); 2 s lets it, and changes nothing that is verified. */
    { .name = "precopy/tcp/smp", .summary = "precopy while 4 vCPUs each sweep a slice of the window", .transport = TRANSPORT_TCP,
      .vcpus = 4, .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "precopy/tcp/smp-hot", .summary = "precopy while 4 vCPUs each sweep a slice of the window, vCPU 0 also a hot set", .transport = TRANSPORT_TCP,
      .vcpus = 4, .hot_pages = HOT_PAGES, .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "precopy/tcp/smp2", .summary = "precopy while 2 vCPUs each sweep half of the window", .transport = TRANSPORT_TCP,
      .vcpus = 2 },
    { .name = "multifd/none/smp", .summary = "multifd while 4 vCPUs each sweep a slice of the window", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none,
      .vcpus = 4, .observe = OBSERVE_MULTIFD },
    { .name = "multifd/none/smp-hot", .summary = "multifd while 4 vCPUs each sweep a slice of the window, vCPU 0 also a hot set", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none,
      .vcpus = 4, .hot_pages = HOT_PAGES, .observe = OBSERVE_MULTIFD },
    { .name = "multifd/none/smp2", .summary = "multifd while 2 vCPUs each sweep half of the window", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none,
      .vcpus = 2, .observe = OBSERVE_MULTIFD },
    { .name = "multifd/zlib", .summary = "multifd with 4 channels and zlib compression", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_zlib,
      .observe = OBSERVE_MULTIFD,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "multifd/zstd", .summary = "multifd with 4 channels and zstd compression", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_zstd,
      .observe = OBSERVE_MULTIFD,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    /* Pages that turn all-zero again while dirty: zero-page detection. */
    { .name = "precopy/tcp/zero-run", .summary = "precopy while the guest zeroes runs of pages and writes them back", .transport = TRANSPORT_TCP, ZERO_RUNS },
    { .name = "multifd/none/zero-run", .summary = "multifd (no compression) while the guest zeroes runs of pages", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_none, ZERO_RUNS,
      .observe = OBSERVE_MULTIFD },
    { .name = "multifd/zstd/zero-run", .summary = "multifd with zstd while the guest zeroes runs of pages", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_multifd_zstd, ZERO_RUNS,
      .observe = OBSERVE_MULTIFD, .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    /* The destination runs before the copy ends: exact does not apply;
     * fill=full lets the invariant check every word of every page. */
    { .name = "postcopy/tcp", .backends = BOTH_BACKENDS, .summary = "postcopy: the destination runs and pulls the pages it faults on", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK,
      .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/zero-run", .summary = "postcopy while the guest zeroes runs of pages and writes them back", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, ZERO_RUNS, .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK,
      .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/hot", .backends = BOTH_BACKENDS, .summary = "postcopy while the guest rewrites a hot set of pages", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .hot_pages = HOT_PAGES,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/hot-atomic", .summary = "postcopy while the guest updates a hot set with atomic instructions", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .hot_pages = HOT_PAGES, .hot_op = MT_HOT_ATOMIC,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/smp", .summary = "postcopy while 4 vCPUs each sweep a slice of the window", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .vcpus = 4,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/smp-hot", .summary = "postcopy while 4 vCPUs each sweep a slice of the window, vCPU 0 also a hot set", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .vcpus = 4, .hot_pages = HOT_PAGES,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/smp2", .summary = "postcopy while 2 vCPUs each sweep half of the window", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .vcpus = 2,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/canaries", .summary = "postcopy while the guest checks SIMD and control registers it set", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .canaries = TRUE,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy/tcp/devprobe", .summary = "postcopy while the guest checks device and chipset registers it set", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .devprobe = TRUE,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy-preempt/tcp", .summary = "postcopy with a preempt channel for urgent page requests", .transport = TRANSPORT_TCP,
      .capabilities = caps_preempt, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK,
      .observe = OBSERVE_POSTCOPY },
    { .name = "postcopy-recover/unix", .summary = "postcopy interrupted by migrate-pause, then resumed with migrate-recover", .transport = TRANSPORT_UNIX,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .fill = MT_FILL_FULL, .postcopy_recover = TRUE,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_RECOVERED },
    { .name = "pause-before-switchover/tcp", .summary = "the source stops at pre-switchover and is continued with migrate-continue", .transport = TRANSPORT_TCP,
      .capabilities = caps_pause, .continue_at_pre_switchover = TRUE,
      .observe = OBSERVE_PRE_SWITCHOVER },
    { .name = "dirty-ring/tcp", .summary = "migration under the KVM dirty ring instead of the dirty bitmap", .only_arch = "x86_64", .only_accel = "kvm",
      .accel_props = ",dirty-ring-size=4096", .transport = TRANSPORT_TCP,
      .observe = OBSERVE_DIRTY_RING },
    { .name = "cancel/none", .summary = "migrate_cancel when no migration is running", .transport = TRANSPORT_TCP, .fault = FAULT_CANCEL_BEFORE },
    { .name = "cancel/setup", .summary = "migrate_cancel in the setup state", .transport = TRANSPORT_TCP, .cancel_at = "setup",
      .max_bandwidth = SLOW_BANDWIDTH, .expect = EXPECT_CANCELLED,
      .observe = OBSERVE_CANCELLED_IN },
    { .name = "cancel/active", .summary = "migrate_cancel while the migration is active", .transport = TRANSPORT_TCP, .cancel_at = "active",
      .max_bandwidth = SLOW_BANDWIDTH, .expect = EXPECT_CANCELLED,
      .observe = OBSERVE_CANCELLED_IN },
    { .name = "cancel/pre-switchover", .summary = "migrate_cancel while paused at pre-switchover", .transport = TRANSPORT_TCP,
      .capabilities = caps_pause, .cancel_at = "pre-switchover",
      .expect = EXPECT_CANCELLED, .observe = OBSERVE_CANCELLED_IN },
    { .name = "cancel/completed", .summary = "migrate_cancel after the migration completed", .transport = TRANSPORT_TCP, .fault = FAULT_CANCEL_AFTER },
    { .name = "cancel/failed", .summary = "migrate_cancel after a migration to where nothing listens failed: it stays failed", .transport = TRANSPORT_TCP,
      .fault = FAULT_BAD_DESTINATION, .cancel_after_end = TRUE, .expect = EXPECT_FAILED },
    { .name = "bad-destination/tcp", .summary = "a migration to an address where nothing listens", .transport = TRANSPORT_TCP,
      .fault = FAULT_BAD_DESTINATION, .expect = EXPECT_FAILED },
    { .name = "validate-uuid/match", .summary = "validate-uuid with the same -uuid on both sides", .transport = TRANSPORT_TCP,
      .capabilities = caps_uuid, .uuid = TRUE },
    { .name = "validate-uuid/mismatch", .summary = "validate-uuid with different -uuid on the two sides", .transport = TRANSPORT_TCP,
      .capabilities = caps_uuid, .uuid = TRUE, .fault = FAULT_UUID_MISMATCH,
      .expect = EXPECT_FAILED },
    { .name = "tls-psk/match", .summary = "migration over TLS with the same pre-shared key on both sides", .transport = TRANSPORT_TCP, .tls = TLS_PSK,
      .params = params_tls, .wiretap = TRUE, .observe = OBSERVE_WIRE_TLS,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "tls-psk/mismatch", .summary = "migration over TLS with different pre-shared keys", .transport = TRANSPORT_TCP, .tls = TLS_PSK,
      .params = params_tls, .fault = FAULT_TLS_MISMATCH, .expect = EXPECT_FAILED,
      .wiretap = TRUE, .observe = OBSERVE_HANDSHAKE_FAILED,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "tls-x509/match", .backends = BOTH_BACKENDS, .summary = "migration over TLS with x509 certificates from one CA", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .params = params_tls, .wiretap = TRUE, .observe = OBSERVE_WIRE_TLS,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
#define COHERENCY(v, pol, polname, fired, late)                               \
    { .name = "coherency/" v "/" polname, .only_arch = "aarch64",            \
      .summary = "Arm coherency guard: payload variant " v " under --mmu-policy " polname, \
      .transport = TRANSPORT_TCP, .variant = v, .coherency_case = TRUE,       \
      .mmu_policy = MMU_POLICY_##pol, .expect_fired = fired,                  \
      .mmu_off_after = (late) ? MMU_OFF_LATE_PASSES : 0,                      \
      .max_bandwidth = (late) ? SLOW_BANDWIDTH : 0,                           \
      .release_after_mmu_off = (late) }
    COHERENCY("mmu-on", REFUSE, "refuse", NULL, 0),
    COHERENCY("mmu-on", WARN, "warn", NULL, 0),
    COHERENCY("mmu-on", STOP_COPY, "stop-copy", NULL, 0),
    COHERENCY("mmu-on", IGNORE, "ignore", NULL, 0),
    COHERENCY("mmu-off-dc-civac", REFUSE, "refuse", "start", 0),
    COHERENCY("mmu-off-dc-civac", WARN, "warn", "start", 0),
    COHERENCY("mmu-off-dc-civac", STOP_COPY, "stop-copy", "start", 0),
    COHERENCY("mmu-off-dc-civac", IGNORE, "ignore", NULL, 0),
    COHERENCY("mmu-off", REFUSE, "refuse", "start", 0),
    COHERENCY("mmu-off", WARN, "warn", "start", 0),
    COHERENCY("mmu-off", STOP_COPY, "stop-copy", "start", 0),
    COHERENCY("mmu-off", IGNORE, "ignore", NULL, 0),
    COHERENCY("mmu-off-late", REFUSE, "refuse", "pre-switchover", 1),
    COHERENCY("mmu-off-late", WARN, "warn", "pre-switchover", 1),
    COHERENCY("mmu-off-late", STOP_COPY, "stop-copy", "pre-switchover", 1),
    COHERENCY("mmu-off-late", IGNORE, "ignore", NULL, 1),
#undef COHERENCY
    /* A real kernel: its pattern lives in guest virtual memory, so the
     * invariant (guest physical) does not apply; exact and the guest's
     * own checks do. */
    { .name = "linux/precopy/tcp", .backends = BOTH_BACKENDS, .summary = "precopy of a real Linux guest (Debian's kernel, migtest's /init)", .transport = TRANSPORT_TCP, .linux_guest = TRUE,
      .verify = VERIFY_EXACT | VERIFY_SELFCHECK },
    /* /init's zero runs (madvise and plain stores in turn), atomic hot
     * set (docs/linux-guest.md). */
    { .name = "linux/precopy/tcp/zero-run", .summary = "precopy of a real Linux guest whose /init frees runs of pages (madvise) or zeroes them, and refills them", .transport = TRANSPORT_TCP, .linux_guest = TRUE,
      ZERO_RUNS, .verify = VERIFY_EXACT | VERIFY_SELFCHECK },
    { .name = "linux/multifd/none/zero-run", .summary = "multifd of a real Linux guest whose /init frees runs of pages (madvise) or zeroes them", .transport = TRANSPORT_TCP, .linux_guest = TRUE,
      .capabilities = caps_multifd, .params = params_multifd_none, ZERO_RUNS,
      .verify = VERIFY_EXACT | VERIFY_SELFCHECK, .observe = OBSERVE_MULTIFD },
    { .name = "linux/precopy/tcp/hot-atomic", .summary = "precopy of a real Linux guest whose /init updates its hot set with atomic instructions", .transport = TRANSPORT_TCP, .linux_guest = TRUE,
      .hot_op = MT_HOT_ATOMIC, .verify = VERIFY_EXACT | VERIFY_SELFCHECK },
    { .name = "linux/precopy/tcp/smp", .summary = "precopy of a real Linux guest with 2 vCPUs, /init running one pinned worker per vCPU", .transport = TRANSPORT_TCP, .linux_guest = TRUE,
      .vcpus = 2, .verify = VERIFY_EXACT | VERIFY_SELFCHECK },
    { .name = "linux/postcopy/tcp", .backends = BOTH_BACKENDS, .summary = "postcopy of a real Linux guest (Debian's kernel, migtest's /init)", .transport = TRANSPORT_TCP, .linux_guest = TRUE,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE,
      .verify = VERIFY_SELFCHECK, .observe = OBSERVE_POSTCOPY },
    { .name = "non-converging/tcp", .summary = "a migration that cannot converge (1 MiB/s, 1 ms downtime limit)", .transport = TRANSPORT_TCP,
      .max_bandwidth = TINY_BANDWIDTH, .downtime_limit_ms = 1,
      .hold_active_ms = HOLD_ACTIVE_MS, .expect = EXPECT_CANCELLED,
      .observe = OBSERVE_STAYED_ACTIVE },
    /* A cancel must end a write the destination never reads: QEMU shuts
     * the channel down for that (sm-01 survived every cancel row, which
     * all cancel a source that is not blocked). */
    { .name = "cancel-stalled/tcp", .summary = "migrate_cancel while the source is blocked writing to a destination that stopped reading (SIGSTOP)", .transport = TRANSPORT_TCP,
      .downtime_limit_ms = 1, .hold_active_ms = STALL_HOLD_MS, .cancel_stalled = TRUE,
      .expect = EXPECT_CANCELLED, .observe = OBSERVE_STAYED_ACTIVE },
};

static gboolean params_have(const MigrateParam *params, const char *name)
{
    for (const MigrateParam *p = params; p && p->name; p++)
        if (g_str_equal(p->name, name))
            return TRUE;
    return FALSE;
}

/* Combinations that cannot mean anything; caught before any QEMU runs. */
/* Rows with their own RAM backend (x-ignore-shared, cpr): the copy of the
 * source's RAM they are checked against is taken at stop, in precopy. */
static const char *case_ram_impossible(const CaseDesc *d)
{
    gboolean transfer = d->cpr == CPR_TRANSFER || d->cpr == CPR_TRANSFER_DEFER;

    if (d->ram != CASE_RAM_DEFAULT && (d->postcopy || d->expect != EXPECT_COMPLETED))
        return "a row with its own RAM backend completes a precopy (checked against a copy "
               "taken at stop)";
    if ((d->observe == OBSERVE_IGNORE_SHARED) != (d->ram != CASE_RAM_DEFAULT))
        return "the ignore-shared evidence and a RAM backend of the row's own go together";
    if (d->cpr == CPR_REBOOT &&
        (d->ram != CASE_RAM_FILE_COMMON || d->transport != TRANSPORT_FILE))
        return "cpr-reboot saves to a file: and keeps its RAM in one shared file";
    if (transfer && (d->ram != CASE_RAM_MEMFD || d->transport != TRANSPORT_UNIX ||
                     !d->machine_props))
        return "cpr-transfer passes memfd RAM (aux-ram-share) over unix sockets";
    if (d->machine_props && !d->min_version)
        return "-machine properties need the version that knows them (checked before launch)";
    return NULL;
}

const char *case_desc_impossible(const CaseDesc *d)
{
    if (!d->summary || !*d->summary)
        return "it has no summary (say in one line what it exercises)";
    if (d->postcopy_recover && !d->postcopy)
        return "postcopy recovery without postcopy";
    if (d->release_after_passes && !d->release_when)
        return "release after passes needs a release rule to add them to";
    if (d->cancel_stalled && !d->hold_active_ms)
        return "a stalled cancel is made after the hold (hold_active_ms)";
    if (d->top_only && (!d->top_pages || d->hot_pages > d->top_pages))
        return "a top-only guest needs top pages, at least as many as its hot set";
    if (d->mem_tail_kib % 8 || (d->mem_tail_kib && d->linux_guest))
        return "QEMU sizes RAM in 8 KiB steps, and the linux guest has its own size";
    if (d->link && d->transport != TRANSPORT_TCP)
        return "a real link carries TCP only";
    if (d->link_cut && !d->link)
        return "a link cut needs a link";
    if ((d->link_cut >= LINK_CUT_POSTCOPY) != (d->link_cut && d->postcopy))
        return "a postcopy link cut needs postcopy, and precopy's a precopy cut";
    if (d->link_cut == LINK_CUT_PRECOPY && d->expect != EXPECT_FAILED)
        return "a precopy cut must fail the migration";
    /* A guest suspended throughout runs on neither side until its wake-up. */
    if (d->postcopy && (d->verify & VERIFY_EXACT) && !d->suspend)
        return "exact needs a stopped destination; postcopy runs it early";
    if (d->suspend && (g_strcmp0(d->only_arch, "x86_64") != 0 || d->linux_guest))
        return "guest suspend is the x86 payload's (ACPI S3)";
    if (d->suspend && (d->expect != EXPECT_COMPLETED || d->observe != OBSERVE_SUSPENDED ||
                       (d->verify && !(d->verify & VERIFY_SELFCHECK))))
        return "a suspend row completes, observes the suspend and wakes the guest up";
    if (d->continue_at_pre_switchover && !d->capabilities)
        return "pre-switchover needs the pause-before-switchover capability";
    if (d->cancel_at && g_str_equal(d->cancel_at, "pre-switchover") && !d->capabilities)
        return "cancel at pre-switchover needs pause-before-switchover";
    if (!d->cancel_refusable &&
        (d->expect == EXPECT_CANCELLED) != (d->cancel_at != NULL || d->hold_active_ms > 0))
        return "a cancelled outcome needs a cancel, and a cancel a cancelled outcome";
    if ((d->fault == FAULT_UUID_MISMATCH) && !d->uuid)
        return "a UUID mismatch needs UUIDs";
    if ((d->fault == FAULT_TLS_MISMATCH) && d->tls != TLS_PSK)
        return "the TLS mismatch is a PSK mismatch";
    if ((d->tls != TLS_NONE) != params_have(d->params, "tls-creds"))
        return "TLS credentials and the tls-creds parameter go together";
    if (d->x509 != X509_DEFAULT && d->tls != TLS_X509)
        return "an x509 policy needs x509 credentials";
    if ((d->fault == FAULT_X509) !=
        (d->x509 == X509_MISMATCH_HOST || d->x509 == X509_ANON_REJECTED ||
         d->x509 == X509_AUTHZ_DENY))
        return "a failing x509 policy is the FAULT_X509 fault, and only it";
    if ((d->expect == EXPECT_REFUSED && !d->refused_with) ||
        (d->refused_with && d->expect != EXPECT_REFUSED && d->expect != EXPECT_FAILED))
        return "a refusal or failure's expected text needs that outcome, and it the text";
    if (d->wiretap && d->transport != TRANSPORT_TCP && d->transport != TRANSPORT_UNIX)
        return "the wiretap relays sockets (tcp or unix)";
    if ((d->file_offset || d->file_fdset || d->file_direct_io) &&
        d->transport != TRANSPORT_FILE)
        return "offset, fdset and direct-io are file: options";
    if (d->transport == TRANSPORT_EXEC || d->transport == TRANSPORT_FILE) {
        if (d->postcopy)
            return "postcopy needs a bidirectional channel";
    }
    if (d->linux_guest && (d->hot_pages || d->fill || d->canaries || d->devprobe))
        return "the linux payload has its own hot set and no fill, canaries or device probes";
    if (d->devprobe && d->vcpus > 1)
        return "device probes run on one vCPU (they share the chipset's index ports)";
    if (d->devprobe && d->suspend)
        return "device probes would see the S3 wake-up's reset of the chipset";
    if (!d->machine != !d->machine_family || (d->machine && !d->only_arch))
        return "a row's machine needs its family and a fixed architecture";
    if (d->hot_op && !d->hot_pages && !d->linux_guest)
        return "an atomic hot set needs a hot set";
    if (d->accel_props && !d->only_accel)
        return "accelerator properties need a fixed accelerator";
    return case_ram_impossible(d);
}

/* Row @i of the whole catalogue (this table, then the families in
 * their own files), or NULL past the end. */
static const CaseDesc *case_row(gsize i)
{
    if (i < G_N_ELEMENTS(case_table))
        return &case_table[i];
    i -= G_N_ELEMENTS(case_table);
    return i < cases_qemu10_count ? &cases_qemu10[i] : NULL;
}

gboolean cases_validate(GError **error)
{
    for (gsize i = 0; case_row(i); i++) {
        const char *why = case_desc_impossible(case_row(i));
        for (gsize j = 0; j < i && !why; j++)
            if (g_str_equal(case_row(i)->name, case_row(j)->name))
                why = "its name is used twice";
        if (why) {
            g_set_error(error, MT_ERROR, MT_ERROR_USAGE, "case '%s' is impossible: %s",
                        case_row(i)->name, why);
            return FALSE;
        }
    }
    return TRUE;
}

static void case_instance_free(gpointer p)
{
    CaseInstance *c = p;

    g_free(c->name);
    g_free(c);
}

GPtrArray *cases_select(const ArchDesc *const *archs, const char *glob)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(case_instance_free);
    g_autoptr(GPatternSpec) pat = glob ? g_pattern_spec_new(glob) : NULL;

    for (guint a = 0; archs[a]; a++) {
        for (gsize i = 0; case_row(i); i++) {
            const CaseDesc *d = case_row(i);
            g_autofree char *name = g_strdup_printf("/%s/%s", archs[a]->name, d->name);
            CaseInstance *c;

            if (d->only_arch && !g_str_equal(d->only_arch, archs[a]->name))
                continue;
            if (pat ? !g_pattern_spec_match_string(pat, name) : !d->smoke)
                continue;
            c = g_new0(CaseInstance, 1);
            c->arch = archs[a];
            c->desc = d;
            c->name = g_steal_pointer(&name);
            g_ptr_array_add(out, c);
        }
    }
    return out;
}
