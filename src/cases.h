/*
 * cases.h: the scenario catalogue as data.  A case is an architecture
 * crossed with a row of case_table, built from orthogonal axes (transport,
 * mode, capabilities, parameters, fault, verification).  Its name is
 * hierarchical and stable ("/x86_64/precopy/tcp"): --case filters on it,
 * the JSON and JUnit reports carry it, its log directory is named by it.
 * Every row also says what the run must have observed for the case to
 * count as having exercised its feature, not only that it completed.
 */
#ifndef MIGTEST_CASES_H
#define MIGTEST_CASES_H

#include "arch.h"
#include "coherency.h"
#include "migrate.h"
#include "netns.h"

/* Which machinery can run a row (backend.h); a mask in CaseDesc.backends. */
typedef enum {
    BACKEND_QEMU = 1 << 0,
    BACKEND_LIBVIRT = 1 << 1,
} BackendKind;

typedef enum {
    EXPECT_COMPLETED,
    EXPECT_FAILED,
    EXPECT_CANCELLED,
    EXPECT_REFUSED,         /* QEMU answers migrate with an error (refused_with) */
} CaseExpect;

typedef enum {
    VERIFY_EXACT = 1 << 0,
    VERIFY_INVARIANT = 1 << 1,
    VERIFY_SELFCHECK = 1 << 2,
    VERIFY_ALL = VERIFY_EXACT | VERIFY_INVARIANT | VERIFY_SELFCHECK,
} CaseVerify;

typedef enum {
    OBSERVE_NOTHING,        /* completing and verifying is the feature */
    OBSERVE_STOPPED_SOURCE, /* the source was paused before migrate */
    OBSERVE_THROTTLE,       /* cpu-throttle-percentage rose */
    OBSERVE_XBZRLE,         /* xbzrle-cache pages > 0 */
    OBSERVE_MULTIFD,        /* multifd-bytes > 0 */
    OBSERVE_POSTCOPY,       /* status went through postcopy-active */
    OBSERVE_RECOVERED,      /* postcopy-paused, then postcopy-recover */
    OBSERVE_PRE_SWITCHOVER, /* pre-switchover was seen */
    OBSERVE_DIRTY_RING,     /* calc-dirty-rate in dirty-ring mode works */
    OBSERVE_STAYED_ACTIVE,  /* still active after hold_active_ms */
    OBSERVE_CANCELLED_IN,   /* migrate_cancel was issued in cancel_at */
    OBSERVE_TLS,            /* tls-creds in force on the source */
    OBSERVE_LINK,           /* the real link shaped or cut the stream (netns.h) */
    OBSERVE_WIRE_TLS,       /* every byte relayed was a TLS record (wiretap.h) */
    OBSERVE_HANDSHAKE_FAILED, /* only a TLS handshake crossed, then it failed */
    OBSERVE_MAPPED_RAM,     /* the file is laid out by RAM offset (sparse, >= RAM) */
    OBSERVE_REFUSED,        /* migrate was refused with refused_with */
    OBSERVE_DIRTY_LIMIT,    /* dirty-limit-throttle-time-per-round > 0 */
    OBSERVE_BLOCKTIME,      /* dst query-migrate reports postcopy-blocktime */
    OBSERVE_DST_NO_EXIT,    /* exit-on-error off: dst alive, 'failed' + error-desc */
    OBSERVE_CANCELLED_TWICE,/* cancel_at, then cancel_again_at, both sent */
    OBSERVE_THROTTLE_CAPPED,/* the throttle reached max-cpu-throttle, never more */
    OBSERVE_CHANNELS,       /* QEMU took the address as "channels" both sides */
    OBSERVE_ZERO_PAGES,     /* ram.duplicate: 0 with zero-page-detection none, else > 0 */
    OBSERVE_TRACE,          /* the trace event in trace_event fired on the source */
    OBSERVE_RECOVERED_AGAIN,/* a failed resume back to postcopy-paused, then recovered */
    OBSERVE_CANCEL_REFUSED, /* QEMU refused migrate_cancel in cancel_at */
    OBSERVE_POINT_IN_TIME,  /* the loaded image is the RAM of when migrate started */
    OBSERVE_IGNORE_SHARED,  /* x-ignore-shared/cpr: a shared file's RAM was not sent */
    OBSERVE_SUSPENDED,      /* guest suspend: S3 on the source, woken on the destination (suspend.h) */
} CaseObserve;

