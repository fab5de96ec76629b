/*
 * test-coverage.c: docs/coverage.md cannot drift from the catalogue.
 * Every row it names exists (`migtest list`, without the arch); every
 * catalogue row is named, in the qtest table or the migtest-only list;
 * the table has QEMU 10.0's 83 paths, a missing path names no row and a
 * covered one at least one; the "Covered: N of 83" line is the table's
 * count, and N is at least issue #12's 70.  The checker itself is shown
 * to catch a row that does not exist and a row that is not named.
 */
#include <string.h>
#include "cases.h"

#define QTEST_PATHS 83
#define COVERED_AT_LEAST 70

typedef struct {
    guint paths, covered, claimed;
    GPtrArray *named;           /* row names and globs the doc uses */
    GPtrArray *errors;          /* what is wrong, one line each */
} Doc;

static void doc_clear(Doc *d)
{
    g_ptr_array_unref(d->named);
    g_ptr_array_unref(d->errors);
}

/* The `backticked` words of @cell. */
static GPtrArray *ticked(const char *cell)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    for (const char *p = strchr(cell, '`'); p; p = strchr(p, '`')) {
        const char *end = strchr(p + 1, '`');
        if (!end)
            break;
        g_ptr_array_add(out, g_strndup(p + 1, end - p - 1));
        p = end + 1;
    }
    return out;
}

static void table_line(Doc *d, const char *line)
{
    g_auto(GStrv) cells = g_strsplit(line, "|", -1);
    g_autoptr(GPtrArray) rows = NULL;
    const char *verdict;

    if (g_strv_length(cells) < 7 || !strchr(cells[1], '`'))
        return;                             /* header or separator */
    d->paths++;
    rows = ticked(cells[3]);
    verdict = g_strstrip(cells[4]);
    if (g_str_equal(verdict, "missing") != (rows->len == 0))
        g_ptr_array_add(d->errors, g_strdup_printf("%s: verdict '%s' with %u rows",
                                                   g_strstrip(cells[1]), verdict, rows->len));
    if (!g_str_equal(verdict, "missing"))
        d->covered++;
    for (guint i = 0; i < rows->len; i++)
        g_ptr_array_add(d->named, g_strdup(rows->pdata[i]));
}

static Doc doc_parse(const char *text)
{
    Doc d = { .named = g_ptr_array_new_with_free_func(g_free),
              .errors = g_ptr_array_new_with_free_func(g_free) };
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    gboolean in_table = FALSE, in_only = FALSE;

    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, "## ")) {
            in_table = g_str_has_prefix(l, "## QEMU 10.0 qtest paths");
            in_only = g_str_has_prefix(l, "## migtest rows no qtest has");
        }
        if (sscanf(l, "**Covered: %u of", &d.claimed) == 1)
            continue;
        if (in_table && l[0] == '|')
            table_line(&d, l);
        if (in_only && g_str_has_prefix(l, "- `")) {
            g_autoptr(GPtrArray) t = ticked(l);
            g_ptr_array_add(d.named, g_strdup(t->pdata[0]));
        }
    }
    return d;
}

/* Each name the doc uses must match a catalogue row; each row a name. */
static void doc_against(Doc *d, const char *const *rows)
{
    for (guint i = 0; i < d->named->len; i++) {
        g_autoptr(GPatternSpec) pat = g_pattern_spec_new(d->named->pdata[i]);
        gboolean hit = FALSE;
        for (guint r = 0; rows[r] && !hit; r++)
            hit = g_pattern_spec_match_string(pat, rows[r]);
        if (!hit)
            g_ptr_array_add(d->errors, g_strdup_printf("docs/coverage.md names '%s', which "
                                                       "is no catalogue row",
                                                       (char *)d->named->pdata[i]));
    }
    for (guint r = 0; rows[r]; r++) {
        gboolean hit = FALSE;
        for (guint i = 0; i < d->named->len && !hit; i++) {
            g_autoptr(GPatternSpec) pat = g_pattern_spec_new(d->named->pdata[i]);
            hit = g_pattern_spec_match_string(pat, rows[r]);
        }
        if (!hit)
            g_ptr_array_add(d->errors, g_strdup_printf("row '%s' is in neither the qtest "
                                                       "table nor the migtest-only list of "
                                                       "docs/coverage.md: add it", rows[r]));
    }
}

/* The catalogue's row names without the arch, once each (NULL-terminated). */
static GStrv catalogue_rows(void)
{
    g_autoptr(GPtrArray) all = cases_select(arch_table, "*");
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *out = g_ptr_array_new();

    for (guint i = 0; i < all->len; i++) {
        const CaseInstance *c = all->pdata[i];
        if (g_hash_table_add(seen, (gpointer)c->desc->name))
            g_ptr_array_add(out, g_strdup(c->desc->name));
    }
    g_ptr_array_add(out, NULL);
    return (GStrv)g_ptr_array_free(out, FALSE);
}

static void test_doc_matches_catalogue(void)
{
    g_autofree char *path = g_build_filename(g_getenv("MIGTEST_SOURCE_ROOT"), "docs",
                                             "coverage.md", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) rows = catalogue_rows();
    Doc d;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    d = doc_parse(text);
    doc_against(&d, (const char *const *)rows);
    for (guint i = 0; i < d.errors->len; i++)
        g_printerr("%s\n", (char *)d.errors->pdata[i]);
    g_assert_cmpuint(d.errors->len, ==, 0);
    g_assert_cmpuint(d.paths, ==, QTEST_PATHS);
    g_assert_cmpuint(d.claimed, ==, d.covered);
    g_assert_cmpuint(d.covered, >=, COVERED_AT_LEAST);
    doc_clear(&d);
}

/* The checker catches what it exists for. */
static void test_checker_catches_drift(void)
{
    const char *rows[] = { "precopy/tcp", "precopy/unix", NULL };
    const char *doc =
        "**Covered: 1 of 83**\n"
        "## QEMU 10.0 qtest paths\n"
        "| qtest path | gate | migtest rows | verdict | note |\n"
        "|---|---|---|---|---|\n"
        "| `a` | S | `precopy/tcp`, `precopy/gone` | stronger | |\n"
        "| `b` | S | – | missing | why |\n"
        "| `c` | S | – | stronger | a verdict without a row |\n"
        "## migtest rows no qtest has\n";
    Doc d = doc_parse(doc);

    doc_against(&d, rows);
    g_assert_cmpuint(d.paths, ==, 3);
    g_assert_cmpuint(d.covered, ==, 2);
    g_assert_cmpuint(d.claimed, ==, 1);
    g_assert_cmpuint(d.errors->len, ==, 3);
    g_assert_nonnull(strstr(d.errors->pdata[0], "`c`: verdict"));
    g_assert_nonnull(strstr(d.errors->pdata[1], "'precopy/gone', which is no catalogue row"));
    g_assert_nonnull(strstr(d.errors->pdata[2], "row 'precopy/unix' is in neither"));
    doc_clear(&d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/coverage/doc-matches-catalogue", test_doc_matches_catalogue);
    g_test_add_func("/coverage/checker-catches-drift", test_checker_catches_drift);
    return g_test_run();
}
