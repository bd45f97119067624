//! Rings, dots and trails on the GPU: one 32-byte instance each, drawn by a wgpu paint
//! callback with [`sprites.wgsl`](./sprites.wgsl), instead of four vertices each through
//! egui's tessellator.
//!
//! A busy view has 2 000 rings and 5 000 shoppers. As meshes they cost vertex building, egui's
//! copy of every vertex and the upload, and as textured quads every ring shades its whole
//! square; as instances a frame uploads ~26 000 × 32 bytes and a ring shades only its
//! outline. Used when the console runs on wgpu (always, natively); without a GPU renderer
//! (tests that do not render) the layers fall back to the sprite meshes.

use std::num::NonZeroU64;
use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};
use egui::{Color32, Pos2};
use wgpu::util::DeviceExt as _;

/// One ring, dot or trail segment (the shader's `Instance`).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Instance {
    /// Ring or dot centre; a segment's start.
    centre: [f32; 2],
    /// A segment's end.
    end: [f32; 2],
    radius: f32,
    /// Ring stroke or segment width in points.
    width: f32,
    /// Premultiplied sRGBA.
    colour: [u8; 4],
    kind: u32,
}

const KIND_RING: u32 = 0;
const KIND_DOT: u32 = 1;
const KIND_SEGMENT: u32 = 2;

/// Segments of a ring by size: enough that the polygon is within a fraction of a pixel of the
/// circle, no more (the software rasterizer pays per triangle).
const RING_SEGMENTS: [u32; 3] = [24, 48, 96];

fn ring_bucket(radius_px: f32) -> usize {
    match radius_px {
        r if r < 60.0 => 0,
        r if r < 240.0 => 1,
        _ => 2,
    }
}

/// A strip of two vertices per segment edge.
fn ring_vertices(segments: u32) -> u32 {
    2 * (segments + 1)
}
/// Independent batches per frame: products (rings and pins) and shoppers.
pub const LAYERS: usize = 2;
pub const LAYER_PRODUCTS: usize = 0;
pub const LAYER_CUSTOMERS: usize = 1;

/// One layer's instances for this frame: rings, then segments, then dots (drawn in that order).
#[derive(Debug, Default)]
pub struct SpriteBatch {
    /// By segment count ([`RING_SEGMENTS`]).
    rings: [Vec<Instance>; 3],
    segments: Vec<Instance>,
    dots: Vec<Instance>,
    /// Last frame's upload, reused when the painter has let go of it.
    frame: Arc<Vec<Instance>>,
}

impl SpriteBatch {
    pub fn clear(&mut self) {
        self.rings.iter_mut().for_each(Vec::clear);
        self.segments.clear();
        self.dots.clear();
    }

    pub fn ring(&mut self, centre: Pos2, radius: f32, width: f32, colour: Color32) {
        let bucket = ring_bucket(radius);
        self.rings[bucket].push(Instance {
            centre: [centre.x, centre.y],
            end: [centre.x, centre.y],
            radius,
            width,
            colour: colour.to_array(),
            kind: KIND_RING | RING_SEGMENTS[bucket] << 8,
        });
    }

    pub fn dot(&mut self, centre: Pos2, radius: f32, colour: Color32) {
        self.dots.push(Instance {
            centre: [centre.x, centre.y],
            end: [centre.x, centre.y],
            radius,
            width: 0.0,
            colour: colour.to_array(),
            kind: KIND_DOT,
        });
    }

    /// A polyline as one segment per pair of points (thin trails: joins need no mitre).
    pub fn polyline(&mut self, points: &[Pos2], width: f32, colour: Color32) {
        let colour = colour.to_array();
        for pair in points.windows(2) {
            self.segments.push(Instance {
                centre: [pair[0].x, pair[0].y],
                end: [pair[1].x, pair[1].y],
                radius: 0.0,
                width,
                colour,
                kind: KIND_SEGMENT,
            });
        }
    }

    /// Adds the paint callback that draws this batch at this point of the painter's order.
    pub fn paint(&mut self, painter: &egui::Painter, layer: usize) {
        let rings: usize = self.rings.iter().map(Vec::len).sum();
        let total = rings + self.segments.len() + self.dots.len();
        if total == 0 {
            return;
        }
        if Arc::get_mut(&mut self.frame).is_none() {
            self.frame = Arc::new(Vec::with_capacity(total));
        }
        let frame = Arc::get_mut(&mut self.frame)
            .unwrap_or_else(|| unreachable!("unique after replacement"));
        frame.clear();
        for bucket in &self.rings {
            frame.extend_from_slice(bucket);
        }
        frame.extend_from_slice(&self.segments);
        frame.extend_from_slice(&self.dots);
        let callback = SpritesCallback {
            layer,
            instances: Arc::clone(&self.frame),
            rings: self.rings.each_ref().map(|b| b.len() as u32),
        };
        painter.add(egui_wgpu::Callback::new_paint_callback(
            painter.clip_rect(),
            callback,
        ));
    }
}

/// The screen uniform of `sprites.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Screen {
    size_points: [f32; 2],
    pixels_per_point: f32,
    srgb_framebuffer: f32,
}

/// What the callbacks share, kept in the renderer's callback resources.
struct Resources {
    pipeline: wgpu::RenderPipeline,
    bind_group: wgpu::BindGroup,
    screen: wgpu::Buffer,
    srgb: bool,
    /// Each layer's instance buffer and its capacity in instances.
    layers: [Option<(wgpu::Buffer, usize)>; LAYERS],
}

