/*
 * safetensors.c - writer and validating reader of the safetensors format
 * (vbp_safetensors.h), plus the network's state-dict save/load on top of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic.h"
#include "internal.h"
#include "vbp_util.h"
#include "vbp_net.h"
#include "vbp_safetensors.h"
#include "arch.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

#define MAX_HEADER (64u << 20)

typedef struct st_entry {
    char *name;
    vbp_st_dtype dtype;
    uint32_t ndim;
    uint64_t shape[VBP_ST_MAX_DIMS];
    uint64_t begin, end;
} st_entry;

struct vbp_st_file {
    unsigned char *bytes;
    size_t size, data_off;
    st_entry *entries;
    size_t count;
    char **meta; /* key, value, key, value ... */
    size_t meta_count;
};

size_t vbp_st_dtype_size(vbp_st_dtype d)
{
    return d == VBP_ST_I64 ? 8 : 4;
}

uint64_t vbp_st_numel(const vbp_st_tensor *t)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* A name or value of a header as a message quotes it (vbp_escape: files choose their bytes). */
#define QUOTED_MAX 160
static const char *quoted(char buf[QUOTED_MAX], const char *s)
{
    return vbp_escape(buf, QUOTED_MAX, s, strlen(s));
}

/* ------------------------------------------------------------------ writer */

static int plain_string(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

int vbp_safetensors_write(const char *path, const vbp_st_tensor *tensors, size_t count,
                          const char *const *meta, size_t meta_count, vbp_error *err)
{
    vbp_json j;
    vbp_json_init(&j, 0);
    vbp_json_begin_object(&j);
    if (meta_count) {
        vbp_json_key(&j, "__metadata__");
        vbp_json_begin_object(&j);
        for (size_t i = 0; i < meta_count; i++) {
            /* the reader here parses simple strings only */
            if (!plain_string(meta[2 * i]) || !plain_string(meta[2 * i + 1])) {
                char qk[QUOTED_MAX];
                vbp_json_free(&j);
                return vbp_fail(err, VBP_E_ARG, "%s: metadata '%s' needs JSON escaping", path,
                                quoted(qk, meta[2 * i]));
            }
            vbp_json_kstring(&j, meta[2 * i], meta[2 * i + 1]);
        }
        vbp_json_end_object(&j);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < count; i++) {
        const vbp_st_tensor *t = &tensors[i];
        if (!plain_string(t->name) || !t->name[0] || t->ndim > VBP_ST_MAX_DIMS) {
            char qn[QUOTED_MAX];
            vbp_json_free(&j);
            return vbp_fail(err, VBP_E_ARG, "%s: bad tensor name or rank '%s'", path,
                            quoted(qn, t->name));
        }
        const uint64_t bytes = vbp_st_numel(t) * vbp_st_dtype_size(t->dtype);
        vbp_json_key(&j, t->name);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "dtype", t->dtype == VBP_ST_I64 ? "I64" : "F32");
        vbp_json_key(&j, "shape");
        vbp_json_begin_array(&j);
        for (uint32_t d = 0; d < t->ndim; d++)
            vbp_json_u64(&j, t->shape[d]);
        vbp_json_end_array(&j);
        vbp_json_key(&j, "data_offsets");
        vbp_json_begin_array(&j);
        vbp_json_u64(&j, off);
        vbp_json_u64(&j, off + bytes);
        vbp_json_end_array(&j);
        vbp_json_end_object(&j);
        off += bytes;
    }
    vbp_json_end_object(&j);
    /* the header is padded with spaces to a multiple of 8 bytes */
    const char *text = vbp_json_text(&j);
    size_t tlen = text ? strlen(text) : 0, hpad = (8 - tlen % 8) % 8;
    char *head = text ? malloc(tlen + hpad) : NULL;
    if (!head) {
        vbp_json_free(&j);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory building the header", path);
    }
    memcpy(head, text, tlen);
    memset(head + tlen, ' ', hpad);
    vbp_json_free(&j);
    struct { char *p; size_t len; } b = {head, tlen + hpad};
    vbp_atomic f;
    const uint64_t hlen = b.len;
    int rc = vbp_atomic_open(&f, path, err);
    if (!rc)
        rc = vbp_atomic_write(&f, &hlen, 8, err);
    if (!rc)
        rc = vbp_atomic_write(&f, b.p, b.len, err);
    for (size_t i = 0; i < count && !rc; i++)
        rc = vbp_atomic_write(&f, tensors[i].data,
                              vbp_st_numel(&tensors[i]) * vbp_st_dtype_size(tensors[i].dtype), err);
    if (!rc)
        rc = vbp_atomic_commit(&f, 1, err);
    else
        vbp_atomic_abort(&f);
    free(b.p);
    return rc;
}

