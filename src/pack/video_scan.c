/*
 * video_scan.c - the two video layouts, read into a clip list:
 *   tracknetv3      ROOT/<clip>.mp4 + ROOT/<clip>.csv
 *   vballnet-video  ROOT/video/<clip>.mp4 + ROOT/csv/<clip>_ball.csv
 * ROOT is one match (named after its folder) or a folder of matches.  Each
 * video is probed (size, frame rate, frames counted from the container) and
 * its CSV read and checked against that count here, before anything is
 * decoded.  The CSV's header says its units: `Frame,Visibility,X,Y` in the
 * video's pixels, `Frame,Ball,x,y` in fractions of the frame; labels are
 * kept as fractions, which the packer scales to the pack's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "internal.h"
#include "labels_csv.h"
#include "scan.h"
#include "vbp_video.h"

static const char *const video_ext[] = { ".mp4", ".mov", ".avi", ".mkv" };

/* Length of name without its video extension, or 0 when it has none. */
static size_t video_stem(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof video_ext / sizeof video_ext[0]; i++) {
        size_t e = strlen(video_ext[i]);
        if (n > e && !strcasecmp(name + n - e, video_ext[i]))
            return n - e;
    }
    return 0;
}

/* Does dir hold a file with a video extension? */
static int has_video(const char *dir)
{
    vbp_strlist l = {0};
    int found = 0;
    if (vbp_list_dir(dir, 0, &l, NULL) == VBP_OK)
        for (size_t i = 0; i < l.n && !found; i++)
            found = video_stem(l.v[i]) > 0;
    vbp_strlist_free(&l);
    return found;
}

/* Probe `video`, read `csv` (one row per frame), append the clip. */
static int add_video(vbp_dataset *ds, const char *group, const char *name, const char *video,
                     const char *csv, vbp_split split, vbp_error *err)
{
    vbp_video_info info;
    vbp_label *labels = NULL;
    size_t n = 0;
    unsigned units = 0;
    int rc = vbp_check_name(name, video, "clip", err);
    if (!rc)
        rc = vbp_check_name(group, video, "match", err);
    if (!rc && !vbp_is_file(csv))
        rc = vbp_fail(err, VBP_E_INPUT, "%s: labels CSV missing for %s (a video's heatmaps are "
                      "drawn from its labels)", csv, video);
    if (!rc)
        rc = vbp_video_probe(video, &info, err);
    if (!rc)
        rc = vbp_labels_read_csv(csv, VBP_LABELS_PIXELS | VBP_LABELS_FRACTIONS, &labels, &n,
                                 &units, err);
    if (!rc && n != info.frames)
        rc = vbp_fail(err, VBP_E_INPUT, "%s: %zu label rows for %llu frames in %s (one row per "
                      "frame expected)", csv, n, (unsigned long long)info.frames, video);
    if (rc) {
        free(labels);
        return rc;
    }
    for (size_t i = 0; units == VBP_LABELS_PIXELS && i < n; i++)
        if (labels[i].visibility == 1) {
            labels[i].x = (float)((double)labels[i].x / info.width);
            labels[i].y = (float)((double)labels[i].y / info.height);
        }
    vbp_source_clip c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%.*s", VBP_NAME_MAX - 1, name); /* lengths checked above */
    snprintf(c.group, sizeof c.group, "%.*s", VBP_NAME_MAX - 1, group);
    c.split = split;
    c.frame_count = (size_t)info.frames;
    c.labels = labels;
    c.source = (vbp_clip_source){ info.width, info.height, info.fps_num, info.fps_den };
    if (!(c.video = strdup(video))) {
        free(labels);
        return vbp_fail(err, VBP_E_NOMEM, "%s: out of memory", video);
    }
    return vbp_dataset_push(ds, &c, err);
}

/*
 * One match: the videos in video_dir, each with its CSV in csv_dir named
 * <clip><csv_suffix>.  Two videos of one clip name are an error.
 */
