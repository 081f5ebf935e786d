/* dataset_scan.c - the two image layouts, read into a clip list; the scan of any layout. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "vbp_dataset.h"
#include "internal.h"
#include "labels_csv.h"
#include "scan.h"

void vbp_strlist_free(vbp_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

int vbp_strlist_push(vbp_strlist *l, char *s)
{
    if (!s)
        return VBP_E_NOMEM;
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, c * sizeof *nv);
        if (!nv) {
            free(s);
            return VBP_E_NOMEM;
        }
        l->v = nv;
        l->cap = c;
    }
    l->v[l->n++] = s;
    return VBP_OK;
}

char *vbp_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (s) {
        memcpy(s, a, la);
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
    }
    return s;
}

int vbp_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int vbp_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Anything but a directory, including what cannot be stat'ed (reading it reports why). */
static int is_not_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && !(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int vbp_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int vbp_list_dir(const char *dir, int want_dirs, vbp_strlist *out, vbp_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return vbp_fail(err, VBP_E_IO, "%s: cannot open directory (%s)", dir, strerror(errno));
    struct dirent *e;
    int rc = VBP_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full = vbp_path_join(dir, e->d_name);
        if (!full) {
            rc = VBP_E_NOMEM;
            break;
        }
        int keep = want_dirs ? vbp_is_dir(full) : is_not_dir(full);
        free(full);
        if (keep && (rc = vbp_strlist_push(out, strdup(e->d_name))) != VBP_OK)
            break;
    }
    closedir(d);
    if (rc != VBP_OK)
        return vbp_fail(err, rc, "%s: out of memory", dir);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return VBP_OK;
}

/* Does `dir` hold at least one *.png file? */
static int has_png(const char *dir)
{
    vbp_strlist l = {0};
    int found = 0;
    if (vbp_list_dir(dir, 0, &l, NULL) == VBP_OK)
        for (size_t i = 0; i < l.n && !found; i++)
            found = vbp_ends_with(l.v[i], ".png");
    vbp_strlist_free(&l);
    return found;
}

typedef struct numbered {
    unsigned long long n;
    const char *name;
} numbered;