/* ------------------------------------------------------------------ reader */


typedef struct jp {
    const char *s, *end, *start;
    const char *path;
    vbp_error *err;
} jp;

static void ws(jp *j)
{
    while (j->s < j->end && (*j->s == ' ' || *j->s == '\n' || *j->s == '\t' || *j->s == '\r'))
        j->s++;
}

/* Skip white space; if c follows, consume it and return 1, else 0. */
static int eat(jp *j, char c)
{
    ws(j);
    if (j->s < j->end && *j->s == c) {
        j->s++;
        return 1;
    }
    return 0;
}

static int bad(jp *j, const char *what)
{
    return vbp_fail(j->err, VBP_E_FORMAT, "%s: bad safetensors header: %s at byte %zu", j->path,
                    what, (size_t)(j->s - j->start) + 8);
}

static int expect(jp *j, char c)
{
    if (eat(j, c))
        return 0;
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    return bad(j, what);
}

/* Parse a JSON string (simple escapes only) into a new malloc'd string. */
static int parse_string(jp *j, char **out)
{
    if (expect(j, '"'))
        return VBP_E_FORMAT;
    const char *start = j->s;
    size_t n = 0;
    for (const char *p = start; p < j->end && *p != '"'; p++, n++)
        if (*p == '\\')
            p++;
    char *r = malloc(n + 1), *w = r;
    if (!r)
        return vbp_fail(j->err, VBP_E_NOMEM, "%s: out of memory", j->path);
    while (j->s < j->end && *j->s != '"') {
        char c = *j->s++;
        if (c == '\\') {
            if (j->s >= j->end)
                break;
            c = *j->s++;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *k = strchr(from, c);
            if (!k || !c) {
                free(r);
                return bad(j, "unsupported string escape");
            }
            c = to[k - from];
        }
        *w++ = c;
    }
    *w = 0;
    if (j->s >= j->end) {
        free(r);
        return bad(j, "unterminated string");
    }
    j->s++;
    *out = r;
    return 0;
}

/* A member's key and its ':' into a new malloc'd *key. */
static int parse_key(jp *j, char **key)
{
    *key = NULL;
    if (parse_string(j, key) || expect(j, ':')) {
        free(*key);
        return VBP_E_FORMAT;
    }
    return 0;
}

static int parse_u64(jp *j, uint64_t *v)
{
    ws(j);
    if (j->s >= j->end || *j->s < '0' || *j->s > '9')
        return bad(j, "expected an unsigned integer");
    uint64_t x = 0;
    while (j->s < j->end && *j->s >= '0' && *j->s <= '9') {
        if (x > (UINT64_MAX - 9) / 10)
            return bad(j, "integer too large");
        x = x * 10 + (uint64_t)(*j->s++ - '0');
    }
    *v = x;
    return 0;
}

/* [u64, ...] into v (at most max values), count in *n. */
static int parse_u64_list(jp *j, uint64_t *v, uint32_t max, uint32_t *n)
{
    if (expect(j, '['))
        return VBP_E_FORMAT;
    *n = 0;
    if (eat(j, ']'))
        return 0;
    for (;;) {
        if (*n >= max)
            return bad(j, "too many dimensions");
        if (parse_u64(j, &v[(*n)++]))
            return VBP_E_FORMAT;
        if (!eat(j, ','))
            return expect(j, ']');
    }
}

/* Either '}' (returns 1) or ',' (returns 0) after a member; <0 on error. */
static int next_member(jp *j)
{
    return eat(j, '}') ? 1 : expect(j, ',') ? VBP_E_FORMAT : 0;
}

/* '{' then either '}' (returns 1: empty object) or a first member (returns 0); <0 on error. */
static int open_object(jp *j)
{
    return expect(j, '{') ? VBP_E_FORMAT : eat(j, '}');
}

static int parse_meta(jp *j, vbp_st_file *f)
{
    const int empty = open_object(j);
    if (empty)
        return empty < 0 ? empty : 0;
    for (;;) {
        char **m = realloc(f->meta, (f->meta_count + 1) * 2 * sizeof *m);
        if (!m)
            return vbp_fail(j->err, VBP_E_NOMEM, "%s: out of memory", j->path);
        f->meta = m;
        m[2 * f->meta_count] = m[2 * f->meta_count + 1] = NULL;
        f->meta_count++;
        if (parse_string(j, &m[2 * f->meta_count - 2]) || expect(j, ':') ||
            parse_string(j, &m[2 * f->meta_count - 1]))
            return VBP_E_FORMAT;
        const int r = next_member(j);
        if (r)
            return r < 0 ? r : 0;
    }
}

