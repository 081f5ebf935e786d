/*
 * labels_csv.h - ball labels CSV (`Frame,Visibility,X,Y`), internal.
 */
#ifndef VBP_LABELS_CSV_H
#define VBP_LABELS_CSV_H

#include <stddef.h>
#include <stdint.h>
#include "vbp_pack.h"

/* The two headers, one bit each: what a reader accepts and what it found. */
#define VBP_LABELS_PIXELS 1u    /* Frame,Visibility,X,Y: X and Y in pixels */
#define VBP_LABELS_FRACTIONS 2u /* Frame,Ball,x,y: x and y as fractions of the frame (TrackNetV3) */

/*
 * Parse the labels CSV at `path` strictly: the header line must be exactly
 * one of the headers in `accept`; row i (0-based) must have Frame == i, the
 * visibility (Visibility or Ball) 0 or 1 and decimal coordinates that fit a
 * float.  Hidden balls are stored as (-1, -1) whatever the file says;
 * visible ones as written (the caller scales them).  CRLF line ends and a
 * final line without a newline are accepted; blank lines are not.  On
 * success *labels (free()) holds *count rows and *units (may be NULL) the
 * header found.  Fails with VBP_E_INPUT "FILE:LINE: problem", VBP_E_IO when
 * the file cannot be read.
 */
int vbp_labels_read_csv(const char *path, unsigned accept, vbp_label **labels, size_t *count,
                        unsigned *units, vbp_error *err);

/* Same rules on `size` bytes in memory (fuzzing, tests); `path` only names them in messages. */
int vbp_labels_parse_csv(const uint8_t *buf, size_t size, const char *path, unsigned accept,
                         vbp_label **labels, size_t *count, unsigned *units, vbp_error *err);

#endif
