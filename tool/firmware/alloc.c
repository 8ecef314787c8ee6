/* Counting allocator for mbedTLS (mbedtls_platform_set_calloc_free).
 *
 * Wraps newlib's malloc/free.  Each block is preceded by an 8-byte header
 * holding the requested size (8 bytes keep the payload 8-byte aligned), so
 * tf_free knows what it gives back.  The statistics (tls_harness.h) count
 * only the bytes mbedTLS requested: its peak heap, independent of newlib's
 * own bookkeeping.  With a limit set, a request that would take the bytes
 * held beyond it is refused (NULL) and recorded, which is how a device with
 * a fixed heap of that size would see it. */
#include <stdlib.h>
#include <string.h>

#include "tls_harness.h"

#define HEADER_BYTES 8u

static struct tf_alloc_stats stats;

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
    if (stats.in_use > stats.peak)
        stats.peak = stats.in_use;
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
    free(block);
}
