#!/usr/bin/python3
"""Builds Fonts/kofu-demo-gaiji.ttf, the demo municipality's 外字 font, reproducibly.

Usage: /usr/bin/python3 Fonts/build-demo-gaiji.py OUTPUT.ttf   (Debian's python3-fonttools only)

Six Private Use Area glyphs, U+E000–U+E005, drawn as gothic-style strokes on IPAmj明朝's em
(unitsPerEm 2048, ascent 1802, descent -246, full-width advance, vertical origin at y = 1802) so
that they sit on the same lines as the base font, horizontally and vertically.

Each stroke is a polyline of a given width (mitred joins, square ends); a glyph's strokes are
merged with an exact polygon union (rational arithmetic, below), so every glyph is made of
non-overlapping contours: clockwise outer contours and counter-clockwise counters, as TrueType
expects. Timestamps are fixed and nothing depends on the clock or on hash order, so two runs
give byte-identical files.
"""
import sys
from fractions import Fraction

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

UPEM, ASCENT, DESCENT = 2048, 1802, -246
# The ideographic em box is x 0..2048, y -246..1802; the glyphs keep about 8% side bearing
# (164 units), so they are drawn inside x 164..1884, y -82..1638, as IPAmj's kanji are.
L, R, B, T = 164, 1884, -82, 1638
HW, VW = 150, 170  # horizontal / vertical (and slanted) stroke widths: 73 and 83 per 1000 em
FIXED_TIME = 3_850_070_400  # 2026-01-01T00:00:00Z in seconds since 1904-01-01 (head's epoch)


# --- strokes ------------------------------------------------------------------------------------

def stroke(points, width):
    """The outline of a polyline `width` wide: square (butt) ends, mitred joins. Clockwise."""
    pts = [(Fraction(x), Fraction(y)) for x, y in points]
    half = Fraction(width, 2)

    def normal(a, b):  # unit-ish left normal of a→b, scaled to half the width (exact for H/V)
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = Fraction(round((dx * dx + dy * dy) ** 0.5 * 1024), 1024)
        return (-dy * half / length, dx * half / length)

    def offset_side(sign):
        out = []
        for i, p in enumerate(pts):
            if i == 0 or i == len(pts) - 1:
                a, b = (pts[0], pts[1]) if i == 0 else (pts[-2], pts[-1])
                n = normal(a, b)
                out.append((p[0] + sign * n[0], p[1] + sign * n[1]))
                continue
            n1, n2 = normal(pts[i - 1], p), normal(p, pts[i + 1])
            # mitre: intersect the two offset lines
            p1 = (pts[i - 1][0] + sign * n1[0], pts[i - 1][1] + sign * n1[1])
            d1 = (p[0] - pts[i - 1][0], p[1] - pts[i - 1][1])
            p2 = (p[0] + sign * n2[0], p[1] + sign * n2[1])
            d2 = (pts[i + 1][0] - p[0], pts[i + 1][1] - p[1])
            den = d1[0] * d2[1] - d1[1] * d2[0]
            t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den
            out.append((p1[0] + t * d1[0], p1[1] + t * d1[1]))
        return out

    left, right = offset_side(1), offset_side(-1)
    poly = left + right[::-1]
    return clockwise([(round(x), round(y)) for x, y in poly])


def clockwise(poly):
    area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1]))
    return poly[::-1] if area > 0 else poly  # positive shoelace area = counter-clockwise (y up)


def H(x0, x1, y, w=HW):  # horizontal stroke centred on y
    return stroke([(x0, y), (x1, y)], w)


def V(x, y0, y1, w=VW):  # vertical stroke centred on x
    return stroke([(x, y0), (x, y1)], w)


def S(*points, w=VW):  # any polyline stroke
    return stroke(list(points), w)


