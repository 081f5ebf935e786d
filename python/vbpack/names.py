"""vbpack.names - naming clips and matches, the rule of every vbpack tool (include/vbp_names.h,
formats/vbpack.md "Naming clips"), and the escaping of quoted names (vbp_escape).

    match/clip   the clip `clip` of the match `match`
    /clip        the clip `clip` that has no match (group "")
    match/       every clip of the match
    NAME         the one clip named NAME (in any match or none), or the one match named NAME

A name that fits nothing, or several clips or matches, raises ValueError with the text of the C
library (which cuts long names and lists to fit its one-line messages; Python does not): the
candidates listed in the form that names each alone, never one of them picked.
"""

# Code points a terminal acts on without printing them (src/util/escape.c): C1 controls, soft
# hyphen, Arabic letter mark, zero-width and direction marks, line/paragraph separators and
# bidi embeddings, word joiner to nominal digit shapes, BOM, interlinear annotation controls.
_INVISIBLE = (set(range(0x80, 0xa0)) | {0xad, 0x61c} | set(range(0x200b, 0x2010))
              | set(range(0x2028, 0x202f)) | set(range(0x2060, 0x2070)) | {0xfeff}
              | set(range(0xfff9, 0xfffc)))


def escape(text):
    """`text` (str or bytes) as messages quote it: printable UTF-8 kept, `\\` doubled, control
    bytes, bytes that are not UTF-8 and invisible code points as \\xHH (lower-case)."""
    raw = text if isinstance(text, (bytes, bytearray)) else text.encode("utf-8", "surrogateescape")
    out = []
    for ch in bytes(raw).decode("utf-8", "surrogateescape"):
        o = ord(ch)
        if 0xdc80 <= o <= 0xdcff:  # a byte that is not UTF-8
            out.append(f"\\x{o - 0xdc00:02x}")
        elif o < 0x20 or o == 0x7f or o in _INVISIBLE:
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")))
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out)


def qualified(clip):
    """"group/name", or "name" when the group is "" (how messages name a clip)."""
    return f"{clip.group}/{clip.name}" if clip.group else clip.name


def _full(name, group, clip):
    return name == f"{group}/{clip}"


def _ambiguous(name, what, items):
    return ValueError(f"'{escape(name)}' {what}: {', '.join(items)} (name one of them)")


def resolve(clips, name, one_clip=False):
    """Indices of the clips `name` picks among `clips` (items with .group and .name): one clip,
    or every clip of a match.  one_clip: a match must have one clip (as vbdump's CLIP)."""
    trailing = name.endswith("/")
    match = name[:-1] if trailing else name
    hits = [i for i, c in enumerate(clips)
            if not trailing and (c.name == name or _full(name, c.group, c.name))]
    members = [i for i, c in enumerate(clips) if c.group and c.group == match]
    if len(hits) + bool(members) == 0:
        raise ValueError(f"no clip or match is named '{escape(name)}'")
    if len(hits) + bool(members) > 1:
        items, picked = [], set(hits)
        for i, c in enumerate(clips):
            if members and i == members[0]:
                n = len(members)
                items.append(f"{escape(c.group)}/ (match of {n} clip{'' if n == 1 else 's'})")
            if i in picked:
                items.append(f"{escape(c.group)}/{escape(c.name)}")
        raise _ambiguous(name, "is ambiguous", items)
    if hits:
        return hits
    if one_clip and len(members) > 1:
        raise _ambiguous(name, f"is a match of {len(members)} clips",
                         [f"{escape(clips[i].group)}/{escape(clips[i].name)}" for i in members])
    return members
