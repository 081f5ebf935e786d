/*
 * vbsample - a seeded, deterministic synthetic ball-tracking dataset in the
 * two public layouts (TrackNetV4 inputs/heatmaps/csv, VballNet flat), for
 * demos and tests.  Same flags and seed -> byte-identical files.
 *
 * Each clip is a textured court (gradient, low-frequency texture, lines)
 * with 2-3 moving "players" (bright ellipses, larger than the ball) and a
 * small yellow ball on ballistic arcs that bounces off the floor and the
 * side walls.  The ball is hidden (Visibility 0) behind a player, above the
 * top edge, or during random occlusion runs of 2-7 frames.  Per-pixel noise
 * is added to every frame.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vbp_util.h"
#include "cli.h"
#include "vbp_image.h"

typedef struct options {
    const char *out;
    int tracknet, vballnet, gray, json;
    unsigned long matches, clips, frames, width, height;
    uint64_t seed;
} options;

/* splitmix64: small, fast, and the same everywhere. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static double rng_uniform(rng *r, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct player {
    double x0, amp, freq, phase, drift, feet, rx, ry;
    uint8_t shirt[3];
} player;

typedef struct ball {
    double x, y, vx, vy, r;
    int hidden_run; /* frames of forced occlusion left */
} ball;

typedef struct clip_scene {
    uint32_t w, h;
    double scale, floor_y, gravity;
    uint8_t *court; /* 3 planes, static background */
    player players[3];
    int nplayers;
    ball b;
    rng r;
} clip_scene;

static uint8_t clamp_u8(double v)
{
    return v <= 0.0 ? 0 : v >= 255.0 ? 255 : (uint8_t)lrint(v);
}

/* The static court: sand gradient, low-frequency texture, white lines. */
static void draw_court(clip_scene *s)
{
    uint32_t w = s->w, h = s->h;
    size_t plane = (size_t)w * h;
    double ph[6], fq[6];
    for (int i = 0; i < 6; i++) {
        ph[i] = rng_uniform(&s->r, 0, 2 * M_PI);
        fq[i] = rng_uniform(&s->r, 1.0, 4.0) * 2 * M_PI;
    }
    double top = 0.42 * h, base = 0.95 * h, left = 0.08 * w, right = 0.92 * w;
    double lw = 1.5 * s->scale;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            double u = (double)x / w, v = (double)y / h;
            double tex = 9 * sin(fq[0] * u + ph[0]) * sin(fq[1] * v + ph[1]) +
                         6 * sin(fq[2] * (u + v) + ph[2]) + 4 * sin(fq[3] * (u - v) + ph[3]);
            double rgb[3];
            if (y < top) { /* stands / wall behind the court */
                rgb[0] = 70 + 40 * v;
                rgb[1] = 90 + 40 * v;
                rgb[2] = 120 + 30 * v;
            } else {
                rgb[0] = 168 + 40 * v;
                rgb[1] = 140 + 38 * v;
                rgb[2] = 100 + 30 * v;
            }
            int line = (y >= top && y <= base) &&
                       (fabs(x - left) < lw || fabs(x - right) < lw || fabs(x - 0.5 * w) < lw);
            line |= (x >= left && x <= right) && (fabs(y - top) < lw || fabs(y - base) < lw ||
                                                  fabs(y - 0.68 * h) < lw);
            for (int c = 0; c < 3; c++)
                s->court[c * plane + (size_t)y * w + x] =
                    clamp_u8(line ? 225 + 0.3 * tex : rgb[c] + tex);
        }
}

