/*
 * checkpoint.c - the training-state file (docs/training.md, "State file"):
 * a safetensors file holding the network under "model.", the Adam moments
 * under "adam_m." and "adam_v.", and every scalar in __metadata__.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "train_internal.h"
#include "vbp_safetensors.h"

#define STATE_FORMAT "vbtrain-state"
#define STATE_VERSION "1"
#define VAL_MAX 40
#define CFG_KEYS 18
/* Keys newer than version 1's first files: absent means "0" (off). */
#define CFG_KEYS_V1 13
#define STATE_KEYS 15

typedef struct kv { const char *key; char val[VAL_MAX]; } kv;

/* The config keys a resumed run must share with its checkpoint. */
static size_t config_pairs(const vbp_train_config *cfg, const vbp_net *net, kv *out)
{
    const vbp_net_config *nc = vbp_net_get_config(net);
    size_t k = 0;
#define PUT(name, ...) (out[k].key = "cfg." name, snprintf(out[k].val, VAL_MAX, __VA_ARGS__), k++)
    PUT("seq", "%" PRIu32, cfg->seq);
    const uint32_t frames = cfg->seq + cfg->background; /* the network's input frames */
    PUT("channels", "%" PRIu32, nc->in_channels / (frames ? frames : 1));
    PUT("height", "%" PRIu32, nc->height);
    PUT("width", "%" PRIu32, nc->width);
    PUT("batch", "%" PRIu32, cfg->batch);
    PUT("lr", "%.9g", (double)cfg->lr);
    PUT("lr_gamma", "%.9g", (double)cfg->lr_gamma);
    PUT("lr_decay_epochs", "%" PRIu32, cfg->lr_decay_epochs);
    PUT("optimizer", "%s", cfg->optimizer == VBP_OPT_ADAMW ? "adamw" : "adam");
    PUT("weight_decay", "%.9g", (double)cfg->weight_decay);
    PUT("flip", "%.9g", (double)cfg->flip);
    PUT("stride", "%" PRIu32, cfg->stride);
    PUT("seed", "%" PRIu64, cfg->seed);
    PUT("brightness", "%.9g", (double)cfg->brightness);
    PUT("contrast", "%.9g", (double)cfg->contrast);
    PUT("shift", "%" PRIu32, cfg->shift);
    PUT("model", "%s", nc->model);
    PUT("background", "%" PRIu32, cfg->background);
#undef PUT
    return k;
}

/* The net's tensors under the three prefixes, pointing at the net's buffers. */
static int state_tensors(vbp_net *net, const int64_t *counter, vbp_st_tensor **out,
                         char **names_out, size_t *count, vbp_error *err)
{
    size_t nt = vbp_net_tensor_count(net);
    vbp_st_tensor *t = calloc(3 * nt, sizeof *t);
    char *names = calloc(3 * nt, 128);
    if (!t || !names) {
        free(t);
        free(names);
        return vbp_fail(err, VBP_E_NOMEM, "state: out of memory");
    }
    static const char *const prefix[3] = { "model.", "adam_m.", "adam_v." };
    float *base[3] = { vbp_net_params(net), vbp_net_adam_m(net), vbp_net_adam_v(net) };
    size_t k = 0;
    for (int p = 0; p < 3; p++) {
        for (size_t i = 0; i < nt; i++) {
            vbp_net_tensor nti;
            int rc = vbp_net_tensor_info(net, i, &nti);
            if (rc) {
                free(t);
                free(names);
                return vbp_fail(err, rc, "state: cannot describe tensor %zu", i);
            }
            if (p > 0 && nti.kind != VBP_TENSOR_PARAM)
                continue;
            char *name = names + k * 128;
            snprintf(name, 128, "%s%s", prefix[p], nti.name);
            t[k].name = name;
            t[k].ndim = nti.ndim;
            for (uint32_t d = 0; d < nti.ndim; d++)
                t[k].shape[d] = nti.shape[d];
            if (nti.kind == VBP_TENSOR_COUNTER) {
                t[k].dtype = VBP_ST_I64;
                t[k].data = counter;
            } else {
                t[k].dtype = VBP_ST_F32;
                t[k].data = (nti.kind == VBP_TENSOR_BUFFER ? vbp_net_buffers(net) : base[p]) + nti.offset;
            }
            k++;
        }
    }
    *out = t;
    *names_out = names;
    *count = k;
    return VBP_OK;
}

