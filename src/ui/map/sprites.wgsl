// Geofence rings, dots (shoppers, product pins) and trail segments drawn from one instance
// each: the vertex shader builds a ring as a thin annulus strip (so only the outline's pixels
// are shaded, not a whole quad per ring), a dot or a segment as a quad; the fragment shader
// anti-aliases all three from exact distances.

struct Screen {
    // Screen size in points, points to pixels, and 1.0 when the framebuffer is sRGB.
    size_points: vec2<f32>,
    pixels_per_point: f32,
    srgb_framebuffer: f32,
};

@group(0) @binding(0) var<uniform> screen: Screen;

const KIND_RING: u32 = 0u;
const KIND_DOT: u32 = 1u;
const KIND_SEGMENT: u32 = 2u;

struct Instance {
    // Ring or dot centre; a segment's start.
    @location(0) centre: vec2<f32>,
    // A segment's end.
    @location(1) end: vec2<f32>,
    @location(2) radius: f32,
    // Ring stroke or segment width in points.
    @location(3) width: f32,
    // Premultiplied sRGBA, like egui's vertex colours.
    @location(4) colour: vec4<f32>,
    // The kind in the low byte; a ring's segment count in the next (fewer for small rings:
    // the rasterizer pays per triangle).
    @location(5) kind: u32,
};

struct Varyings {
    @builtin(position) position: vec4<f32>,
    // From the centre (rings, dots); along and across the segment (segments).
    @location(0) offset: vec2<f32>,
    @location(1) colour: vec4<f32>,
    // Ring or dot radius; a segment's length.
    @location(2) radius: f32,
    @location(3) width: f32,
    @location(4) @interpolate(flat) kind: u32,
};

const TAU: f32 = 6.2831853;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, instance: Instance) -> Varyings {
    // One pixel of soft edge, in points.
    let edge = 1.0 / screen.pixels_per_point;
    var offset: vec2<f32>;
    var p: vec2<f32>;
    var radius = instance.radius;
    let kind = instance.kind & 255u;
    if kind == KIND_SEGMENT {
        let d = instance.end - instance.centre;
        let length = max(length(d), 0.001);
        let along_unit = d / length;
        let across_unit = vec2<f32>(-along_unit.y, along_unit.x);
        let along = select(-edge, length + edge, (vertex & 1u) == 1u);
        let across = select(-1.0, 1.0, ((vertex >> 1u) & 1u) == 1u) * (instance.width * 0.5 + edge);
        offset = vec2<f32>(along, across);
        p = instance.centre + along_unit * along + across_unit * across;
        radius = length;
    } else if kind == KIND_RING {
        // A triangle strip around the ring: even vertices inside, odd ones outside. The outer
        // edge is pushed out so the polygon contains the true circle.
        let step = TAU / f32(max((instance.kind >> 8u) & 255u, 3u));
        let angle = f32(vertex / 2u) * step;
        let half = instance.width * 0.5 + edge;
        var r = max(instance.radius - half, 0.0);
        if (vertex & 1u) == 1u {
            r = (instance.radius + half) / cos(step * 0.5);
        }
        offset = vec2<f32>(cos(angle), sin(angle)) * r;
        p = instance.centre + offset;
    } else {
        let corner = vec2<f32>(f32(vertex & 1u), f32((vertex >> 1u) & 1u)) * 2.0 - 1.0;
        offset = corner * (instance.radius + edge);
        p = instance.centre + offset;
    }
    var out: Varyings;
    out.position = vec4<f32>(
        p.x / screen.size_points.x * 2.0 - 1.0,
        1.0 - p.y / screen.size_points.y * 2.0,
        0.0,
        1.0,
    );
    out.offset = offset;
    out.colour = instance.colour;
    out.radius = radius;
    out.width = instance.width;
    out.kind = kind;
    return out;
}

fn linear_from_gamma(c: vec3<f32>) -> vec3<f32> {
    let cutoff = c < vec3<f32>(0.04045);
    let lower = c / vec3<f32>(12.92);
    let higher = pow((c + vec3<f32>(0.055)) / vec3<f32>(1.055), vec3<f32>(2.4));
    return select(higher, lower, cutoff);
}

@fragment
fn fs_main(in: Varyings) -> @location(0) vec4<f32> {
    let ppp = screen.pixels_per_point;
    var coverage: f32;
    if in.kind == KIND_SEGMENT {
        let across = (in.width * 0.5 - abs(in.offset.y)) * ppp + 0.5;
        let ends = min(in.offset.x, in.radius - in.offset.x) * ppp + 0.5;
        coverage = clamp(across, 0.0, 1.0) * clamp(ends, 0.0, 1.0);
    } else if in.kind == KIND_RING {
        let d = length(in.offset);
        coverage = (in.width * 0.5 - abs(d - in.radius)) * ppp + 0.5;
    } else {
        let d = length(in.offset);
        coverage = (in.radius - d) * ppp + 0.5;
    }
    coverage = clamp(coverage, 0.0, 1.0);
    if coverage <= 0.0 {
        discard;
    }
    var colour = in.colour;
    if screen.srgb_framebuffer > 0.5 {
        colour = vec4<f32>(linear_from_gamma(colour.rgb), colour.a);
    }
    return colour * coverage;
}
