/*
 * cases-qemu10.c: the catalogue family that covers QEMU 10.0's migration
 * qtests (issue #12; docs/coverage.md maps each qtest path to a row):
 * TLS policy and proof of encryption on the wire, multifd over TLS,
 * postcopy over TLS and its recovery variants, mapped-ram and the file:
 * options, the channels syntax, double cancels, validate-uuid with one
 * side unset, compression levels, max-cpu-throttle, exit-on-error.
 * Rows are data (cases.h); the runner and migrate.c act on them.
 */
#include "cases.h"

#include "migtest-abi.h"
#include "tlscreds.h"

#define MiB (1024ull * 1024)
#define QEMU_VERSION(a, b, c) ((a) * 10000 + (b) * 100 + (c))
/* mapped-ram, file offset=, exec/file in channels: QEMU 9.0. */
#define V9_0 QEMU_VERSION(9, 0, 0)
/* direct-io, migrate-incoming exit-on-error: QEMU 9.1. */
#define V9_1 QEMU_VERSION(9, 1, 0)
/* As in cases.c: seconds of precopy for a feature to act in. */
#define SLOW_BANDWIDTH (32 * MiB)
/* TLS and multifd compression run at ~150 MB/s here (cases.c). */
#define SLOW_CHANNEL_DOWNTIME_MS 2000
/* Four channels, as cases.c's multifd rows; QEMU's own tests use 4-16. */
#define MULTIFD_CHANNELS 4
/* QEMU's file/offset test: a page of someone else's data first. */
#define FILE_OFFSET 4096
/* max-cpu-throttle below where initial 30 + increment 20 would climb
 * (70, 90, 99) within the syncs the row waits for. */
#define THROTTLE_CAP 50
/* Dirty syncs the throttle must stay at its cap before the release:
 * each sync would add the increment (20) to an uncapped one. */
#define THROTTLE_HELD_SYNCS 2
/* As cases.c: a hot set like a real guest's per-cpu data and locks. */
#define HOT_PAGES 64
/* Fast enough that the syncs above come in ~1 s each under TCG. */
#define THROTTLE_BANDWIDTH (128 * MiB)
/* Guest suspend: passes before the guest suspends itself (a few, so the
 * sweep and the hot set are under way; ~30 ms under TCG). */
#define SUSPEND_AFTER 3

/* As cases.c's zero runs: 4 MiB of pages zeroed every other pass and
 * written back two passes later (migtest-abi.h). */
#define ZERO_RUNS .zero_every = 2, .zero_pages = 1024, .zero_method = MT_ZERO_ALTERNATE
/* dirty-limit (QEMU's /dirty_limit): 50 MB/s per vCPU, a 1 s period.
 * It acts from the second dirty sync on: 32 MiB/s sends the first pass
 * in ~3 s, and a KVM guest dirties its window far faster, so with a 1 ms
 * downtime nothing converges before the limit acted. */
#define DIRTY_LIMIT_MBPS 50
#define DIRTY_LIMIT_BANDWIDTH SLOW_BANDWIDTH

static const char *const caps_multifd[] = { "multifd", NULL };
static const char *const caps_switchover_ack[] = { "return-path", "switchover-ack", NULL };
static const char *const caps_dirty_limit[] = { "dirty-limit", NULL };
static const char *const caps_background_snapshot[] = { "background-snapshot", NULL };
static const char *const caps_postcopy[] = { "postcopy-ram", NULL };
static const char *const caps_preempt[] = { "postcopy-ram", "postcopy-preempt", NULL };
static const char *const caps_blocktime[] = { "postcopy-ram", "postcopy-blocktime", NULL };
static const char *const caps_mapped_ram[] = { "mapped-ram", NULL };
static const char *const caps_mapped_multifd[] = { "mapped-ram", "multifd", NULL };
static const char *const caps_uuid[] = { "validate-uuid", NULL };
static const char *const caps_auto_converge[] = { "auto-converge", NULL };
static const char *const caps_ignore_shared[] = { "x-ignore-shared", NULL };
/* The source alone: the target learns its mode from the cpr state. */
static const MigrateParam params_cpr_transfer[] = {
    { .name = "mode", .str = "cpr-transfer" }, { NULL },
};
static const MigrateParam params_cpr_reboot[] = {
    { .name = "mode", .str = "cpr-reboot", .both_sides = TRUE }, { NULL },
};
static const char *const caps_mapped_ignore_shared[] = { "mapped-ram", "x-ignore-shared", NULL };

