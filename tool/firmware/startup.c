/* tlsfit firmware startup for Cortex-M (v7-M and v8-M Mainline) under QEMU.
 *
 * QEMU loads the ELF with -kernel straight into the board's RAM-backed
 * "flash" and takes SP and PC from the vector table at the reset VTOR.  No
 * loader copies .data, and newlib's rdimon crt0 (_start) neither copies .data
 * nor keeps the linker's stack: it moves SP to wherever QEMU's SYS_HEAPINFO
 * guesses RAM is.  So this file replaces crt0 (the image is linked with
 * -nostartfiles, and without librdimon: semihost.c answers the system
 * calls) and does the C runtime set-up itself:
 *
 *   Reset_Handler: SP := top of the stack region, then tf_reset():
 *     enable the FPU/MVE, arm the stack-overflow check (MSPLIM on v8-M, an
 *     MPU guard region on v7-M), enable the configurable faults, set VTOR,
 *     copy .data, zero .bss, paint the stack, then __libc_init_array()
 *     and exit(main()).  exit() flushes stdio (if the image used it) and
 *     ends QEMU through semihosting SYS_EXIT_EXTENDED with main's return
 *     value.
 *
 * Faults and unexpected exceptions print one "tlsfit-fw: FAULT ..." line
 * over semihosting and exit with TF_EXIT_FAULT.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tlsfit_fw.h"

/* Linker-script symbols (tool/firmware/sections.ld). */
extern uint32_t __tf_data_load[], __tf_data_start[], __tf_data_end[];
extern uint32_t __tf_bss_start[], __tf_bss_end[];
extern char __tf_heap_start[], __tf_heap_end[];
extern uint32_t __tf_stack_bottom[], __tf_stack_top[];
extern char __tf_stack_guard[];

extern int main(void);
extern void __libc_init_array(void);          /* newlib */

#define REG32(addr) (*(volatile uint32_t *)(addr))
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define SCB_CPACR REG32(0xE000ED88u)
#define SAU_SFSR REG32(0xE000EDE4u)
#define SAU_SFAR REG32(0xE000EDE8u)

#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
#define TF_V8M 1
#else
#define TF_V8M 0
#endif

/* ---- heap: newlib's malloc calls _sbrk; the heap is bounded by the stack ---- */

static char *heap_brk;
static char *heap_brk_peak;

void *_sbrk(ptrdiff_t incr)
{
    if (heap_brk == NULL) {
        heap_brk = __tf_heap_start;
        heap_brk_peak = heap_brk;
    }
    char *old = heap_brk;
    if (incr > __tf_heap_end - heap_brk || incr < __tf_heap_start - heap_brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    heap_brk += incr;
    if (heap_brk > heap_brk_peak)
        heap_brk_peak = heap_brk;
    return old;
}

size_t tf_heap_size(void)
{
    return (size_t)(__tf_heap_end - __tf_heap_start);
}

size_t tf_heap_brk_peak(void)
{
    return heap_brk_peak ? (size_t)(heap_brk_peak - __tf_heap_start) : 0;
}

/* newlib's __libc_init_array calls _init(); crti.o is not linked. */
void _init(void)
{
}

void _fini(void)
{
}

/* ---- faults ---- */

static const char *exception_name(uint32_t n)
{
    switch (n) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    case 15: return "SysTick";
    default: return n >= 16 ? "IRQ" : "reserved exception";
    }
}

/* Called by the naked tf_fault_entry with the stacked exception frame
 * (r0-r3, r12, lr, pc, xpsr) and EXC_RETURN. */
void tf_fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));
void tf_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;

    uint32_t cfsr = SCB_CFSR;
    uintptr_t mmfar = SCB_MMFAR;
    /* STKOF (v8-M stack limit), MSTKERR/STKERR (stacking failed), or an MPU
     * hit in the guard below the stack (v7-M). */
    int overflow = (cfsr & ((1u << 20) | (1u << 4) | (1u << 12))) != 0 ||
                   ((cfsr & (1u << 7)) && mmfar >= (uintptr_t)__tf_stack_guard &&
                    mmfar < (uintptr_t)__tf_stack_bottom);

    tf_semi_puts("tlsfit-fw: FAULT ");
    tf_semi_puts(exception_name(ipsr));
    if (overflow)
        tf_semi_puts(" (stack overflow)");
    tf_semi_puts(" exception=");
    tf_semi_write_hex(ipsr);
    /* Only read the frame when it was stacked inside the stack region. */
    uintptr_t f = (uintptr_t)frame;
    if (!overflow && f >= (uintptr_t)__tf_stack_bottom && f + 32 <= (uintptr_t)__tf_stack_top &&
        (f & 3u) == 0) {
        tf_semi_puts(" pc=");
        tf_semi_write_hex(frame[6]);
        tf_semi_puts(" lr=");
        tf_semi_write_hex(frame[5]);
        tf_semi_puts(" xpsr=");
        tf_semi_write_hex(frame[7]);
    } else {
        tf_semi_puts(" sp=");
        tf_semi_write_hex((uint32_t)f);
    }
    tf_semi_puts(" exc_return=");
    tf_semi_write_hex(exc_return);
    tf_semi_puts(" cfsr=");
    tf_semi_write_hex(cfsr);
    tf_semi_puts(" hfsr=");
    tf_semi_write_hex(SCB_HFSR);
    tf_semi_puts(" mmfar=");
    tf_semi_write_hex((uint32_t)mmfar);
    tf_semi_puts(" bfar=");
    tf_semi_write_hex(SCB_BFAR);