int vbp_state_save(const char *path, vbp_net *net, const vbp_train_config *cfg,
                   const vbp_train_state *st, vbp_error *err)
{
    const float *params = vbp_net_params(net);
    for (size_t i = 0, n = vbp_net_param_count(net); i < n; i++)
        if (!isfinite(params[i]))
            return vbp_fail(err, VBP_E_NUMERIC, "%s: not written, parameter %zu is not finite", path, i);

    kv pairs[CFG_KEYS + STATE_KEYS];
    size_t np = config_pairs(cfg, net, pairs);
#define PUT(name, ...) (pairs[np].key = name, snprintf(pairs[np].val, VAL_MAX, __VA_ARGS__), np++)
    PUT("format", "%s", STATE_FORMAT);
    PUT("version", "%s", STATE_VERSION);
    PUT("epoch", "%" PRIu64, st->epoch);
    PUT("batch", "%" PRIu64, st->batch);
    PUT("step", "%" PRIu64, st->step);
    PUT("adam_steps", "%" PRIu64, vbp_net_adam_steps(net));
    PUT("loss_sum", "%.17g", st->loss_sum);
    PUT("loss_samples", "%" PRIu64, st->loss_samples);
    PUT("best_score", "%.17g", st->best_epoch ? st->best_score : 0.0);
    PUT("best_loss", "%.17g", st->best_epoch ? st->best_loss : 0.0);
    PUT("best_epoch", "%" PRIu32, st->best_epoch);
    PUT("pack_fingerprint", "%016" PRIx64, st->pack_fingerprint);
    PUT("order", "%s", vbp_order_name(st->order));
    PUT("cfg.target", "%s", vbp_target_name(st->target));
    PUT("cfg.target_cut", "%" PRIu32, st->target_cut);
#undef PUT
    const char *meta[2 * (CFG_KEYS + STATE_KEYS)];
    for (size_t i = 0; i < np; i++) {
        meta[2 * i] = pairs[i].key;
        meta[2 * i + 1] = pairs[i].val;
    }
    int64_t counter = (int64_t)vbp_net_batches_tracked(net);
    vbp_st_tensor *tensors;
    char *names;
    size_t count;
    int rc = state_tensors(net, &counter, &tensors, &names, &count, err);
    if (rc)
        return rc;
    rc = vbp_safetensors_write(path, tensors, count, meta, np, err);
    free(tensors);
    free(names);
    return rc;
}

static int meta_u64(const vbp_st_file *f, const char *path, const char *key, uint64_t *out,
                    int hex, vbp_error *err)
{
    const char *v = vbp_safetensors_meta(f, key);
    char *end;
    errno = 0;
    unsigned long long x = v ? strtoull(v, &end, hex ? 16 : 10) : 0;
    if (!v || !*v || *end || errno)
        return vbp_fail(err, VBP_E_FORMAT, "%s: state metadata '%s' is missing or not a number", path, key);
    *out = x;
    return VBP_OK;
}

static int meta_double(const vbp_st_file *f, const char *path, const char *key, double *out,
                       vbp_error *err)
{
    const char *v = vbp_safetensors_meta(f, key);
    char *end;
    double x = v ? strtod(v, &end) : 0.0;
    if (!v || !*v || *end)
        return vbp_fail(err, VBP_E_FORMAT, "%s: state metadata '%s' is missing or not a number", path, key);
    *out = x;
    return VBP_OK;
}

