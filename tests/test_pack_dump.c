/* test_pack_dump.c - the memory table, JSON escaping and the heatmap overlay behind vbdump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "vbp_dump.h"
#include "vbp_util.h"
#include "pack_fixture.h"

static void memory_table_of_fixture(void **s)
{
    (void)s;
    char *dir = fx_tmpdir(), path[4096];
    snprintf(path, sizeof path, "%s/m.vbp", dir);
    vbp_error err;
    vbp_pack *p;
    assert_int_equal(fix_write(path, VBP_CODEC_RAW, 3, 0, &err), VBP_OK);
    assert_int_equal(vbp_pack_open(path, &p, &err), VBP_OK);
    vbp_memory m;
    vbp_pack_memory(p, 3, &m);
    assert_int_equal(m.frame, 3 * 64 * 48);
    assert_int_equal(m.heatmap, 64 * 48);
    assert_int_equal(m.sequence, 3 * 4 * 64 * 48);
    assert_int_equal(m.windows, 3 + 1 + 2); /* clips of 5, 3, 4 frames */
    assert_int_equal(m.preload_frames, 12 * 4 * 64 * 48);
    assert_int_equal(m.preload_windows, 6 * m.sequence);
    assert_int_equal(m.mapped, vbp_pack_get_info(p)->file_size);
    vbp_pack_memory(p, 5, &m);
    assert_int_equal(m.windows, 1); /* only rally1 holds 5 frames */
    /* The report text carries the same numbers. */
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_int_equal(vbp_dump_info(f, p, 3, 1), VBP_OK);
    fclose(f);
    assert_non_null(strstr(buf, "\"frames\": 12"));
    assert_non_null(strstr(buf, "\"windows\": 6"));
    assert_non_null(strstr(buf, "\"frames_per_split\": {\"train\": 5, \"val\": 3, \"test\": 4}"));
    free(buf);
    vbp_pack_close(p);
    unlink(path);
    fx_rmtree(dir);
}

static void json_strings_are_escaped(void **s)
{
    (void)s;
    vbp_json j;
    vbp_json_init(&j, 1);
    vbp_json_begin_object(&j);
    vbp_json_kstring(&j, "k\x01", "a\"b\\c\n\x1f\x7f\xc3\xa9");
    vbp_json_key(&j, "n");
    vbp_json_begin_array(&j);
    vbp_json_u64(&j, 18446744073709551615ull);
    vbp_json_i64(&j, -3);
    vbp_json_double(&j, 0.1, 6);
    vbp_json_double(&j, 1.0 / 0.0, 6);
    vbp_json_bool(&j, 1);
    vbp_json_null(&j);
    vbp_json_end_array(&j);
    vbp_json_end_object(&j);
    /* control bytes escaped as \u00XX (never dropped), other bytes (UTF-8, DEL) kept */
    assert_string_equal(vbp_json_text(&j), "{\"k\\u0001\": \"a\\\"b\\\\c\\u000a\\u001f\x7f\xc3\xa9\", "
                        "\"n\": [18446744073709551615, -3, 0.1, null, true, null]}");
    vbp_json_free(&j);
    vbp_json_init(&j, 0);
    vbp_json_begin_object(&j);
    vbp_json_ku64(&j, "a", 1);
    vbp_json_kbool(&j, "b", 0);
    vbp_json_end_object(&j);
    assert_string_equal(vbp_json_text(&j), "{\"a\":1,\"b\":false}");
    vbp_json_free(&j);
}

static void overlay_tints_red_where_the_heatmap_is(void **s)
{
    (void)s;
    uint8_t gray[2] = {100, 100}, heat[2] = {0, 255}, rgb[6];
    vbp_overlay_heatmap(gray, 1, heat, 2, 1, rgb);
    /* no heat: the gray value in all three planes */
    assert_int_equal(rgb[0], 100);
    assert_int_equal(rgb[2], 100);
    assert_int_equal(rgb[4], 100);
    /* full heat: 60% towards pure red */
    assert_int_equal(rgb[1], (100 * 102 + 255 * 153 + 127) / 255);
    assert_int_equal(rgb[3], (100 * 102 + 127) / 255);
    assert_int_equal(rgb[5], (100 * 102 + 127) / 255);
    uint8_t col[3] = {10, 20, 30}, h0 = 0, out[3];
    vbp_overlay_heatmap(col, 3, &h0, 1, 1, out);
    assert_memory_equal(out, col, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_table_of_fixture),
        cmocka_unit_test(json_strings_are_escaped),
        cmocka_unit_test(overlay_tints_red_where_the_heatmap_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
