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
 * Who holds the bytes: every block is also charged to its allocation site,
 * the return address of tf_calloc -- inside the mbedTLS function that called
 * mbedtls_calloc, since that wrapper ends in a tail call.  The sites are an
 * open-addressing hash table of TF_ALLOC_SITES entries (a handshake has a few
 * dozen sites however many blocks it holds: a certificate with 150 names holds
 * hundreds), so charging is O(1) too; at every new peak the bytes each site
 * holds are copied (tf_alloc_peak_sites).  The host names the sites from the
 * image's symbol table and groups the peak into record buffers, certificates,
 * bignum/ECC temporaries and contexts (target/heapfloor.py).  A block whose
 * site finds the table full is charged to no site (site 0).
 *
 * Header invariant: slot is 0 or 1 + an index into held_size; site is 0 or
 * 1 + an index into site_pc/site_held, and that entry's pc never changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls_harness.h"

struct header {
    uint32_t size;          /* bytes requested */
    uint16_t slot;          /* 1 + index into held_size; 0: not in the table */
    uint16_t site;          /* 1 + index into site_pc; 0: charged to no site */
};
#define HEADER_BYTES 8u
_Static_assert(sizeof(struct header) == HEADER_BYTES, "the header keeps 8-byte alignment");

static struct tf_alloc_stats stats;
static size_t held_size[TF_ALLOC_TRACKED];   /* size of the block in each slot */
static uint8_t held[TF_ALLOC_TRACKED];       /* 1: the slot holds a block */
static uint8_t free_slots[TF_ALLOC_TRACKED]; /* stack of given-back slot indexes */
static size_t free_top;
static size_t fresh;                         /* slots never used so far */
static size_t peak_size[TF_ALLOC_TRACKED];   /* sizes held at the peak */
static size_t peak_count;
static uintptr_t site_pc[TF_ALLOC_SITES];    /* allocation site (0: entry unused) */
static size_t site_held[TF_ALLOC_SITES];     /* bytes its blocks hold now */
static uintptr_t peak_site_pc[TF_ALLOC_SITES];
static size_t peak_site_held[TF_ALLOC_SITES];
static size_t peak_sites;

void tf_alloc_set_limit(size_t limit)
{
    stats.limit = limit;
}

#if defined(TLSFIT_RESUME)
void tf_alloc_window_start(void)
{
    stats.window_peak = stats.in_use;
}
#endif

const struct tf_alloc_stats *tf_alloc_get_stats(void)
{
    return &stats;
}

size_t tf_alloc_peak_blocks(const size_t **sizes)
{
    *sizes = peak_size;
    return peak_count;
}

size_t tf_alloc_peak_sites(const uintptr_t **pcs, const size_t **bytes)
{
    *pcs = peak_site_pc;
    *bytes = peak_site_held;
    return peak_sites;
}

/* The site entry of pc: 1 + its index (claimed if new), or 0 when the table is full. */
static uint16_t site_of(uintptr_t pc)
{
    size_t k = (pc >> 1) % TF_ALLOC_SITES;
    for (size_t probes = 0; probes < TF_ALLOC_SITES; probes++) {
        if (site_pc[k] == pc)
            return (uint16_t)(k + 1u);
        if (site_pc[k] == 0) {
            site_pc[k] = pc;
            return (uint16_t)(k + 1u);
        }
        k = (k + 1u) % TF_ALLOC_SITES;
    }
    return 0;
}

/* A slot for a block of `size` bytes: 1 + its index, or 0 when the table is full. */
static uint16_t take_slot(size_t size)
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
    return (uint16_t)(k + 1u);
}

static void give_slot(uint16_t slot)
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
            peak_size[peak_count++] = held_size[k];
            tracked += held_size[k];
        }
    }
    stats.peak_untracked = stats.in_use - tracked;
    peak_sites = 0;
    for (size_t k = 0; k < TF_ALLOC_SITES; k++) {
        if (site_held[k] != 0) {
            peak_site_pc[peak_sites] = site_pc[k];
            peak_site_held[peak_sites++] = site_held[k];
        }
    }
}

static void *refuse(size_t size)
{
    if (stats.failures++ == 0)
        stats.failed_size = size;
    return NULL;
}

void *tf_calloc(size_t n, size_t size)
{
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    if (n != 0 && size > (UINT32_MAX - HEADER_BYTES) / n)
        return refuse((size_t)-1);
    size_t total = n * size;
    if (stats.limit != 0 && (total > stats.limit || stats.in_use > stats.limit - total))
        return refuse(total);
    unsigned char *block = malloc(total + HEADER_BYTES);
    if (block == NULL)
        return refuse(total);
    struct header h = {(uint32_t)total, take_slot(total), site_of(pc)};
    if (h.site != 0)
        site_held[h.site - 1u] += total;
    memcpy(block, &h, sizeof h);
    memset(block + HEADER_BYTES, 0, total);
    stats.allocs++;
    stats.in_use += total;
    if (stats.in_use > stats.peak) {
        stats.peak = stats.in_use;
        snapshot();
    }
#if defined(TLSFIT_RESUME)
    if (stats.in_use > stats.window_peak)
        stats.window_peak = stats.in_use;
#endif
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
    if (h.site != 0)
        site_held[h.site - 1u] -= h.size;
    free(block);
}
