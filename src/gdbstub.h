/*
 * gdbstub.h: a minimal GDB remote serial protocol client that reads
 * SCTLR_EL1 of every vCPU of an aarch64 QEMU through its gdbstub, so the
 * runner can refuse a migration while a guest runs with its MMU or data
 * cache off (on Arm KVM without FEAT_S2FWB such a guest's RAM can migrate
 * stale; see docs/arm-coherency.md).
 *
 * QEMU side (verified with Debian's QEMU 7.2 and 10.0, TCG): the stub
 * listens on a unix socket given as
 *     -chardev socket,id=mt-gdb,path=PATH,server=on,wait=off
 *     -gdb chardev:mt-gdb
 * It serves one client at a time (a second connect() succeeds in the
 * kernel but is answered only after the first client leaves).
 *
 * What the stub does to the VM (measured with QEMU 7.2 and 10.0, see
 * tests/test-gdbstub-qemu.c and docs/arm-coherency.md):
 *  - A client connecting stops the VM (runstate "paused", QMP event STOP)
 *    if it was running.  QEMU 7.2 announces that stop with an unsolicited
 *    stop packet ("T02thread:01;") before the reply to our first command;
 *    QEMU 10.0 stops the VM just the same but sends nothing.  A VM that was
 *    not running (paused by QMP 'stop', -S "prelaunch", -incoming
 *    "inmigrate", pause-before-switchover "finish-migrate") keeps its
 *    runstate.  The protocol cannot tell what the runstate was: only QMP
 *    can.
 *  - 'D' (detach) and 'c'/'vCont;c' resume the VM whatever stopped it:
 *    they call vm_start() in every runstate but the ones that need a
 *    reset.  So a 'D' starts a VM paused by QMP 'stop', a -S VM and an
 *    -incoming destination, and at pre-switchover it restarts the vCPUs
 *    of a VM in "finish-migrate": QEMU (7.2 and 10.0) then aborts on
 *    migrate-continue ("invalid runstate transition: 'running' ->
 *    'postmigrate'").
 *  - Closing the socket without 'D' leaves the runstate as it is: a VM we
 *    stopped stays "paused" (QMP 'cont' resumes it), a VM that was
 *    already stopped stays stopped.  Nothing is left pending in the stub:
 *    the next connection behaves like the first.
 *  - The gdbstub works at pre-switchover: the main loop is free while the
 *    migration thread waits for migrate-continue.
 *  - Registers outside the core set read as "" (unsupported) until the
 *    client has fetched target.xml with qXfer:features:read, so that is
 *    always done first.  QStartNoAckMode is not supported (empty reply):
 *    the session runs in ack mode.  Thread ids are "01".."NN" (cpu_index
 *    + 1), one per qfThreadInfo/qsThreadInfo reply.
 *  - SCTLR_EL1 is named "SCTLR" in system-registers.xml; its register
 *    number depends on the CPU model and version (7.2: 92 for -cpu max,
 *    74 for cortex-a57; 10.0: 131 for -cpu max) and is looked up by name.
 *  - vCPUs that PSCI keeps powered off (secondaries never started) show
 *    the reset value, M=0 C=0, "[halted ]" and pc 0.
 *
 * So the caller says whether the VM is running (GdbVmState, from QMP
 * query-status; gdbstub_read_sctlr_qmp() does that itself and checks the
 * runstate again afterwards).  Only for a running VM is 'D' sent; any
 * other VM is left by closing the socket.  Never read while a migration
 * is active: if the migration thread stops the VM for completion while we
 * hold it, our 'D' would restart it.
 *
 * Every wait takes an absolute Deadline; errors are MT_ERROR_* codes:
 * TIMEOUT (stub silent or socket never appeared), DISCONNECTED (stub hung
 * up or reported the target exited), PROTOCOL (malformed or refused
 * replies), UNSUPPORTED (no SCTLR register described), ENV (bad path).
 */
#ifndef MIGTEST_GDBSTUB_H
#define MIGTEST_GDBSTUB_H

#include <glib.h>
#include "deadline.h"
#include "mt-error.h"
#include "qmp.h"

/* SCTLR_EL1 bits the guard looks at (Arm ARM, SCTLR_EL1). */
#define GDB_SCTLR_M     (G_GUINT64_CONSTANT(1) << 0)    /* stage-1 MMU */
#define GDB_SCTLR_C     (G_GUINT64_CONSTANT(1) << 2)    /* data cacheable */