#define TLS_CREDS { .name = "tls-creds", .str = TLSCREDS_ID, .both_sides = TRUE }
#define MULTIFD_N { .name = "multifd-channels", .num = MULTIFD_CHANNELS, .both_sides = TRUE }
static const MigrateParam params_tls[] = { TLS_CREDS, { NULL } };
static const MigrateParam params_tls_hostname[] = {
    TLS_CREDS, { .name = "tls-hostname", .str = TLSCREDS_HOSTNAME }, { NULL },
};
static const MigrateParam params_tls_authz[] = {
    TLS_CREDS, { .name = "tls-authz", .str = TLSCREDS_AUTHZ_ID, .dst_only = TRUE }, { NULL },
};
static const MigrateParam params_multifd_tls[] = { MULTIFD_N, TLS_CREDS, { NULL } };
static const MigrateParam params_multifd_tls_hostname[] = {
    MULTIFD_N, TLS_CREDS, { .name = "tls-hostname", .str = TLSCREDS_HOSTNAME }, { NULL },
};
static const MigrateParam params_multifd[] = { MULTIFD_N, { NULL } };
static const MigrateParam params_multifd_dio[] = {
    MULTIFD_N, { .name = "direct-io", .num = 1, .flag = TRUE, .both_sides = TRUE }, { NULL },
};
#define LEVEL_PARAMS(algo, level) {                                            \
    MULTIFD_N,                                                                 \
    { .name = "multifd-compression", .str = algo, .both_sides = TRUE },        \
    { .name = "multifd-" algo "-level", .num = level, .both_sides = TRUE },    \
    { NULL },                                                                  \
}
static const MigrateParam params_zlib_1[] = LEVEL_PARAMS("zlib", 1);
static const MigrateParam params_zlib_9[] = LEVEL_PARAMS("zlib", 9);
static const MigrateParam params_zstd_1[] = LEVEL_PARAMS("zstd", 1);
static const MigrateParam params_zstd_9[] = LEVEL_PARAMS("zstd", 9);
static const MigrateParam params_throttle_cap[] = {
    { .name = "cpu-throttle-initial", .num = 30 },
    { .name = "cpu-throttle-increment", .num = 20 },
    { .name = "max-cpu-throttle", .num = THROTTLE_CAP },
    { NULL },
};

#define ZERO_PARAMS(mode) {                                                    \
    MULTIFD_N, { .name = "zero-page-detection", .str = mode, .both_sides = TRUE }, { NULL },\
}
static const MigrateParam params_zero_none[] = ZERO_PARAMS("none");
static const MigrateParam params_zero_legacy[] = ZERO_PARAMS("legacy");
static const MigrateParam params_zero_multifd[] = ZERO_PARAMS("multifd");
static const MigrateParam params_dirty_limit[] = {
    { .name = "vcpu-dirty-limit", .num = DIRTY_LIMIT_MBPS },
    { .name = "x-vcpu-dirty-limit-period", .num = 1000 },
    { NULL },
};

static gboolean dirty_limited(const MigrateStats *s, gpointer unused)
{
    (void)unused;
    return s->dirty_limit_us > 0;
}

/* Release once the throttle has sat at its cap through two more dirty
 * syncs: an uncapped throttle would have climbed past it by then. */
static gboolean held_at_cap(const MigrateStats *s, gpointer unused)
{
    (void)unused;
    for (guint i = 0; s->samples && i < s->samples->len; i++) {
        const MigrateSample *m = &g_array_index(s->samples, MigrateSample, i);
        if (m->throttle_pct >= THROTTLE_CAP)
            return s->dirty_sync_count >= (guint64)m->dirty_sync_count + THROTTLE_HELD_SYNCS;
    }
    return FALSE;
}

/* TLS rows: the wiretap proves every byte was a TLS record. */
#define TLS_ROW .wiretap = TRUE, .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS
#define TLS_OK TLS_ROW, .observe = OBSERVE_WIRE_TLS
/* A failing handshake: only TLS crossed, little of it, then 'failed'. */
#define TLS_FAILS TLS_ROW, .expect = EXPECT_FAILED, .observe = OBSERVE_HANDSHAKE_FAILED
#define POSTCOPY_VERIFY .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK
#define MULTIFD_TLS .capabilities = caps_multifd, .tls = TLS_X509

