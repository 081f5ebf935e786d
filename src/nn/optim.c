/* optim.c - Adam / AdamW with PyTorch 1.13 semantics, and the staircase LR decay. */
#include <math.h>
#include "vbp_net.h"

void vbp_adam_defaults(vbp_adam_config *cfg)
{
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
    cfg->weight_decay = 0;
    cfg->decoupled = 0;
}

/*
 * torch.optim.Adam/AdamW (single-tensor path): the bias corrections are
 * computed in double as Python does, then
 *   AdamW: p *= 1 - lr*wd          Adam: g += wd*p
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g*g
 *   p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps)
 */
void vbp_adam_update(const vbp_adam_config *cfg, float lr, uint64_t t, size_t n, float *param,
                     const float *grad, float *m, float *v)
{
    const double bc1 = 1.0 - pow((double)cfg->beta1, (double)t);
    const double bc2 = 1.0 - pow((double)cfg->beta2, (double)t);
    const float step = (float)((double)lr / bc1), bc2s = (float)sqrt(bc2);
    const float b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps, wd = cfg->weight_decay;
    const float shrink = cfg->decoupled ? (float)(1.0 - (double)lr * (double)wd) : 1.0f;
    const float l2 = cfg->decoupled ? 0.0f : wd;
    for (size_t i = 0; i < n; i++) {
        float p = param[i] * shrink;
        const float g = grad[i] + l2 * param[i];
        m[i] = m[i] * b1 + (1 - b1) * g;
        v[i] = v[i] * b2 + (1 - b2) * g * g;
        p -= step * (m[i] / (sqrtf(v[i]) / bc2s + eps));
        param[i] = p;
    }
}

float vbp_lr_staircase(float lr0, float gamma, uint64_t step, uint64_t steps_per_decay)
{
    if (steps_per_decay == 0)
        return lr0;
    return (float)((double)lr0 * pow((double)gamma, (double)(step / steps_per_decay)));
}
