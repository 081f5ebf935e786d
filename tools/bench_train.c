/*
 * bench_train.c - vbbench train: training and inference throughput of the C
 * network, and with --torch the same step in PyTorch (NCHW and channels_last with glibc's
 * default heap, channels_last with the heap kept; each in its own child process) side by
 * side, with the ratios.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "vbp_dist.h"
#include "vbp_util.h"
#include "vbp_net.h"

typedef bench_train_args train_opts;

typedef struct result {
    double train_sps, infer_sps, rss_mib;
    int ok;
} result;

static int usage(FILE *f)
{
    fprintf(f,
            "usage: vbbench train [--model VballNetFastV1|VballNetV1] [--batch 4] [--seq 3] [--rgb]\n"
            "                     [--threads 2] [--seconds 10] [--height 288] [--width 512]\n"
            "                     [--rounds 1] [--torch] [--json]\n"
            "       mpirun -np N vbbench train --mpi [--batch B] [--threads T] ...\n"
            "Training samples/s (forward, loss, backward, Adam), inference samples/s and peak\n"
            "RSS of the C network; --torch also runs tests/bench/torch_train_bench.py with\n"
            "$VBP_PYTHON (default /usr/bin/python3) in NCHW and channels_last, and channels_last\n"
            "again with glibc's heap kept (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,\n"
            "MALLOC_TOP_PAD_: no page faults per step), and prints the ratios.  With --rounds R\n"
            "the C and PyTorch runs alternate R times and the best of each is kept (a shared\n"
            "machine slows whichever run collides with other work).\n"
            "The script is found through $VBP_SOURCE_DIR or next to the build tree.\n"
            "Runs with OMP_WAIT_POLICY=passive (C and PyTorch) unless the variable is set.\n"
            "The kernels' instruction set is the best the CPU has; VBP_ISA=avx512|avx2|generic\n"
            "forces a lower one, and caps PyTorch's kernels at the same set (ONEDNN_MAX_CPU_ISA,\n"
            "ATEN_CPU_CAPABILITY: a CPU without AVX-512 runs both so) unless VBP_TORCH_ISA=best.\n"
            "--mpi (implied under mpirun with N > 1): data-parallel steps as vbtrain takes them,\n"
            "--batch the global batch split over the ranks, one allreduce of the gradients per\n"
            "step timed apart; rank 0 prints samples/s of all ranks (docs/performance.md,\n"
            "\"Scaling over MPI\").\n");
    return f == stderr ? 2 : 0;
}

/* Run one C step kind repeatedly for `seconds` (at least 2 runs after a warm-up). */
static double c_rate(vbp_net *net, const float *x, const float *y, const train_opts *o, int train)
{
    vbp_adam_config adam;
    vbp_adam_defaults(&adam);
    int n = 0;
    double t0 = 0;
    for (;;) {
        float loss;
        vbp_error err;
        int rc = 0;
        if (train) {
            vbp_net_zero_grad(net);
            rc = vbp_net_forward(net, x, o->batch, 1, &err);
            rc = rc ? rc : vbp_net_loss(net, y, &loss, &err);
            rc = rc ? rc : vbp_net_backward(net, &err);
            rc = rc ? rc : vbp_net_adam_step(net, &adam, 1e-3f, &err);
        } else {
            rc = vbp_net_forward(net, x, o->batch, 0, &err);
        }
        if (rc) {
            fprintf(stderr, "vbbench train: %s\n", vbp_error_message(&err));
            exit(1);
        }
        if (n == 0)
            t0 = vbp_now(); /* the first step is the warm-up */
        else if (n >= 3 && vbp_now() - t0 >= (train ? o->seconds : o->seconds / 2))
            break;
        n++;
    }
    return (double)(n * (int)o->batch) / (vbp_now() - t0);
}

