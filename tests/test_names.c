/*
 * test_names.c - the naming rule every tool shares (vbp_names.h, formats/vbpack.md "Naming
 * clips"): what each form of name picks, the exact errors for names that fit nothing or
 * several, and vbp_escape, which every message quoting a name goes through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "vbp_names.h"
#include "vbp_util.h"

typedef struct named { const char *group, *name; } named;

static const named clips[] = {
    {"matchA", "clip1"}, {"matchA", "clip2"}, {"matchB", "clip1"}, {"matchB", "clip2"},
    {"", "clip2"}, {"", "solo"}, {"bar", "foo"}, {"foo", "c1"}, {"foo", "c2"}, {"one", "only"},
};

static void get(const void *ctx, size_t i, const char **group, const char **name)
{
    const named *n = (const named *)ctx + i;
    *group = n->group;
    *name = n->name;
}

static const vbp_name_set set = {sizeof clips / sizeof clips[0], get, clips};

/* `name` resolves; the clips it picks, as a bit mask over clips[]. */
static unsigned picked(const char *name, vbp_name_want want)
{
    vbp_name_pick p;
    vbp_error e;
    if (vbp_name_resolve(&set, name, want, &p, &e) != VBP_OK)
        fail_msg("'%s': %s", name, e.detail);
    unsigned mask = 0, n = 0;
    for (size_t i = 0; i < set.count; i++)
        if (vbp_name_picks(&set, &p, i)) {
            mask |= 1u << i;
            n++;
        }
    assert_int_equal(n, p.count);
    assert_true(mask & (1u << p.first));
    return mask;
}

/* `name` fails with VBP_E_ARG, `candidates` candidates and exactly `want` as the message. */
static void refused(const char *name, vbp_name_want how, size_t candidates, const char *want)
{
    vbp_name_pick p;
    vbp_error e;
    assert_int_equal(vbp_name_resolve(&set, name, how, &p, &e), VBP_E_ARG);
    assert_int_equal(e.code, VBP_E_ARG);
    assert_int_equal(p.count, candidates);
    assert_string_equal(e.detail, want);
}

static void each_form_picks_what_it_names(void **s)
{
    (void)s;
    const vbp_name_want any = VBP_NAME_CLIP_OR_MATCH, one = VBP_NAME_ONE_CLIP;
    assert_int_equal(picked("matchA/clip2", any), 1u << 1);
    assert_int_equal(picked("matchB/clip1", one), 1u << 2);
    assert_int_equal(picked("/clip2", any), 1u << 4);     /* the clip of no match */
    assert_int_equal(picked("solo", any), 1u << 5);       /* a bare name one clip has */
    assert_int_equal(picked("/solo", one), 1u << 5);
    assert_int_equal(picked("matchA", any), 3u);          /* a match: all its clips */
    assert_int_equal(picked("matchA/", any), 3u);
    assert_int_equal(picked("foo/", any), 3u << 7);       /* the match, not bar/foo */
    assert_int_equal(picked("bar/foo", any), 1u << 6);    /* the clip, not the match */
    assert_int_equal(picked("c2", any), 1u << 8);
    assert_int_equal(picked("one", one), 1u << 9);        /* a match of one clip is that clip */
    assert_int_equal(picked("one/", one), 1u << 9);
}

static void names_that_fit_nothing_or_several_are_refused(void **s)
{
    (void)s;
    const vbp_name_want any = VBP_NAME_CLIP_OR_MATCH, one = VBP_NAME_ONE_CLIP;
    refused("clip2", any, 3, "'clip2' is ambiguous: matchA/clip2, matchB/clip2, /clip2 "
                             "(name one of them)");
    refused("clip1", one, 2, "'clip1' is ambiguous: matchA/clip1, matchB/clip1 (name one of them)");
    refused("foo", any, 2, "'foo' is ambiguous: bar/foo, foo/ (match of 2 clips) (name one of them)");
    refused("matchA", one, 2, "'matchA' is a match of 2 clips: matchA/clip1, matchA/clip2 "
                              "(name one of them)");
    refused("nope", any, 0, "no clip or match is named 'nope'");
    refused("matchC/clip1", any, 0, "no clip or match is named 'matchC/clip1'");
    refused("/clip1", any, 0, "no clip or match is named '/clip1'");
    refused("clip1/", any, 0, "no clip or match is named 'clip1/'");
    refused("", any, 0, "no clip or match is named ''");
    refused("/", any, 0, "no clip or match is named '/'");
    refused("cl\x1b[2Jip", any, 0, "no clip or match is named 'cl\\x1b[2Jip'");
}