static int parse_entry(jp *j, st_entry *e)
{
    int have = 0;
    if (expect(j, '{'))
        return VBP_E_FORMAT;
    for (;;) {
        char *key;
        if (parse_key(j, &key))
            return VBP_E_FORMAT;
        int rc = 0;
        if (!strcmp(key, "dtype")) {
            char *d = NULL;
            rc = parse_string(j, &d);
            if (!rc && !strcmp(d, "F32"))
                e->dtype = VBP_ST_F32;
            else if (!rc && !strcmp(d, "I64"))
                e->dtype = VBP_ST_I64;
            else if (!rc) {
                char qn[QUOTED_MAX], qd[QUOTED_MAX];
                rc = vbp_fail(j->err, VBP_E_FORMAT, "%s: tensor %s has dtype %s (only F32, I64)",
                              j->path, quoted(qn, e->name), quoted(qd, d));
            }
            free(d);
            have |= 1;
        } else if (!strcmp(key, "shape")) {
            rc = parse_u64_list(j, e->shape, VBP_ST_MAX_DIMS, &e->ndim);
            have |= 2;
        } else if (!strcmp(key, "data_offsets")) {
            uint64_t o[2];
            uint32_t n;
            rc = parse_u64_list(j, o, 2, &n);
            if (!rc && n != 2)
                rc = bad(j, "data_offsets needs two values");
            e->begin = o[0], e->end = o[1];
            have |= 4;
        } else {
            rc = bad(j, "unknown tensor field");
        }
        free(key);
        if (rc)
            return rc;
        const int r = next_member(j);
        if (r < 0)
            return r;
        if (r)
            break;
    }
    char qn[QUOTED_MAX];
    if (have != 7)
        return vbp_fail(j->err, VBP_E_FORMAT, "%s: tensor %s lacks dtype, shape or data_offsets",
                        j->path, quoted(qn, e->name));
    return 0;
}

static int parse_header(jp *j, vbp_st_file *f)
{
    const int empty = open_object(j);
    if (empty)
        return empty < 0 ? empty : 0;
    for (;;) {
        char *name;
        if (parse_key(j, &name))
            return VBP_E_FORMAT;
        int rc;
        if (!strcmp(name, "__metadata__")) {
            free(name);
            rc = parse_meta(j, f);
        } else {
            st_entry *e = realloc(f->entries, (f->count + 1) * sizeof *e);
            if (!e) {
                free(name);
                return vbp_fail(j->err, VBP_E_NOMEM, "%s: out of memory", j->path);
            }
            f->entries = e;
            memset(&e[f->count], 0, sizeof *e);
            e[f->count].name = name;
            f->count++;
            rc = parse_entry(j, &e[f->count - 1]);
        }
        if (rc)
            return rc;
        const int r = next_member(j);
        if (r)
            return r < 0 ? r : 0;
    }
}

int vbp_safetensors_open(const char *path, vbp_st_file **out, vbp_error *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open: %s", path, strerror(errno));
    vbp_st_file *f = calloc(1, sizeof *f);
    struct stat st;
    int rc = VBP_OK;
    if (!f) {
        fclose(fp);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", path);
    }
    if (fstat(fileno(fp), &st) != 0 || st.st_size < 8) {
        rc = vbp_fail(err, VBP_E_TRUNCATED, "%s: too short for a safetensors file", path);
        goto fail;
    }
    f->size = (size_t)st.st_size;
    f->bytes = malloc(f->size);
    if (!f->bytes) {
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: cannot hold %zu bytes", path, f->size);
        goto fail;
    }
    if (fread(f->bytes, 1, f->size, fp) != f->size) {
        rc = vbp_fail(err, VBP_E_IO, "%s: read failed", path);
        goto fail;
    }
    uint64_t hlen;
    memcpy(&hlen, f->bytes, 8);
    if (hlen > MAX_HEADER || hlen > f->size - 8) {
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: header length %" PRIu64 " exceeds the file", path,
                      hlen);
        goto fail;
    }
    f->data_off = 8 + (size_t)hlen;
    jp j = {(const char *)f->bytes + 8, (const char *)f->bytes + 8 + hlen,
            (const char *)f->bytes + 8, path, err};
    rc = parse_header(&j, f);
    if (!rc) {
        ws(&j);
        if (j.s != j.end)
            rc = bad(&j, "trailing bytes after the JSON object");
    }
    for (size_t i = 0; !rc && i < f->count; i++) {
        const st_entry *e = &f->entries[i];
        char qn[QUOTED_MAX];
        uint64_t numel = 1;
        for (uint32_t d = 0; d < e->ndim; d++) {
            if (e->shape[d] && numel > UINT64_MAX / 16 / e->shape[d]) {
                numel = UINT64_MAX / 16;
                break;
            }
            numel *= e->shape[d];
        }
        if (e->begin > e->end || e->end > f->size - f->data_off ||
            e->end - e->begin != numel * vbp_st_dtype_size(e->dtype))
            rc = vbp_fail(err, VBP_E_FORMAT,
                          "%s: tensor %s: data_offsets [%" PRIu64 ",%" PRIu64
                          "] do not match its shape or the file size",
                          path, quoted(qn, e->name), e->begin, e->end);
        for (size_t k = 0; !rc && k < i; k++)
            if (!strcmp(f->entries[k].name, e->name))
                rc = vbp_fail(err, VBP_E_FORMAT, "%s: tensor %s appears twice", path,
                              quoted(qn, e->name));
    }
    if (rc)
        goto fail;
    fclose(fp);
    *out = f;
    return VBP_OK;