/* Largest frame we accept (bytes between '$' and '#', before run-length
 * expansion) and largest decoded payload. */
#define GDB_MAX_FRAME   (256 * 1024)
#define GDB_MAX_PAYLOAD (1024 * 1024)

/* ---- packets: pure, no socket ------------------------------------------ */

/* Sum of @len bytes modulo 256: the checksum of a frame's data. */
guint8 gdbstub_checksum(const void *data, gsize len);

/* Frame @len bytes of @payload as "$data#cs": '$', '#', '}' and '*' are
 * escaped as '}' + (byte ^ 0x20); with @rle, runs are run-length encoded
 * ("X*n", never with the count characters '#' or '$').  Returns a new
 * NUL-terminated string; its length (NULs in it are data) in *@out_len. */
char *gdbstub_packet_encode(const void *payload, gsize len, gboolean rle,
                            gsize *out_len);

typedef enum {
    GDB_DECODE_NEED_MORE,   /* no complete frame yet: read more */
    GDB_DECODE_ACK,         /* a '+' */
    GDB_DECODE_NACK,        /* a '-': the peer wants our last frame again */
    GDB_DECODE_PACKET,      /* a frame with a good checksum: *payload set */
    GDB_DECODE_CORRUPT,     /* a damaged frame (bad checksum, or cut short by
                             * a new '$'): answer '-'; @error says what */
    GDB_DECODE_ERROR,       /* a frame that cannot be valid (too long, bad
                             * escape or run-length code): @error set */
} GdbDecode;

/*
 * Decode the first event in @buf (@len bytes).  Bytes outside a frame other
 * than '+' and '-' are skipped.  *@consumed is always set: how many bytes
 * of @buf the caller must drop (it can be > 0 with NEED_MORE, for skipped
 * junk).  On PACKET, *@payload is a new array with the unescaped,
 * run-length-expanded data (a NUL follows its last byte, not counted).
 */
GdbDecode gdbstub_packet_decode(const guint8 *buf, gsize len, gsize *consumed,
                                GByteArray **payload, GError **error);

/* A register value as the 'p' reply sends it: target byte order (little
 * endian on aarch64), two hex digits per byte, 1..8 bytes.  "xx.." (value
 * unavailable), odd lengths and non-hex characters are errors. */
gboolean gdbstub_decode_reg_le(const char *hex, gsize len, guint64 *value,
                               GError **error);

/* ---- target descriptions: pure, fed by a fetch callback ----------------- */

/* Return annex @annex (e.g. "target.xml") as a NUL-terminated string, or
 * NULL with @error. */
typedef char *(*GdbXferFetch)(const char *annex, gpointer opaque,
                              GError **error);

typedef struct {
    int sctlr_regnum;       /* the register number 'p' takes */
    char *sctlr_name;       /* as described: "SCTLR_EL1" or "SCTLR" */
    guint sctlr_bits;       /* its bitsize (0 if not given) */
    int pc_regnum;          /* "pc", or -1 */
    guint nregs;            /* registers described, all documents */
    guint ndocs;            /* documents read: target.xml + includes */
} GdbRegs;

void gdbstub_regs_clear(GdbRegs *r);

/*
 * Read "target.xml" and, depth first at the point of each <xi:include>,
 * the documents it includes (at most 4 deep, 32 in all), numbering <reg>s
 * as GDB does: a "regnum" attribute sets the number, otherwise one more
 * than the previous register's.  Finds SCTLR_EL1 (or, failing that,
 * SCTLR; names compared ignoring ASCII case) and pc.  No SCTLR at all is
 * MT_ERROR_UNSUPPORTED; malformed XML or a failed fetch MT_ERROR_PROTOCOL.
 */
gboolean gdbstub_find_regs(GdbXferFetch fetch, gpointer opaque, GdbRegs *out,
                           GError **error);

/* ---- reading SCTLR_EL1 -------------------------------------------------- */

