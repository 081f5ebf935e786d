/*
 * loader_dump - batches exactly as the C loader serves them (vbp_loader_next), for
 * tests/test_python_loader.py to compare with vbpack.Loader's bit for bit.
 *   loader_dump PACK OUTDIR [key=value ...]
 * keys: the vbp_loader_opts fields seq stride batch seed flip brightness contrast shift
 * target cut threads drop_last part parts (numbers or, for target, order and mode, names),
 * split (train, val, test or all), epochs (comma-separated, served in that order) and
 * start (the first listed epoch starts at this batch).  Writes OUTDIR/x.f32 and y.f32
 * (every batch served, in order) and OUTDIR/batches.txt: one "epoch index n batch_n first"
 * line per batch, then one "sample clip first_frame clip_frame flip gain bias dx dy" line
 * per sample (gain and bias in %a).
 *   loader_dump --layout
 * prints "struct.field offset" lines and "struct sizeof" lines of the structs vbpack/_lib.py
 * mirrors.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vbp_loader.h"

#define FIELD(s, f) printf(#s "." #f " %zu\n", offsetof(s, f))

static void layout(void)
{
    FIELD(vbp_loader_opts, seq), FIELD(vbp_loader_opts, stride), FIELD(vbp_loader_opts, channels),
    FIELD(vbp_loader_opts, height), FIELD(vbp_loader_opts, width), FIELD(vbp_loader_opts, splits),
    FIELD(vbp_loader_opts, mode), FIELD(vbp_loader_opts, order), FIELD(vbp_loader_opts, seed),
    FIELD(vbp_loader_opts, flip_prob), FIELD(vbp_loader_opts, target),
    FIELD(vbp_loader_opts, target_cut), FIELD(vbp_loader_opts, brightness),
    FIELD(vbp_loader_opts, contrast), FIELD(vbp_loader_opts, shift), FIELD(vbp_loader_opts, batch),
    FIELD(vbp_loader_opts, drop_last), FIELD(vbp_loader_opts, threads),
    FIELD(vbp_loader_opts, prefetch), FIELD(vbp_loader_opts, memory_limit),
    FIELD(vbp_loader_opts, block_samples), FIELD(vbp_loader_opts, open_blocks),
    FIELD(vbp_loader_opts, part), FIELD(vbp_loader_opts, parts),
    FIELD(vbp_loader_opts, reserve_bytes), FIELD(vbp_loader_opts, limit),
    FIELD(vbp_loader_opts, background);
    FIELD(vbp_loader_shape, seq), FIELD(vbp_loader_shape, channels),
    FIELD(vbp_loader_shape, height), FIELD(vbp_loader_shape, width), FIELD(vbp_loader_shape, batch),
    FIELD(vbp_loader_shape, samples), FIELD(vbp_loader_shape, batches),
    FIELD(vbp_loader_shape, x_floats), FIELD(vbp_loader_shape, y_floats),
    FIELD(vbp_loader_shape, order), FIELD(vbp_loader_shape, mode),
    FIELD(vbp_loader_shape, data_bytes), FIELD(vbp_loader_shape, memory_limit),
    FIELD(vbp_loader_shape, memory_source), FIELD(vbp_loader_shape, background);
    FIELD(vbp_augment, gain), FIELD(vbp_augment, bias), FIELD(vbp_augment, dx),
    FIELD(vbp_augment, dy);
    FIELD(vbp_sample, sample), FIELD(vbp_sample, clip), FIELD(vbp_sample, first_frame),
    FIELD(vbp_sample, clip_frame), FIELD(vbp_sample, flip), FIELD(vbp_sample, aug);
    FIELD(vbp_batch, epoch), FIELD(vbp_batch, index), FIELD(vbp_batch, n),
    FIELD(vbp_batch, batch_n), FIELD(vbp_batch, first), FIELD(vbp_batch, x), FIELD(vbp_batch, y),
    FIELD(vbp_batch, samples);
    FIELD(vbp_error, code), FIELD(vbp_error, detail);
    printf("vbp_loader_opts %zu\nvbp_loader_shape %zu\nvbp_augment %zu\nvbp_sample %zu\n"
           "vbp_batch %zu\nvbp_error %zu\n", sizeof(vbp_loader_opts), sizeof(vbp_loader_shape),
           sizeof(vbp_augment), sizeof(vbp_sample), sizeof(vbp_batch), sizeof(vbp_error));
}

/* Apply key=value to o (and the epochs / start of the run); 0 when understood. */
static int set(vbp_loader_opts *o, char *epochs, size_t cap, uint64_t *start, const char *kv)
{
    const char *v = strchr(kv, '=');
    if (!v)
        return 1;
    size_t k = (size_t)(v++ - kv);
#define IS(name) (k == strlen(name) && !strncmp(kv, name, k))
    if (IS("seq")) o->seq = (uint32_t)atol(v);
    else if (IS("stride")) o->stride = (uint32_t)atol(v);
    else if (IS("batch")) o->batch = (uint32_t)atol(v);
    else if (IS("seed")) o->seed = strtoull(v, NULL, 10);
    else if (IS("flip")) o->flip_prob = strtof(v, NULL);
    else if (IS("brightness")) o->brightness = strtof(v, NULL);
    else if (IS("contrast")) o->contrast = strtof(v, NULL);
    else if (IS("shift")) o->shift = (uint32_t)atol(v);
    else if (IS("cut")) o->target_cut = (uint32_t)atol(v);
    else if (IS("threads")) o->threads = (uint32_t)atol(v);
    else if (IS("drop_last")) o->drop_last = atoi(v);
    else if (IS("part")) o->part = (uint32_t)atol(v);
    else if (IS("parts")) o->parts = (uint32_t)atol(v);
    else if (IS("background")) o->background = (uint32_t)atol(v);
    else if (IS("start")) *start = strtoull(v, NULL, 10);
    else if (IS("target")) return vbp_target_parse(v, &o->target) != 0;
    else if (IS("order")) return vbp_order_parse(v, &o->order) != 0;
    else if (IS("mode")) return vbp_load_mode_parse(v, &o->mode) != 0;
    else if (IS("epochs")) snprintf(epochs, cap, "%s", v);
    else if (IS("split")) {
        vbp_split s;
        if (!strcmp(v, "all"))
            o->splits = (1u << VBP_SPLIT_COUNT) - 1;
        else if (!vbp_split_parse(v, &s))
            o->splits = VBP_SPLIT_BIT(s);
        else
            return 1;
    } else
        return 1;
#undef IS
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--layout")) {
        layout();
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: loader_dump PACK OUTDIR [key=value ...] | loader_dump --layout\n");
        return 2;
    }
    vbp_loader_opts o;
    vbp_loader_opts_default(&o);
    char epochs[256] = "0";
    uint64_t start = 0;
    for (int i = 3; i < argc; i++)
        if (set(&o, epochs, sizeof epochs, &start, argv[i])) {
            fprintf(stderr, "loader_dump: bad argument '%s'\n", argv[i]);
            return 2;
        }
    vbp_loader *ld;
    vbp_error err;
    if (vbp_loader_open_path(argv[1], &o, &ld, &err)) {
        fprintf(stderr, "loader_dump: %s\n", vbp_error_message(&err));
        return 1;
    }
    const vbp_loader_shape *sh = vbp_loader_get_shape(ld);
    char path[3][4096];
    const char *names[3] = { "x.f32", "y.f32", "batches.txt" };
    FILE *f[3] = { NULL, NULL, NULL };
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        snprintf(path[i], sizeof path[i], "%s/%s", argv[2], names[i]);
        if (!(f[i] = fopen(path[i], i == 2 ? "w" : "wb"))) {
            fprintf(stderr, "loader_dump: cannot write %s\n", path[i]);
            rc = 1;
        }
    }
    char *save = NULL;
    for (char *e = strtok_r(epochs, ",", &save); !rc && e; e = strtok_r(NULL, ",", &save)) {
        vbp_batch b;
        int n;
        rc = vbp_loader_begin_epoch(ld, strtoull(e, NULL, 10), start, &err);
        start = 0;
        while (!rc && (n = vbp_loader_next(ld, &b, &err)) != 0) {
            if (n < 0) {
                rc = n;
                break;
            }
            fprintf(f[2], "%llu %llu %zu %zu %zu\n", (unsigned long long)b.epoch,
                    (unsigned long long)b.index, b.n, b.batch_n, b.first);
            for (size_t i = 0; i < b.n; i++) {
                const vbp_sample *s = &b.samples[i];
                fprintf(f[2], "%llu %llu %llu %llu %d %a %a %d %d\n",
                        (unsigned long long)s->sample, (unsigned long long)s->clip,
                        (unsigned long long)s->first_frame, (unsigned long long)s->clip_frame,
                        s->flip, (double)s->aug.gain, (double)s->aug.bias, s->aug.dx, s->aug.dy);
            }
            if (fwrite(b.x, sizeof(float), b.n * sh->x_floats, f[0]) != b.n * sh->x_floats ||
                fwrite(b.y, sizeof(float), b.n * sh->y_floats, f[1]) != b.n * sh->y_floats)
                rc = 1;
        }
    }
    if (rc < 0)
        fprintf(stderr, "loader_dump: %s\n", vbp_error_message(&err));
    for (int i = 0; i < 3; i++)
        if (f[i] && fclose(f[i]))
            rc = 1;
    vbp_loader_close(ld);
    return rc ? 1 : 0;
}