/* Check format, pack and config of an open state file against this run. */
static int check_state(const vbp_st_file *f, const char *path, vbp_net *net,
                       const vbp_train_config *cfg, uint64_t fingerprint, vbp_error *err)
{
    const char *fmt = vbp_safetensors_meta(f, "format");
    const char *ver = vbp_safetensors_meta(f, "version");
    if (!fmt || strcmp(fmt, STATE_FORMAT))
        return vbp_fail(err, VBP_E_FORMAT, "%s: not a vbtrain state file (no format=%s)", path, STATE_FORMAT);
    char q[VAL_MAX + 4];
    if (!ver || strcmp(ver, STATE_VERSION))
        return vbp_fail(err, VBP_E_VERSION, "%s: state version %s, this vbtrain reads %s", path,
                        ver ? vbp_escape(q, sizeof q, ver, strlen(ver)) : "(none)", STATE_VERSION);
    uint64_t fp = 0;
    int rc = meta_u64(f, path, "pack_fingerprint", &fp, 1, err);
    if (rc)
        return rc;
    if (fp != fingerprint)
        return vbp_fail(err, VBP_E_ARG, "%s: written for another pack (fingerprint %016" PRIx64
                        ", this pack has %016" PRIx64 ")", path, fp, fingerprint);
    kv pairs[CFG_KEYS];
    size_t np = config_pairs(cfg, net, pairs);
    for (size_t i = 0; i < np; i++) {
        const char *v = vbp_safetensors_meta(f, pairs[i].key);
        const char *name = pairs[i].key + 4; /* without "cfg." */
        if (!v && !strcmp(name, "model")) /* states from before VballNetV1 */
            v = vbp_net_model_name(0);
        if (!v && i >= CFG_KEYS_V1)
            v = "0";
        if (!v)
            return vbp_fail(err, VBP_E_FORMAT, "%s: state metadata '%s' is missing", path, pairs[i].key);
        if (strcmp(v, pairs[i].val)) /* v is the file's: escaped, cut at VAL_MAX */
            return vbp_fail(err, VBP_E_ARG, "%s: written with %s=%s, this run asks for %s=%s", path,
                            name, vbp_escape(q, sizeof q, v, strlen(v)), name, pairs[i].val);
    }
    return VBP_OK;
}

int vbp_state_model(const char *path, const char **model, vbp_error *err)
{
    vbp_st_file *f;
    int rc = vbp_safetensors_open(path, &f, err);
    if (rc)
        return rc;
    const char *m = vbp_safetensors_meta(f, "cfg.model");
    *model = NULL;
    for (unsigned i = 0; i < vbp_net_model_count() && !*model; i++) /* a static name */
        if (!m || !strcmp(m, vbp_net_model_name(i)))
            *model = vbp_net_model_name(i);
    char q[VBP_ESCAPED_MAX(64)];
    if (!*model)
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: state of an unknown model '%s'", path,
                      vbp_escape(q, sizeof q, m, strlen(m) < 64 ? strlen(m) : 64));
    vbp_safetensors_close(f);
    return rc;
}