static int cmp_numbered(const void *a, const void *b)
{
    const numbered *x = a, *y = b;
    return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * Paths of the frames <N>.png in `dir`, in frame order.  Files not ending in
 * .png are ignored; a .png whose stem is not a decimal number, a duplicate
 * number, a gap or an empty directory is an error naming `dir`.
 */
static int list_frames(const char *dir, const char *what, vbp_strlist *out, vbp_error *err)
{
    vbp_strlist l = {0};
    numbered *nums = NULL;
    int rc = vbp_list_dir(dir, 0, &l, err);
    if (rc != VBP_OK)
        goto done;
    nums = malloc((l.n ? l.n : 1) * sizeof *nums);
    if (!nums) {
        rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", dir);
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *s = l.v[i];
        if (!vbp_ends_with(s, ".png"))
            continue;
        size_t stem = strlen(s) - 4;
        int ok = stem > 0 && stem <= 12;
        for (size_t j = 0; ok && j < stem; j++)
            ok = s[j] >= '0' && s[j] <= '9';
        if (!ok) {
            rc = vbp_fail(err, VBP_E_INPUT, "%s/%s: %s file name is not <N>.png", dir, s, what);
            goto done;
        }
        nums[k].n = strtoull(s, NULL, 10);
        nums[k].name = s;
        k++;
    }
    if (k == 0) {
        rc = vbp_fail(err, VBP_E_INPUT, "%s: no %s PNGs (<N>.png)", dir, what);
        goto done;
    }
    qsort(nums, k, sizeof *nums, cmp_numbered);
    for (size_t i = 0; i < k; i++) {
        if (nums[i].n == i)
            continue;
        if (nums[i].n < i)
            rc = vbp_fail(err, VBP_E_INPUT, "%s: %s %llu appears twice (%s)", dir, what,
                          nums[i].n, nums[i].name);
        else
            rc = vbp_fail(err, VBP_E_INPUT, "%s: %s %zu is missing (numbers must run 0..%zu)",
                          dir, what, i, k - 1);
        goto done;
    }
    for (size_t i = 0; i < k && rc == VBP_OK; i++)
        if (vbp_strlist_push(out, vbp_path_join(dir, nums[i].name)) != VBP_OK)
            rc = vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", dir);
done:
    free(nums);
    vbp_strlist_free(&l);
    return rc;
}

int vbp_check_name(const char *name, const char *where, const char *what, vbp_error *err)
{
    size_t n = strlen(name);
    if (n >= VBP_NAME_MAX)
        return vbp_fail(err, VBP_E_INPUT, "%s: %s name '%s' is %zu bytes, the pack format allows "
                        "at most %d", where, what, name, n, VBP_NAME_MAX - 1);
    return VBP_OK;
}

static void clip_free(vbp_source_clip *c)
{
    for (size_t i = 0; c->frames && i < c->frame_count; i++) {
        free(c->frames[i]);
        if (c->heatmaps)
            free(c->heatmaps[i]);
    }
    free(c->frames);
    free(c->heatmaps);
    free(c->labels);
    free(c->video);
    memset(c, 0, sizeof *c);
}

int vbp_dataset_push(vbp_dataset *ds, vbp_source_clip *c, vbp_error *err)
{
    if (ds->count == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 16;
        vbp_source_clip *nc = realloc(ds->clips, cap * sizeof *nc);
        if (!nc) {
            clip_free(c);
            return vbp_fail(err, VBP_E_NOMEM, "out of memory for the clip list");
        }
        ds->clips = nc;
        ds->cap = cap;
    }
    ds->clips[ds->count++] = *c;
    return VBP_OK;
}

/*
 * Read one clip: frames in frame_dir, heatmaps in heatmap_dir (or NULL),
 * labels from csv (or NULL), and append it to ds.
 */
static int add_clip(vbp_dataset *ds, const char *group, const char *name, const char *frame_dir,
                    const char *heatmap_dir, const char *csv, vbp_split split, vbp_error *err)
{
    vbp_source_clip c;
    memset(&c, 0, sizeof c);
    vbp_strlist frames = {0}, heat = {0};
    vbp_label *labels = NULL;
    size_t nlabels = 0;
    int rc;
    if ((rc = vbp_check_name(name, frame_dir, "clip", err)) != VBP_OK ||
        (rc = vbp_check_name(group, frame_dir, "match", err)) != VBP_OK)
        goto fail;
    if ((rc = list_frames(frame_dir, "frame", &frames, err)) != VBP_OK)
        goto fail;
    if (heatmap_dir) {
        if (!vbp_is_dir(heatmap_dir)) {
            rc = vbp_fail(err, VBP_E_INPUT, "%s: heatmap directory missing for the frames in %s",
                          heatmap_dir, frame_dir);
            goto fail;
        }
        if ((rc = list_frames(heatmap_dir, "heatmap", &heat, err)) != VBP_OK)
            goto fail;
        if (heat.n != frames.n) {
            rc = vbp_fail(err, VBP_E_INPUT, "%s: %zu heatmaps for %zu frames in %s", heatmap_dir,
                          heat.n, frames.n, frame_dir);
            goto fail;
        }
    }
    if (csv) {
        rc = vbp_labels_read_csv(csv, VBP_LABELS_PIXELS, &labels, &nlabels, NULL, err);
        if (rc != VBP_OK)
            goto fail;
        if (nlabels != frames.n) {
            rc = vbp_fail(err, VBP_E_INPUT, "%s: %zu label rows for %zu frames in %s (one row "
                          "per frame expected)", csv, nlabels, frames.n, frame_dir);
            goto fail;
        }
    }
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.group, sizeof c.group, "%s", group);
    c.split = split;
    c.frame_count = frames.n;
    c.frames = frames.v;
    c.heatmaps = heatmap_dir ? heat.v : NULL;
    c.labels = labels;
    if (!heatmap_dir)
        vbp_strlist_free(&heat);
    return vbp_dataset_push(ds, &c, err);
fail:
    vbp_strlist_free(&frames);
    vbp_strlist_free(&heat);
    free(labels);
    return rc;
}

/* One TrackNetV4 match directory: inputs/<clip>, heatmaps/<clip>, csv/<clip>_ball.csv. */
static int scan_match(vbp_dataset *ds, const char *match_dir, const char *match, vbp_split split,
                      vbp_error *err)
{
    char *inputs = vbp_path_join(match_dir, "inputs"), *heat = vbp_path_join(match_dir, "heatmaps"),
         *csvdir = vbp_path_join(match_dir, "csv");
    vbp_strlist clips = {0};
    int rc = (!inputs || !heat || !csvdir) ? vbp_fail(err, VBP_E_NOMEM, "out of memory")
                                           : vbp_list_dir(inputs, 1, &clips, err);
    if (rc == VBP_OK && clips.n == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: no clip directories", inputs);
    for (size_t i = 0; i < clips.n && rc == VBP_OK; i++) {
        char *fd = vbp_path_join(inputs, clips.v[i]), *hd = vbp_path_join(heat, clips.v[i]);
        char *csv = NULL;
        if (fd && hd && asprintf(&csv, "%s/%s_ball.csv", csvdir, clips.v[i]) < 0)
            csv = NULL;
        if (!fd || !hd || !csv)
            rc = vbp_fail(err, VBP_E_NOMEM, "out of memory");
        else
            rc = add_clip(ds, match, clips.v[i], fd, hd, vbp_is_file(csv) ? csv : NULL, split, err);
        free(fd);
        free(hd);
        free(csv);
    }
    vbp_strlist_free(&clips);
    free(inputs);
    free(heat);
    free(csvdir);
    return rc;
}

const char *vbp_base_name(const char *root, char *buf, size_t size)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    size_t s = n;
    while (s > 0 && root[s - 1] != '/')
        s--;
    snprintf(buf, size, "%.*s", (int)(n - s), root + s);
    return buf;
}

