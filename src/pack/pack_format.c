/* pack_format.c - little-endian encode/decode of the pack's fixed-size structures. */
#include <string.h>
#include <xxhash.h>
#include "internal.h"
#include "pack_format.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void putf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static float getf(const uint8_t *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint64_t vbp_header_checksum(const uint8_t in[VBP_HEADER_SIZE])
{
    return XXH3_64bits(in, VBP_HEADER_SUM_OFFSET);
}

void vbp_header_encode(vbp_header *h, uint8_t out[VBP_HEADER_SIZE])
{
    memset(out, 0, VBP_HEADER_SIZE);
    memcpy(out, h->magic, VBP_MAGIC_SIZE);
    put16(out + 8, h->major);
    put16(out + 10, h->minor);
    put32(out + 12, h->header_size);
    put32(out + 16, h->flags);
    put32(out + 20, h->geometry.height);
    put32(out + 24, h->geometry.width);
    put32(out + 28, h->geometry.frame_channels);
    put32(out + 32, h->geometry.heatmap_channels);
    put32(out + 36, h->codec);
    put64(out + 40, h->clip_count);
    put64(out + 48, h->frame_count);
    put64(out + 56, h->file_size);
    put32(out + 64, h->clip_entry_size);
    put32(out + 68, h->frame_entry_size);
    put32(out + 72, h->raw_align);
    put32(out + 76, h->lz4_align);
    for (int s = 0; s < VBP_SEC_COUNT; s++) {
        put64(out + 80 + 24 * s, h->sec[s].offset);
        put64(out + 88 + 24 * s, h->sec[s].length);
        put64(out + 96 + 24 * s, h->sec[s].checksum);
    }
    h->checksum = vbp_header_checksum(out);
    put64(out + VBP_HEADER_SUM_OFFSET, h->checksum);
}

void vbp_header_decode(const uint8_t in[VBP_HEADER_SIZE], vbp_header *h)
{
    memcpy(h->magic, in, VBP_MAGIC_SIZE);
    h->major = get16(in + 8);
    h->minor = get16(in + 10);
    h->header_size = get32(in + 12);
    h->flags = get32(in + 16);
    h->geometry.height = get32(in + 20);
    h->geometry.width = get32(in + 24);
    h->geometry.frame_channels = get32(in + 28);
    h->geometry.heatmap_channels = get32(in + 32);
    h->codec = get32(in + 36);
    h->clip_count = get64(in + 40);
    h->frame_count = get64(in + 48);
    h->file_size = get64(in + 56);
    h->clip_entry_size = get32(in + 64);
    h->frame_entry_size = get32(in + 68);
    h->raw_align = get32(in + 72);
    h->lz4_align = get32(in + 76);
    for (int s = 0; s < VBP_SEC_COUNT; s++) {
        h->sec[s].offset = get64(in + 80 + 24 * s);
        h->sec[s].length = get64(in + 88 + 24 * s);
        h->sec[s].checksum = get64(in + 96 + 24 * s);
    }
    h->checksum = get64(in + VBP_HEADER_SUM_OFFSET);
}

void vbp_clip_encode(const vbp_clip *c, uint8_t out[VBP_CLIP_ENTRY_SIZE])
{
    memset(out, 0, VBP_CLIP_ENTRY_SIZE);
    memcpy(out, c->name, VBP_NAME_MAX);
    memcpy(out + 64, c->group, VBP_NAME_MAX);
    put32(out + 128, (uint32_t)c->split);
    put16(out + 132, (uint16_t)c->source.fps_num);
    put16(out + 134, (uint16_t)c->source.fps_den);
    put64(out + 136, c->first_frame);
    put64(out + 144, c->frame_count);
}

void vbp_clip_decode(const uint8_t in[VBP_CLIP_ENTRY_SIZE], vbp_clip *c, uint32_t *split_raw)
{
    memcpy(c->name, in, VBP_NAME_MAX);
    memcpy(c->group, in + 64, VBP_NAME_MAX);
    *split_raw = get32(in + 128);
    c->split = *split_raw < VBP_SPLIT_COUNT ? (vbp_split)*split_raw : VBP_SPLIT_TRAIN;
    c->source.fps_num = get16(in + 132);
    c->source.fps_den = get16(in + 134);
    c->source.width = c->source.height = 0; /* from the clip's frame entries */
    c->first_frame = get64(in + 136);
    c->frame_count = get64(in + 144);
}

static void rec_encode(const vbp_record_desc *r, uint8_t *out)
{
    put64(out, r->offset);
    put64(out + 8, r->stored_size);
    put64(out + 16, r->raw_size);
    put64(out + 24, r->checksum);
    put32(out + 32, r->codec);
}

static void rec_decode(const uint8_t *in, vbp_record_desc *r)
{
    r->offset = get64(in);
    r->stored_size = get64(in + 8);
    r->raw_size = get64(in + 16);
    r->checksum = get64(in + 24);
    r->codec = get32(in + 32);
}

void vbp_frame_entry_encode(const vbp_frame_entry *e, uint8_t out[VBP_FRAME_ENTRY_SIZE])
{
    memset(out, 0, VBP_FRAME_ENTRY_SIZE);
    rec_encode(&e->rec[0], out);
    rec_encode(&e->rec[1], out + 40);
    out[80] = e->label.visibility;
    putf(out + 84, e->label.x);
    putf(out + 88, e->label.y);
    put16(out + 92, e->source_width);
    put16(out + 94, e->source_height);
}

void vbp_frame_entry_decode(const uint8_t in[VBP_FRAME_ENTRY_SIZE], vbp_frame_entry *e)
{
    rec_decode(in, &e->rec[0]);
    rec_decode(in + 40, &e->rec[1]);
    e->label.visibility = in[80];
    e->label.x = getf(in + 84);
    e->label.y = getf(in + 88);
    e->source_width = get16(in + 92);
    e->source_height = get16(in + 94);
}

static const char *const split_names[VBP_SPLIT_COUNT] = { "train", "val", "test" };
static const char *const codec_names[] = { "raw", "lz4" };

const char *vbp_split_name(vbp_split s)
{
    return vbp_name_of(split_names, VBP_SPLIT_COUNT, (unsigned)s);
}

int vbp_split_parse(const char *s, vbp_split *out)
{
    int i = vbp_name_find(split_names, VBP_SPLIT_COUNT, s);
    return i < 0 ? VBP_E_ARG : (*out = (vbp_split)i, VBP_OK);
}

const char *vbp_codec_name(vbp_codec c)
{
    return vbp_name_of(codec_names, 2, (unsigned)c);
}
