/* Counting allocator for mbedTLS (mbedtls_platform_set_calloc_free).
 *
 * Wraps newlib's malloc/free.  Each block is preceded by an 8-byte header
 * holding the requested size (8 bytes keep the payload 8-byte aligned), so
 * tf_free knows what it gives back.  The statistics (tls_harness.h) count
 * only the bytes mbedTLS requested: its peak heap, independent of newlib's
 * own bookkeeping.  With a limit set, a request that would take the bytes
 * held beyond it is refused (NULL) and recorded, which is how a device with
 * a fixed heap of that size would see it.
 *
 * It also keeps the sizes of the blocks held (up to TF_ALLOC_TRACKED of
 * them) and copies them at every new peak: what made up the peak heap,
 * block by block (tf_alloc_peak_blocks).  Blocks beyond the table are
 * still counted in the totals, and in peak_untracked. */
#include <stdlib.h>
#include <string.h>

#include "tls_harness.h"

#define HEADER_BYTES 8u

static struct tf_alloc_stats stats;
static void *live_ptr[TF_ALLOC_TRACKED];     /* held blocks; NULL = free slot */
static size_t live_size[TF_ALLOC_TRACKED];
static size_t peak_size[TF_ALLOC_TRACKED];   /* sizes held at the peak */
static size_t peak_count;

static void track(void *p, size_t size)
{
    for (size_t k = 0; k < TF_ALLOC_TRACKED; k++) {
        if (live_ptr[k] == NULL) {
            live_ptr[k] = p;
            live_size[k] = size;
            return;
        }
    }
}

static void untrack(void *p)
{
    for (size_t k = 0; k < TF_ALLOC_TRACKED; k++) {
        if (live_ptr[k] == p) {
            live_ptr[k] = NULL;
            return;
        }
    }
}

/* A new peak: remember which sizes made it up. */
static void snapshot(void)
{
    size_t tracked = 0;
    peak_count = 0;
    for (size_t k = 0; k < TF_ALLOC_TRACKED; k++) {
        if (live_ptr[k] != NULL) {
            peak_size[peak_count++] = live_size[k];
            tracked += live_size[k];
        }
    }
    stats.peak_untracked = stats.in_use - tracked;
}

size_t tf_alloc_peak_blocks(const size_t **sizes)
{
    *sizes = peak_size;
    return peak_count;
}

void tf_alloc_set_limit(size_t limit)
{
    stats.limit = limit;
}

const struct tf_alloc_stats *tf_alloc_get_stats(void)
{
    return &stats;
}

static void *refuse(size_t size)
{
    if (stats.failures++ == 0)
        stats.failed_size = size;
    return NULL;
}

void *tf_calloc(size_t n, size_t size)
{
    if (n != 0 && size > ((size_t)-1 - HEADER_BYTES) / n)
        return refuse((size_t)-1);
    size_t total = n * size;
    if (stats.limit != 0 && (total > stats.limit || stats.in_use > stats.limit - total))
        return refuse(total);
    unsigned char *block = malloc(total + HEADER_BYTES);
    if (block == NULL)
        return refuse(total);
    memcpy(block, &total, sizeof total);
    memset(block + HEADER_BYTES, 0, total);
    stats.allocs++;
    stats.in_use += total;
    track(block + HEADER_BYTES, total);
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
    size_t total;
    memcpy(&total, block, sizeof total);
    stats.in_use -= total;
    stats.frees++;
    untrack(p);
    free(block);
}
