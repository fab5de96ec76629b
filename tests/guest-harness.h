/*
 * guest-harness.h: boot one migtest payload in QEMU (no migration) and
 * look at it: its serial stream, its RAM, its pass timing.  Shared by
 * test-guest.c and test-guest-slow.c.
 *
 * Every wait has a deadline; every failure is a g_assert that prints the
 * values involved.  Nothing may outlive a test: guest_free() checks that
 * the QEMU process is gone and the run directory removed, and an abort
 * (failed assertion) or SIGTERM (meson timeout) handler kills the live
 * QEMUs and removes their run directories before the process dies.
 */
#ifndef MIGTEST_GUEST_HARNESS_H
#define MIGTEST_GUEST_HARNESS_H

#include "payload.h"
#include "verify.h"
#include "vm.h"

#define GH_MIB (1ull << 20)
#define GH_GIB (1ull << 30)

typedef struct {
    const char *arch;           /* "x86_64" or "aarch64" */
    const char *variant;        /* NULL: the architecture's default */
    const char *machine;        /* NULL: the architecture's default */
    const char *accel;          /* NULL: "tcg" */
    guint64 mem_bytes;          /* 0: MT_DEFAULT_MEM_MIB MiB */
    guint32 b_every;            /* 0: 1 */
    guint nranges;              /* 0: the default window */
    PayloadRange ranges[MT_MAX_RANGES];     /* absolute guest physical */
    gboolean set_mmu_off_after; /* else keep the image's default */
    guint32 mmu_off_after;
    guint32 zero_every;         /* zero runs (migtest-abi.h); 0: off */
    guint32 zero_pages;
    guint32 zero_method;
    guint32 fill;               /* MT_FILL_* */
    guint32 hot_pages;
    guint32 hot_op;             /* MT_HOT_* */
    guint32 canaries;           /* 1: CPU-state canaries */
    guint32 vcpus;              /* MT_P_VCPUS (0 or 1: one vCPU) */
    guint smp;                  /* QEMU's -smp; 0: vcpus when above 1 */
    guint32 suspend;            /* guest suspend (x86 S3) after this pass; 0: off */
    guint32 devprobe;           /* 1: device-state probes */
    gboolean gdbstub;           /* a gdbstub on the run dir's guest.gdb */
    guint32 raw_field;          /* fault injection: after patching, the u32
                                 * at this parameter-block offset (0: none) */
    guint32 raw_value;          /* is set to this, past the host's checks */
} GuestSpec;

typedef struct {
    const ArchDesc *arch;
    char *label;                /* "x86_64/pc/tcg" etc., for messages */
    PayloadParams params;       /* as patched into the image */
    char *run_dir;              /* /dev/shm/migtest-XXXXXX */
    char *log_dir;              /* cmdline, stderr, serial, qmp logs */
    Vm *vm;
    gint64 t_launch;            /* monotonic us just before vm_launch */
} Guest;

/* Install the abort/SIGTERM cleanup handler; call once from main(). */
void harness_init(void);

/* Boot @spec; asserts on any failure. */
Guest *guest_start(const GuestSpec *spec, gint64 timeout_ms);
/* Stop QEMU, remove the run dir (and the logs: the test passed so far),
 * and assert that neither the process nor the run dir is left. */
void guest_free(Guest *g);

/* QMP "stop" / "cont". */
void guest_stop(Guest *g);
void guest_cont(Guest *g);

SerialCounts guest_counts(Guest *g);
/* Wait until at least @b 'B' have arrived. */
void guest_wait_b(Guest *g, guint b, gint64 timeout_ms);
/* Wait until at least @n error records have arrived. */
void guest_wait_errors(Guest *g, guint n, gint64 timeout_ms);
/* After a corruption by the test: wait for @nwant new error records after
 * the first @before, then for two more 'B' (the rest of the pass and a
 * whole one); assert the new records are exactly @want (gpa, expected,
 * found; time ignored), in order, and that no other record came. */
void guest_expect_records(Guest *g, guint before, const SerialError *want, guint nwant,
                          gint64 timeout_ms);
/* Wait until the counts stop changing for @quiet_ms (a paused guest's
 * last bytes may still be in the socket).  Returns the counts. */
SerialCounts guest_settle(Guest *g, gint64 quiet_ms, gint64 timeout_ms);

/* The raw serial stream so far (from the log file). */
char *guest_serial_text(Guest *g, gsize *len);
/* Exactly one 'A', first; then only 'B' (at least @min_b); no 'E', no
 * junk, no bad record. */
void guest_assert_clean(Guest *g, guint min_b);

/* Pass timing from the 'B' arrival times.  @first_b_s: launch to first
 * 'B'; @pass_ms: mean time per pass between the first and the last 'B'
 * (0 with fewer than two).  Also logged with g_test_message. */
void guest_timing(Guest *g, double *first_b_s, double *pass_ms);

/* Guest RAM, mapped (shared mode): read-only or writable. */
RamImage *guest_ram(Guest *g, gboolean writable);
guint8 *ram_at(const RamImage *img, guint64 gpa, gsize len);
guint64 ram_get64(const RamImage *img, guint64 gpa);
void ram_put64(RamImage *img, guint64 gpa, guint64 v);
gboolean ram_page_is_zero(const RamImage *img, guint64 gpa);

/* verify_invariant on @img; asserts it holds.  Fills @r (clear it). */
void guest_assert_invariant(Guest *g, const RamImage *img, InvariantResult *r);

/* @b 'B' were seen with the guest paused in the state @inv describes
 * (generation H, boundary).  With a boundary pass H is under way, so
 * H - 1 passes are complete; without one pass H is written but its 'B'
 * may not be out yet: H - 1 or H.  Assert b == completed / b_every. */
void guest_assert_b_count(Guest *g, const InvariantResult *inv, guint b);

/* Index <-> address of the window's pages, in sweep order. */
guint64 guest_window_pages(Guest *g);
guint64 guest_page_gpa(Guest *g, guint64 index);
guint64 guest_page_index(Guest *g, guint64 gpa);

/* The test process's children (QEMUs): none may be left. */
guint harness_count_children(void);
/* No child process, no live guest, and none of the run dirs this process
 * ever created still exists.  (Only our own: other migtest runs may share
 * /dev/shm at the same time.) */
void harness_assert_no_leftovers(void);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(InvariantResult, invariant_result_clear)

/* A GTest fixture whose setup and teardown both assert that no QEMU
 * child and no run directory of ours is left. */
typedef struct {
    int unused;
} HarnessFixture;

void harness_fixture_check(HarnessFixture *f, gconstpointer unused);

#endif