#if TF_V8M
    tf_semi_puts(" sfsr=");
    tf_semi_write_hex(SAU_SFSR);
    tf_semi_puts(" sfar=");
    tf_semi_write_hex(SAU_SFAR);
#endif
    tf_semi_puts("\n");
    tf_semi_exit(TF_EXIT_FAULT);
}

/* The report runs on its own small stack: after a stack overflow the
 * interrupted one has no room left (and on v8-M is still at its limit). */
#define TF_FAULT_STACK_BYTES 512
#define TF_STR_(x) #x
#define TF_STR(x) TF_STR_(x)
uint64_t tf_fault_stack[TF_FAULT_STACK_BYTES / 8] __attribute__((used));

__attribute__((naked, noreturn)) void tf_fault_entry(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
#if TF_V8M
        "ldr r2, =tf_fault_stack\n"
        "msr msplim, r2\n"
#endif
        "ldr r2, =tf_fault_stack + " TF_STR(TF_FAULT_STACK_BYTES) "\n"
        "mov sp, r2\n"
        "b tf_fault_report\n"
        ".ltorg\n");
}

/* SysTick_Handler is defined in ticks.c; anything else unexpected faults. */
void SysTick_Handler(void);

/* ---- stack overflow detection ---- */

#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)

/* v8-M: MSPLIM = bottom of the stack region, so pushing past it is a
 * UsageFault (STKOF).  v7-M: MPU region 0 makes the 1 KiB guard just below
 * the stack region (__tf_stack_guard, see sections.ld) no-access, so a push
 * into it is a MemManage fault (a frame larger than 1 KiB can step over it);
 * the rest of the memory map stays as without an MPU (PRIVDEFENA, and the
 * firmware runs privileged). */
static void stack_guard_on(void)
{
#if TF_V8M
    __asm__ volatile("msr msplim, %0" ::"r"(__tf_stack_bottom));
#else
    if (((MPU_TYPE >> 8) & 0xFFu) == 0)
        return; /* no MPU */
    MPU_RNR = 0;
    MPU_RBAR = (uint32_t)(uintptr_t)__tf_stack_guard;
    /* XN, AP=000 (no access), SIZE=9 (2^(9+1) = 1 KiB), ENABLE */
    MPU_RASR = (1u << 28) | (0u << 24) | (9u << 1) | 1u;
    MPU_CTRL = (1u << 2) | 1u; /* PRIVDEFENA | ENABLE */
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
}

/* ---- reset ---- */

__attribute__((noreturn, used)) void tf_reset(void);
void tf_reset(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* Full access to CP10/CP11 (FPU and MVE) before any FP instruction. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    stack_guard_on();
    /* Report MemManage/BusFault/UsageFault (and SecureFault) as themselves. */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18) | (TF_V8M ? (1u << 19) : 0u);
    extern const void *const tf_vectors[];
    SCB_VTOR = (uint32_t)(uintptr_t)tf_vectors;

    const uint32_t *src = __tf_data_load;
    for (uint32_t *dst = __tf_data_start; dst < __tf_data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = __tf_bss_start; dst < __tf_bss_end;)
        *dst++ = 0;
    __asm__ volatile("dsb\n isb" ::: "memory");

    tf_stack_paint();
    __libc_init_array();
    exit(main());
}

__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
        "ldr r0, =__tf_stack_top\n"
        "msr msp, r0\n"
        "mov sp, r0\n"
        "b tf_reset\n"
        ".ltorg\n");
}

#define TF_NUM_IRQS 64

__attribute__((section(".tf_vectors"), used)) const void *const tf_vectors[16 + TF_NUM_IRQS] = {
    [0] = __tf_stack_top,
    [1] = (const void *)Reset_Handler,
    [2] = (const void *)tf_fault_entry,  /* NMI */
    [3] = (const void *)tf_fault_entry,  /* HardFault */
    [4] = (const void *)tf_fault_entry,  /* MemManage */
    [5] = (const void *)tf_fault_entry,  /* BusFault */
    [6] = (const void *)tf_fault_entry,  /* UsageFault */
    [7] = (const void *)tf_fault_entry,  /* SecureFault (v8-M) */
    [11] = (const void *)tf_fault_entry, /* SVCall */
    [12] = (const void *)tf_fault_entry, /* DebugMonitor */
    [14] = (const void *)tf_fault_entry, /* PendSV */
    [15] = (const void *)SysTick_Handler,
    [16 ... 16 + TF_NUM_IRQS - 1] = (const void *)tf_fault_entry,
};
