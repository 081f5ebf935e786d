/* json.c - the JSON writer of vbp_util.h. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "vbp_util.h"

void vbp_json_init(vbp_json *j, int spaced)
{
    memset(j, 0, sizeof *j);
    j->spaced = spaced;
}

void vbp_json_free(vbp_json *j)
{
    free(j->text);
    int spaced = j->spaced;
    vbp_json_init(j, spaced);
}

static void put(vbp_json *j, const char *s, size_t n)
{
    if (j->failed)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *t = realloc(j->text, cap);
        if (!t) {
            j->failed = 1;
            return;
        }
        j->text = t;
        j->cap = cap;
    }
    memcpy(j->text + j->len, s, n);
    j->len += n;
    j->text[j->len] = '\0';
}

static void puts_(vbp_json *j, const char *s) { put(j, s, strlen(s)); }

static void putf(vbp_json *j, const char *fmt, ...) VBP_PRINTF(2, 3);
static void putf(vbp_json *j, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(j, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Before a value or a key: the comma that separates it from the previous item. */
static void item(vbp_json *j)
{
    if (j->has_item[j->depth])
        puts_(j, j->spaced ? ", " : ",");
    j->has_item[j->depth] = 1;
}

/* Before a value: a comma unless it follows its key. */
static void value(vbp_json *j)
{
    if (j->after_key)
        j->after_key = 0;
    else
        item(j);
}

static void open_(vbp_json *j, const char *c)
{
    value(j);
    puts_(j, c);
    if (j->depth == VBP_JSON_DEPTH)
        j->failed = 1;
    else
        j->has_item[++j->depth] = 0;
}

static void close_(vbp_json *j, const char *c)
{
    if (j->depth > 0)
        j->depth--;
    puts_(j, c);
}

void vbp_json_begin_object(vbp_json *j) { open_(j, "{"); }
void vbp_json_end_object(vbp_json *j) { close_(j, "}"); }
void vbp_json_begin_array(vbp_json *j) { open_(j, "["); }
void vbp_json_end_array(vbp_json *j) { close_(j, "]"); }

static void quoted(vbp_json *j, const char *s)
{
    puts_(j, "\"");
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        put(j, run, (size_t)(s - run));
        if (c == '"' || c == '\\')
            putf(j, "\\%c", c);
        else
            putf(j, "\\u%04x", c);
        run = s + 1;
    }
    put(j, run, (size_t)(s - run));
    puts_(j, "\"");
}

void vbp_json_key(vbp_json *j, const char *key)
{
    item(j);
    quoted(j, key);
    puts_(j, j->spaced ? ": " : ":");
    j->after_key = 1;
}

void vbp_json_string(vbp_json *j, const char *s)
{
    value(j);
    quoted(j, s ? s : "");
}

void vbp_json_u64(vbp_json *j, uint64_t v)
{
    value(j);
    putf(j, "%" PRIu64, v);
}

void vbp_json_i64(vbp_json *j, int64_t v)
{
    value(j);
    putf(j, "%" PRId64, v);
}

void vbp_json_double(vbp_json *j, double v, int digits)
{
    value(j);
    if (isfinite(v))
        putf(j, "%.*g", digits, v);
    else
        puts_(j, "null");
}

void vbp_json_bool(vbp_json *j, int v)
{
    value(j);
    puts_(j, v ? "true" : "false");
}

void vbp_json_null(vbp_json *j)
{
    value(j);
    puts_(j, "null");
}

void vbp_json_kstring(vbp_json *j, const char *key, const char *s)
{
    vbp_json_key(j, key);
    vbp_json_string(j, s);
}

void vbp_json_ku64(vbp_json *j, const char *key, uint64_t v)
{
    vbp_json_key(j, key);
    vbp_json_u64(j, v);
}

void vbp_json_kdouble(vbp_json *j, const char *key, double v, int digits)
{
    vbp_json_key(j, key);
    vbp_json_double(j, v, digits);
}

void vbp_json_kbool(vbp_json *j, const char *key, int v)
{
    vbp_json_key(j, key);
    vbp_json_bool(j, v);
}

const char *vbp_json_text(const vbp_json *j)
{
    return j->failed ? NULL : j->text ? j->text : "";
}

int vbp_json_print(vbp_json *j, FILE *f)
{
    const char *t = vbp_json_text(j);
    int rc = !t || fputs(t, f) == EOF || fputc('\n', f) == EOF ? -1 : 0;
    vbp_json_free(j);
    return rc;
}
