/*
 * vbp_names.h - how a user names clips and matches: the one rule of every
 * tool (vbpack --val/--test, vbdump's CLIP, vbp_pack_find_clip; the Python
 * package applies the same rule).  formats/vbpack.md, "Naming clips":
 *
 *   match/clip   the clip `clip` of the match `match`
 *   /clip        the clip `clip` that has no match (group "")
 *   match/       every clip of the match
 *   NAME         the one clip named NAME (in any match or none), or the one
 *                match named NAME
 *
 * A name that fits no clip or match is an error, and so is a name that fits
 * several (a bare clip name in two matches, a name that is both a clip and
 * a match): the error lists every candidate in a form that fits it alone,
 * never picks one of them.
 */
#ifndef VBP_NAMES_H
#define VBP_NAMES_H

#include <stddef.h>
#include "vbp_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The clips names are looked up in: clip i < count has `group` ("" for none) and `name`. */
typedef struct vbp_name_set {
    size_t count;
    void (*clip)(const void *ctx, size_t i, const char **group, const char **name);
    const void *ctx;
} vbp_name_set;

typedef enum vbp_name_want {
    VBP_NAME_CLIP_OR_MATCH = 0, /* a clip, or every clip of a match (vbpack --val/--test) */
    VBP_NAME_ONE_CLIP = 1       /* one clip; a match of one clip is that clip (vbdump CLIP) */
} vbp_name_want;

/* What a name picked, or on failure how many candidates it had. */
typedef struct vbp_name_pick {
    const char *match;  /* the match's group when a match was picked, else NULL */
    size_t first;       /* the clip picked, or the match's first clip */
    size_t count;       /* clips picked (1 for a clip); on failure the candidates: 0, or >= 2 */
} vbp_name_pick;

/*
 * Look `name` up in `set` by the rule above.  VBP_OK fills *pick.  Fails with
 * VBP_E_ARG and pick->count 0 ("no clip or match is named 'X'") or >= 2
 * ("'X' is ambiguous: matchA/X, matchB/X (name one of them)", or with
 * VBP_NAME_ONE_CLIP "'M' is a match of 2 clips: M/a, M/b (name one of
 * them)"); names in messages are escaped (vbp_escape), a long list ends
 * with "... (N in all)".
 */
int vbp_name_resolve(const vbp_name_set *set, const char *name, vbp_name_want want,
                     vbp_name_pick *pick, vbp_error *err);

/* Whether clip i is one of those *pick holds (after vbp_name_resolve succeeded). */
int vbp_name_picks(const vbp_name_set *set, const vbp_name_pick *pick, size_t i);

/*
 * How a message quotes a clip: its qualified name "group/name" ("name" when
 * group is ""), escaped (vbp_escape) into buf, cut with "..." to fit cap
 * bytes.  VBP_CLIP_LABEL_MAX holds any printable name of a pack (and a
 * good part of one made of escapes).  Returns buf.
 */
#define VBP_CLIP_LABEL_MAX 260
const char *vbp_clip_label(char *buf, size_t cap, const char *group, const char *name);

#ifdef __cplusplus
}
#endif
#endif