int vbp_state_load(const char *path, vbp_net *net, const vbp_train_config *cfg,
                   uint64_t expect_fingerprint, vbp_train_state *st, vbp_error *err)
{
    vbp_st_file *f;
    int rc = vbp_safetensors_open(path, &f, err);
    if (rc)
        return rc;
    rc = check_state(f, path, net, cfg, expect_fingerprint, err);
    vbp_train_state s;
    memset(&s, 0, sizeof s);
    uint64_t adam_steps = 0, best_epoch = 0;
    if (!rc)
        rc = meta_u64(f, path, "epoch", &s.epoch, 0, err);
    if (!rc)
        rc = meta_u64(f, path, "batch", &s.batch, 0, err);
    if (!rc)
        rc = meta_u64(f, path, "step", &s.step, 0, err);
    if (!rc)
        rc = meta_u64(f, path, "adam_steps", &adam_steps, 0, err);
    if (!rc)
        rc = meta_double(f, path, "loss_sum", &s.loss_sum, err);
    if (!rc)
        rc = meta_u64(f, path, "loss_samples", &s.loss_samples, 0, err);
    if (!rc)
        rc = meta_double(f, path, "best_score", &s.best_score, err);
    if (!rc)
        rc = meta_double(f, path, "best_loss", &s.best_loss, err);
    if (!rc)
        rc = meta_u64(f, path, "best_epoch", &best_epoch, 0, err);
    if (!rc)
        rc = meta_u64(f, path, "pack_fingerprint", &s.pack_fingerprint, 1, err);
    const char *order = vbp_safetensors_meta(f, "order");
    if (!rc && (!order || vbp_order_parse(order, &s.order) || s.order == VBP_ORDER_AUTO))
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: state metadata 'order' is missing or invalid", path);
    if (!rc && cfg->order != VBP_ORDER_AUTO && cfg->order != s.order)
        rc = vbp_fail(err, VBP_E_ARG, "%s: written with order=%s, this run asks for order=%s", path,
                      vbp_order_name(s.order), vbp_order_name(cfg->order));
    /* Targets: absent from states written before the option (soft, 128 then). */
    const char *target = vbp_safetensors_meta(f, "cfg.target");
    uint64_t cut = 128;
    s.target = VBP_TARGET_SOFT;
    if (!rc && target && (vbp_target_parse(target, &s.target) || s.target == VBP_TARGET_AUTO))
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: state metadata 'cfg.target' is invalid", path);
    if (!rc && vbp_safetensors_meta(f, "cfg.target_cut"))
        rc = meta_u64(f, path, "cfg.target_cut", &cut, 0, err);
    if (!rc && (cut < 1 || cut > 255))
        rc = vbp_fail(err, VBP_E_FORMAT, "%s: state metadata 'cfg.target_cut' is not in 1..255", path);
    s.target_cut = (uint32_t)cut;
    if (!rc && cfg->target != VBP_TARGET_AUTO && cfg->target != s.target)
        rc = vbp_fail(err, VBP_E_ARG, "%s: written with target=%s, this run asks for target=%s", path,
                      vbp_target_name(s.target), vbp_target_name(cfg->target));
    if (!rc && cfg->target_cut && cfg->target_cut != s.target_cut)
        rc = vbp_fail(err, VBP_E_ARG, "%s: written with target_cut=%" PRIu32 ", this run asks for "
                      "target_cut=%" PRIu32, path, s.target_cut, cfg->target_cut);
    s.best_epoch = (uint32_t)best_epoch;
    if (!s.best_epoch) {
        s.best_score = -INFINITY;
        s.best_loss = INFINITY;
    }

    /* Copy every tensor, checking dtype and shape against the net's. */
    int64_t counter = 0;
    vbp_st_tensor *want = NULL;
    char *names = NULL;
    size_t count = 0;
    if (!rc)
        rc = state_tensors(net, &counter, &want, &names, &count, err);
    for (size_t i = 0; !rc && i < count; i++) {
        vbp_st_tensor got;
        if (vbp_safetensors_find(f, want[i].name, &got)) {
            rc = vbp_fail(err, VBP_E_FORMAT, "%s: tensor %s is missing", path, want[i].name);
            break;
        }
        int same = got.dtype == want[i].dtype && got.ndim == want[i].ndim;
        for (uint32_t d = 0; same && d < got.ndim; d++)
            same = got.shape[d] == want[i].shape[d];
        if (!same) {
            rc = vbp_fail(err, VBP_E_FORMAT, "%s: tensor %s has another dtype or shape than this network's",
                          path, want[i].name);
            break;
        }
        size_t bytes = (size_t)vbp_st_numel(&got) * vbp_st_dtype_size(got.dtype);
        memcpy((void *)want[i].data, got.data, bytes);
    }
    free(want);
    free(names);
    vbp_safetensors_close(f);
    if (rc)
        return rc;
    vbp_net_set_adam_steps(net, adam_steps);
    vbp_net_set_batches_tracked(net, (uint64_t)counter);
    *st = s;
    return VBP_OK;
}