/* A long candidate list is cut, says how many there are and still fits one detail line. */
static void long_lists_are_cut(void **s)
{
    (void)s;
    static char groups[40][64];
    named many[40];
    for (int i = 0; i < 40; i++) {
        snprintf(groups[i], sizeof groups[i], "match_with_a_long_name_%02d", i);
        many[i] = (named){groups[i], "rally"};
    }
    const vbp_name_set big = {40, get, many};
    vbp_name_pick p;
    vbp_error e;
    assert_int_equal(vbp_name_resolve(&big, "rally", VBP_NAME_CLIP_OR_MATCH, &p, &e), VBP_E_ARG);
    assert_int_equal(p.count, 40);
    const char *tail = ", ... (40 in all) (name one of them)";
    size_t n = strlen(e.detail);
    assert_true(n < VBP_ERROR_DETAIL_MAX - 1 - 16); /* room left for a "--val: " prefix */
    assert_string_equal(e.detail + n - strlen(tail), tail);
    assert_non_null(strstr(e.detail, "'rally' is ambiguous: match_with_a_long_name_00/rally, "
                                     "match_with_a_long_name_01/rally, "));
}

static void escape_quotes_bytes_safely(void **s)
{
    (void)s;
    static const struct { const char *in; size_t len; const char *out; } cases[] = {
        {"enc3.bn.bias", 12, "enc3.bn.bias"},
        {"F32\x1f", 4, "F32\\x1f"},                          /* the dtype */
        {"\x1b[31mred\x1b[0m", 12, "\\x1b[31mred\\x1b[0m"},  /* ESC never reaches a terminal */
        {"a\\b", 3, "a\\\\b"},
        {"tab\there\r\n", 10, "tab\\x09here\\x0d\\x0a"},
        {"nul\0in", 6, "nul\\x00in"},
        {"del\x7f", 4, "del\\x7f"},
        {"\xe3\x83\xa9\xe3\x83\xaa\xe3\x83\xbc", 9, "\xe3\x83\xa9\xe3\x83\xaa\xe3\x83\xbc"}, /* UTF-8 */
        {"caf\xc3\xa9", 5, "caf\xc3\xa9"},
        {"\xff\xfe", 2, "\\xff\\xfe"},                       /* not UTF-8 */
        {"\xc0\xaf", 2, "\\xc0\\xaf"},                       /* overlong */
        {"\xed\xa0\x80", 3, "\\xed\\xa0\\x80"},              /* a surrogate */
        {"\xe3\x83", 2, "\\xe3\\x83"},                       /* cut sequence */
        {"\xe3\x83Z", 3, "\\xe3\\x83Z"},
        {"\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80"},     /* beyond U+10FFFF */
        {"\xf0\x9f\x8f\x90", 4, "\xf0\x9f\x8f\x90"},         /* U+1F3D0, a volleyball */
        {"\xc2\x9b" "2J", 4, "\\xc2\\x9b2J"},                /* C1 CSI */
        {"abc\xe2\x80\xae" "cba", 9, "abc\\xe2\\x80\\xaecba"}, /* bidi override */
        {"\xef\xbb\xbf" "Frame", 8, "\\xef\\xbb\\xbfFrame"}, /* BOM */
        {"zero\xe2\x80\x8bwidth", 12, "zero\\xe2\\x80\\x8bwidth"},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(vbp_escape(buf, sizeof buf, cases[i].in, cases[i].len), cases[i].out))
            fail_msg("case %zu: '%s', want '%s'", i, buf, cases[i].out);
    /* cut at a whole character or escape, marked "...", within cap */
    assert_string_equal(vbp_escape(buf, 8, "abcdefghij", 10), "abcd...");
    assert_string_equal(vbp_escape(buf, 4, "abc", 3), "abc");
    assert_string_equal(vbp_escape(buf, 10, "\x01\x02\x03", 3), "\\x01...");
    assert_string_equal(vbp_escape(buf, 9, "\xe3\x83\xa9\xe3\x83\xaa\xe3\x83\xbc", 9), "\xe3\x83\xa9...");
    assert_string_equal(vbp_escape(buf, 1, "abc", 3), "");
    buf[0] = 'x';
    assert_ptr_equal(vbp_escape(buf, 0, "abc", 3), buf);
    assert_int_equal(buf[0], 'x');
    char big[VBP_ESCAPED_MAX(3)];
    assert_string_equal(vbp_escape(big, sizeof big, "\x01\x02\x03", 3), "\\x01\\x02\\x03");
}

static void clip_labels(void **s)
{
    (void)s;
    char buf[VBP_CLIP_LABEL_MAX];
    assert_string_equal(vbp_clip_label(buf, sizeof buf, "matchA", "clip2"), "matchA/clip2");
    assert_string_equal(vbp_clip_label(buf, sizeof buf, "", "serve"), "serve");
    assert_string_equal(vbp_clip_label(buf, sizeof buf, "m\x1b", "c\x1f"), "m\\x1b/c\\x1f");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_form_picks_what_it_names),
        cmocka_unit_test(names_that_fit_nothing_or_several_are_refused),
        cmocka_unit_test(long_lists_are_cut),
        cmocka_unit_test(escape_quotes_bytes_safely),
        cmocka_unit_test(clip_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
