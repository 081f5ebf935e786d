/*
 * scan.h - what the image layouts (dataset_scan.c) and the video layouts
 * (video_scan.c) share: directory listing, paths, clip names (internal).
 */
#ifndef VBP_SCAN_H
#define VBP_SCAN_H

#include <stddef.h>
#include "vbp_dataset.h"

/* A growable list of malloc'd strings. */
typedef struct vbp_strlist {
    char **v;
    size_t n, cap;
} vbp_strlist;

void vbp_strlist_free(vbp_strlist *l);
/* Append s (taken over; NULL is an allocation failure): VBP_OK or VBP_E_NOMEM (s freed). */
int vbp_strlist_push(vbp_strlist *l, char *s);

char *vbp_path_join(const char *a, const char *b); /* "a/b", malloc'd; NULL when out of memory */
int vbp_is_dir(const char *path);
int vbp_is_file(const char *path);
int vbp_ends_with(const char *s, const char *suffix);
/* Last path component of root, ignoring trailing slashes, into buf. */
const char *vbp_base_name(const char *root, char *buf, size_t size);

/* Entry names of `dir` (not starting with '.'), sorted; want_dirs selects directories or the rest. */
int vbp_list_dir(const char *dir, int want_dirs, vbp_strlist *out, vbp_error *err);

/* VBP_E_INPUT naming `where` when a clip or match name does not fit the format (63 bytes). */
int vbp_check_name(const char *name, const char *where, const char *what, vbp_error *err);

/* Append *c to ds, which takes over what c points to (freed, on failure, too). */
int vbp_dataset_push(vbp_dataset *ds, vbp_source_clip *c, vbp_error *err);

/* The video layouts (video_scan.c): VBP_LAYOUT_TRACKNETV3 or VBP_LAYOUT_VBALLNET_VIDEO under root. */
int vbp_scan_videos(vbp_dataset *ds, const char *root, vbp_layout layout, vbp_split split,
                    vbp_error *err);
/* The video layout root holds (its detection rule), or VBP_LAYOUT_AUTO when neither. */
vbp_layout vbp_detect_video_layout(const char *root);

#endif
