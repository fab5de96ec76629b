/* page-hash-avx2.c: page_hash() built with -mavx2 (see page-hash.h); only
 * called when the CPU has AVX2. */
#include <glib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>
#include "migtest-abi.h"

void page_hash_avx2(const guint8 *data, guint64 npages, guint64 *out);

void page_hash_avx2(const guint8 *data, guint64 npages, guint64 *out)
{
    for (guint64 i = 0; i < npages; i++)
        out[i] = XXH3_64bits(data + i * MT_PAGE_SIZE, MT_PAGE_SIZE);
}
