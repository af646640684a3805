#!/usr/bin/python3
"""Builds Fonts/kofu-demo-gaiji.ttf, the demo municipality's 外字 font, reproducibly.

Usage: /usr/bin/python3 Fonts/build-demo-gaiji.py OUTPUT.ttf   (Debian's python3-fonttools)

Six Private Use Area glyphs, U+E000–U+E005, drawn from rectangular strokes on IPAmj明朝's em
(unitsPerEm 2048, ascent 1802, descent -246) so that they sit on the same lines as the base font.
Timestamps are fixed, so two runs give byte-identical files.
"""
import sys
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

UPEM, ASCENT, DESCENT = 2048, 1802, -246
# The ideographic em box: x 0..2048, y -246..1802; glyphs keep about 8% side bearing.
LEFT, RIGHT, BOTTOM, TOP = 170, 1878, -80, 1640
STROKE = 150
FIXED_TIME = 3_900_000_000  # seconds since 1904-01-01 (2027-08): any fixed value will do


def rect(pen, x0, y0, x1, y1):
    # Clockwise outer contour, as TrueType expects.
    pen.moveTo((x0, y0))
    pen.lineTo((x0, y1))
    pen.lineTo((x1, y1))
    pen.lineTo((x1, y0))
    pen.closePath()


def h(pen, x0, x1, y):  # horizontal stroke centred on y
    rect(pen, x0, y - STROKE // 2, x1, y + STROKE // 2)


def v(pen, x, y0, y1):  # vertical stroke centred on x
    rect(pen, x - STROKE // 2, y0, x + STROKE // 2, y1)


def glyph(strokes):
    pen = TTGlyphPen(None)
    for s in strokes:
        s(pen)
    return pen.glyph()


def notdef(pen):
    rect(pen, 200, 0, 1848, 1600)
    # inner counter, counter-clockwise
    pen.moveTo((320, 120))
    pen.lineTo((1728, 120))
    pen.lineTo((1728, 1480))
    pen.lineTo((320, 1480))
    pen.closePath()


# Each glyph: a kanji-like arrangement of strokes, clearly different from the others.
GLYPHS = {
    # U+E000 「⻌+十」: a 辻-like form (shinnyō with one dot)
    "uniE000": [lambda p: rect(p, 260, 1380, 420, 1560), lambda p: h(p, 220, 620, 1050), lambda p: v(p, 540, 200, 1050),
                lambda p: h(p, 220, 1878, 60), lambda p: h(p, 820, 1800, 1000), lambda p: v(p, 1310, 200, 1640)],
    # U+E001 「⻍+十」: the two-dot variant
    "uniE001": [lambda p: rect(p, 240, 1420, 400, 1580), lambda p: rect(p, 420, 1220, 580, 1380), lambda p: h(p, 220, 620, 950),
                lambda p: v(p, 540, 200, 950), lambda p: h(p, 220, 1878, 60), lambda p: h(p, 820, 1800, 1000),
                lambda p: v(p, 1310, 200, 1640)],
    # U+E002 「髙」-like: a ladder-shaped 高
    "uniE002": [lambda p: v(p, 1024, 1450, 1640), lambda p: h(p, 250, 1800, 1400), lambda p: rect(p, 600, 1020, 1450, 1300),
                lambda p: h(p, 300, 1750, 880), lambda p: v(p, 380, -80, 880), lambda p: v(p, 1670, -80, 880),
                lambda p: v(p, 1024, 200, 880), lambda p: h(p, 700, 1350, 500)],
    # U+E003 「𠮷」-like: 土 over 口
    "uniE003": [lambda p: h(p, 520, 1530, 1380), lambda p: v(p, 1024, 900, 1640), lambda p: h(p, 250, 1800, 900),
                lambda p: rect(p, 520, -80, 670, 650), lambda p: rect(p, 1380, -80, 1530, 650),
                lambda p: h(p, 520, 1530, 575), lambda p: h(p, 520, 1530, -5)],
    # U+E004 「邉」-like: a boxed left part and a 阝 on the right
    "uniE004": [lambda p: rect(p, 250, 700, 400, 1640), lambda p: rect(p, 1000, 700, 1150, 1640), lambda p: h(p, 250, 1150, 1565),
                lambda p: h(p, 250, 1150, 1170), lambda p: h(p, 250, 1150, 775), lambda p: h(p, 170, 1350, 60),
                lambda p: v(p, 1500, -80, 1640), lambda p: h(p, 1500, 1860, 1565), lambda p: v(p, 1790, 900, 1565),
                lambda p: h(p, 1500, 1790, 900)],
    # U+E005 「𡈽」-like: a frame holding a cross
    "uniE005": [lambda p: rect(p, 200, -80, 350, 1640), lambda p: rect(p, 1700, -80, 1850, 1640), lambda p: h(p, 200, 1850, 1565),
                lambda p: h(p, 200, 1850, -5), lambda p: h(p, 500, 1550, 800), lambda p: v(p, 1024, 300, 1350)],
}


def build(path):
    order = [".notdef"] + list(GLYPHS)
    fb = FontBuilder(UPEM, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({0xE000 + i: name for i, name in enumerate(GLYPHS)})
    pen = TTGlyphPen(None)
    notdef(pen)
    glyphs = {".notdef": pen.glyph()}
    glyphs.update({name: glyph(strokes) for name, strokes in GLYPHS.items()})
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({name: (UPEM, glyphs[name].xMin if hasattr(glyphs[name], "xMin") else 0) for name in order})
    fb.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    fb.setupNameTable({
        "familyName": "Kofu Demo Gaiji",
        "styleName": "Regular",
        "uniqueFontIdentifier": "KofuDemoGaiji-Regular-1.0",
        "fullName": "Kofu Demo Gaiji",
        "psName": "KofuDemoGaiji",
        "version": "Version 1.000",
        "copyright": "Copyright 2026 The kofu project authors",
        "licenseDescription": "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        "licenseInfoURL": "https://openfontlicense.org",
    })
    fb.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, sTypoLineGap=0, usWinAscent=ASCENT,
                usWinDescent=-DESCENT, sCapHeight=1464, sxHeight=1000, achVendID="KOFU", fsType=0)
    fb.setupPost()
    fb.setupHead(unitsPerEm=UPEM, created=FIXED_TIME, modified=FIXED_TIME)
    font = fb.font
    font["head"].created = FIXED_TIME
    font["head"].modified = FIXED_TIME
    font.recalcTimestamp = False
    font.save(path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build-demo-gaiji.py OUTPUT.ttf")
    build(sys.argv[1])
