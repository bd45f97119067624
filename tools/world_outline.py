#!/usr/bin/env python3
"""Turns world-atlas's countries-110m.json (TopoJSON of Natural Earth 1:110m, public domain)
into assets/world-110m.bin, the outline the console draws under zoomed-out views with no
network: every arc (coastline or border) once, as polylines of points in hundredths of a
degree.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python3 tools/world_outline.py package/countries-110m.json assets/world-110m.bin

Format (little-endian): b"WORLD1", u32 line count, then per line a u16 point count and that
many (i16 lon, i16 lat) pairs, each in hundredths of a degree.
"""
import json
import struct
import sys


def arcs_of(topology):
    """The topology's arcs as absolute (lon, lat) polylines."""
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    for arc in topology["arcs"]:
        x = y = 0
        line = []
        for dx, dy in arc:
            x += dx
            y += dy
            line.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        yield line


def main(source, target):
    with open(source) as f:
        topology = json.load(f)
    lines = []
    for line in arcs_of(topology):
        points = []
        for lon, lat in line:
            p = (round(lon * 100), round(lat * 100))
            if not points or points[-1] != p:
                points.append(p)
        if len(points) >= 2:
            lines.append(points)
    with open(target, "wb") as out:
        out.write(b"WORLD1")
        out.write(struct.pack("<I", len(lines)))
        for points in lines:
            out.write(struct.pack("<H", len(points)))
            for lon, lat in points:
                out.write(struct.pack("<hh", lon, lat))
    print(f"{len(lines)} lines, {sum(map(len, lines))} points -> {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
