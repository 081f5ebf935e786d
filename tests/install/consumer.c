/* A program built outside the project against the installed library, with only
 * `pkg-config --cflags --libs vbpack` (tests/install/install_test.sh). */
#include <stdio.h>
#include <vbp_error.h>
#include <vbp_net.h>

int main(void)
{
    vbp_net_config cfg = { 3, 3, 8, 8, 1, 1, "VballNetFastV1" };
    vbp_net *net;
    vbp_error err;
    if (vbp_net_create(&cfg, 7, &net, &err)) {
        fprintf(stderr, "%s\n", vbp_error_message(&err));
        return 1;
    }
    printf("params %zu\n", vbp_net_param_count(net));
    printf("%s\n", vbp_strerror(VBP_E_CHECKSUM));
    vbp_net_free(net);
    return 0;
}