/* Locate tests/bench/torch_train_bench.py: $VBP_SOURCE_DIR, else up from the executable. */
static int find_script(char *out, size_t cap)
{
    const char *rel = "tests/bench/torch_train_bench.py";
    const char *src = getenv("VBP_SOURCE_DIR");
    if (src) {
        snprintf(out, cap, "%s/%s", src, rel);
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    char exe[PATH_MAX];
    const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = 0;
    for (char *slash = strrchr(exe, '/'); slash; slash = strrchr(exe, '/')) {
        *slash = 0;
        if ((size_t)snprintf(out, cap, "%s/%s", exe, rel) < cap && access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

/*
 * The PyTorch runs: each layout with glibc's default heap, and channels_last with the heap
 * kept.  By default glibc serves PyTorch's large tensors with mmap and returns freed memory to
 * the kernel, so every step faults its activations in again, which costs most on a virtual
 * machine (docs/performance.md).  Kept: large blocks stay in the heap (mmap threshold at its
 * glibc maximum, no trimming, 1 GiB of top padding).
 */
typedef struct torch_variant {
    const char *label, *key, *layout;
    int keep_heap;
} torch_variant;
static const torch_variant variants[] = {
    {"PyTorch NCHW", "torch_nchw", "nchw", 0},
    {"PyTorch channels_last", "torch_channels_last", "channels_last", 0},
    {"PyTorch CL, heap kept", "torch_channels_last_heap_kept", "channels_last", 1},
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

/*
 * PyTorch runs on the instruction set the C kernels run on: a user whose CPU lacks AVX-512
 * runs both on AVX2, so a forced VBP_ISA caps PyTorch's kernels too (oneDNN, which does its
 * convolutions, through ONEDNN_MAX_CPU_ISA; ATen's own through ATEN_CPU_CAPABILITY; oneDNN's
 * floor is SSE4.1, the C generic path's SSE2).  VBP_TORCH_ISA=best leaves PyTorch uncapped.
 * Returns a description for the report, "" when PyTorch is not capped.
 */
static const char *torch_isa_cap(int apply)
{
    const char *isa = vbp_net_isa_name(), *want = getenv("VBP_TORCH_ISA");
    const char *onednn = !strcmp(isa, "avx2") ? "AVX2" : !strcmp(isa, "generic") ? "SSE41" : NULL;
    const char *aten = !strcmp(isa, "avx2") ? "avx2" : "default";
    if (!onednn || (want && !strcmp(want, "best")))
        return "";
    if (apply) {
        setenv("ONEDNN_MAX_CPU_ISA", onednn, 1);
        setenv("ATEN_CPU_CAPABILITY", aten, 1);
    }
    return !strcmp(isa, "avx2") ? "ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2"
                                : "ONEDNN_MAX_CPU_ISA=SSE41 ATEN_CPU_CAPABILITY=default";
}

/* Run the PyTorch benchmark of one variant in a child; parse its JSON line. */
static result torch_run(const train_opts *o, const char *script, const torch_variant *v)
{
    const char *layout = v->layout;
    result r = {0};
    const char *py = getenv("VBP_PYTHON") ? getenv("VBP_PYTHON") : "/usr/bin/python3";
    char b[16], s[16], t[16], h[16], w[16], sec[32];
    snprintf(b, sizeof b, "%u", o->batch), snprintf(s, sizeof s, "%u", o->seq);
    snprintf(t, sizeof t, "%u", o->threads), snprintf(h, sizeof h, "%u", o->height);
    snprintf(w, sizeof w, "%u", o->width), snprintf(sec, sizeof sec, "%g", o->seconds);
    const char *argv[] = {py, script, "--layout", layout, "--batch", b, "--seq", s, "--threads", t,
                          "--height", h, "--width", w, "--seconds", sec, "--model",
                          o->model ? o->model : vbp_net_model_name(0), o->rgb ? "--rgb" : NULL,
                          NULL};
    int fd[2];
    if (pipe(fd) != 0)
        return r;
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]), close(fd[1]);
        if (v->keep_heap) {
            setenv("MALLOC_MMAP_THRESHOLD_", "33554432", 1);
            setenv("MALLOC_TRIM_THRESHOLD_", "17179869184", 1);
            setenv("MALLOC_TOP_PAD_", "1073741824", 1);
        }
        (void)torch_isa_cap(1);
        execv(py, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    char line[1024] = {0};
    FILE *f = fdopen(fd[0], "r");
    size_t got = f ? fread(line, 1, sizeof line - 1, f) : 0;
    line[got] = 0;
    if (f)
        fclose(f);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    const char *a = strstr(line, "\"train_sps\":"), *i = strstr(line, "\"infer_sps\":");
    const char *m = strstr(line, "\"peak_rss_mib\":");
    if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && a && i && m) {
        r.train_sps = atof(a + 12), r.infer_sps = atof(i + 12), r.rss_mib = atof(m + 15);
        r.ok = 1;
    }
    return r;
}

static int parse(int argc, char **argv, train_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned *u = !strcmp(a, "--batch")     ? &o->batch
                      : !strcmp(a, "--seq")     ? &o->seq
                      : !strcmp(a, "--threads") ? &o->threads
                      : !strcmp(a, "--height")  ? &o->height
                      : !strcmp(a, "--width")   ? &o->width
                      : !strcmp(a, "--rounds")  ? &o->rounds
                                                : NULL;
        if (u && i + 1 < argc) {
            char *end;
            const unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || v == 0 || v > 1u << 16) {
                fprintf(stderr, "vbbench train: bad value '%s' for %s\n", argv[i], a);
                return -1;
            }
            *u = (unsigned)v;
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            o->seconds = atof(argv[++i]);
            if (!(o->seconds > 0)) {
                fprintf(stderr, "vbbench train: --seconds must be positive\n");
                return -1;
            }
        } else if (!strcmp(a, "--model") && i + 1 < argc) {
            o->model = argv[++i];
        } else if (!strcmp(a, "--rgb")) {
            o->rgb = 1;
        } else if (!strcmp(a, "--torch")) {
            o->torch = 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--mpi")) {
            o->mpi = 1;
        } else {
            fprintf(stderr, "vbbench train: unknown option '%s'\n", a);
            return -1;
        }
    }
    return 0;
}

void bench_fake_batch(float *x, size_t nx, float *y, size_t ny)
{
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)((i * 2654435761u) >> 8 & 255) / 255.0f;
    for (size_t i = 0; i < ny; i += 997)
        y[i] = 1.0f;
}

