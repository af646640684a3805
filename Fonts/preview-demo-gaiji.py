#!/usr/bin/python3
"""Draws Fonts/kofu-demo-gaiji-preview.png: each demo 外字 beside the IPAmj明朝 character it
imitates, and a line of IPAmj text with a 外字 set in it on the same baseline.

Usage: /usr/bin/python3 Fonts/preview-demo-gaiji.py FONT.ttf OUTPUT.png   (needs python3-pil)
Only the font must be reproducible; this picture is documentation.
"""
import sys

from PIL import Image, ImageDraw, ImageFont

IPAMJ = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
GLYPHS = [(0xE000, "辻"), (0xE001, "辻"), (0xE002, "髙"), (0xE003, "𠮷"), (0xE004, "邉"), (0xE005, "﨑")]


def main(font_path, out_path):
    size, cell = 96, 150
    gaiji, base = ImageFont.truetype(font_path, size), ImageFont.truetype(IPAMJ, size)
    label = ImageFont.truetype(IPAMJ, 20)
    width, height = 24 + cell * len(GLYPHS), 440
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for i, (cp, like) in enumerate(GLYPHS):
        x = 24 + i * cell
        draw.text((x, 16), f"U+{cp:04X}", font=label, fill=0)
        draw.text((x, 136), chr(cp), font=gaiji, fill=0, anchor="ls")      # the 外字
        draw.text((x, 252), like, font=base, fill=90, anchor="ls")         # IPAmj, for comparison
    draw.text((24, 270), "row 1: Kofu Demo Gaiji, row 2: IPAmj明朝 for comparison, row 3: mixed on "
              "one baseline", font=label, fill=0)
    # mixed text on one baseline: 葛城　[U+E000]子 (IPAmj, 外字, IPAmj)
    mixed_gaiji, mixed_base = ImageFont.truetype(font_path, 80), ImageFont.truetype(IPAMJ, 80)
    x, y = 24, 400
    for text, font in (("葛城　", mixed_base), (chr(0xE000), mixed_gaiji), ("子（つじこ）", mixed_base)):
        draw.text((x, y), text, font=font, fill=0, anchor="ls")
        x += draw.textlength(text, font=font)
    draw.line([(24, y), (x, y)], fill=170)
    image.save(out_path, optimize=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: /usr/bin/python3 preview-demo-gaiji.py FONT.ttf OUTPUT.png")
    main(*sys.argv[1:])