static int scan_match(vbp_dataset *ds, const char *video_dir, const char *csv_dir,
                      const char *csv_suffix, const char *match, vbp_split split, vbp_error *err)
{
    vbp_strlist files = {0}, seen = {0};
    int rc = vbp_list_dir(video_dir, 0, &files, err);
    for (size_t i = 0; i < files.n && !rc; i++) {
        size_t stem = video_stem(files.v[i]);
        if (!stem)
            continue;
        char clip[4096];
        snprintf(clip, sizeof clip, "%.*s", (int)stem, files.v[i]);
        char *video = vbp_path_join(video_dir, files.v[i]), *csv = NULL;
        if (video && asprintf(&csv, "%s/%s%s", csv_dir, clip, csv_suffix) < 0)
            csv = NULL;
        int twice = 0;
        for (size_t k = 0; k < seen.n && !twice; k++)
            twice = !strcmp(seen.v[k], clip);
        if (!video || !csv)
            rc = vbp_fail(err, VBP_E_NOMEM, "out of memory");
        else if (twice)
            rc = vbp_fail(err, VBP_E_INPUT, "%s: a second video of clip '%s' in %s", video, clip,
                          video_dir);
        else if (!(rc = vbp_strlist_push(&seen, strdup(clip))))
            rc = add_video(ds, match, clip, video, csv, split, err);
        else
            rc = vbp_fail(err, rc, "out of memory");
        free(video);
        free(csv);
    }
    vbp_strlist_free(&files);
    vbp_strlist_free(&seen);
    return rc;
}

/* One match of either layout, rooted at dir. */
static int scan_one(vbp_dataset *ds, const char *dir, const char *match, vbp_layout layout,
                    vbp_split split, vbp_error *err)
{
    if (layout == VBP_LAYOUT_TRACKNETV3)
        return scan_match(ds, dir, dir, ".csv", match, split, err);
    char *video = vbp_path_join(dir, "video"), *csv = vbp_path_join(dir, "csv");
    int rc = video && csv ? scan_match(ds, video, csv, "_ball.csv", match, split, err)
                          : vbp_fail(err, VBP_E_NOMEM, "out of memory");
    free(video);
    free(csv);
    return rc;
}

/* Is dir one match of the layout: videos in it (tracknetv3), a video/ folder (vballnet-video)? */
static int is_match(const char *dir, vbp_layout layout)
{
    if (layout == VBP_LAYOUT_TRACKNETV3)
        return has_video(dir);
    char *video = vbp_path_join(dir, "video");
    int yes = video && vbp_is_dir(video);
    free(video);
    return yes;
}

int vbp_scan_videos(vbp_dataset *ds, const char *root, vbp_layout layout, vbp_split split,
                    vbp_error *err)
{
    size_t before = ds->count;
    int rc = VBP_OK;
    if (is_match(root, layout)) {
        char base[4096];
        rc = scan_one(ds, root, vbp_base_name(root, base, sizeof base), layout, split, err);
    } else {
        vbp_strlist matches = {0};
        rc = vbp_list_dir(root, 1, &matches, err);
        for (size_t i = 0; i < matches.n && !rc; i++) {
            char *dir = vbp_path_join(root, matches.v[i]);
            if (!dir)
                rc = vbp_fail(err, VBP_E_NOMEM, "out of memory");
            else if (is_match(dir, layout))
                rc = scan_one(ds, dir, matches.v[i], layout, split, err);
            free(dir);
        }
        vbp_strlist_free(&matches);
    }
    if (!rc && ds->count == before)
        rc = vbp_fail(err, VBP_E_INPUT, layout == VBP_LAYOUT_TRACKNETV3
                          ? "%s: no clips (expected ROOT[/<match>]/<clip>.mp4 and <clip>.csv)"
                          : "%s: no clips (expected ROOT[/<match>]/video/<clip>.mp4 and "
                            "csv/<clip>_ball.csv)", root);
    return rc;
}

vbp_layout vbp_detect_video_layout(const char *root)
{
    static const vbp_layout order[2] = { VBP_LAYOUT_VBALLNET_VIDEO, VBP_LAYOUT_TRACKNETV3 };
    for (int k = 0; k < 2; k++) {
        if (is_match(root, order[k]))
            return order[k];
        vbp_strlist l = {0};
        int found = 0;
        if (vbp_list_dir(root, 1, &l, NULL) == VBP_OK)
            for (size_t i = 0; i < l.n && !found; i++) {
                char *dir = vbp_path_join(root, l.v[i]);
                found = dir && is_match(dir, order[k]);
                free(dir);
            }
        vbp_strlist_free(&l);
        if (found)
            return order[k];
    }
    return VBP_LAYOUT_AUTO;
}
