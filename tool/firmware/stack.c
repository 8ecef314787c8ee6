/* Stack painting: fill the unused part of the stack region with a pattern,
 * later find the deepest word that no longer holds it.  The stack region is
 * [__tf_stack_bottom, __tf_stack_top) from sections.ld; the heap ends at
 * __tf_stack_bottom, so the two never share memory. */
#include "tlsfit_fw.h"

extern uint32_t __tf_stack_bottom[], __tf_stack_top[];

/* Words left unpainted just below the caller's SP. */
#define PAINT_MARGIN_WORDS 8

__attribute__((noinline)) void tf_stack_paint(void)
{
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    volatile uint32_t *p = __tf_stack_bottom;
    uint32_t *end = sp - PAINT_MARGIN_WORDS;
    /* Volatile stores: the compiler must not turn this into a call, whose
     * frame would lie in the area being painted. */
    while ((uint32_t *)p < end)
        *p++ = TF_STACK_PATTERN;
}

size_t tf_stack_peak(void)
{
    const volatile uint32_t *p = __tf_stack_bottom;
    while ((const uint32_t *)p < __tf_stack_top && *p == TF_STACK_PATTERN)
        p++;
    return (size_t)((const uint8_t *)__tf_stack_top - (const uint8_t *)p);
}

size_t tf_stack_size(void)
{
    return (size_t)((uint8_t *)__tf_stack_top - (uint8_t *)__tf_stack_bottom);
}
