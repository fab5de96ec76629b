/* page-hash.c: page hashes with the fastest XXH3 this CPU runs (see page-hash.h). */
#include "page-hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>
#include "migtest-abi.h"

#ifdef MIGTEST_HAVE_AVX2_HASH
void page_hash_avx2(const guint8 *data, guint64 npages, guint64 *out);
#endif

void page_hash_generic(const guint8 *data, guint64 npages, guint64 *out)
{
    for (guint64 i = 0; i < npages; i++)
        out[i] = XXH3_64bits(data + i * MT_PAGE_SIZE, MT_PAGE_SIZE);
}

static gboolean have_avx2(void)
{
#ifdef MIGTEST_HAVE_AVX2_HASH
    return __builtin_cpu_supports("avx2");
#else
    return FALSE;
#endif
}

void page_hash(const guint8 *data, guint64 npages, guint64 *out)
{
#ifdef MIGTEST_HAVE_AVX2_HASH
    if (have_avx2()) {
        page_hash_avx2(data, npages, out);
        return;
    }
#endif
    page_hash_generic(data, npages, out);
}

const char *page_hash_impl(void)
{
    return have_avx2() ? "avx2" : "generic";
}
