/* 64-bit tick counter from SysTick on the processor clock (CLKSOURCE=1).
 * SysTick counts down from 0xFFFFFF; its interrupt counts the wraps.  Under
 * QEMU the clock runs in virtual time: with `-icount shift=N` each guest
 * instruction is 2^N ns, so at shift=0 ticks convert to instructions as
 * ticks * 1e9 / TF_CPU_CLOCK_HZ. */
#include "tlsfit_fw.h"

#define REG32(addr) (*(volatile uint32_t *)(addr))
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SCB_ICSR REG32(0xE000ED04u)
#define ICSR_PENDSTSET (1u << 26)

static volatile uint32_t wraps;

void SysTick_Handler(void)
{
    wraps++;
}

void tf_ticks_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;     /* clears the counter; it reloads on the next tick */
    wraps = 0;
    SYST_CSR = 0x7u;  /* ENABLE | TICKINT | CLKSOURCE (processor clock) */
}

uint64_t tf_ticks(void)
{
    uint32_t w, v, pending;
    do {
        w = wraps;
        v = SYST_CVR;
        pending = SCB_ICSR & ICSR_PENDSTSET;
    } while (w != wraps);
    /* The count reached 0 (and maybe reloaded) but the interrupt has not been
     * taken yet (interrupts masked, or QEMU has not reached the next block). */
    if (pending && (v == 0 || v > 0x800000u))
        w++;
    return ((uint64_t)w << 24) + ((0x1000000u - v) & 0xFFFFFFu);
}

uint32_t tf_ticks_per_ms(void)
{
    return TF_CPU_CLOCK_HZ / 1000u;
}