int vbbench_train(int argc, char **argv)
{
    train_opts o = {4, 3, 2, 288, 512, 1, 0, 0, 0, 0, 10, NULL};
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return usage(stdout);
    if (parse(argc, argv, &o))
        return usage(stderr);
    /*
     * OpenMP threads that spin while waiting steal the CPU from the working thread when the
     * machine is shared, for C and PyTorch alike.  Unless the caller chose a policy, re-run
     * with OMP_WAIT_POLICY=passive (read by the OpenMP runtime at start-up), which the
     * PyTorch children inherit too.
     */
    if (!getenv("OMP_WAIT_POLICY")) {
        char **args = calloc((size_t)argc + 2, sizeof *args);
        if (args) {
            args[0] = "vbbench";
            for (int i = 0; i < argc; i++)
                args[i + 1] = argv[i];
            setenv("OMP_WAIT_POLICY", "passive", 1);
            execv("/proc/self/exe", args);
            free(args); /* exec failed: measure with the default policy */
        }
    }
    vbp_dist dist; /* after the exec above: MPI starts once, in the final process image */
    vbp_error derr;
    if (vbp_dist_init(NULL, NULL, &dist, &derr)) {
        fprintf(stderr, "vbbench train: %s\n", vbp_error_message(&derr));
        return 1;
    }
    if (o.mpi || dist.size > 1) {
        const int rc = bench_train_mpi(&o, &dist);
        vbp_dist_finalize(&dist);
        return rc;
    }
    char script[PATH_MAX];
    if (o.torch && find_script(script, sizeof script)) {
        fprintf(stderr, "vbbench train: cannot find tests/bench/torch_train_bench.py "
                        "(set VBP_SOURCE_DIR to the source tree)\n");
        return 1;
    }
    const unsigned cin = o.seq * (o.rgb ? 3 : 1);
    vbp_net_config cfg = {cin, o.seq, o.height, o.width, o.batch, o.threads, o.model};
    vbp_net *net;
    vbp_error err;
    if (vbp_net_create(&cfg, 1, &net, &err)) {
        fprintf(stderr, "vbbench train: %s\n", vbp_error_message(&err));
        return 1;
    }
    const size_t nx = (size_t)o.batch * cin * o.height * o.width;
    const size_t ny = (size_t)o.batch * o.seq * o.height * o.width;
    float *x = malloc(nx * sizeof *x), *y = calloc(ny, sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "vbbench train: out of memory\n");
        return 1;
    }
    bench_fake_batch(x, nx, y, ny);
    result c = {0, 0, 0, 1}, t[NVARIANTS];
    memset(t, 0, sizeof t);
    for (unsigned r = 0; r < o.rounds; r++) {
        if (isatty(2))
            fprintf(stderr, "vbbench train: round %u/%u: C (%gs)...\n", r + 1, o.rounds,
                    o.seconds * 1.5);
        const double tr = c_rate(net, x, y, &o, 1), in = c_rate(net, x, y, &o, 0);
        c.train_sps = tr > c.train_sps ? tr : c.train_sps;
        c.infer_sps = in > c.infer_sps ? in : c.infer_sps;
        for (size_t k = 0; o.torch && k < NVARIANTS; k++) {
            if (isatty(2))
                fprintf(stderr, "vbbench train: round %u/%u: %s (%gs)...\n", r + 1, o.rounds,
                        variants[k].label, o.seconds * 1.5);
            const result q = torch_run(&o, script, &variants[k]);
            if (!q.ok) {
                fprintf(stderr, "vbbench train: the PyTorch benchmark (%s) failed\n",
                        variants[k].label);
                return 1;
            }
            t[k].ok = 1;
            t[k].train_sps = q.train_sps > t[k].train_sps ? q.train_sps : t[k].train_sps;
            t[k].infer_sps = q.infer_sps > t[k].infer_sps ? q.infer_sps : t[k].infer_sps;
            t[k].rss_mib = q.rss_mib > t[k].rss_mib ? q.rss_mib : t[k].rss_mib;
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    c.rss_mib = (double)ru.ru_maxrss / 1024.0;
    vbp_net_free(net);
    free(x), free(y);
    if (o.json) {
        vbp_json j;
        vbp_json_init(&j, 0);
        vbp_json_begin_object(&j);
        vbp_json_kstring(&j, "model", cfg.model ? cfg.model : vbp_net_model_name(0));
        vbp_json_ku64(&j, "batch", o.batch);
        vbp_json_ku64(&j, "seq", o.seq);
        vbp_json_ku64(&j, "in_channels", cin);
        vbp_json_ku64(&j, "height", o.height);
        vbp_json_ku64(&j, "width", o.width);
        vbp_json_ku64(&j, "threads", o.threads);
        vbp_json_ku64(&j, "rounds", o.rounds);
        vbp_json_kstring(&j, "isa", vbp_net_isa_name());
        vbp_json_kstring(&j, "torch_isa_cap", o.torch ? torch_isa_cap(0) : "");
        vbp_json_kstring(&j, "omp_wait_policy", getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "");
        for (int k = -1; k < (o.torch ? (int)NVARIANTS : 0); k++) {
            const result *r = k < 0 ? &c : &t[k];
            vbp_json_key(&j, k < 0 ? "c" : variants[k].key);
            vbp_json_begin_object(&j);
            vbp_json_kdouble(&j, "train_sps", r->train_sps, 6);
            vbp_json_kdouble(&j, "infer_sps", r->infer_sps, 6);
            vbp_json_kdouble(&j, "peak_rss_mib", r->rss_mib, 6);
            vbp_json_end_object(&j);
        }
        vbp_json_end_object(&j);
        vbp_json_print(&j, stdout);
        return 0;
    }
    printf("%s batch %u, seq %u %s (%u channels), %ux%u, %u threads, best of %u, "
           "kernels %s, OMP_WAIT_POLICY=%s\n", cfg.model ? cfg.model : vbp_net_model_name(0),
           o.batch, o.seq, o.rgb ? "RGB" : "gray", cin,
           o.width, o.height, o.threads, o.rounds, vbp_net_isa_name(),
           getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "");
    if (o.torch)
        printf("PyTorch's kernels: %s\n", *torch_isa_cap(0) ? torch_isa_cap(0)
                                                             : "the best the CPU has (uncapped)");
    printf("%-22s %12s %12s %14s\n", "", "train smp/s", "infer smp/s", "peak RSS MiB");
    printf("%-22s %12.2f %12.2f %14.0f\n", "C (vbp_net)", c.train_sps, c.infer_sps, c.rss_mib);
    for (size_t k = 0; o.torch && k < NVARIANTS; k++)
        printf("%-22s %12.2f %12.2f %14.0f\n", variants[k].label, t[k].train_sps,
               t[k].infer_sps, t[k].rss_mib);
    if (o.torch) {
        /* Ratios to the fastest PyTorch as installed (default heap), then to the fastest of
         * all; each of training and inference against its own fastest variant. */
        for (size_t upto = 2; upto <= NVARIANTS; upto += NVARIANTS - 2) {
            size_t bt = 0, bi = 0;
            for (size_t k = 1; k < upto; k++) {
                bt = t[k].train_sps > t[bt].train_sps ? k : bt;
                bi = t[k].infer_sps > t[bi].infer_sps ? k : bi;
            }
            printf("C / fastest PyTorch%s: training %.2fx (%s), inference %.2fx (%s), "
                   "peak RSS %.2fx\n", upto == 2 ? " as installed" : "",
                   c.train_sps / t[bt].train_sps, variants[bt].label,
                   c.infer_sps / t[bi].infer_sps, variants[bi].label, c.rss_mib / t[bt].rss_mib);
        }
    }
    return 0;
}
