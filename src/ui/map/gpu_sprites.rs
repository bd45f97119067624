//! Rings and dots on the GPU: one 20-byte instance each, drawn by a wgpu paint callback with
//! [`sprites.wgsl`](./sprites.wgsl), instead of four vertices each through egui's tessellator.
//!
//! A busy view has 2 000 rings and 5 000 shoppers. As meshes they cost vertex building, egui's
//! copy of every vertex and the upload, and as textured quads every ring shades its whole
//! square; as instances the frame uploads ~140 kB and a ring shades only its outline. Used when
//! the console runs on wgpu (always, natively); without a GPU renderer (tests that do not
//! render) the layers fall back to the sprite meshes.

use std::num::NonZeroU64;
use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};
use egui::{Color32, Pos2};
use wgpu::util::DeviceExt as _;

/// One ring or dot.
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Instance {
    centre: [f32; 2],
    radius: f32,
    /// Ring stroke in points; 0 for a filled dot.
    width: f32,
    /// Premultiplied sRGBA.
    colour: [u8; 4],
}

/// Vertices of a ring strip: two per segment edge, 48 segments (the shader's RING_SEGMENTS).
const RING_VERTICES: u32 = 2 * (48 + 1);
/// Independent batches per frame: products (rings and pins) and shoppers.
pub const LAYERS: usize = 2;
pub const LAYER_PRODUCTS: usize = 0;
pub const LAYER_CUSTOMERS: usize = 1;

/// One layer's instances for this frame: rings first, then dots (drawn in that order).
#[derive(Debug, Default)]
pub struct SpriteBatch {
    rings: Vec<Instance>,
    dots: Vec<Instance>,
    /// Last frame's upload, reused when the painter has let go of it.
    frame: Arc<Vec<Instance>>,
}

impl SpriteBatch {
    pub fn clear(&mut self) {
        self.rings.clear();
        self.dots.clear();
    }

    pub fn ring(&mut self, centre: Pos2, radius: f32, width: f32, colour: Color32) {
        self.rings.push(Instance {
            centre: [centre.x, centre.y],
            radius,
            width: width.max(0.01),
            colour: colour.to_array(),
        });
    }

    pub fn dot(&mut self, centre: Pos2, radius: f32, colour: Color32) {
        self.dots.push(Instance {
            centre: [centre.x, centre.y],
            radius,
            width: 0.0,
            colour: colour.to_array(),
        });
    }

    /// Adds the paint callback that draws this batch at this point of the painter's order.
    pub fn paint(&mut self, painter: &egui::Painter, layer: usize) {
        if self.rings.is_empty() && self.dots.is_empty() {
            return;
        }
        if Arc::get_mut(&mut self.frame).is_none() {
            self.frame = Arc::new(Vec::with_capacity(self.rings.len() + self.dots.len()));
        }
        let frame = Arc::get_mut(&mut self.frame)
            .unwrap_or_else(|| unreachable!("unique after replacement"));
        frame.clear();
        frame.extend_from_slice(&self.rings);
        frame.extend_from_slice(&self.dots);
        let callback = SpritesCallback {
            layer,
            instances: Arc::clone(&self.frame),
            rings: self.rings.len() as u32,
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
                    0 => Float32x2, 1 => Float32, 2 => Float32, 3 => Unorm8x4
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
    rings: u32,
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
        if self.rings > 0 {
            pass.draw(0..RING_VERTICES, 0..self.rings);
        }
        if total > self.rings {
            pass.draw(0..4, self.rings..total);
        }
    }
}
