/* clock.c - the monotonic clock (vbp_util.h). */
#include <time.h>
#include "vbp_util.h"

double vbp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