static void scene_init(clip_scene *s, uint32_t w, uint32_t h, uint64_t seed)
{
    s->w = w;
    s->h = h;
    s->r.s = seed;
    s->scale = h / 288.0;
    s->floor_y = 0.9 * h;
    s->gravity = 0.45 * s->scale;
    draw_court(s);
    static const uint8_t shirts[4][3] = {{235, 235, 228}, {230, 215, 160}, {215, 225, 240},
                                         {240, 200, 190}};
    s->nplayers = 2 + (int)(rng_next(&s->r) % 2);
    for (int i = 0; i < s->nplayers; i++) {
        player *p = &s->players[i];
        p->x0 = rng_uniform(&s->r, 0.15, 0.85) * w;
        p->amp = rng_uniform(&s->r, 0.05, 0.15) * w;
        p->freq = rng_uniform(&s->r, 0.03, 0.09);
        p->phase = rng_uniform(&s->r, 0, 2 * M_PI);
        p->drift = rng_uniform(&s->r, -0.4, 0.4) * s->scale;
        p->feet = rng_uniform(&s->r, 0.6, 0.93) * h;
        p->rx = rng_uniform(&s->r, 9, 13) * s->scale;
        p->ry = rng_uniform(&s->r, 22, 30) * s->scale;
        memcpy(p->shirt, shirts[rng_next(&s->r) % 4], 3);
    }
    s->b.r = 3.5 * s->scale;
    s->b.x = rng_uniform(&s->r, 0.2, 0.8) * w;
    s->b.y = rng_uniform(&s->r, 0.3, 0.7) * h;
    s->b.vx = rng_uniform(&s->r, -6, 6) * s->scale;
    s->b.vy = rng_uniform(&s->r, -8, 2) * s->scale;
    s->b.hidden_run = 0;
}

/* Body centre of player p at frame t (the ellipse sits on its feet line). */
static void player_pos(const clip_scene *s, const player *p, uint32_t t, double *cx, double *cy)
{
    double x = p->x0 + p->amp * sin(p->freq * t + p->phase) + p->drift * t;
    double span = s->w - 2 * p->rx;
    x = fmod(x - p->rx, 2 * span); /* wander back and forth inside the frame */
    if (x < 0)
        x += 2 * span;
    *cx = p->rx + (x < span ? x : 2 * span - x);
    *cy = p->feet - p->ry + 2 * s->scale * sin(0.3 * t + p->phase);
}

/* Alpha-blend a filled ellipse with a soft 1-pixel edge. */
static void fill_ellipse(uint8_t *img, uint32_t w, uint32_t h, double cx, double cy, double rx,
                         double ry, const uint8_t rgb[3])
{
    size_t plane = (size_t)w * h;
    long y0 = lrint(floor(cy - ry - 1)), y1 = lrint(ceil(cy + ry + 1));
    long x0 = lrint(floor(cx - rx - 1)), x1 = lrint(ceil(cx + rx + 1));
    for (long y = y0 < 0 ? 0 : y0; y <= y1 && y < (long)h; y++)
        for (long x = x0 < 0 ? 0 : x0; x <= x1 && x < (long)w; x++) {
            double dx = (x - cx) / rx, dy = (y - cy) / ry;
            double a = (1.0 - sqrt(dx * dx + dy * dy)) * (rx < ry ? rx : ry) + 0.5;
            if (a <= 0)
                continue;
            a = a > 1 ? 1 : a;
            for (int c = 0; c < 3; c++) {
                uint8_t *px = &img[c * plane + (size_t)y * w + x];
                *px = clamp_u8(*px * (1 - a) + rgb[c] * a);
            }
        }
}

/* Advance the ball one frame: gravity, floor and wall bounces, relaunch when it dies down. */
static void ball_step(clip_scene *s)
{
    ball *b = &s->b;
    b->vy += s->gravity;
    b->x += b->vx;
    b->y += b->vy;
    if (b->y > s->floor_y - b->r) {
        b->y = 2 * (s->floor_y - b->r) - b->y;
        b->vy = -0.72 * b->vy;
        b->vx *= 0.9;
        if (fabs(b->vy) < 4 * s->scale) { /* a player hits it again */
            b->vy = -rng_uniform(&s->r, 9, 16) * s->scale; /* the top ones leave the frame */
            b->vx = rng_uniform(&s->r, -7, 7) * s->scale;
        }
    }
    if (b->x < b->r || b->x > s->w - b->r) {
        b->vx = -b->vx;
        b->x = b->x < b->r ? 2 * b->r - b->x : 2 * (s->w - b->r) - b->x;
    }
    if (b->hidden_run > 0)
        b->hidden_run--;
    else if (rng_next(&s->r) % 100 < 3)
        b->hidden_run = 2 + (int)(rng_next(&s->r) % 6);
}