const CaseDesc cases_qemu10[] = {
    { .name = "bad-destination/unix", .summary = "a migration to a unix socket where nothing listens", .transport = TRANSPORT_UNIX,
      .fault = FAULT_BAD_DESTINATION, .expect = EXPECT_FAILED },

    /* TLS over unix, postcopy over TLS (QEMU: precopy/unix/tls/psk,
     * postcopy/{,recovery/,preempt/,preempt/recovery/}tls/psk). */
    { .name = "tls-psk/unix", .summary = "PSK TLS over a unix socket, proved encrypted on the wire", .transport = TRANSPORT_UNIX, .tls = TLS_PSK,
      .params = params_tls, TLS_OK },
    { .name = "tls-psk/postcopy", .summary = "postcopy over PSK TLS, proved encrypted on the wire", .transport = TRANSPORT_TCP, .tls = TLS_PSK,
      .params = params_tls, .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, POSTCOPY_VERIFY, TLS_OK },
    { .name = "tls-psk/postcopy-recover", .summary = "postcopy over PSK TLS, paused and recovered", .transport = TRANSPORT_UNIX, .tls = TLS_PSK,
      .params = params_tls, .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .postcopy_recover = TRUE, POSTCOPY_VERIFY, TLS_OK },
    { .name = "tls-psk/postcopy-preempt", .summary = "postcopy with the preempt channel over PSK TLS", .transport = TRANSPORT_TCP, .tls = TLS_PSK,
      .params = params_tls, .capabilities = caps_preempt, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, POSTCOPY_VERIFY, TLS_OK },
    { .name = "tls-psk/postcopy-preempt-recover", .summary = "postcopy-preempt over PSK TLS, paused and recovered", .transport = TRANSPORT_TCP, .tls = TLS_PSK,
      .params = params_tls, .capabilities = caps_preempt, .max_bandwidth = SLOW_BANDWIDTH,
      .postcopy = TRUE, .postcopy_recover = TRUE, POSTCOPY_VERIFY, TLS_OK },

    /* The x509 policy matrix (QEMU: precopy/{tcp,unix}/tls/x509/...). */
    { .name = "tls-x509/unix/default-host", .summary = "x509 over unix without tls-hostname: QEMU has no name to check and fails", .transport = TRANSPORT_UNIX, .tls = TLS_X509,
      .params = params_tls, TLS_ROW, .expect = EXPECT_FAILED, .observe = OBSERVE_REFUSED,
      .refused_with = "hostname", .no_remigration = TRUE },
    { .name = "tls-x509/unix/override-host", .summary = "x509 over unix with tls-hostname naming the server's certificate", .transport = TRANSPORT_UNIX, .tls = TLS_X509,
      .x509 = X509_OVERRIDE_HOST, .params = params_tls_hostname, TLS_OK },
    { .name = "tls-x509/override-host", .summary = "x509 over tcp with tls-hostname naming the server's certificate", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .x509 = X509_OVERRIDE_HOST, .params = params_tls_hostname, TLS_OK },
    { .name = "tls-x509/mismatch-host", .summary = "x509 whose server certificate names another host: the handshake fails", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .x509 = X509_MISMATCH_HOST, .params = params_tls, .fault = FAULT_X509, TLS_FAILS },
    { .name = "tls-x509/authz-allow", .summary = "x509 with tls-authz admitting the client's distinguished name", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .x509 = X509_AUTHZ_ALLOW, .params = params_tls_authz, TLS_OK },
    { .name = "tls-x509/authz-deny", .summary = "x509 with tls-authz admitting another name: the destination refuses", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .x509 = X509_AUTHZ_DENY, .params = params_tls_authz, .fault = FAULT_X509, TLS_FAILS },
    { .name = "tls-x509/anon-allowed", .summary = "x509 client without a certificate, server verify-peer off", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .x509 = X509_ANON_ALLOWED, .params = params_tls, TLS_OK },
    { .name = "tls-x509/anon-rejected", .summary = "x509 client without a certificate, server verify-peer on: refused", .transport = TRANSPORT_TCP, .tls = TLS_X509,
      .x509 = X509_ANON_REJECTED, .params = params_tls, .fault = FAULT_X509, TLS_FAILS },

    /* Multifd over TLS (QEMU: multifd/tcp/tls/...): every channel is TLS. */
    { .name = "multifd-tls/psk/match", .summary = "multifd over PSK TLS: every channel encrypted", .transport = TRANSPORT_TCP, .capabilities = caps_multifd,
      .tls = TLS_PSK, .params = params_multifd_tls, TLS_OK },
    { .name = "multifd-tls/psk/mismatch", .summary = "multifd over TLS with different pre-shared keys: the handshake fails", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .tls = TLS_PSK, .params = params_multifd_tls,
      .fault = FAULT_TLS_MISMATCH, TLS_FAILS },
    { .name = "multifd-tls/x509/default-host", .summary = "multifd over x509 TLS: every channel encrypted", .transport = TRANSPORT_TCP, MULTIFD_TLS,
      .params = params_multifd_tls, TLS_OK },
    { .name = "multifd-tls/x509/override-host", .summary = "multifd over x509 TLS with tls-hostname", .transport = TRANSPORT_TCP, MULTIFD_TLS,
      .x509 = X509_OVERRIDE_HOST, .params = params_multifd_tls_hostname, TLS_OK },
    { .name = "multifd-tls/x509/mismatch-host", .summary = "multifd over x509 TLS, server certificate for another host", .transport = TRANSPORT_TCP, MULTIFD_TLS,
      .x509 = X509_MISMATCH_HOST, .params = params_multifd_tls, .fault = FAULT_X509,
      TLS_FAILS },
    { .name = "multifd-tls/x509/anon-allowed", .summary = "multifd over x509 TLS, anonymous client allowed", .transport = TRANSPORT_TCP, MULTIFD_TLS,
      .x509 = X509_ANON_ALLOWED, .params = params_multifd_tls, TLS_OK },
    { .name = "multifd-tls/x509/anon-rejected", .summary = "multifd over x509 TLS, anonymous client rejected", .transport = TRANSPORT_TCP, MULTIFD_TLS,
      .x509 = X509_ANON_REJECTED, .params = params_multifd_tls, .fault = FAULT_X509,
      TLS_FAILS },

    /* Postcopy variants (QEMU: postcopy/preempt/recovery/plain, blocktime
     * as postcopy/plain reads it). */
    { .name = "postcopy-preempt/recover", .summary = "postcopy with the preempt channel, paused and recovered", .transport = TRANSPORT_TCP,
      .capabilities = caps_preempt, .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE,
      .postcopy_recover = TRUE, POSTCOPY_VERIFY, .observe = OBSERVE_RECOVERED },
    { .name = "postcopy/blocktime", .summary = "postcopy with postcopy-blocktime: the destination measures vCPU blocktime", .transport = TRANSPORT_TCP,
      .capabilities = caps_blocktime, .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE,
      POSTCOPY_VERIFY, .observe = OBSERVE_BLOCKTIME },

    /* A cancel in postcopy-active: the destination already runs the guest,
     * so the source must not resume (that would be time travel); QEMU must
     * refuse, and the migration then completes. */
    { .name = "cancel/postcopy-active", .summary = "migrate_cancel in postcopy-active is "
      "refused and the postcopy migration completes", .transport = TRANSPORT_TCP,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE,
      .cancel_at = "postcopy-active", .cancel_refusable = TRUE, POSTCOPY_VERIFY,
      .observe = OBSERVE_CANCEL_REFUSED },
    /* auto-converge with a hot set that stays hot through the throttle's
     * dirty syncs: the throttle rises, the hot pages keep changing. */
    { .name = "auto-converge/hot", .summary = "auto-converge while a hot set stays hot "
      "through several dirty syncs", .transport = TRANSPORT_TCP,
      .capabilities = caps_auto_converge, .params = params_throttle_cap,
      .max_bandwidth = THROTTLE_BANDWIDTH, .downtime_limit_ms = 1, .hot_pages = HOT_PAGES,
      .release_when = held_at_cap, .throttle_cap = THROTTLE_CAP,
      .observe = OBSERVE_THROTTLE_CAPPED },

    /* Double failures (QEMU: postcopy/recovery/double-failures/{handshake,reconnect}):
     * the first resume fails at connect, or hangs in its handshake and is
     * paused; the second recovers.  QEMU >= 9.1: postcopy-recover-setup,
     * and migrate-pause out of postcopy-recover (7.2 refuses it: "only
     * supported during postcopy-active"). */
    { .name = "postcopy-recover/fail-connect", .summary = "postcopy recovery whose first resume "
      "finds nothing listening; the second recovers", .transport = TRANSPORT_UNIX,
      .min_version = V9_1,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE,
      .postcopy_recover = TRUE, .recover_fault = RECOVER_FAIL_CONNECT, POSTCOPY_VERIFY,
      .observe = OBSERVE_RECOVERED_AGAIN },
    { .name = "postcopy-recover/fail-handshake", .summary = "postcopy recovery whose first "
      "resume hangs in the handshake and is paused; the second recovers",
      .transport = TRANSPORT_UNIX, .min_version = V9_1, .capabilities = caps_postcopy,
      .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE, .postcopy_recover = TRUE,
      .recover_fault = RECOVER_FAIL_HANDSHAKE, POSTCOPY_VERIFY,
      .observe = OBSERVE_RECOVERED_AGAIN },

    /* zero-page-detection with pages that turn all-zero again between
     * passes: exact then shows them zero on the destination. */
    { .name = "zero-page/none", .summary = "multifd with zero-page-detection none while the "
      "guest re-zeroes pages", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .capabilities = caps_multifd, .params = params_zero_none, ZERO_RUNS,
      .observe = OBSERVE_ZERO_PAGES },
    { .name = "zero-page/legacy", .summary = "multifd with zero-page-detection legacy while "
      "the guest re-zeroes pages", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .capabilities = caps_multifd, .params = params_zero_legacy, ZERO_RUNS,
      .observe = OBSERVE_ZERO_PAGES },
    { .name = "zero-page/multifd", .summary = "multifd with zero-page-detection multifd while "
      "the guest re-zeroes pages", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .capabilities = caps_multifd, .params = params_zero_multifd, ZERO_RUNS,
      .observe = OBSERVE_ZERO_PAGES },

    /* background-snapshot (no qtest): the source keeps running while a
     * write-protected copy of its RAM as of the start goes to a file; a
     * fresh destination loads it.  The source moved on: no exact; the
     * invariant dates the image (generation <= passes at start + 2). */
    { .name = "background-snapshot/file", .summary = "background-snapshot to a file while "
      "the guest runs; the loaded image is the RAM of when it started",
      .transport = TRANSPORT_FILE, .min_version = QEMU_VERSION(8, 2, 0),
      .capabilities = caps_background_snapshot, .max_bandwidth = SLOW_BANDWIDTH,
      .verify = VERIFY_INVARIANT | VERIFY_SELFCHECK, .observe = OBSERVE_POINT_IN_TIME },

    /* switchover-ack: the source logs the destination's ack. */
    { .name = "switchover-ack/tcp", .summary = "return-path and switchover-ack: the source "
      "switches over only after the destination's ack", .transport = TRANSPORT_TCP,
      .capabilities = caps_switchover_ack,
      .trace_event = "source_return_path_thread_switchover_acked", .observe = OBSERVE_TRACE },
    /* dirty-limit needs KVM's dirty ring: under TCG it is a skip. */
    { .name = "dirty-limit/tcp", .summary = "dirty-limit throttles the vCPUs' dirty rate "
      "until the migration converges", .only_arch = "x86_64", .only_accel = "kvm",
      .accel_props = ",dirty-ring-size=4096", .transport = TRANSPORT_TCP,
      .capabilities = caps_dirty_limit, .params = params_dirty_limit,
      .max_bandwidth = DIRTY_LIMIT_BANDWIDTH, .downtime_limit_ms = 1,
      .release_when = dirty_limited, .observe = OBSERVE_DIRTY_LIMIT },

    /* mapped-ram and the file: options (QEMU: precopy/file/..., multifd/file/...). */
    { .name = "mapped-ram/stopped", .summary = "mapped-ram file migration, source stopped", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .capabilities = caps_mapped_ram, .stop_source_first = TRUE,
      .observe = OBSERVE_MAPPED_RAM },
    { .name = "mapped-ram/live", .summary = "mapped-ram file migration while the guest runs", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .capabilities = caps_mapped_ram, .observe = OBSERVE_MAPPED_RAM },
    { .name = "mapped-ram/multifd/stopped", .summary = "mapped-ram with multifd channels writing the file, source stopped", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .capabilities = caps_mapped_multifd, .params = params_multifd,
      .stop_source_first = TRUE, .observe = OBSERVE_MAPPED_RAM },
    { .name = "mapped-ram/multifd/live", .summary = "mapped-ram with multifd while the guest runs", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .capabilities = caps_mapped_multifd, .params = params_multifd,
      .observe = OBSERVE_MAPPED_RAM },
    { .name = "mapped-ram/multifd/dio", .summary = "mapped-ram with multifd and direct-io on a disk that allows O_DIRECT", .transport = TRANSPORT_FILE, .min_version = V9_1,
      .capabilities = caps_mapped_multifd, .params = params_multifd_dio,
      .stop_source_first = TRUE, .file_direct_io = TRUE, .observe = OBSERVE_MAPPED_RAM },
    { .name = "mapped-ram/multifd/fdset", .summary = "mapped-ram with multifd to a file passed in an fdset (add-fd)", .transport = TRANSPORT_FILE, .min_version = V9_1,
      .capabilities = caps_mapped_multifd, .params = params_multifd,
      .stop_source_first = TRUE, .file_fdset = TRUE, .observe = OBSERVE_MAPPED_RAM },
    { .name = "mapped-ram/multifd/fdset/dio", .summary = "mapped-ram with multifd and direct-io through an fdset", .transport = TRANSPORT_FILE,
      .min_version = V9_1, .capabilities = caps_mapped_multifd, .params = params_multifd_dio,
      .stop_source_first = TRUE, .file_fdset = TRUE, .file_direct_io = TRUE,
      .observe = OBSERVE_MAPPED_RAM },
    { .name = "file/offset", .summary = "a file: migration at offset 4096: the bytes before it survive", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .file_offset = FILE_OFFSET, .stop_source_first = TRUE, .observe = OBSERVE_MAPPED_RAM },
    { .name = "file/offset/fdset", .summary = "a file: migration at an offset, the file passed in an fdset", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .file_offset = FILE_OFFSET, .file_fdset = TRUE, .stop_source_first = TRUE,
      .observe = OBSERVE_MAPPED_RAM },
    { .name = "file/offset/bad", .summary = "a file: URI with an offset QEMU cannot parse: migrate is refused", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .file_bad_offset = TRUE, .expect = EXPECT_REFUSED, .refused_with = "bad offset",
      .observe = OBSERVE_REFUSED },
    { .name = "file/fd", .summary = "an fd: migration into a regular file and back", .transport = TRANSPORT_FILE, .file_getfd = TRUE,
      .stop_source_first = TRUE, .observe = OBSERVE_STOPPED_SOURCE },

    /* The channels syntax on every transport, and its two refusals
     * (QEMU: multifd/tcp/channels/plain/none, validate_uri/channels/...). */
    { .name = "channels/tcp", .summary = "the 'channels' syntax on tcp", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .addr = ADDR_CHANNELS, .observe = OBSERVE_CHANNELS },
    { .name = "channels/unix", .summary = "the 'channels' syntax on a unix socket", .transport = TRANSPORT_UNIX, .min_version = V9_0,
      .addr = ADDR_CHANNELS, .observe = OBSERVE_CHANNELS },
    { .name = "channels/fd", .summary = "the 'channels' syntax on a passed socket fd", .transport = TRANSPORT_FD, .min_version = V9_0,
      .addr = ADDR_CHANNELS, .observe = OBSERVE_CHANNELS },
    { .name = "channels/exec", .summary = "the 'channels' syntax on exec", .transport = TRANSPORT_EXEC, .min_version = V9_0,
      .addr = ADDR_CHANNELS, .observe = OBSERVE_CHANNELS },
    { .name = "channels/file", .summary = "the 'channels' syntax on file", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .addr = ADDR_CHANNELS, .observe = OBSERVE_CHANNELS },
    { .name = "channels/multifd", .summary = "multifd addressed with 'channels'", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .addr = ADDR_CHANNELS, .capabilities = caps_multifd, .params = params_multifd,
      .observe = OBSERVE_MULTIFD },
    { .name = "channels/both-set", .summary = "migrate with both 'uri' and 'channels': refused", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .addr = ADDR_BOTH, .expect = EXPECT_REFUSED, .refused_with = "need either 'uri' or 'channels'",
      .observe = OBSERVE_REFUSED },
    { .name = "channels/none-set", .summary = "migrate with neither 'uri' nor 'channels': refused", .transport = TRANSPORT_TCP, .min_version = V9_0,
      .addr = ADDR_NEITHER, .expect = EXPECT_REFUSED, .refused_with = "need either 'uri' or 'channels'",
      .observe = OBSERVE_REFUSED },

    /* x-ignore-shared with each RAM backend QEMU offers (QEMU: ignore-shared,
     * live, shmem only).  It promises that the destination already has
     * the source's RAM; only one file both map keeps that promise.  The
     * destination is checked against a copy of the source's RAM taken at
     * pre-switchover: it must be exactly that, or QEMU must refuse. */
    { .name = "ignore-shared/file", .summary = "x-ignore-shared, both QEMUs on one shared "
      "tmpfs file: the RAM is not sent and the destination has it", .transport = TRANSPORT_UNIX,
      .capabilities = caps_ignore_shared, .ram = CASE_RAM_FILE_COMMON,
      .observe = OBSERVE_IGNORE_SHARED },
    { .name = "ignore-shared/memfd", .summary = "x-ignore-shared with a memfd each: nothing is "
      "shared, so the RAM must still arrive", .transport = TRANSPORT_UNIX,
      .capabilities = caps_ignore_shared, .ram = CASE_RAM_MEMFD,
      .observe = OBSERVE_IGNORE_SHARED },
    { .name = "ignore-shared/ram-share", .summary = "x-ignore-shared with memory-backend-ram "
      "share=on: shared with nobody, so the RAM must still arrive", .transport = TRANSPORT_UNIX,
      .capabilities = caps_ignore_shared, .ram = CASE_RAM_ANON_SHARED,
      .observe = OBSERVE_IGNORE_SHARED },
    { .name = "ignore-shared/private", .summary = "x-ignore-shared with private RAM: the RAM "
      "must still arrive", .transport = TRANSPORT_UNIX, .capabilities = caps_ignore_shared,
      .ram = CASE_RAM_ANON_PRIVATE, .observe = OBSERVE_IGNORE_SHARED },
    /* QEMU: multifd/file/mapped-ram/ignore-shared (after 10.2). */
    { .name = "ignore-shared/mapped-ram", .summary = "mapped-ram file migration with "
      "x-ignore-shared on one shared file", .transport = TRANSPORT_FILE, .min_version = V9_0,
      .capabilities = caps_mapped_ignore_shared, .ram = CASE_RAM_FILE_COMMON,
      .stop_source_first = TRUE, .observe = OBSERVE_IGNORE_SHARED },

    /* cpr-reboot (QEMU: mode/reboot): the source saves its state to a file
     * and quits; a QEMU started only then, on the same RAM file, loads it.
     * Its RAM must be the copy taken when the source stopped (a QEMU that
     * re-initialised RAM at start would show). */
    { .name = "cpr-reboot/file", .summary = "cpr-reboot: the source saves to a file and quits; "
      "a new QEMU on the same shared RAM file loads it", .transport = TRANSPORT_FILE,
      .min_version = QEMU_VERSION(8, 2, 0), .capabilities = caps_ignore_shared,
      .params = params_cpr_reboot, .ram = CASE_RAM_FILE_COMMON, .cpr = CPR_REBOOT,
      .observe = OBSERVE_IGNORE_SHARED },

    /* cpr-transfer (QEMU 10.0: mode/transfer{,/defer}): a target started
     * while the source runs gets the source's memfd RAM over the cpr
     * channel and maps it; nothing of the RAM is sent.  Its RAM must be
     * the copy taken at stop. */
    { .name = "cpr-transfer/unix", .summary = "cpr-transfer: the target maps the source's "
      "memfd RAM, passed over the cpr channel", .transport = TRANSPORT_UNIX,
      .min_version = QEMU_VERSION(10, 0, 0), .params = params_cpr_transfer,
      .ram = CASE_RAM_MEMFD, .cpr = CPR_TRANSFER, .machine_props = "aux-ram-share=on",
      .observe = OBSERVE_IGNORE_SHARED },
    { .name = "cpr-transfer/defer", .summary = "cpr-transfer with -incoming defer: "
      "migrate-incoming once the target got the cpr state", .transport = TRANSPORT_UNIX,
      .min_version = QEMU_VERSION(10, 0, 0), .params = params_cpr_transfer,
      .ram = CASE_RAM_MEMFD, .cpr = CPR_TRANSFER_DEFER, .machine_props = "aux-ram-share=on",
      .observe = OBSERVE_IGNORE_SHARED },

    /* Cancels that QEMU's cancel/src/after/<status> adds to cases.c's. */
    { .name = "cancel/cancelling", .summary = "a second migrate_cancel while the first is in 'cancelling'", .transport = TRANSPORT_TCP, .cancel_at = "active",
      .cancel_again_at = "cancelling", .max_bandwidth = SLOW_BANDWIDTH,
      .expect = EXPECT_CANCELLED, .observe = OBSERVE_CANCELLED_TWICE },
    { .name = "cancel/cancelled", .summary = "migrate_cancel after the migration was cancelled: it stays cancelled", .transport = TRANSPORT_TCP, .cancel_at = "active",
      .cancel_after_end = TRUE, .max_bandwidth = SLOW_BANDWIDTH,
      .expect = EXPECT_CANCELLED, .observe = OBSERVE_CANCELLED_IN },
    { .name = "multifd/cancel", .summary = "migrate_cancel of an active multifd migration, then a fresh destination", .transport = TRANSPORT_TCP, .capabilities = caps_multifd,
      .params = params_multifd, .cancel_at = "active", .max_bandwidth = SLOW_BANDWIDTH,
      .expect = EXPECT_CANCELLED, .observe = OBSERVE_CANCELLED_IN },

    /* validate-uuid with one side unset: nothing to compare, it completes. */
    { .name = "validate-uuid/src-only", .summary = "validate-uuid with -uuid on the source only: it completes", .transport = TRANSPORT_TCP,
      .capabilities = caps_uuid, .uuid = TRUE, .uuid_sides = UUID_SRC_ONLY },
    { .name = "validate-uuid/dst-only", .summary = "validate-uuid with -uuid on the destination only: it completes", .transport = TRANSPORT_TCP,
      .capabilities = caps_uuid, .uuid = TRUE, .uuid_sides = UUID_DST_ONLY },

    /* exit-on-error false on the failure rows: the destination stays up. */
    { .name = "validate-uuid/mismatch/no-exit", .summary = "a UUID mismatch with exit-on-error false: the destination stays up", .transport = TRANSPORT_TCP,
      .min_version = V9_1, .capabilities = caps_uuid, .uuid = TRUE,
      .fault = FAULT_UUID_MISMATCH, .expect = EXPECT_FAILED, .dst_no_exit = TRUE,
      .observe = OBSERVE_DST_NO_EXIT },
    { .name = "tls-psk/mismatch/no-exit", .summary = "a PSK mismatch with exit-on-error false: the destination stays up", .transport = TRANSPORT_TCP, .min_version = V9_1,
      .tls = TLS_PSK, .params = params_tls, .fault = FAULT_TLS_MISMATCH,
      .expect = EXPECT_FAILED, .dst_no_exit = TRUE, .observe = OBSERVE_DST_NO_EXIT },

    /* Compression levels (non-live, as QEMU's: level 9 under a loaded
     * host's TCG can fall behind a running guest for minutes), and
     * max-cpu-throttle. */
    { .name = "multifd/zlib/level-1", .summary = "multifd zlib at multifd-zlib-level 1", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_zlib_1, .observe = OBSERVE_MULTIFD,
      .stop_source_first = TRUE,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "multifd/zlib/level-9", .summary = "multifd zlib at multifd-zlib-level 9", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_zlib_9, .observe = OBSERVE_MULTIFD,
      .stop_source_first = TRUE,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "multifd/zstd/level-1", .summary = "multifd zstd at multifd-zstd-level 1", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_zstd_1, .observe = OBSERVE_MULTIFD,
      .stop_source_first = TRUE,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "multifd/zstd/level-9", .summary = "multifd zstd at multifd-zstd-level 9", .transport = TRANSPORT_TCP,
      .capabilities = caps_multifd, .params = params_zstd_9, .observe = OBSERVE_MULTIFD,
      .stop_source_first = TRUE,
      .downtime_limit_ms = SLOW_CHANNEL_DOWNTIME_MS },
    { .name = "auto-converge/max-throttle", .summary = "auto-converge capped by max-cpu-throttle through several dirty syncs", .transport = TRANSPORT_TCP,
      .capabilities = caps_auto_converge, .params = params_throttle_cap,
      .max_bandwidth = THROTTLE_BANDWIDTH, .downtime_limit_ms = 1,
      .release_when = held_at_cap, .throttle_cap = THROTTLE_CAP,
      .observe = OBSERVE_THROTTLE_CAPPED },

    /* Guest suspend (QEMU: precopy/unix/suspend/{live,notlive},
     * postcopy/suspend): the guest suspends itself to S3, migrates asleep,
     * exact and the invariant before the wake-up, system_wakeup on the
     * destination, and the guest checks every page on its next pass. */
    { .name = "precopy/unix/suspend/live", .summary = "the guest suspended (ACPI S3) and migrated live; woken on the destination it checks every page", .transport = TRANSPORT_UNIX,
      .only_arch = "x86_64", .suspend = SUSPEND_AFTER, .hot_pages = HOT_PAGES,
      .observe = OBSERVE_SUSPENDED },
    { .name = "precopy/unix/suspend/notlive", .summary = "the guest suspended (ACPI S3), the source stopped, migrated; woken on the destination it checks every page", .transport = TRANSPORT_UNIX,
      .only_arch = "x86_64", .suspend = SUSPEND_AFTER, .hot_pages = HOT_PAGES,
      .stop_source_first = TRUE, .observe = OBSERVE_SUSPENDED },
    { .name = "postcopy/suspend", .summary = "the guest suspended (ACPI S3) through a postcopy migration; exact before the wake-up on the destination", .transport = TRANSPORT_TCP,
      .only_arch = "x86_64", .suspend = SUSPEND_AFTER, .hot_pages = HOT_PAGES,
      .capabilities = caps_postcopy, .max_bandwidth = SLOW_BANDWIDTH, .postcopy = TRUE,
      .fill = MT_FILL_FULL, .observe = OBSERVE_SUSPENDED },
};

const gsize cases_qemu10_count = G_N_ELEMENTS(cases_qemu10);