def box(x0, y0, x1, y1):  # 口: a frame whose stroke centres are the given rectangle
    return [V(x0, y0 - HW // 2, y1 + HW // 2), V(x1, y0 - HW // 2, y1 + HW // 2),
            H(x0, x1, y1), H(x0, x1, y0)]


# --- exact polygon union ------------------------------------------------------------------------

def _inside(p, poly):
    x, y = p
    hit = False
    for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def _cut(a, b, c, d):
    """Parameters along a→b where segment c→d meets it (crossing, touching or collinear)."""
    r = (b[0] - a[0], b[1] - a[1])
    s = (d[0] - c[0], d[1] - c[1])
    den = r[0] * s[1] - r[1] * s[0]
    q = (c[0] - a[0], c[1] - a[1])
    if den == 0:
        if q[0] * r[1] - q[1] * r[0] != 0:
            return []  # parallel, apart
        rr = r[0] * r[0] + r[1] * r[1]  # collinear: project c and d onto a→b
        return [((p[0] - a[0]) * r[0] + (p[1] - a[1]) * r[1]) / rr for p in (c, d)]
    t = (q[0] * s[1] - q[1] * s[0]) / den
    u = (q[0] * r[1] - q[1] * r[0]) / den
    return [t] if 0 <= t <= 1 and 0 <= u <= 1 else []


def union(polys):
    """The union of clockwise simple polygons as non-overlapping contours: outer ones clockwise,
    holes counter-clockwise. Edges are split where they meet other edges; a piece is kept when
    the union is on its right (inside) and not on its left."""
    polys = [[(Fraction(x), Fraction(y)) for x, y in p] for p in polys]
    eps = Fraction(1, 64)
    pieces = []
    for i, poly in enumerate(polys):
        for a, b in zip(poly, poly[1:] + poly[:1]):
            ts = {Fraction(0), Fraction(1)}
            for j, other in enumerate(polys):
                if j != i:
                    for c, d in zip(other, other[1:] + other[:1]):
                        ts.update(t for t in _cut(a, b, c, d) if 0 < t < 1)
            ts = sorted(ts)
            for t0, t1 in zip(ts, ts[1:]):
                p = (a[0] + t0 * (b[0] - a[0]), a[1] + t0 * (b[1] - a[1]))
                q = (a[0] + t1 * (b[0] - a[0]), a[1] + t1 * (b[1] - a[1]))
                m = ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
                dx, dy = q[0] - p[0], q[1] - p[1]
                k = eps / (abs(dx) + abs(dy))
                right = (m[0] + dy * k, m[1] - dx * k)
                left = (m[0] - dy * k, m[1] + dx * k)
                if any(_inside(right, o) for o in polys) and not any(_inside(left, o) for o in polys):
                    pieces.append((p, q))
    starts = {}
    for p, q in dict.fromkeys(pieces):  # drop duplicates (shared, same-direction edges)
        starts.setdefault(p, []).append(q)
    for p, qs in starts.items():
        if len(qs) != 1:
            raise ValueError(f"contours touch at a single point near {tuple(map(float, p))}")
    contours = []
    while starts:
        first = min(starts)  # start each contour at its lowest-leftmost point, for determinism
        contour, p = [], first
        while True:
            contour.append(p)
            p = starts.pop(p)[0]
            if p == first:
                break
        contours.append(contour)
    out = []
    for c in contours:
        pts = [(round(x), round(y)) for x, y in c]
        pts = [p for i, p in enumerate(pts) if p != pts[i - 1]]
        changed = True
        while changed:  # drop collinear points
            changed = False
            for i in range(len(pts)):
                (x0, y0), (x1, y1), (x2, y2) = pts[i - 1], pts[i], pts[(i + 1) % len(pts)]
                if (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1) == 0:
                    del pts[i]
                    changed = True
                    break
        i = pts.index(min(pts))
        out.append(pts[i:] + pts[:i])
    return sorted(out)


def draw(contours):
    pen = TTGlyphPen(None)
    for c in contours:
        pen.moveTo(c[0])
        for p in c[1:]:
            pen.lineTo(p)
        pen.closePath()
    return pen.glyph()


# --- the glyphs ---------------------------------------------------------------------------------

def shinnyo(dots):
    """辶 on the left and along the bottom: one dot (⻌) or two (⻍), the Z-shaped stroke, and the
    sweep that runs along the foot of the glyph."""
    if dots == 1:
        marks = [S((300, 1590), (420, 1420))]
        z = 1090
    else:
        marks = [S((280, 1570), (380, 1430)), S((310, 1350), (430, 1190))]
        z = 1010
    # the Z-shaped stroke runs on into the sweep, as gothic faces draw it
    body = S((190, z), (570, z), (360, z - 400), (360, 300), (600, 0), (1860, 0), w=160)
    return marks + [body]


def tsuji(dots):  # 辻: 辶 + 十
    return shinnyo(dots) + [H(760, 1840, 1020), V(1300, 330, T)]


def hashigo_daka():  # 髙: 亠 whose 口 is a ladder, over 冋
    return [V(1024, 1430, T), H(L + 40, R - 40, 1430),
            V(680, 900, 1430), V(1370, 900, 1430), H(680, 1370, 1165),
            H(300, 1750, 900), V(300, B, 900), V(1750, B, 900)] + box(720, 250, 1330, 640)


def tsuchi_yoshi():  # 𠮷: 土 (the lower bar the longer) over 口
    return [V(1024, 880, T), H(600, 1450, 1330), H(L + 30, R - 30, 900)] + box(540, -7, 1510, 580)


def hen():  # 邉-like: ⻍ + 自 over a simplified 方
    return shinnyo(2) + [S((1250, 1600), (1190, 1480))] + box(900, 1060, 1600, 1430) + [
        H(900, 1600, 1245), H(760, 1830, 830),
        S((1130, 830), (1110, 560), (860, 330)),
        S((1160, 620), (1640, 620), (1580, 250), (1440, 280), w=VW)]


def tatsu_saki():  # 﨑-like: 山 + 立 over 可
    yama = [V(440, 480, 1340, w=130), V(235, 480, 1060, w=130), V(645, 480, 1060, w=130),
            H(235, 645, 545)]  # a narrow 山: lighter stems so that its counters stay open
    tatsu = [V(1310, 1440, T), H(840, 1790, 1470), S((1040, 1360), (1100, 1160)),
             S((1590, 1360), (1520, 1160)), H(770, R - 10, 1090)]
    ka = [H(770, R - 10, 830)] + box(870, 300, 1320, 620) + [
        S((1660, 830), (1660, 40), (1500, 40), w=VW)]
    return yama + tatsu + ka


GLYPHS = {  # glyph name: (code point, strokes)
    "uniE000": (0xE000, tsuji(1)),
    "uniE001": (0xE001, tsuji(2)),
    "uniE002": (0xE002, hashigo_daka()),
    "uniE003": (0xE003, tsuchi_yoshi()),
    "uniE004": (0xE004, hen()),
    "uniE005": (0xE005, tatsu_saki()),
}


def notdef():  # a hollow box
    outer = [(200, B), (200, T - 80), (1848, T - 80), (1848, B)]
    inner = [(320, B + 120), (1728, B + 120), (1728, T - 200), (320, T - 200)]
    return draw([outer, inner])


# --- the font -----------------------------------------------------------------------------------

def build(path):
    order = [".notdef"] + list(GLYPHS)
    glyphs = {".notdef": notdef()}
    glyphs.update({name: draw(union(strokes)) for name, (_, strokes) in GLYPHS.items()})
    fb = FontBuilder(UPEM, isTTF=True)
    fb.setupGlyphOrder(order)
    cmap = {cp: name for name, (cp, _) in GLYPHS.items()}
    fb.setupCharacterMap(cmap)  # format 4, (0,3) and (3,1)
    for platform, encoding in ((0, 4), (3, 10)):  # format 12 as well, for full-repertoire readers
        sub = CmapSubtable.newSubtable(12)
        sub.platformID, sub.platEncID, sub.language, sub.cmap = platform, encoding, 0, dict(cmap)
        fb.font["cmap"].tables.append(sub)
    fb.setupGlyf(glyphs)
    for g in glyphs.values():
        g.recalcBounds(fb.font["glyf"])
    fb.setupHorizontalMetrics({n: (UPEM, glyphs[n].xMin) for n in order})
    fb.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT, lineGap=0)
    fb.setupVerticalMetrics({n: (UPEM, ASCENT - glyphs[n].yMax) for n in order})
    fb.setupVerticalHeader(ascent=ASCENT, descent=-DESCENT, lineGap=0)  # as IPAmj's vhea
    fb.setupNameTable({
        "copyright": "Copyright 2026 The kofu project authors",
        "familyName": "Kofu Demo Gaiji",
        "styleName": "Regular",
        "uniqueFontIdentifier": "1.000;KOFU;KofuDemoGaiji-Regular",
        "fullName": "Kofu Demo Gaiji",
        "version": "Version 1.000",
        "psName": "KofuDemoGaiji",
        "description": "Kofu project demo font: six demo gaiji in the Private Use Area, "
                       "U+E000-U+E005, drawn on the IPAmj Mincho em.",
        "licenseDescription": "This Font Software is licensed under the SIL Open Font License, "
                              "Version 1.1. This license is available with a FAQ at: "
                              "https://openfontlicense.org",
        "licenseInfoURL": "https://openfontlicense.org",
    }, mac=False)
    fb.setupOS2(version=3, usWeightClass=400, fsType=0, fsSelection=0x40, achVendID="KOFU",
                sTypoAscender=ASCENT, sTypoDescender=DESCENT, sTypoLineGap=0,
                usWinAscent=ASCENT, usWinDescent=-DESCENT, sxHeight=1000, sCapHeight=1464)
    fb.setupPost(keepGlyphNames=True, underlinePosition=-246, underlineThickness=104)
    fb.setupHead(unitsPerEm=UPEM, fontRevision=1.0, created=FIXED_TIME, modified=FIXED_TIME)
    font = fb.font
    font["head"].created = font["head"].modified = FIXED_TIME
    font.recalcTimestamp = False  # else fontTools stamps head.modified with the current time
    font.save(path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: /usr/bin/python3 build-demo-gaiji.py OUTPUT.ttf")
    build(sys.argv[1])