fail:
    fclose(fp);
    vbp_safetensors_close(f);
    return rc;
}

void vbp_safetensors_close(vbp_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->entries[i].name);
    for (size_t i = 0; i < 2 * f->meta_count; i++)
        free(f->meta[i]);
    free(f->meta);
    free(f->entries);
    free(f->bytes);
    free(f);
}

size_t vbp_safetensors_count(const vbp_st_file *f)
{
    return f->count;
}

int vbp_safetensors_get(const vbp_st_file *f, size_t i, vbp_st_tensor *t)
{
    if (i >= f->count)
        return VBP_E_ARG;
    const st_entry *e = &f->entries[i];
    t->name = e->name;
    t->dtype = e->dtype;
    t->ndim = e->ndim;
    memcpy(t->shape, e->shape, sizeof t->shape);
    t->data = f->bytes + f->data_off + e->begin;
    return VBP_OK;
}

int vbp_safetensors_find(const vbp_st_file *f, const char *name, vbp_st_tensor *t)
{
    for (size_t i = 0; i < f->count; i++)
        if (!strcmp(f->entries[i].name, name))
            return vbp_safetensors_get(f, i, t);
    return VBP_E_ARG;
}

const char *vbp_safetensors_meta(const vbp_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->meta_count; i++)
        if (f->meta[2 * i] && !strcmp(f->meta[2 * i], key))
            return f->meta[2 * i + 1];
    return NULL;
}

/* ----------------------------------------------------- network state dict */

int vbp_net_save_safetensors(const vbp_net *net, const char *path, vbp_error *err)
{
    const size_t n = vbp_net_tensor_count(net);
    vbp_st_tensor ts[256];
    const int64_t batches = (int64_t)vbp_net_batches_tracked(net);
    vbp_net *mut = (vbp_net *)net; /* the accessors hand out mutable pointers */
    if (n > 256)
        return vbp_fail(err, VBP_E_ARG, "%s: too many tensors", path);
    for (size_t i = 0; i < n; i++) {
        vbp_net_tensor t;
        vbp_net_tensor_info(net, i, &t);
        ts[i].name = t.name;
        ts[i].ndim = t.ndim;
        for (uint32_t d = 0; d < t.ndim; d++)
            ts[i].shape[d] = t.shape[d];
        ts[i].dtype = t.kind == VBP_TENSOR_COUNTER ? VBP_ST_I64 : VBP_ST_F32;
        ts[i].data = t.kind == VBP_TENSOR_COUNTER ? (const void *)&batches
                     : t.kind == VBP_TENSOR_PARAM ? (const void *)(vbp_net_params(mut) + t.offset)
                                                  : (const void *)(vbp_net_buffers(mut) + t.offset);
    }
    const char *meta[] = {"format", "pt", "model", vbp_net_get_config(net)->model};
    return vbp_safetensors_write(path, ts, n, meta, 2, err);
}

