/*
 * page-hash.h: XXH3-64 of every 4 KiB page of a buffer, for the agent's
 * hash-pages (agent.h).  XXH3 comes from Debian's libxxhash-dev, compiled
 * in (XXH_INLINE_ALL) twice on x86_64, for SSE2 and for AVX2, and chosen
 * at run time: the shared library's SSE2 build does ~2 GB/s here, the
 * inlined AVX2 one ~5 GB/s, and the issue asks for 4 GB/s per side.  Both
 * builds compute the same XXH3 (the algorithm does not depend on the
 * vector width; test-agent compares them with the library's).
 */
#ifndef MIGTEST_PAGE_HASH_H
#define MIGTEST_PAGE_HASH_H

#include <glib.h>

/* out[i] = XXH3_64bits(data + i * 4096, 4096) for i < npages. */
void page_hash(const guint8 *data, guint64 npages, guint64 *out);

/* The implementation page_hash() uses on this CPU: "avx2" or "sse2"/"scalar". */
const char *page_hash_impl(void);

/* The portable build, for tests to compare against. */
void page_hash_generic(const guint8 *data, guint64 npages, guint64 *out);

#endif
