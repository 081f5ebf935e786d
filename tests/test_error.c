/* test_error.c - error codes and detail lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "internal.h"

static void fail_fills_detail_and_returns_code(void **state)
{
    (void)state;
    vbp_error e;
    vbp_error_clear(&e);
    assert_int_equal(vbp_fail(&e, VBP_E_INPUT, "%s: frame %d\nmissing", "clip", 7), VBP_E_INPUT);
    assert_int_equal(e.code, VBP_E_INPUT);
    assert_string_equal(e.detail, "clip: frame 7 missing");
    assert_string_equal(vbp_error_message(&e), "clip: frame 7 missing");
}

static void message_falls_back_to_strerror(void **state)
{
    (void)state;
    vbp_error e;
    vbp_error_clear(&e);
    e.code = VBP_E_CHECKSUM;
    assert_string_equal(vbp_error_message(&e), "checksum mismatch");
    assert_int_equal(vbp_fail(NULL, VBP_E_IO, "x"), VBP_E_IO);
    for (int c = VBP_OK; c >= VBP_E_UNSUPPORTED; c--)
        assert_string_not_equal(vbp_strerror(c), "unknown error");
    assert_string_equal(vbp_strerror(-999), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fail_fills_detail_and_returns_code),
        cmocka_unit_test(message_falls_back_to_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