static int scan_tracknetv4(vbp_dataset *ds, const char *root, vbp_split split, vbp_error *err)
{
    char *own = vbp_path_join(root, "inputs");
    int single = own && vbp_is_dir(own);
    free(own);
    if (single) { /* ROOT is itself one match */
        char base[4096];
        return scan_match(ds, root, vbp_base_name(root, base, sizeof base), split, err);
    }
    vbp_strlist matches = {0};
    int rc = vbp_list_dir(root, 1, &matches, err);
    size_t found = 0;
    for (size_t i = 0; i < matches.n && rc == VBP_OK; i++) {
        char *md = vbp_path_join(root, matches.v[i]), *in = md ? vbp_path_join(md, "inputs") : NULL;
        if (!md || !in)
            rc = vbp_fail(err, VBP_E_NOMEM, "out of memory");
        else if (vbp_is_dir(in)) {
            found++;
            rc = scan_match(ds, md, matches.v[i], split, err);
        }
        free(md);
        free(in);
    }
    vbp_strlist_free(&matches);
    if (rc == VBP_OK && found == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: no clips (expected ROOT/<match>/inputs/<clip>/<N>.png)",
                      root);
    return rc;
}

static int scan_vballnet(vbp_dataset *ds, const char *root, vbp_split split, vbp_error *err)
{
    vbp_strlist dirs = {0};
    int rc = vbp_list_dir(root, 1, &dirs, err);
    size_t found = 0;
    for (size_t i = 0; i < dirs.n && rc == VBP_OK; i++) {
        char *fd = vbp_path_join(root, dirs.v[i]), *csv = NULL;
        if (fd && asprintf(&csv, "%s/%s_ball.csv", root, dirs.v[i]) < 0)
            csv = NULL;
        if (!fd || !csv)
            rc = vbp_fail(err, VBP_E_NOMEM, "out of memory");
        else if (has_png(fd) || vbp_is_file(csv)) {
            found++;
            if (!vbp_is_file(csv))
                rc = vbp_fail(err, VBP_E_INPUT, "%s: labels CSV missing (the vballnet layout "
                              "draws heatmaps from it)", csv);
            else
                rc = add_clip(ds, "", dirs.v[i], fd, NULL, csv, split, err);
        }
        free(fd);
        free(csv);
    }
    vbp_strlist_free(&dirs);
    if (rc == VBP_OK && found == 0)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: no clips (expected ROOT/<clip>/<N>.png and "
                      "ROOT/<clip>_ball.csv)", root);
    return rc;
}

/*
 * TrackNetV4 when ROOT/inputs or some ROOT/<match>/inputs is a directory;
 * else a video layout when ROOT or a match in it has a video/ folder
 * (vballnet-video) or video files (tracknetv3); else vballnet.
 */
static vbp_layout detect(const char *root)
{
    char *own = vbp_path_join(root, "inputs");
    int tn = own && vbp_is_dir(own);
    free(own);
    vbp_strlist l = {0};
    if (!tn && vbp_list_dir(root, 1, &l, NULL) == VBP_OK)
        for (size_t i = 0; i < l.n && !tn; i++) {
            char *md = vbp_path_join(root, l.v[i]), *in = md ? vbp_path_join(md, "inputs") : NULL;
            tn = in && vbp_is_dir(in);
            free(md);
            free(in);
        }
    vbp_strlist_free(&l);
    if (tn)
        return VBP_LAYOUT_TRACKNETV4;
    vbp_layout v = vbp_detect_video_layout(root);
    return v != VBP_LAYOUT_AUTO ? v : VBP_LAYOUT_VBALLNET;
}

int vbp_dataset_scan(vbp_dataset *ds, const char *root, vbp_layout layout, vbp_split split,
                     vbp_layout *used, vbp_error *err)
{
    if (!vbp_is_dir(root))
        return vbp_fail(err, VBP_E_IO, "%s: not a directory", root);
    if (layout == VBP_LAYOUT_AUTO)
        layout = detect(root);
    if (used)
        *used = layout;
    switch (layout) {
    case VBP_LAYOUT_TRACKNETV4: return scan_tracknetv4(ds, root, split, err);
    case VBP_LAYOUT_VBALLNET: return scan_vballnet(ds, root, split, err);
    case VBP_LAYOUT_TRACKNETV3:
    case VBP_LAYOUT_VBALLNET_VIDEO: return vbp_scan_videos(ds, root, layout, split, err);
    default: return vbp_fail(err, VBP_E_ARG, "%s: unknown layout %d", root, (int)layout);
    }
}

void vbp_dataset_free(vbp_dataset *ds)
{
    for (size_t i = 0; i < ds->count; i++)
        clip_free(&ds->clips[i]);
    free(ds->clips);
    memset(ds, 0, sizeof *ds);
}
