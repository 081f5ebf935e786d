/*
 * dispatch.c - run-time choice of the layer kernels' instruction set.
 *
 * The kernels are compiled once per set (isa.h, src/meson.build): on x86-64 avx512
 * (AVX-512 F/BW/VL/DQ + FMA), avx2 (AVX2 + FMA) and generic (baseline x86-64), elsewhere
 * generic only.  Each call goes to the set src/util/cpu.c chose: the best the CPU supports,
 * or a lower one forced with VBP_ISA=avx512|avx2|generic.
 */
#include "cpu.h"
#include "isa.h"
#include "layers.h"
#include "vbp_net.h"

#if defined(__x86_64__)
#define VBP_X86_ISAS 1
#else
#define VBP_X86_ISAS 0
#endif

typedef struct layer_ops {
    const char *name;
#define OP_F(ret, name, params, args) ret (*name##_f) params;
#define OP_D(ret, name, params, args) ret (*name##_d) params;
    VBP_LAYER_FUNCS(OP_F, float)
    VBP_LAYER_FUNCS(OP_D, double)
} layer_ops;

/* Prototypes and the table of one set; ISA names the set where the macros are expanded. */
#define DECL_F(ret, name, params, args) ret VBP_CAT(name##_f_, ISA) params;
#define DECL_D(ret, name, params, args) ret VBP_CAT(name##_d_, ISA) params;
#define INIT_F(ret, name, params, args) .name##_f = VBP_CAT(name##_f_, ISA),
#define INIT_D(ret, name, params, args) .name##_d = VBP_CAT(name##_d_, ISA),

#define ISA generic
VBP_LAYER_FUNCS(DECL_F, float)
VBP_LAYER_FUNCS(DECL_D, double)
static const layer_ops ops_generic = {"generic", VBP_LAYER_FUNCS(INIT_F, float)
                                                     VBP_LAYER_FUNCS(INIT_D, double)};
#undef ISA
#if VBP_X86_ISAS
#define ISA avx2
VBP_LAYER_FUNCS(DECL_F, float)
VBP_LAYER_FUNCS(DECL_D, double)
static const layer_ops ops_avx2 = {"avx2", VBP_LAYER_FUNCS(INIT_F, float)
                                               VBP_LAYER_FUNCS(INIT_D, double)};
#undef ISA
#define ISA avx512
VBP_LAYER_FUNCS(DECL_F, float)
VBP_LAYER_FUNCS(DECL_D, double)
static const layer_ops ops_avx512 = {"avx512", VBP_LAYER_FUNCS(INIT_F, float)
                                                   VBP_LAYER_FUNCS(INIT_D, double)};
#undef ISA
#endif

/* The table of the set vbp_cpu_isa() chose (off x86-64 only generic is compiled). */
static inline const layer_ops *ops(void)
{
#if VBP_X86_ISAS
    static const layer_ops *const table[] = { &ops_generic, &ops_avx2, &ops_avx512 };
    return table[vbp_cpu_isa()];
#else
    return &ops_generic;
#endif
}

const char *vbp_net_isa_name(void)
{
    return ops()->name;
}

/* The dispatching names declared in layers.h. */
#define RET_void
#define RET_double return
#define WRAP_F(ret, name, params, args)                                                            \
    ret name##_f params { RET_##ret ops()->name##_f args; }
#define WRAP_D(ret, name, params, args)                                                            \
    ret name##_d params { RET_##ret ops()->name##_d args; }
VBP_LAYER_FUNCS(WRAP_F, float)
VBP_LAYER_FUNCS(WRAP_D, double)
