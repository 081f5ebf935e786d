/* clip_names.c - vbp_name_resolve: the naming rule of vbp_names.h, for every tool. */
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "vbp_names.h"

#define QUOTED_MAX 100 /* escaped names in messages are cut here... */
#define LIST_MAX 300   /* ...and candidate lists here, so that both fit one detail line */

/* Whether `name` is "group/clip" for this clip ("/clip" when its group is ""). */
static int full_form(const char *name, const char *group, const char *clip)
{
    size_t g = strlen(group);
    return !strncmp(name, group, g) && name[g] == '/' && !strcmp(name + g + 1, clip);
}

/* Candidates in the form that names each alone: "g/c" for a clip, "g/ (match of N clips)". */
typedef struct list {
    char text[LIST_MAX];
    size_t len, items;
    int cut;
} list;

static void list_add(list *l, const char *group, const char *clip, size_t match_clips)
{
    char g[QUOTED_MAX], c[QUOTED_MAX], item[2 * QUOTED_MAX + 48];
    vbp_escape(g, sizeof g, group, strlen(group));
    if (match_clips)
        snprintf(item, sizeof item, "%s/ (match of %zu clip%s)", g, match_clips,
                 match_clips == 1 ? "" : "s");
    else
        snprintf(item, sizeof item, "%s/%s", g, vbp_escape(c, sizeof c, clip, strlen(clip)));
    size_t n = strlen(item) + (l->items ? 2 : 0);
    l->items++;
    if (l->cut || l->len + n + sizeof ", ..." > sizeof l->text) {
        l->cut = 1;
        return;
    }
    l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len, "%s%s",
                               l->items > 1 ? ", " : "", item);
}

static int fail_list(vbp_error *err, const char *quoted, const char *what, const list *l)
{
    char total[40] = "";
    if (l->cut)
        snprintf(total, sizeof total, ", ... (%zu in all)", l->items);
    return vbp_fail(err, VBP_E_ARG, "'%s' %s: %s%s (name one of them)", quoted, what, l->text,
                    total);
}

int vbp_name_resolve(const vbp_name_set *set, const char *name, vbp_name_want want,
                     vbp_name_pick *pick, vbp_error *err)
{
    const size_t len = strlen(name), none = (size_t)-1;
    const int trailing = len > 0 && name[len - 1] == '/'; /* "match/": the match alone */
    const size_t mlen = trailing ? len - 1 : len;
    size_t clips = 0, clip_at = none, match_clips = 0, match_at = none;
    const char *match = NULL;
    for (size_t i = 0; i < set->count; i++) {
        const char *g, *c;
        set->clip(set->ctx, i, &g, &c);
        if (!trailing && (!strcmp(c, name) || full_form(name, g, c)) && !clips++)
            clip_at = i;
        if (g[0] && strlen(g) == mlen && !strncmp(g, name, mlen) && !match_clips++) {
            match_at = i;
            match = g;
        }
    }
    const size_t candidates = clips + (match_clips > 0);
    char quoted[QUOTED_MAX];
    vbp_escape(quoted, sizeof quoted, name, len);
    pick->match = NULL;
    pick->first = 0;
    pick->count = candidates;
    if (candidates == 0)
        return vbp_fail(err, VBP_E_ARG, "no clip or match is named '%s'", quoted);
    list l = {.len = 0};
    if (candidates > 1) {
        for (size_t i = 0; i < set->count; i++) {
            const char *g, *c;
            set->clip(set->ctx, i, &g, &c);
            if (i == match_at)
                list_add(&l, g, c, match_clips);
            if (!trailing && (!strcmp(c, name) || full_form(name, g, c)))
                list_add(&l, g, c, 0);
        }
        return fail_list(err, quoted, "is ambiguous", &l);
    }
    if (!match_clips) {
        pick->first = clip_at;
        return VBP_OK;
    }
    if (want == VBP_NAME_ONE_CLIP && match_clips > 1) {
        pick->count = match_clips;
        for (size_t i = 0; i < set->count; i++) {
            const char *g, *c;
            set->clip(set->ctx, i, &g, &c);
            if (!strcmp(g, match))
                list_add(&l, g, c, 0);
        }
        char what[48];
        snprintf(what, sizeof what, "is a match of %zu clips", match_clips);
        return fail_list(err, quoted, what, &l);
    }
    pick->match = match;
    pick->first = match_at;
    pick->count = match_clips;
    return VBP_OK;
}

int vbp_name_picks(const vbp_name_set *set, const vbp_name_pick *pick, size_t i)
{
    if (!pick->match)
        return i == pick->first;
    const char *g, *c;
    set->clip(set->ctx, i, &g, &c);
    return !strcmp(g, pick->match);
}

const char *vbp_clip_label(char *buf, size_t cap, const char *group, const char *name)
{
    char q[2 * 64 + 2];
    int n = snprintf(q, sizeof q, "%s%s%s", group, group[0] ? "/" : "", name);
    return vbp_escape(buf, cap, q, n < 0 ? 0 : n < (int)sizeof q ? (size_t)n : sizeof q - 1);
}