static void shape_str(char *buf, size_t cap, const uint64_t *shape, uint32_t ndim)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (uint32_t d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%" PRIu64, d ? "," : "", shape[d]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

int vbp_net_load_safetensors(vbp_net *net, const char *path, vbp_error *err)
{
    vbp_st_file *f;
    int rc = vbp_safetensors_open(path, &f, err);
    if (rc)
        return rc;
    const size_t n = vbp_net_tensor_count(net);
    /* Validate everything before touching the net. */
    const char *model = vbp_safetensors_meta(f, "model"), *mine = vbp_net_get_config(net)->model;
    if (model && strcmp(model, mine)) {
        char q[QUOTED_MAX];
        rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: weights of %s, this network is %s", path,
                      quoted(q, model), mine);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        vbp_net_tensor t;
        vbp_st_tensor s;
        vbp_net_tensor_info(net, i, &t);
        if (vbp_safetensors_find(f, t.name, &s)) {
            rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: tensor %s is missing", path, t.name);
            break;
        }
        const vbp_st_dtype want = t.kind == VBP_TENSOR_COUNTER ? VBP_ST_I64 : VBP_ST_F32;
        uint64_t ws_[4];
        for (uint32_t d = 0; d < t.ndim; d++)
            ws_[d] = t.shape[d];
        int same = s.ndim == t.ndim;
        for (uint32_t d = 0; same && d < t.ndim; d++)
            same = s.shape[d] == ws_[d];
        if (s.dtype != want) {
            rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: tensor %s has dtype %s, expected %s", path,
                          t.name, s.dtype == VBP_ST_I64 ? "I64" : "F32",
                          want == VBP_ST_I64 ? "I64" : "F32");
        } else if (!same) {
            char have[96], exp[96];
            shape_str(have, sizeof have, s.shape, s.ndim);
            shape_str(exp, sizeof exp, ws_, t.ndim);
            rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: tensor %s has shape %s, this network expects %s",
                          path, t.name, have, exp);
        }
    }
    if (!rc && vbp_safetensors_count(f) != n)
        for (size_t i = 0; i < vbp_safetensors_count(f); i++) {
            vbp_st_tensor s;
            vbp_safetensors_get(f, i, &s);
            int known = 0;
            for (size_t k = 0; k < n && !known; k++) {
                vbp_net_tensor t;
                vbp_net_tensor_info(net, k, &t);
                known = !strcmp(t.name, s.name);
            }
            if (!known) {
                char qn[QUOTED_MAX];
                rc = vbp_fail(err, VBP_E_GEOMETRY, "%s: unexpected tensor %s", path,
                              quoted(qn, s.name));
                break;
            }
        }
    for (size_t i = 0; i < n && !rc; i++) {
        vbp_net_tensor t;
        vbp_st_tensor s;
        vbp_net_tensor_info(net, i, &t);
        vbp_safetensors_find(f, t.name, &s);
        if (t.kind == VBP_TENSOR_COUNTER) {
            int64_t v;
            memcpy(&v, s.data, 8);
            vbp_net_set_batches_tracked(net, v < 0 ? 0 : (uint64_t)v);
        } else {
            float *dst = (t.kind == VBP_TENSOR_PARAM ? vbp_net_params(net) : vbp_net_buffers(net));
            memcpy(dst + t.offset, s.data, t.numel * sizeof(float));
        }
    }
    vbp_safetensors_close(f);
    return rc;
}

int vbp_net_weights_config(const char *path, vbp_net_config *cfg, vbp_error *err)
{
    vbp_st_file *f;
    int rc = vbp_safetensors_open(path, &f, err);
    if (rc)
        return rc;
    const char *model = vbp_safetensors_meta(f, "model");
    const vbp_arch *arch = model ? vbp_arch_find(model) : NULL;
    char first[64];
    vbp_st_tensor in, head;
    for (unsigned i = 0; !model && i < vbp_arch_count(); i++) { /* no metadata: by its tensors */
        snprintf(first, sizeof first, "%s.dw.weight", vbp_arch_at(i)->block[0].name);
        arch = vbp_safetensors_find(f, first, &in) ? arch : vbp_arch_at(i);
    }
    if (arch)
        snprintf(first, sizeof first, "%s.dw.weight", arch->block[0].name);
    char q[QUOTED_MAX];
    if (!arch)
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: not the weights of a known model (%s%s)", path,
                      model ? "metadata model " : "no tensor of one",
                      model ? quoted(q, model) : "");
    else if (vbp_safetensors_find(f, first, &in) || vbp_safetensors_find(f, "head.bias", &head) ||
             in.ndim != 4 || head.ndim != 1 || in.shape[0] == 0 || head.shape[0] == 0 ||
             in.shape[0] > 4096 || head.shape[0] > 4096)
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: not %s weights (tensors %s and head.bias)", path,
                      arch->name, first);
    if (!rc) {
        cfg->model = arch->name;
        cfg->in_channels = (uint32_t)in.shape[0];
        cfg->out_channels = (uint32_t)head.shape[0];
    }
    vbp_safetensors_close(f);
    return rc;
}