typedef struct {
    int index;              /* QEMU cpu_index (thread id - 1), as QMP's
                             * query-cpus-fast "cpu-index" */
    char *thread_id;        /* the stub's thread id, e.g. "01" */
    guint64 sctlr;          /* SCTLR_EL1 */
    guint64 pc;             /* valid if have_pc */
    gboolean have_pc;
    gboolean halted;        /* qThreadExtraInfo said "[halted ]": powered
                             * off or in WFI (TCG; under KVM QEMU's view of
                             * this flag may lag) */
} GdbVcpuSctlr;

typedef enum {
    GDB_VM_STOPPED,         /* not running: never 'D', close and leave it */
    GDB_VM_RUNNING,         /* running: our connection stops it, 'D' restarts it */
} GdbVmState;

/* GDB_VM_RUNNING for QMP query-status "running", GDB_VM_STOPPED for any
 * other status ("paused", "prelaunch", "inmigrate", "finish-migrate", ...). */
GdbVmState gdbstub_vm_state_for_status(const char *qmp_status);

typedef struct {
    GArray *vcpus;          /* GdbVcpuSctlr, in the stub's thread order */
    GdbRegs regs;
    gboolean stop_packet;   /* the stub announced a stop on connect (QEMU
                             * 7.2 does, 10.0 does not): the VM was running */
    gboolean resumed;       /* we sent 'D' and the stub answered OK */
    gint64 stopped_us;      /* how long the read kept a running VM stopped:
                             * connect() .. the OK to 'D'; an upper bound.
                             * 0 for a VM that was not running.  If the VM
                             * was running but GDB_VM_STOPPED was passed
                             * (seen through stop_packet), connect .. close:
                             * it is still paused */
    gint64 session_us;      /* connect() .. close: how long we held the
                             * stub; at pre-switchover, added to downtime */
} GdbSctlrReport;

void gdbstub_report_free(GdbSctlrReport *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GdbSctlrReport, gdbstub_report_free)

/*
 * Connect to the gdbstub at @socket_path (retrying while it does not exist
 * or refuses, until @deadline), read SCTLR_EL1, pc and the halted flag of
 * every vCPU, send 'D' if @vm is GDB_VM_RUNNING, and close.  On a failure
 * with GDB_VM_RUNNING, 'D' is still sent, without waiting for the answer.
 */
GdbSctlrReport *gdbstub_read_sctlr(const char *socket_path, GdbVmState vm,
                                   Deadline deadline, GError **error);

/*
 * Fault injection (tests): connect to the gdbstub at @socket_path, find the
 * register @name (ASCII case ignored) in the target description, check it
 * is at least @len bytes wide, write @value (target byte order; zeros
 * above it, e.g. the bits of an SVE z register above its v register) to
 * it on the first vCPU with 'P', and close without 'D'.  The VM must be stopped already
 * (QMP 'stop'): it stays stopped.
 */
gboolean gdbstub_write_reg(const char *socket_path, const char *name, const guint8 *value,
                           gsize len, Deadline deadline, GError **error);

/* Same over an already connected stream socket @fd (taken over, closed). */
GdbSctlrReport *gdbstub_read_sctlr_fd(int fd, GdbVmState vm, Deadline deadline,
                                      GError **error);

/*
 * The safe entry point: QMP query-status on @qmp, gdbstub_read_sctlr()
 * with the matching GdbVmState, then query-status again, which must say
 * the same.  A running VM found stopped afterwards is resumed with QMP
 * 'cont' and the call fails (MT_ERROR_PROTOCOL); so does a stopped VM
 * found running (nothing can undo that).
 */
GdbSctlrReport *gdbstub_read_sctlr_qmp(QmpClient *qmp, const char *socket_path,
                                       Deadline deadline, GError **error);

/* TRUE if @sctlr has both M and C set: the guest's RAM accesses through
 * this vCPU are cacheable, as QEMU's own are. */
gboolean gdbstub_sctlr_cacheable(guint64 sctlr);

/* TRUE for a vCPU that has never run since reset, as PSCI leaves the
 * secondaries of -M virt until the guest starts them: halted, pc 0 and
 * MMU and cache off.  A heuristic for -M virt (reset pc = RVBAR = 0). */
gboolean gdbstub_vcpu_never_started(const GdbVcpuSctlr *v);

/* "vCPU 0 SCTLR_EL1=0x00c50838 (M=0 C=0)", for reasons and reports. */
char *gdbstub_format_vcpu(const GdbVcpuSctlr *v);

#endif