/*
 * Render frame t into img (3 planes) and return the label: 1 and the
 * rounded centre when the ball is visible, else 0.
 */
static int render(clip_scene *s, uint32_t t, uint8_t *img, int *lx, int *ly)
{
    uint32_t w = s->w, h = s->h;
    size_t plane = (size_t)w * h;
    memcpy(img, s->court, 3 * plane);
    ball *b = &s->b;
    static const uint8_t ball_rgb[3] = {250, 228, 60}, head_rgb[3] = {205, 160, 125};
    int drawn = b->hidden_run == 0;
    if (drawn)
        fill_ellipse(img, w, h, b->x, b->y, b->r, b->r, ball_rgb);
    int visible = drawn && b->x >= 0 && b->y >= 0 && lrint(b->x) < (long)w && lrint(b->y) < (long)h;
    for (int i = 0; i < s->nplayers; i++) {
        player *p = &s->players[i];
        double cx, cy;
        player_pos(s, p, t, &cx, &cy);
        fill_ellipse(img, w, h, cx, cy, p->rx, p->ry, p->shirt);
        double hr = 0.55 * p->rx;
        fill_ellipse(img, w, h, cx, cy - p->ry - hr * 0.8, hr, hr, head_rgb);
        double dx = (b->x - cx) / p->rx, dy = (b->y - cy) / p->ry;
        if (dx * dx + dy * dy < 1.0)
            visible = 0; /* behind the player */
    }
    for (size_t i = 0; i < 3 * plane; i += 8) { /* noise in [-4, 4], 8 pixels per draw */
        uint64_t n = rng_next(&s->r);
        for (size_t k = 0; k < 8 && i + k < 3 * plane; k++, n >>= 8) {
            int v = img[i + k] + (int)((n & 0xff) % 9) - 4;
            img[i + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    *lx = visible ? (int)lrint(b->x) : -1;
    *ly = visible ? (int)lrint(b->y) : -1;
    return visible;
}

/* RGB planes -> gray plane in place (OpenCV's fixed-point RGB2GRAY weights). */
static void to_gray(uint8_t *img, size_t plane)
{
    for (size_t i = 0; i < plane; i++)
        img[i] = (uint8_t)((img[i] * 4899u + img[plane + i] * 9617u + img[2 * plane + i] * 1868u +
                            8192u) >> 14);
}

/* mkdir -p; returns 0 or -1 with a message printed. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) {
        fprintf(stderr, "vbsample: %s: path too long\n", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char keep = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "vbsample: %s: cannot create directory: %s\n", buf, strerror(errno));
            return -1;
        }
        buf[i] = keep;
    }
    return 0;
}

/* Write `text` to path atomically; 0 or -1 (message printed). */
static int write_text(const char *path, const char *text, size_t len)
{
    vbp_error err;
    if (vbp_atomic_write_file(path, text, len, &err)) {
        fprintf(stderr, "vbsample: %s\n", vbp_error_message(&err));
        return -1;
    }
    return 0;
}

static int write_png(const char *path, const uint8_t *img, const options *o, uint32_t channels)
{
    vbp_error err;
    if (vbp_png_write_planar(path, img, (uint32_t)o->width, (uint32_t)o->height, channels, &err)) {
        fprintf(stderr, "vbsample: %s\n", vbp_error_message(&err));
        return -1;
    }
    return 0;
}

/* Generate one clip in every requested layout.  Returns 0 or -1 (message printed). */
static int make_clip(const options *o, unsigned long m, unsigned long c, uint8_t *img, uint8_t *hm,
                     char *csv, size_t csv_cap, unsigned long *visible, cli_bar *bar, size_t *done,
                     size_t total)
{
    uint32_t w = (uint32_t)o->width, h = (uint32_t)o->height;
    size_t plane = (size_t)w * h;
    clip_scene s;
    memset(&s, 0, sizeof s);
    s.court = malloc(3 * plane);
    if (!s.court) {
        fprintf(stderr, "vbsample: out of memory\n");
        return -1;
    }
    /* every clip has its own stream, independent of how many others are made */
    rng mix = {o->seed ^ (m * 0x100000001B3ull + c * 0xC2B2AE3D27D4EB4Full)};
    scene_init(&s, w, h, rng_next(&mix));

    char tn[4096], vb[4096], path[4200];
    snprintf(tn, sizeof tn, "%s/tracknetv4/match%lu", o->out, m);
    snprintf(vb, sizeof vb, "%s/vballnet/match%lu_clip%lu", o->out, m, c);
    int rc = 0;
    if (o->tracknet) {
        const char *sub[] = {"inputs", "heatmaps"};
        for (int i = 0; i < 2 && rc == 0; i++) {
            snprintf(path, sizeof path, "%s/%s/clip%lu", tn, sub[i], c);
            rc = make_dirs(path);
        }
        snprintf(path, sizeof path, "%s/csv", tn);
        if (rc == 0)
            rc = make_dirs(path);
    }
    if (o->vballnet && rc == 0)
        rc = make_dirs(vb);

    size_t len = (size_t)snprintf(csv, csv_cap, "Frame,Visibility,X,Y\n");
    const vbp_heatmap_style gauss = {VBP_HEATMAP_GAUSSIAN, 3.0f, 3.0f};
    for (unsigned long t = 0; t < o->frames && rc == 0; t++) {
        int x, y, vis = render(&s, (uint32_t)t, img, &x, &y);
        ball_step(&s);
        *visible += (unsigned long)vis;
        len += (size_t)snprintf(csv + len, csv_cap - len, "%lu,%d,%d,%d\n", t, vis, x, y);
        if (o->gray)
            to_gray(img, plane);
        uint32_t ch = o->gray ? 1 : 3;
        if (o->tracknet) {
            snprintf(path, sizeof path, "%s/inputs/clip%lu/%lu.png", tn, c, t);
            rc = write_png(path, img, o, ch);
            /* drawn at the integer label, so the CSV and the heatmap agree exactly */
            memset(hm, 0, plane);
            if (vis)
                vbp_heatmap_draw(hm, w, h, (float)x, (float)y, &gauss);
            snprintf(path, sizeof path, "%s/heatmaps/clip%lu/%lu.png", tn, c, t);
            if (rc == 0)
                rc = write_png(path, hm, o, 1);
        }
        if (o->vballnet && rc == 0) {
            snprintf(path, sizeof path, "%s/%lu.png", vb, t);
            rc = write_png(path, img, o, ch);
        }
        (*done)++;
        cli_bar_draw(bar, "vbsample", *done, total, NULL);
    }
    if (o->tracknet && rc == 0) {
        snprintf(path, sizeof path, "%s/csv/clip%lu_ball.csv", tn, c);
        rc = write_text(path, csv, len);
    }
    if (o->vballnet && rc == 0) {
        snprintf(path, sizeof path, "%s_ball.csv", vb);
        rc = write_text(path, csv, len);
    }
    free(s.court);
    return rc;
}

static int usage(FILE *f)
{
    fprintf(f,
            "usage: vbsample --out DIR [options]\n"
            "Write a deterministic synthetic ball-tracking dataset.\n"
            "  --out DIR          output root (DIR/tracknetv4, DIR/vballnet)\n"
            "  --layout L         tracknetv4 | vballnet | both (default both)\n"
            "  --matches M        matches (default 2), named match1..matchM\n"
            "  --clips C          clips per match (default 2), named clip1..clipC\n"
            "  --frames N         frames per clip (default 60)\n"
            "  --width W          frame width (default 512)\n"
            "  --height H         frame height (default 288)\n"
            "  --gray             8-bit gray frames instead of RGB\n"
            "  --seed S           random seed (default 1); same seed -> same bytes\n"
            "  --json             print a summary as JSON on stdout\n"
            "  --help             this text\n");
    return f == stdout ? 0 : 2;
}

/* Parse an unsigned number in [lo, hi]; prints an error and returns -1 when it is not. */
static int parse_num(const char *flag, const char *s, unsigned long long lo,
                     unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s && *s && *s != '-' ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *s == '-' || errno || *end || v < lo || v > hi) {
        fprintf(stderr, "vbsample: %s wants a whole number from %llu to %llu, got '%s'\n", flag,
                lo, hi, s ? s : "");
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    options o = {NULL, 1, 1, 0, 0, 2, 2, 60, 512, 288, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(stdout);
        else if (!strcmp(a, "--gray"))
            o.gray = 1;
        else if (!strcmp(a, "--json"))
            o.json = 1;
        else if (!strcmp(a, "--out") && v)
            o.out = argv[++i];
        else if (!strcmp(a, "--layout") && v) {
            i++;
            o.tracknet = !strcmp(v, "tracknetv4") || !strcmp(v, "both");
            o.vballnet = !strcmp(v, "vballnet") || !strcmp(v, "both");
            if (!o.tracknet && !o.vballnet) {
                fprintf(stderr, "vbsample: --layout wants tracknetv4, vballnet or both, got '%s'\n", v);
                return 2;
            }
        } else {
            struct {
                const char *flag;
                unsigned long long lo, hi;
                void *dst;
            } nums[] = {{"--matches", 1, 1000, &o.matches}, {"--clips", 1, 1000, &o.clips},
                        {"--frames", 1, 1000000, &o.frames},  {"--width", 16, 8192, &o.width},
                        {"--height", 16, 8192, &o.height},  {"--seed", 0, UINT64_MAX, &o.seed}};
            size_t k = 0;
            while (k < sizeof nums / sizeof nums[0] && strcmp(a, nums[k].flag))
                k++;
            if (k == sizeof nums / sizeof nums[0]) {
                fprintf(stderr, "vbsample: unknown or incomplete option '%s'\n", a);
                return usage(stderr);
            }
            if (parse_num(a, v, nums[k].lo, nums[k].hi, &n))
                return 2;
            i++;
            if (nums[k].dst == &o.seed)
                o.seed = n;
            else
                *(unsigned long *)nums[k].dst = (unsigned long)n;
        }
    }
    if (!o.out) {
        fprintf(stderr, "vbsample: --out DIR is required\n");
        return usage(stderr);
    }
    if (strlen(o.out) > 3000) { /* leaves room for the longest file name below it */
        fprintf(stderr, "vbsample: --out: path too long\n");
        return 2;
    }
    size_t plane = (size_t)o.width * o.height, csv_cap = 64 + 48 * (size_t)o.frames;
    uint8_t *img = malloc(3 * plane), *hm = malloc(plane);
    char *csv = malloc(csv_cap);
    int rc = img && hm && csv ? 0 : -1;
    if (rc)
        fprintf(stderr, "vbsample: out of memory\n");
    unsigned long visible = 0;
    size_t done = 0, total = (size_t)o.matches * o.clips * o.frames;
    cli_bar bar;
    cli_bar_init(&bar, 1, "frames");
    for (unsigned long m = 1; m <= o.matches && rc == 0; m++)
        for (unsigned long c = 1; c <= o.clips && rc == 0; c++)
            rc = make_clip(&o, m, c, img, hm, csv, csv_cap, &visible, &bar, &done, total);
    cli_bar_clear(&bar);
    free(img);
    free(hm);
    free(csv);
    if (rc)
        return 1;
    if (o.json) {
        vbp_json j;
        vbp_json_init(&j, 1);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "out", o.out);
        vbp_json_ku64(&j, "matches", o.matches);
        vbp_json_ku64(&j, "clips_per_match", o.clips);
        vbp_json_ku64(&j, "frames_per_clip", o.frames);
        vbp_json_ku64(&j, "width", o.width);
        vbp_json_ku64(&j, "height", o.height);
        vbp_json_ku64(&j, "channels", o.gray ? 1 : 3);
        vbp_json_ku64(&j, "frames", done);
        vbp_json_ku64(&j, "visible", visible);
        vbp_json_ku64(&j, "seed", o.seed);
        vbp_json_end_object(&j);
        vbp_json_print(&j, stdout);
    } else
        fprintf(stderr, "vbsample: wrote %zu frames (%lu with the ball visible) under %s\n", done,
                visible, o.out);
    return 0;
}
