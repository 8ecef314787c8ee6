/* Counting allocator for mbedTLS (mbedtls_platform_set_calloc_free).
 *
 * Wraps newlib's malloc/free.  Each block is preceded by an 8-byte header
 * (8 bytes keep the payload 8-byte aligned) holding the requested size, so
 * tf_free knows what it gives back, and the block's slot in the table of
 * held blocks.  The statistics (tls_harness.h) count only the bytes mbedTLS
 * requested: its peak heap, independent of newlib's own bookkeeping.  With a
 * limit set, a request that would take the bytes held beyond it is refused
 * (NULL) and recorded, which is how a device with a fixed heap of that size
 * would see it.
 *
 * The table of held blocks (TF_ALLOC_TRACKED slots) gives what made up the
 * peak heap, block by block (tf_alloc_peak_blocks): at every new peak the
 * sizes held are copied.  Taking and giving back a slot is O(1) -- free slots
 * form a stack -- so the bookkeeping adds the same few instructions to every
 * call (measured: +0.8 % on a lean ECDSA P-256 handshake's instruction count,
 * where a table search per call cost +11 %); only a new peak walks the table.  Blocks beyond the table (slot 0) still count in the
 * totals, and in peak_untracked.
 *
 * Each slot also keeps its block's caller: the return address of tf_calloc,
 * which is inside the mbedTLS function that called mbedtls_calloc (that
 * wrapper ends in a tail call, so it does not appear itself).  The host maps
 * the addresses to function names with the image's symbol table and groups
 * the peak into buffers, certificates, bignum/ECC temporaries and contexts
 * (target/heapfloor.py). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls_harness.h"

struct header {
    uint32_t size;          /* bytes requested */
    uint32_t slot;          /* 1 + index into held_size; 0: not in the table */
};
#define HEADER_BYTES 8u
_Static_assert(sizeof(struct header) == HEADER_BYTES, "the header keeps 8-byte alignment");

static struct tf_alloc_stats stats;
static size_t held_size[TF_ALLOC_TRACKED];   /* size of the block in each slot */
static uintptr_t held_caller[TF_ALLOC_TRACKED]; /* return address into its allocator's caller */
static uint8_t held[TF_ALLOC_TRACKED];       /* 1: the slot holds a block */
static uint8_t free_slots[TF_ALLOC_TRACKED]; /* stack of given-back slot indexes */
static size_t free_top;
static size_t fresh;                         /* slots never used so far */
static size_t peak_size[TF_ALLOC_TRACKED];   /* sizes held at the peak */
static uintptr_t peak_caller[TF_ALLOC_TRACKED]; /* and their callers */
static size_t peak_count;

void tf_alloc_set_limit(size_t limit)
{
    stats.limit = limit;
}

const struct tf_alloc_stats *tf_alloc_get_stats(void)
{
    return &stats;
}

size_t tf_alloc_peak_blocks(const size_t **sizes, const uintptr_t **callers)
{
    *sizes = peak_size;
    *callers = peak_caller;
    return peak_count;
}

/* A slot for a block of `size` bytes from `caller`: 1 + its index, or 0 when the
 * table is full. */
static uint32_t take_slot(size_t size, uintptr_t caller)
{
    size_t k;
    if (free_top > 0)
        k = free_slots[--free_top];
    else if (fresh < TF_ALLOC_TRACKED)
        k = fresh++;
    else
        return 0;
    held[k] = 1;
    held_size[k] = size;
    held_caller[k] = caller;
    return (uint32_t)k + 1u;
}

static void give_slot(uint32_t slot)
{
    if (slot == 0)
        return;
    held[slot - 1u] = 0;
    free_slots[free_top++] = (uint8_t)(slot - 1u);
}

/* A new peak: remember which sizes made it up. */
static void snapshot(void)
{
    size_t tracked = 0;
    peak_count = 0;
    for (size_t k = 0; k < fresh; k++) {
        if (held[k]) {
            peak_size[peak_count] = held_size[k];
            peak_caller[peak_count++] = held_caller[k];
            tracked += held_size[k];
        }
    }
    stats.peak_untracked = stats.in_use - tracked;
}

static void *refuse(size_t size)
{
    if (stats.failures++ == 0)
        stats.failed_size = size;
    return NULL;
}

void *tf_calloc(size_t n, size_t size)
{
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    if (n != 0 && size > (UINT32_MAX - HEADER_BYTES) / n)
        return refuse((size_t)-1);
    size_t total = n * size;
    if (stats.limit != 0 && (total > stats.limit || stats.in_use > stats.limit - total))
        return refuse(total);
    unsigned char *block = malloc(total + HEADER_BYTES);
    if (block == NULL)
        return refuse(total);
    struct header h = {(uint32_t)total, take_slot(total, caller)};
    memcpy(block, &h, sizeof h);
    memset(block + HEADER_BYTES, 0, total);
    stats.allocs++;
    stats.in_use += total;
    if (stats.in_use > stats.peak) {
        stats.peak = stats.in_use;
        snapshot();
    }
    if (total > stats.largest)
        stats.largest = total;
    return block + HEADER_BYTES;
}

void tf_free(void *p)
{
    if (p == NULL)
        return;
    unsigned char *block = (unsigned char *)p - HEADER_BYTES;
    struct header h;
    memcpy(&h, block, sizeof h);
    stats.in_use -= h.size;
    stats.frees++;
    give_slot(h.slot);
    free(block);
}