/// Builds the pipeline for the console's renderer; afterwards [`SpriteBatch::paint`] draws.
pub fn install(render_state: &egui_wgpu::RenderState) {
    let device = &render_state.device;
    let format = render_state.target_format;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("instore-sprites"),
        source: wgpu::ShaderSource::Wgsl(include_str!("sprites.wgsl").into()),
    });
    let screen = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("instore-sprites-screen"),
        contents: bytemuck::bytes_of(&Screen {
            size_points: [1.0, 1.0],
            pixels_per_point: 1.0,
            srgb_framebuffer: 0.0,
        }),
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
    });
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("instore-sprites-screen"),
        entries: &[wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: NonZeroU64::new(std::mem::size_of::<Screen>() as u64),
            },
            count: None,
        }],
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("instore-sprites-screen"),
        layout: &layout,
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: screen.as_entire_binding(),
        }],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("instore-sprites"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("instore-sprites"),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: &module,
            entry_point: Some("vs_main"),
            buffers: &[Some(wgpu::VertexBufferLayout {
                array_stride: std::mem::size_of::<Instance>() as u64,
                step_mode: wgpu::VertexStepMode::Instance,
                attributes: &wgpu::vertex_attr_array![
                    0 => Float32x2, 1 => Float32x2, 2 => Float32, 3 => Float32,
                    4 => Unorm8x4, 5 => Uint32
                ],
            })],
            compilation_options: wgpu::PipelineCompilationOptions::default(),
        },
        primitive: wgpu::PrimitiveState {
            topology: wgpu::PrimitiveTopology::TriangleStrip,
            ..wgpu::PrimitiveState::default()
        },
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        fragment: Some(wgpu::FragmentState {
            module: &module,
            entry_point: Some("fs_main"),
            targets: &[Some(wgpu::ColorTargetState {
                format,
                // As egui blends: premultiplied colour.
                blend: Some(wgpu::BlendState {
                    color: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::One,
                        dst_factor: wgpu::BlendFactor::OneMinusSrcAlpha,
                        operation: wgpu::BlendOperation::Add,
                    },
                    alpha: wgpu::BlendComponent {
                        src_factor: wgpu::BlendFactor::OneMinusDstAlpha,
                        dst_factor: wgpu::BlendFactor::One,
                        operation: wgpu::BlendOperation::Add,
                    },
                }),
                write_mask: wgpu::ColorWrites::ALL,
            })],
            compilation_options: wgpu::PipelineCompilationOptions::default(),
        }),
        multiview_mask: None,
        cache: None,
    });
    let resources = Resources {
        pipeline,
        bind_group,
        screen,
        srgb: format.is_srgb(),
        layers: Default::default(),
    };
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(resources);
}

struct SpritesCallback {
    layer: usize,
    instances: Arc<Vec<Instance>>,
    /// Rings per segment-count bucket, at the front of `instances` in bucket order.
    rings: [u32; 3],
}

impl egui_wgpu::CallbackTrait for SpritesCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(r) = resources.get_mut::<Resources>() else {
            return Vec::new();
        };
        let ppp = screen.pixels_per_point;
        let uniform = Screen {
            size_points: [
                screen.size_in_pixels[0] as f32 / ppp,
                screen.size_in_pixels[1] as f32 / ppp,
            ],
            pixels_per_point: ppp,
            srgb_framebuffer: if r.srgb { 1.0 } else { 0.0 },
        };
        queue.write_buffer(&r.screen, 0, bytemuck::bytes_of(&uniform));
        let Some(slot) = r.layers.get_mut(self.layer) else {
            return Vec::new();
        };
        let needed = self.instances.len();
        if slot.as_ref().is_none_or(|(_, capacity)| *capacity < needed) {
            let capacity = needed.next_power_of_two().max(1024);
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("instore-sprites-instances"),
                size: (capacity * std::mem::size_of::<Instance>()) as u64,
                usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            *slot = Some((buffer, capacity));
        }
        if let Some((buffer, _)) = slot {
            queue.write_buffer(buffer, 0, bytemuck::cast_slice(&self.instances));
        }
        Vec::new()
    }

    fn paint(
        &self,
        info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        let Some(r) = resources.get::<Resources>() else {
            return;
        };
        let Some(Some((buffer, _))) = r.layers.get(self.layer) else {
            return;
        };
        // Positions are in screen points: draw against the whole screen; the clip rectangle
        // (the map) is egui's scissor.
        pass.set_viewport(
            0.0,
            0.0,
            info.screen_size_px[0] as f32,
            info.screen_size_px[1] as f32,
            0.0,
            1.0,
        );
        let bytes = (self.instances.len() * std::mem::size_of::<Instance>()) as u64;
        pass.set_pipeline(&r.pipeline);
        pass.set_bind_group(0, &r.bind_group, &[]);
        pass.set_vertex_buffer(0, buffer.slice(..bytes));
        let total = self.instances.len() as u32;
        let mut from = 0;
        for (n, segments) in self.rings.iter().zip(RING_SEGMENTS) {
            if *n > 0 {
                pass.draw(0..ring_vertices(segments), from..from + n);
            }
            from += n;
        }
        // Segments, then dots: both quads, one draw in buffer order.
        if total > from {
            pass.draw(0..4, from..total);
        }
    }
}
