// Geofence rings and dots (shoppers, product pins) drawn from one instance each: the vertex
// shader builds a ring as a thin annulus strip (so only the outline's pixels are shaded, not
// a whole quad per ring) and a dot as a quad; the fragment shader anti-aliases both from the
// exact distance to the centre.

struct Screen {
    // Screen size in points, points to pixels, and 1.0 when the framebuffer is sRGB.
    size_points: vec2<f32>,
    pixels_per_point: f32,
    srgb_framebuffer: f32,
};

@group(0) @binding(0) var<uniform> screen: Screen;

struct Instance {
    @location(0) centre: vec2<f32>,
    @location(1) radius: f32,
    // Ring stroke width in points; 0 for a filled dot.
    @location(2) width: f32,
    // Premultiplied sRGBA, like egui's vertex colours.
    @location(3) colour: vec4<f32>,
};

struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) offset: vec2<f32>,
    @location(1) colour: vec4<f32>,
    @location(2) radius: f32,
    @location(3) width: f32,
};

const RING_SEGMENTS: u32 = 48u;
const TAU: f32 = 6.2831853;

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32, instance: Instance) -> Varyings {
    // One pixel of soft edge, in points.
    let edge = 1.0 / screen.pixels_per_point;
    var offset: vec2<f32>;
    if instance.width > 0.0 {
        // A triangle strip around the ring: even vertices inside, odd ones outside. The outer
        // edge is pushed out so the polygon contains the true circle.
        let step = TAU / f32(RING_SEGMENTS);
        let angle = f32(vertex / 2u) * step;
        let half = instance.width * 0.5 + edge;
        var r = max(instance.radius - half, 0.0);
        if (vertex & 1u) == 1u {
            r = (instance.radius + half) / cos(step * 0.5);
        }
        offset = vec2<f32>(cos(angle), sin(angle)) * r;
    } else {
        let corner = vec2<f32>(f32(vertex & 1u), f32((vertex >> 1u) & 1u)) * 2.0 - 1.0;
        offset = corner * (instance.radius + edge);
    }
    let p = instance.centre + offset;
    var out: Varyings;
    out.position = vec4<f32>(
        p.x / screen.size_points.x * 2.0 - 1.0,
        1.0 - p.y / screen.size_points.y * 2.0,
        0.0,
        1.0,
    );
    out.offset = offset;
    out.colour = instance.colour;
    out.radius = instance.radius;
    out.width = instance.width;
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
    let d = length(in.offset);
    var coverage: f32;
    if in.width > 0.0 {
        coverage = (in.width * 0.5 - abs(d - in.radius)) * screen.pixels_per_point + 0.5;
    } else {
        coverage = (in.radius - d) * screen.pixels_per_point + 0.5;
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