/* The guest RAM backend a row needs (x-ignore-shared, cpr), whatever
 * --ram says.  Every one but the default is checked against a private
 * copy of the source's RAM taken at stop (pair_keep_src_copy): with one
 * shared file, source against destination compares the file with itself. */
typedef enum {
    CASE_RAM_DEFAULT,       /* --ram shared|private */
    CASE_RAM_FILE_COMMON,   /* memory-backend-file,share=on: one tmpfs file both map */
    CASE_RAM_MEMFD,         /* memory-backend-memfd,share=on: a memfd each */
    CASE_RAM_ANON_SHARED,   /* memory-backend-ram,share=on */
    CASE_RAM_ANON_PRIVATE,  /* memory-backend-ram,share=off */
} CaseRam;

/* QEMU's migration mode (migrate-set-parameters mode, QEMU >= 8.2). */
typedef enum {
    CPR_NONE,               /* mode normal */
    CPR_REBOOT,             /* quit the source, a new QEMU loads the file */
    CPR_TRANSFER,           /* the target gets the RAM's fds over a cpr channel */
    CPR_TRANSFER_DEFER,     /* ... with -incoming defer for the main channel */
} CaseCpr;

/* x509 variants (QEMU's tls-tests.c): who holds which certificate. */
typedef enum {
    X509_DEFAULT,           /* server cert for 127.0.0.1, client cert, verify-peer */
    X509_MISMATCH_HOST,     /* the server's cert names 10.0.0.1 only */
    X509_OVERRIDE_HOST,     /* cert for migtest.example, tls-hostname says so */
    X509_ANON_ALLOWED,      /* client without a cert, server verify-peer=off */
    X509_ANON_REJECTED,     /* client without a cert, server verify-peer=on */
    X509_AUTHZ_ALLOW,       /* tls-authz: authz-simple with the client's DN */
    X509_AUTHZ_DENY,        /* tls-authz: authz-simple with another DN */
} X509Policy;

/* -uuid on which side (validate-uuid). */
typedef enum {
    UUID_BOTH,              /* the default when .uuid is set */
    UUID_SRC_ONLY,
    UUID_DST_ONLY,
} UuidSides;

/* How the migration's address is given to migrate / migrate-incoming. */
typedef enum {
    ADDR_URI,               /* "uri": the default */
    ADDR_CHANNELS,          /* "channels": [{ channel-type: main, addr }] */
    ADDR_BOTH,              /* both: QEMU must refuse */
    ADDR_NEITHER,           /* neither: QEMU must refuse */
} AddrSyntax;

typedef enum {
    TLS_NONE,
    TLS_PSK,
    TLS_X509,
} CaseTls;

typedef enum {
    FAULT_NONE,
    FAULT_BAD_DESTINATION,  /* nothing listens where the source connects */
    FAULT_UUID_MISMATCH,    /* -uuid differs between the sides */
    FAULT_TLS_MISMATCH,     /* the sides hold different PSKs */
    FAULT_CANCEL_BEFORE,    /* migrate_cancel before any migration */
    FAULT_CANCEL_AFTER,     /* migrate_cancel after it completed / failed */
    FAULT_X509,             /* the x509 policy makes the handshake fail */
} CaseFault;

