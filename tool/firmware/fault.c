/* tlsfit fault self-test: must end in the fault handler, which prints
 * "tlsfit-fw: FAULT ..." and exits with TF_EXIT_FAULT.  Never returns 0.
 *   -DTF_FAULT_KIND=1  undefined instruction (udf)           -> UsageFault
 *   -DTF_FAULT_KIND=2  load from an unmapped address          -> BusFault
 *   -DTF_FAULT_KIND=3  unbounded recursion (v8-M: MSPLIM)     -> UsageFault */
#include <stdio.h>

#include "tlsfit_fw.h"

#ifndef TF_FAULT_KIND
#define TF_FAULT_KIND 1
#endif

/* Nothing is mapped at 0xF0000000 on the MPS2/MPS3 boards (above the PPB). */
#define UNMAPPED_ADDRESS 0xF0000000u

#if TF_FAULT_KIND == 3
__attribute__((noinline)) static unsigned recurse(volatile unsigned *depth)
{
    volatile unsigned char pad[256];
    if (*depth == 0xFFFFFFFFu) /* never: keeps -Winfinite-recursion quiet */
        return 0;
    pad[0] = (unsigned char)*depth;
    (*depth)++;
    return recurse(depth) + pad[0];
}
#endif

int main(void)
{
    printf("tlsfit-fw: fault test %d on %s\n", TF_FAULT_KIND, TF_TARGET_NAME);
    fflush(stdout);
#if TF_FAULT_KIND == 1
    __asm__ volatile("udf #0");
#elif TF_FAULT_KIND == 2
    volatile unsigned v = *(volatile unsigned *)UNMAPPED_ADDRESS;
    printf("tlsfit-fw: read 0x%08x from an unmapped address\n", v);
#elif TF_FAULT_KIND == 3
    volatile unsigned depth = 0;
    printf("%u\n", recurse(&depth));
#endif
    printf("tlsfit-fw: no fault happened\n");
    return TF_EXIT_FAIL;
}
