/*
 * verify.h: the RAM verifiers.  Each works on RamImage snapshots, so unit
 * tests can feed it synthetic RAM with injected faults.
 *   exact      every byte of source RAM equals the destination's.
 *   invariant  the destination's test window is one consistent state of
 *              the guest's sweep (guest/migtest-abi.h, "Memory pattern"),
 *              its hot words, if any, agree with it ("Hot set"), and the
 *              pages its zero runs say are zero are zero in every byte
 *              ("Zero runs"); with fill=full every word of every page
 *              is checked ("Whole-page fill").
 *   selfcheck  neither guest reported an 'E' record.
 * Each returns FALSE with MT_ERROR_VERIFY when it finds wrong memory;
 * the result struct holds the evidence either way.
 */
#ifndef MIGTEST_VERIFY_H
#define MIGTEST_VERIFY_H

#include "arch.h"
#include "payload.h"
#include "serial.h"

#define VERIFY_MAX_REPORTED 16
#define VERIFY_BYTES_SHOWN 16
/* Differing pages listed one by one (the count is never capped): a page
 * map of any corruption short of a wholesale loss, at ~130 bytes of JSON
 * per page (~530 KB at the cap). */
#define VERIFY_MAX_PAGES 4096

typedef struct {
    guint64 gpa;                /* first differing byte */
    guint8 src[VERIFY_BYTES_SHOWN];
    guint8 dst[VERIFY_BYTES_SHOWN];
    guint shown;                /* bytes valid in src/dst */
    guint bytes_differing;      /* in this page */
} ExactDiff;

typedef struct {
    guint64 pages_compared;
    guint64 pages_differing;
    guint ndiffs;               /* entries used in diffs */
    ExactDiff diffs[VERIFY_MAX_REPORTED];
    /* ExactDiff, one per differing page in address order, the first
     * VERIFY_MAX_PAGES of them; NULL before verify_exact(). */
    GArray *pages;
    RamLayout layout;           /* where the compared RAM sits */
    gint64 elapsed_us;
} ExactResult;

/* @out must be zeroed or cleared (exact_result_clear) beforehand. */
/* FALSE with MT_ERROR_VERIFY naming the count and the first differing
 * page (its gpa and both sides' bytes) if @r found any; every exact
 * verifier, local or through agents, ends with it. */
gboolean exact_result_verdict(const ExactResult *r, GError **error);

gboolean verify_exact(const RamImage *src, const RamImage *dst,
                      ExactResult *out, GError **error);
void exact_result_clear(ExactResult *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ExactResult, exact_result_clear)

typedef struct {
    guint64 gpa;                /* the word that broke the invariant */
    guint64 expected;
    guint64 found;
} InvariantViolation;

typedef struct {
    gboolean ok;
    guint64 pages_checked;
    guint64 generation;         /* head of the first page */
    guint64 boundary_gpa;       /* first page of the older generation, 0: none */
    guint64 hot_counter;        /* hot set only: h, as the sweep implies it */
    guint64 hot_boundary_gpa;   /* first hot word still at h - 1, 0: none */
    guint64 zero_pages;         /* pages checked as all-zero (zero runs) */
    /* Several vCPUs: the slices checked (0 with one vCPU), each one's
     * generation and boundary (the fields above are slice 0's). */
    guint nslices;
    guint64 slice_generation[MT_MAX_VCPUS];
    guint64 slice_boundary_gpa[MT_MAX_VCPUS];
    guint64 violations;
    guint nreported;
    InvariantViolation reported[VERIFY_MAX_REPORTED];
    char *detail;               /* one line for reports; owned */
} InvariantResult;

/* With several vCPUs (params->vcpus > 1) the single-vCPU invariant is
 * applied to each vCPU's slice (payload_params_slice) on its own.
 * With params->hot_pages > 0 the hot words are checked too; a violation
 * there is reported like a page's (gpa = the hot word).  A hot set that
 * cannot fit (see MT_MAX_HOT_PAGES) is MT_ERROR_USAGE. */
gboolean verify_invariant(const RamImage *ram, const PayloadParams *params,
                          InvariantResult *out, GError **error);
void invariant_result_clear(InvariantResult *r);

typedef struct {
    gboolean ok;
    GPtrArray *errors;          /* char *: "src: ..." / "dst: ..." */
} SelfcheckResult;

/* What one side's serial stream showed. */
typedef struct {
    const char *side;           /* "src" or "dst" */
    guint expect_a;             /* 'A' count the side must show */
    SerialCounts counts;
    GArray *errors;             /* SerialError, may be NULL */
    const char *first_junk;     /* linux console: the first foreign line */
    /* Several vCPUs (migtest-abi.h): with vcpus > 1 each vCPU must have
     * beaten on this side more than beats_since[i] times (its count when
     * the side was last resumed); with any count, a beat from a vCPU
     * index >= vcpus is outside the protocol. */
    guint vcpus;
    guint beats_since[MT_MAX_VCPUS];
} SelfcheckSide;

/* No 'E' record, no byte outside the protocol, 'A' exactly as often
 * as expected (a second 'A' means the guest restarted), and with several
 * vCPUs every one of them beating (a silent one is named). */
gboolean verify_selfcheck(const SelfcheckSide *sides, guint nsides,
                          SelfcheckResult *out, GError **error);
void selfcheck_result_clear(SelfcheckResult *r);

/* The tail word the guest writes into page @gpa in generation @g. */
static inline guint64 verify_tail(guint64 g, guint64 gpa)
{
    return gpa ^ (g * (guint64)MT_TAIL_MUL);
}

/* fill=full: the middle word at @gpa in generation @g (MT_FILL). */
static inline guint64 verify_fill(guint64 g, guint64 gpa)
{
    return gpa ^ (g * (guint64)MT_TAIL_MUL);
}

#endif