typedef struct {
    const char *name;               /* below the arch: "precopy/tcp" */
    const char *summary;            /* what it is about, one line (migtest list --long) */
    const char *only_arch;          /* NULL: every architecture */
    const char *only_accel;         /* NULL: either */
    const char *accel_props;        /* appended to -accel */
    int min_version;                /* QEMU version code both sides need */
    Transport transport;
    const char *const *capabilities;
    const MigrateParam *params;
    guint64 max_bandwidth;          /* 0: the runner's default */
    guint64 downtime_limit_ms;      /* 0: the runner's default */
    gboolean stop_source_first;
    gboolean postcopy;
    gboolean postcopy_recover;
    gboolean continue_at_pre_switchover;
    const char *cancel_at;
    gint64 hold_active_ms;
    gboolean cancel_stalled;        /* then stall the destination, cancel (migrate.h) */
    gboolean (*release_when)(const MigrateStats *stats, gpointer unused);
    gboolean release_stops_source;
    guint release_after_passes;     /* ... and not before the guest made this many passes */
    gboolean release_after_mmu_off; /* once the guest has passed mmu_off_after */
    guint hot_pages;                /* payload hot set size, 0: none */
    guint zero_every;               /* payload zero runs: passes between two, 0: none */
    guint zero_pages;               /* pages in a zero run */
    guint zero_method;              /* MT_ZERO_* */
    guint fill;                     /* MT_FILL_*: MT_FILL_FULL checks whole pages */
    guint hot_op;                   /* MT_HOT_*: MT_HOT_ATOMIC updates the hot set atomically */
    gboolean canaries;              /* the guest checks CPU-state canaries every pass */
    guint vcpus;                    /* vCPUs (-smp); 0: 1.  The payload's MT_P_VCPUS */
    gboolean devprobe;              /* the guest checks device registers every pass */
    /* Machine type when --machine does not say (NULL: the arch's
     * default), and its versioned family for two QEMU releases. */
    const char *machine;
    const char *machine_family;
    guint top_pages;                /* a second range: the last N pages of guest RAM */
    gboolean top_only;              /* ... as the only range (the window is not swept) */
    guint mem_tail_kib;             /* RAM this much above --mem (a multiple of 8 KiB):
                                     * a RAM block QEMU syncs page by page */
    const char *variant;            /* payload variant, NULL: the arch's default */
    gboolean linux_guest;           /* a stock kernel with our /init */
    guint mmu_off_after;            /* mmu-off-late: passes before MMU off */
    /* Coherency matrix rows fix the policy and say where it must act. */
    gboolean coherency_case;
    MmuPolicy mmu_policy;
    const char *expect_fired;       /* "start", "pre-switchover" or NULL */
    gboolean uuid;                  /* give both sides a -uuid */
    CaseTls tls;
    CaseFault fault;
    CaseExpect expect;
    CaseVerify verify;              /* 0: VERIFY_ALL */
    CaseObserve observe;
    gboolean smoke;                 /* part of the default run */
    guint backends;                 /* BackendKind mask; 0: BACKEND_QEMU only */
    /* The QEMUs in network namespaces of their own, over this link
     * (netns.h), cut as link_cut says; NULL: loopback. */
    const LinkShape *link;
    LinkCut link_cut;
    /* QEMU 10 coverage (issue #12; rows in cases-qemu10.c). */
    gboolean cancel_after_end;      /* migrate_cancel again once it ended */
    const char *cancel_again_at;    /* a second migrate_cancel in this status */
    const char *refused_with;       /* EXPECT_REFUSED: text of QEMU's error */
    X509Policy x509;
    gboolean wiretap;               /* relay the stream through wiretap.h */
    UuidSides uuid_sides;
    AddrSyntax addr;
    guint64 file_offset;            /* file: ...,offset=N (N bytes before kept) */
    gboolean file_fdset;            /* file: /dev/fdset/N via add-fd */
    gboolean file_direct_io;        /* the file on a disk that allows O_DIRECT */
    gboolean dst_no_exit;           /* migrate-incoming exit-on-error=false */
    gboolean file_bad_offset;       /* file: an offset QEMU must refuse */
    gboolean file_getfd;            /* the file handed over as fd: (getfd) */
    gboolean no_remigration;        /* a failure no fresh destination can fix */
    gint64 throttle_cap;            /* OBSERVE_THROTTLE_CAPPED: max-cpu-throttle */
    const char *trace_event;        /* -trace on the source; OBSERVE_TRACE */
    RecoverFault recover_fault;     /* postcopy recovery fails once first */
    gboolean cancel_refusable;      /* QEMU may refuse cancel_at (OBSERVE_CANCEL_REFUSED) */
    CaseRam ram;                    /* the RAM backend, and a copy of it at stop */
    CaseCpr cpr;
    const char *machine_props;      /* appended to -machine ("aux-ram-share=on") */
    guint suspend;                  /* x86 guest suspend (S3) after this pass, migrated
                                     * while suspended, woken on the destination
                                     * (suspend.h); 0: none */
} CaseDesc;

typedef struct {
    const ArchDesc *arch;
    const CaseDesc *desc;
    char *name;                     /* "/<arch>/<desc->name>" */
} CaseInstance;

/* Rows of the QEMU 10 coverage family (cases-qemu10.c). */
extern const CaseDesc cases_qemu10[];
extern const gsize cases_qemu10_count;

/* Every case instance for the architectures in @archs (NULL-terminated),
 * filtered by shell-style @glob (NULL: smoke cases only).  Free with
 * g_ptr_array_unref. */
GPtrArray *cases_select(const ArchDesc *const *archs, const char *glob);

/* Why @d is an impossible combination, or NULL if it is fine. */
const char *case_desc_impossible(const CaseDesc *d);

/* Check the whole table for impossible combinations and duplicate names;
 * FALSE with the offending case named.  Run at start-up and by tests. */
gboolean cases_validate(GError **error);

#endif
