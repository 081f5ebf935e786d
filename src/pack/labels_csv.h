/*
 * labels_csv.h - ball labels CSV (`Frame,Visibility,X,Y`), internal.
 */
#ifndef VBP_LABELS_CSV_H
#define VBP_LABELS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_pack.h"

/*
 * Parse the labels CSV at `path` strictly: the header line must be exactly
 * `Frame,Visibility,X,Y`; row i (0-based) must have Frame == i, Visibility 0
 * or 1 and decimal X and Y that fit a float.  Hidden balls (Visibility 0) are stored as
 * (-1, -1) whatever the file says.  CRLF line ends and a final line without a
 * newline are accepted; blank lines are not.  On success *labels (free())
 * holds *count rows.  Fails with VBP_E_INPUT "FILE:LINE: problem", VBP_E_IO
 * when the file cannot be read.
 */
int vbp_labels_read_csv(const char *path, vbp_label **labels, size_t *count, vbp_error *err);

/* Same rules on `size` bytes in memory (fuzzing, tests); `path` only names them in messages. */
int vbp_labels_parse_csv(const uint8_t *buf, size_t size, const char *path, vbp_label **labels,
                         size_t *count, vbp_error *err);

#endif
