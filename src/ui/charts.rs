//! The four charts, drawn with plotters on `<canvas>` at device-pixel resolution.
//!
//! Each chart sizes its canvas backing store to CSS size × devicePixelRatio before drawing, so
//! lines and text stay sharp on HiDPI screens; fonts and strokes scale with the ratio. Data
//! reductions come from `crate::app::chart_data`; this file only draws.
//!
//! Charts follow the page's theme (`prefers-color-scheme`): [`Theme`] holds the background,
//! text and grid colours; the data colours (Okabe–Ito) read on both.
//!
//! Text is measured with the canvas's `measureText` and legends are drawn here, not by
//! plotters: plotters measures text by appending a `<span style="…">` to the page, which the
//! page's Content-Security-Policy (no inline styles) blocks.

use super::browser::{device_pixel_ratio, prefers_dark};
use crate::app::chart_data::{class_histogram, padded_range, rasterize_scatter_pass, time_buckets};
use crate::app::protocol::PageRun;
use crate::traffic::flow::AttackKind;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
// Only the types: the backend traits in scope would make plotters' own `stroke_width` ambiguous.
use plotters_backend::{BackendColor, BackendCoord, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
pub const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
pub const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
pub const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
pub const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
pub const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
pub const GREY: RGBColor = RGBColor(0x88, 0x88, 0x88);
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// Benign points in the scatter: light, so the attacks drawn over them stand out.
pub const BENIGN_DOT: RGBColor = RGBColor(0xA9, 0xB8, 0xC6);

/// Attack colours by position in `AttackKind::ALL`; with more kinds than colours, a hue
/// repeats and the legend tells them apart.
const ATTACK_PALETTE: [RGBColor; 6] = [ORANGE, SKY, GREEN, PURPLE, VERMILLION, INK];

/// A chart's non-data colours: the page's light or dark theme (style/main.css's `--panel`,
/// `--ink` and `--line`).
#[derive(Debug, Clone, Copy)]
struct Theme {
    background: RGBColor,
    ink: RGBColor,
    /// Axes and the mesh's major lines.
    grid: RGBColor,
}

const LIGHT: Theme = Theme {
    background: WHITE,
    ink: INK,
    grid: RGBColor(0xC8, 0xCE, 0xD4),
};

const DARK: Theme = Theme {
    background: RGBColor(0x1D, 0x23, 0x29),
    ink: RGBColor(0xE8, 0xEC, 0xEF),
    grid: RGBColor(0x4A, 0x55, 0x60),
};

thread_local! {
    /// The theme of the chart being drawn, read once per draw.
    static DARK_THEME: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn theme() -> Theme {
    if DARK_THEME.with(std::cell::Cell::get) {
        DARK
    } else {
        LIGHT
    }
}

pub fn attack_colour(kind: AttackKind) -> RGBColor {
    class_colour(AttackKind::ALL.iter().position(|&k| k == kind).unwrap_or(0))
}

/// The colour of chart label code `1 + i` (for generated traffic, `i` indexes `AttackKind::ALL`).
pub fn class_colour(i: usize) -> RGBColor {
    match ATTACK_PALETTE[i % ATTACK_PALETTE.len()] {
        // The palette's black reads as the theme's text colour (invisible on dark otherwise).
        INK => theme().ink,
        c => c,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    ScoreOverTime,
    Histogram,
    Roc,
    Loss,
    Scatter,
}

impl ChartKind {
    pub fn id(self) -> &'static str {
        match self {
            ChartKind::ScoreOverTime => "score-over-time",
            ChartKind::Histogram => "histogram",
            ChartKind::Roc => "roc",
            ChartKind::Loss => "loss",
            ChartKind::Scatter => "scatter",
        }
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;
type ChartResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Where each legend entry goes (its top-left corner) and the rows' height, in pixels.
type LegendLayout = (Vec<(i32, i32)>, i32);

/// Sizes the backing store to the element's CSS size × DPR; returns the ratio.
fn prepare_canvas(canvas: &HtmlCanvasElement) -> f64 {
    let dpr = device_pixel_ratio();
    let css_w = match canvas.client_width() {
        w if w > 0 => w as f64,
        _ => 640.0,
    };
    let css_h = match canvas.client_height() {
        h if h > 0 => h as f64,
        _ => 300.0,
    };
    let (w, h) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if canvas.width() != w {
        canvas.set_width(w);
    }
    if canvas.height() != h {
        canvas.set_height(h);
    }
    dpr
}

/// Draws `kind` for `output` (or a placeholder when there is nothing yet). Drawing errors are
/// logged, never raised: a chart that fails must not take the page down.
pub fn draw_chart(
    canvas: &HtmlCanvasElement,
    kind: ChartKind,
    output: Option<&PageRun>,
    live_loss: &[f64],
) {
    let task_started = now_ms();
    DARK_THEME.with(|d| d.set(prefers_dark()));
    if kind == ChartKind::Scatter {
        // Whatever this canvas shows next, an unfinished draw of an older scatter must stop.
        SCATTER_GENERATION.with(|g| g.set(g.get() + 1));
    }
    let dpr = prepare_canvas(canvas);
    let Some(backend) = Canvas::new(canvas) else {
        return;
    };
    let root = backend.into_drawing_area();
    let result = match (kind, output) {
        (ChartKind::Loss, out) => {
            let curve = out
                .map(|o| o.report.mlp_training.loss_curve.as_slice())
                .filter(|c| !c.is_empty())
                .unwrap_or(live_loss);
            let validation = out.map(|o| o.report.mlp_training.validation_scores.as_slice());
            draw_loss(&root, dpr, curve, validation.unwrap_or(&[]))
        }
        (_, None) => placeholder(&root, dpr, "Run detection to draw this chart"),
        (ChartKind::ScoreOverTime, Some(o)) => draw_score_over_time(&root, dpr, o),
        (ChartKind::Histogram, Some(o)) => draw_histogram(&root, dpr, o),
        (ChartKind::Roc, Some(o)) => draw_roc(&root, dpr, o),
        (ChartKind::Scatter, Some(o)) => draw_scatter(canvas, &root, dpr, o),
    };
    if let Err(e) = result.and_then(|_| root.present().map_err(Into::into)) {
        web_sys::console::warn_1(&format!("chart {}: {e}", kind.id()).into());
    }
    // How long this task drew (the tests read it to find what blocks the page).
    let _ = canvas.set_attribute("data-task-ms", &format!("{:.1}", now_ms() - task_started));
}

type Area<'a> = DrawingArea<Canvas, plotters::coord::Shift>;

/// plotters' canvas backend, except that text is measured with the canvas's own `measureText`
/// (plotters' default appends an inline-styled `<span>` to the body, which the CSP blocks).
struct Canvas {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
}

type BackendResult<T = ()> =
    Result<T, DrawingErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>>;

impl Canvas {
    fn new(canvas: &HtmlCanvasElement) -> Option<Self> {
        let context = canvas
            .get_context("2d")
            .ok()??
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        let inner = CanvasBackend::with_canvas_object(canvas.clone())?;
        Some(Canvas { inner, context })
    }
}

impl DrawingBackend for Canvas {
    type ErrorType = <CanvasBackend as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> BackendResult {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> BackendResult {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> BackendResult {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> BackendResult {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> BackendResult {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> BackendResult {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> BackendResult {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> BackendResult {
        self.inner.fill_polygon(vert, style)
    }
    fn draw_text<S: plotters_backend::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> BackendResult {
        self.inner.draw_text(text, style, pos)
    }
    fn estimate_text_size<S: plotters_backend::BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> BackendResult<(u32, u32)> {
        // The font string plotters-canvas draws with.
        self.context.set_font(&format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str(),
        ));
        // The line box a browser gives the text, as plotters' <span> measured it.
        let line_height = style.size() * 1.2;
        let width = match self.context.measure_text(text) {
            Ok(m) => m.width(),
            Err(_) => style.size() * 0.6 * text.chars().count() as f64,
        };
        Ok((width.max(0.0).ceil() as u32, line_height.ceil() as u32))
    }
    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> BackendResult {
        self.inner.blit_bitmap(pos, size, src)
    }
}

/// How a legend entry shows its series.
enum Mark {
    Swatch(RGBAColor),
    Line(ShapeStyle),
}

#[derive(Clone, Copy)]
enum Corner {
    UpperLeft,
    UpperRight,
    LowerRight,
}

/// A boxed legend in a corner of `area` (a chart's plotting area, in pixels), each label
/// measured by the backend (see `Canvas`), not by plotters' series labels.
fn draw_legend(area: &Area, corner: Corner, entries: &[(String, Mark)], dpr: f64) -> DrawResult {
    if entries.is_empty() {
        return Ok(());
    }
    let style = font(dpr, 11.0).pos(Pos::new(HPos::Left, VPos::Center));
    let mut text_w = 0;
    let mut text_h = 0;
    for (label, _) in entries {
        let (w, h) = area.estimate_text_size(label, &style)?;
        text_w = text_w.max(w as i32);
        text_h = text_h.max(h as i32);
    }
    let px = |v: f64| (v * dpr).round() as i32;
    let (pad, mark_w, gap, inset) = (px(5.0), px(15.0), px(6.0), px(8.0));
    let row_h = text_h + px(2.0);
    let box_w = pad + mark_w + gap + text_w + pad;
    let box_h = pad * 2 + row_h * entries.len() as i32;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let x = match corner {
        Corner::UpperLeft => inset,
        Corner::UpperRight | Corner::LowerRight => w - inset - box_w,
    };
    let y = match corner {
        Corner::UpperLeft | Corner::UpperRight => inset,
        Corner::LowerRight => h - inset - box_h,
    };
    area.draw(&Rectangle::new(
        [(x, y), (x + box_w, y + box_h)],
        theme().background.mix(0.85).filled(),
    ))?;
    area.draw(&Rectangle::new([(x, y), (x + box_w, y + box_h)], GREY))?;
    for (i, (label, mark)) in entries.iter().enumerate() {
        let cy = y + pad + row_h * i as i32 + row_h / 2;
        let mx = x + pad;
        draw_mark(area, mark, (mx, cy), mark_w, dpr)?;
        area.draw(&Text::new(
            label.clone(),
            (mx + mark_w + gap, cy),
            style.clone(),
        ))?;
    }
    Ok(())
}

/// Points rasterised per task in a large scatter: a million points in one task would block
/// the page for about 150 ms.
const SCATTER_POINTS_PER_TASK: usize = 150_000;

thread_local! {
    /// Bumped by every scatter draw, so an unfinished chunked draw of an older run stops.
    static SCATTER_GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The scatter's y value: autoencoder error on a log scale.
fn log_error(e: f32) -> f32 {
    e.max(1e-12).log10()
}

/// Isolation-Forest score against autoencoder error (log scale), every flow one dot: the frame
/// comes from plotters, the dots from one pixel buffer filled in Rust and blitted once. Up to
/// `SCATTER_POINTS_PER_TASK` points draw at once; more are rasterised over several tasks
/// before the blit. The canvas records the dots' cost in `data-points` and `data-draw-ms`.
fn draw_scatter(canvas: &HtmlCanvasElement, root: &Area, dpr: f64, out: &PageRun) -> DrawResult {
    let started = now_ms();
    let generation = SCATTER_GENERATION.with(std::cell::Cell::get);
    let _ = canvas.remove_attribute("data-draw-ms");
    root.fill(&theme().background)?;
    let plot = &out.plot;
    let xs = &plot.isolation_forest;
    let (x0, x1) = padded_range(xs);
    // The log is monotone: the range of the logs is the log of the range.
    let (lo, hi) = plot
        .mlp
        .iter()
        .filter(|e| e.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &e| {
            (l.min(e), h.max(e))
        });
    let (y0, y1) = padded_range(&[log_error(lo), log_error(hi)]);
    let mut chart = ChartBuilder::on(root)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((34.0 * dpr) as i32)
        .y_label_area_size((52.0 * dpr) as i32)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("Isolation Forest score")
        .y_desc("autoencoder error (log10)")
        .label_style(font(dpr, 12.0))
        .axis_desc_style(font(dpr, 12.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(theme().grid)
        .axis_style(theme().grid)
        .draw()?;
    let mut present = [false; 256];
    for &l in &plot.label {
        present[l as usize] = true;
    }
    let mut legend: Vec<(String, Mark)> =
        vec![("benign".into(), Mark::Swatch(BENIGN_DOT.to_rgba()))];
    for (i, name) in plot.classes.iter().enumerate().take(254) {
        if present[i + 1] {
            legend.push((name.clone(), Mark::Swatch(class_colour(i).to_rgba())));
        }
    }
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let (w, h) = (
        (xr.end - xr.start).max(1) as u32,
        (yr.end - yr.start).max(1) as u32,
    );
    let image = context(canvas)?
        .get_image_data(xr.start as f64, yr.start as f64, w as f64, h as f64)
        .map_err(|_| "getImageData failed")?;
    let mut colours = vec![[BENIGN_DOT.0, BENIGN_DOT.1, BENIGN_DOT.2]];
    colours.extend((0..plot.classes.len().max(AttackKind::ALL.len())).map(|i| {
        let c = class_colour(i);
        [c.0, c.1, c.2]
    }));
    let mut job = ScatterJob {
        canvas: canvas.clone(),
        generation,
        origin: (xr.start, yr.start),
        size: (w, h),
        pixels: image.data().0,
        xs: xs.clone(),
        errors: plot.mlp.clone(),
        classes: plot.label.clone(),
        x_range: (x0, x1),
        y_range: (y0, y1),
        colours,
        dot: (2.0 * dpr).round() as usize,
        legend,
        dpr,
        started,
        benign_pass: true,
        next: 0,
        drawn: 0,
    };
    if job.xs.len() <= SCATTER_POINTS_PER_TASK {
        job.step(usize::MAX);
        job.finish()
    } else {
        draw_in_tasks(job);
        Ok(())
    }
}

fn context(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, &'static str> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or("no 2d context")
}

/// A scatter whose frame is drawn and whose dots are being rasterised into `pixels`.
struct ScatterJob {
    canvas: HtmlCanvasElement,
    generation: u64,
    /// The plotting area in canvas pixels.
    origin: (i32, i32),
    size: (u32, u32),
    pixels: Vec<u8>,
    xs: Vec<f32>,
    errors: Vec<f32>,
    classes: Vec<u8>,
    x_range: (f64, f64),
    y_range: (f64, f64),
    colours: Vec<[u8; 3]>,
    dot: usize,
    legend: Vec<(String, Mark)>,
    dpr: f64,
    started: f64,
    /// Benign points first (the bulk), then the others on top.
    benign_pass: bool,
    next: usize,
    drawn: usize,
}

impl ScatterJob {
    /// Rasterises up to `budget` more points; true once every point of both passes is in.
    fn step(&mut self, budget: usize) -> bool {
        let n = self.xs.len();
        let mut left = budget;
        loop {
            let end = self.next.saturating_add(left).min(n);
            let ys: Vec<f32> = self.errors[self.next..end]
                .iter()
                .map(|&e| log_error(e))
                .collect();
            self.drawn += rasterize_scatter_pass(
                &mut self.pixels,
                self.size.0 as usize,
                self.size.1 as usize,
                &self.xs[self.next..end],
                &ys,
                &self.classes[self.next..end],
                self.x_range,
                self.y_range,
                &self.colours,
                self.dot,
                self.benign_pass,
            );
            left -= end - self.next;
            self.next = end;
            if self.next == n {
                if !self.benign_pass {
                    return true;
                }
                self.benign_pass = false;
                self.next = 0;
            }
            if left == 0 {
                return false;
            }
        }
    }

    /// Blits the dots and draws the legend over them.
    fn finish(self) -> DrawResult {
        let (w, h) = self.size;
        let blit = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
            wasm_bindgen::Clamped(&self.pixels),
            w,
            h,
        )
        .map_err(|_| "ImageData failed")?;
        context(&self.canvas)?
            .put_image_data(&blit, f64::from(self.origin.0), f64::from(self.origin.1))
            .map_err(|_| "putImageData failed")?;
        let root = Canvas::new(&self.canvas)
            .ok_or("no 2d context")?
            .into_drawing_area();
        let area = root.shrink(self.origin, self.size);
        draw_legend(&area, Corner::UpperLeft, &self.legend, self.dpr)?;
        area.present()?;
        let _ = self
            .canvas
            .set_attribute("data-points", &self.drawn.to_string());
        let _ = self
            .canvas
            .set_attribute("data-draw-ms", &format!("{:.1}", now_ms() - self.started));
        Ok(())
    }
}

/// Rasterises a large scatter one slice per task, then blits it; a newer draw cancels it.
fn draw_in_tasks(mut job: ScatterJob) {
    leptos::prelude::set_timeout(
        move || {
            if SCATTER_GENERATION.with(std::cell::Cell::get) != job.generation {
                return;
            }
            if !job.step(SCATTER_POINTS_PER_TASK) {
                return draw_in_tasks(job);
            }
            if let Err(e) = job.finish() {
                web_sys::console::warn_1(&format!("chart scatter: {e}").into());
            }
        },
        std::time::Duration::ZERO,
    );
}

fn font(dpr: f64, size: f64) -> TextStyle<'static> {
    ("sans-serif", size * dpr).into_font().color(&theme().ink)
}

fn placeholder(root: &Area, dpr: f64, text: &str) -> DrawResult {
    root.fill(&theme().background)?;
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(
        text.to_string(),
        ((w as f64 * 0.5 - 110.0 * dpr) as i32, (h / 2) as i32),
        font(dpr, 14.0).color(&GREY),
    ))?;
    Ok(())
}

fn stroke(colour: RGBColor, dpr: f64, width: f64) -> ShapeStyle {
    colour.stroke_width((width * dpr).round().max(1.0) as u32)
}

/// The score over time: the mean score per time bucket against the threshold, and how many
/// flows each bucket flagged (bars, right axis), over the training window and the attack
/// periods; the legend sits above the plot so it hides no data. (A "max per bucket" line
/// used to sit above the threshold in nearly every bucket of a busy network, which reads as
/// "always alarming" while a 1 % threshold flags one flow in a hundred by design.)
fn draw_score_over_time(root: &Area, dpr: f64, out: &PageRun) -> DrawResult {
    root.fill(&theme().background)?;
    let plot = &out.plot;
    let report = &out.report;
    let is_attack: Vec<bool> = plot.label.iter().map(|&l| l > 0).collect();
    let (w, _) = root.dim_in_pixel();
    let threshold = report.threshold.ensemble;
    let buckets = time_buckets(
        &plot.t_s,
        &plot.ensemble,
        &is_attack,
        (w as f64 / (3.0 * dpr)) as usize,
        threshold,
    );
    let t_first = report.data.start_ts;
    let span_min = (report.data.end_ts - t_first).max(1.0) / 60.0;
    let means = buckets.iter().map(|b| b.mean);
    let y_min = means.clone().fold(f64::INFINITY, f64::min).min(threshold);
    let y_max = means.fold(f64::NEG_INFINITY, f64::max).max(threshold);
    let pad = (y_max - y_min).abs().max(1e-6) * 0.08;
    let (y0, y1) = (y_min - pad, y_max + pad);
    let most_flagged = buckets.iter().map(|b| b.flagged).max().unwrap_or(0).max(1);

    let mut legend: Vec<(String, Mark)> = Vec::new();
    let train_end = (report.data.training_end_ts - t_first) / 60.0;
    let shade_training = train_end > 0.0 && train_end < span_min;
    if shade_training {
        legend.push(("training window".into(), Mark::Swatch(GREY.mix(0.3))));
    }
    let kinds: Vec<AttackKind> = AttackKind::ALL
        .into_iter()
        .filter(|&k| report.injected_attacks.iter().any(|a| a.kind == k))
        .collect();
    for &kind in &kinds {
        legend.push((
            kind.title().into(),
            Mark::Swatch(attack_colour(kind).mix(0.5)),
        ));
    }
    legend.push((
        "mean score".into(),
        Mark::Line(stroke(theme().ink, dpr, 1.0)),
    ));
    legend.push(("threshold".into(), Mark::Line(stroke(VERMILLION, dpr, 1.5))));
    legend.push((
        "flagged flows (right axis)".into(),
        Mark::Swatch(BLUE.mix(0.8)),
    ));
    let (legend_at, legend_h) = legend_rows(root, &legend, dpr)?;
    let (top, body) = root.split_vertically(legend_h);
    draw_legend_rows(&top, &legend, &legend_at, dpr)?;

    let mut chart = ChartBuilder::on(&body)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((34.0 * dpr) as i32)
        .y_label_area_size((52.0 * dpr) as i32)
        .right_y_label_area_size((44.0 * dpr) as i32)
        .build_cartesian_2d(0.0..span_min, y0..y1)?
        .set_secondary_coord(0.0..span_min, 0.0..f64::from(most_flagged) * 1.1);
    chart
        .configure_mesh()
        .x_desc("minutes since start")
        .y_desc("ensemble score")
        .label_style(font(dpr, 12.0))
        .axis_desc_style(font(dpr, 12.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(theme().grid)
        .axis_style(theme().grid)
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("flagged flows")
        .y_label_formatter(&|v| format!("{}", v.round() as i64))
        .label_style(font(dpr, 12.0))
        .axis_desc_style(font(dpr, 12.0))
        .axis_style(theme().grid)
        .draw()?;
    if shade_training {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y0), (train_end, y1)],
            GREY.mix(0.12).filled(),
        )))?;
    }
    for &kind in &kinds {
        let colour = attack_colour(kind);
        chart.draw_series(
            report
                .injected_attacks
                .iter()
                .filter(|a| a.kind == kind)
                .map(|a| {
                    let (x0, x1) = ((a.start_ts - t_first) / 60.0, (a.end_ts - t_first) / 60.0);
                    // Short attacks would vanish at a one-pixel width.
                    let min_w = span_min / 300.0;
                    Rectangle::new(
                        [(x0, y0), (x1.max(x0 + min_w), y1)],
                        colour.mix(0.25).filled(),
                    )
                }),
        )?;
    }
    chart.draw_secondary_series(buckets.iter().filter(|b| b.flagged > 0).map(|b| {
        Rectangle::new(
            [(b.t0_s / 60.0, 0.0), (b.t1_s / 60.0, f64::from(b.flagged))],
            BLUE.mix(0.8).filled(),
        )
    }))?;
    chart.draw_series(LineSeries::new(
        buckets.iter().map(|b| ((b.t0_s + b.t1_s) / 120.0, b.mean)),
        stroke(theme().ink, dpr, 1.0),
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, threshold), (span_min, threshold)],
        stroke(VERMILLION, dpr, 1.5),
    ))?;
    Ok(())
}

/// Legend entries laid out left to right, wrapping at `width`: each entry's top-left corner
/// and the height of all rows, in pixels.
fn legend_rows(area: &Area, entries: &[(String, Mark)], dpr: f64) -> ChartResult<LegendLayout> {
    let style = font(dpr, 11.0);
    let px = |v: f64| (v * dpr).round() as i32;
    let (mark_w, gap, spacing, inset) = (px(15.0), px(5.0), px(14.0), px(10.0));
    let width = area.dim_in_pixel().0 as i32 - inset;
    let mut row_h = px(14.0);
    let mut at = Vec::with_capacity(entries.len());
    let (mut x, mut y) = (inset, px(4.0));
    for (label, _) in entries {
        let (tw, th) = area.estimate_text_size(label, &style)?;
        row_h = row_h.max(th as i32 + px(4.0));
        let entry_w = mark_w + gap + tw as i32;
        if x > inset && x + entry_w > width {
            x = inset;
            y += row_h;
        }
        at.push((x, y));
        x += entry_w + spacing;
    }
    Ok((at, y + row_h + px(2.0)))
}

/// Draws a legend at the places [`legend_rows`] chose (a strip above a chart: no box needed).
fn draw_legend_rows(
    area: &Area,
    entries: &[(String, Mark)],
    at: &[(i32, i32)],
    dpr: f64,
) -> DrawResult {
    let px = |v: f64| (v * dpr).round() as i32;
    let style = font(dpr, 11.0).pos(Pos::new(HPos::Left, VPos::Center));
    let row_mid = px(7.0);
    for ((label, mark), &(x, y)) in entries.iter().zip(at) {
        let cy = y + row_mid;
        draw_mark(area, mark, (x, cy), px(15.0), dpr)?;
        area.draw(&Text::new(label.clone(), (x + px(20.0), cy), style.clone()))?;
    }
    Ok(())
}

/// A legend entry's mark, `width` pixels wide from `x`, centred on `cy`: a swatch or a line.
fn draw_mark(area: &Area, mark: &Mark, (x, cy): (i32, i32), width: i32, dpr: f64) -> DrawResult {
    let half_h = (5.0 * dpr).round() as i32;
    match mark {
        Mark::Swatch(colour) => area.draw(&Rectangle::new(
            [(x, cy - half_h), (x + width, cy + half_h)],
            colour.filled(),
        ))?,
        Mark::Line(line) => area.draw(&PathElement::new(vec![(x, cy), (x + width, cy)], *line))?,
    }
    Ok(())
}

fn draw_histogram(root: &Area, dpr: f64, out: &PageRun) -> DrawResult {
    root.fill(&theme().background)?;
    let plot = &out.plot;
    let evaluated: Vec<usize> = (0..plot.ensemble.len())
        .filter(|&i| !plot.training[i] || out.report.data.evaluated_flows == out.report.data.flows)
        .collect();
    let scores: Vec<f32> = evaluated.iter().map(|&i| plot.ensemble[i]).collect();
    let is_attack: Vec<bool> = evaluated.iter().map(|&i| plot.label[i] > 0).collect();
    let Some(h) = class_histogram(&scores, &is_attack, 60) else {
        return placeholder(root, dpr, "No scores to plot");
    };
    let y_max = h
        .benign
        .iter()
        .chain(&h.attack)
        .fold(0.0f64, |a, &b| a.max(b))
        * 1.1;
    let (x0, x1) = (h.edges[0], h.edges[h.edges.len() - 1]);
    let mut chart = ChartBuilder::on(root)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((34.0 * dpr) as i32)
        .y_label_area_size((52.0 * dpr) as i32)
        .build_cartesian_2d(x0..x1, 0.0..y_max.max(1e-6))?;
    chart
        .configure_mesh()
        .x_desc("ensemble score (evaluated flows)")
        .y_desc("share of class")
        .label_style(font(dpr, 12.0))
        .axis_desc_style(font(dpr, 12.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(theme().grid)
        .axis_style(theme().grid)
        .draw()?;
    let bars = |values: &[f64], colour: RGBColor| {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                Rectangle::new(
                    [(h.edges[i], 0.0), (h.edges[i + 1], v)],
                    colour.mix(0.55).filled(),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut legend: Vec<(String, Mark)> = Vec::new();
    chart.draw_series(bars(&h.benign, BLUE))?;
    legend.push((
        format!("benign ({})", h.benign_count),
        Mark::Swatch(BLUE.mix(0.55)),
    ));
    if h.attack_count > 0 {
        chart.draw_series(bars(&h.attack, VERMILLION))?;
        legend.push((
            format!("attack ({})", h.attack_count),
            Mark::Swatch(VERMILLION.mix(0.55)),
        ));
    }
    let t = out.report.threshold.ensemble.clamp(x0, x1);
    chart.draw_series(LineSeries::new(
        [(t, 0.0), (t, y_max)],
        stroke(theme().ink, dpr, 1.5),
    ))?;
    legend.push((
        "threshold".into(),
        Mark::Line(stroke(theme().ink, dpr, 1.5)),
    ));
    draw_legend(
        &chart.plotting_area().strip_coord_spec(),
        Corner::UpperRight,
        &legend,
        dpr,
    )?;
    Ok(())
}

/// Lowest false-positive rate the ROC chart shows: at AUC ≈ 1 a linear axis hugs the corner
/// and says nothing, while the low rates are where an analyst's alert budget lives.
const ROC_MIN_FPR: f64 = 1e-4;

/// ROC curves with the false-positive rate on a log axis (10⁻⁴ to 1); rates below the axis
/// are drawn at its left edge.
fn draw_roc(root: &Area, dpr: f64, out: &PageRun) -> DrawResult {
    root.fill(&theme().background)?;
    let m = &out.report.metrics;
    let mut chart = ChartBuilder::on(root)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((34.0 * dpr) as i32)
        .y_label_area_size((52.0 * dpr) as i32)
        // log10 of the rate on a plain axis: plotters' log coordinates would add their own
        // copy of the chart machinery to the page's wasm (about 7 KB gzip).
        .build_cartesian_2d(ROC_MIN_FPR.log10()..0.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("false positive rate (log scale)")
        .y_desc("true positive rate")
        .x_labels(5)
        .x_label_formatter(&|x| format!("{}", 10f64.powi(x.round() as i32)))
        .label_style(font(dpr, 12.0))
        .axis_desc_style(font(dpr, 12.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(theme().grid)
        .axis_style(theme().grid)
        .draw()?;
    // Chance: TPR = FPR, a curve on this axis.
    let lo = ROC_MIN_FPR.log10();
    chart.draw_series(LineSeries::new(
        (0..=40).map(|i| {
            let x = lo * (1.0 - f64::from(i) / 40.0);
            (x, 10f64.powf(x))
        }),
        stroke(GREY, dpr, 1.0),
    ))?;
    let auc = |a: Option<f64>| a.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let mut legend: Vec<(String, Mark)> = Vec::new();
    for (name, metrics, colour) in [
        ("Isolation Forest", &m.isolation_forest, BLUE),
        ("Autoencoder", &m.mlp, VERMILLION),
        ("Ensemble", &m.ensemble, PURPLE),
    ] {
        if metrics.roc_curve.is_empty() {
            continue;
        }
        chart.draw_series(LineSeries::new(
            metrics
                .roc_curve
                .iter()
                .map(|p| (p.fpr.max(ROC_MIN_FPR).log10(), p.tpr)),
            stroke(colour, dpr, 2.0),
        ))?;
        legend.push((
            format!("{name} (AUC {})", auc(metrics.roc_auc)),
            Mark::Line(stroke(colour, dpr, 2.0)),
        ));
    }
    draw_legend(
        &chart.plotting_area().strip_coord_spec(),
        Corner::LowerRight,
        &legend,
        dpr,
    )?;
    Ok(())
}

fn draw_loss(root: &Area, dpr: f64, loss: &[f64], validation: &[f64]) -> DrawResult {
    if loss.is_empty() {
        return placeholder(
            root,
            dpr,
            "The autoencoder's loss appears here as it trains",
        );
    }
    root.fill(&theme().background)?;
    let y_max = loss.iter().copied().fold(0.0f64, f64::max) * 1.05;
    let y_min = loss
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(y_max)
        * 0.95;
    let epochs = loss.len().max(2) as f64;
    let mut chart = ChartBuilder::on(root)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((34.0 * dpr) as i32)
        .y_label_area_size((60.0 * dpr) as i32)
        .right_y_label_area_size(if validation.is_empty() {
            0
        } else {
            (52.0 * dpr) as i32
        })
        .build_cartesian_2d(1.0..epochs, y_min..y_max.max(y_min + 1e-9))?
        .set_secondary_coord(1.0..epochs, 0.0..1.0);
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("training loss")
        // Whole epochs, a few of them: the default float ticks ran together ("80.0100.0").
        .x_labels((epochs as usize).clamp(2, 6))
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .label_style(font(dpr, 12.0))
        .axis_desc_style(font(dpr, 12.0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(theme().grid)
        .axis_style(theme().grid)
        .draw()?;
    chart.draw_series(LineSeries::new(
        loss.iter().enumerate().map(|(i, &l)| (i as f64 + 1.0, l)),
        stroke(VERMILLION, dpr, 2.0),
    ))?;
    let mut legend = vec![(
        "training loss".to_string(),
        Mark::Line(stroke(VERMILLION, dpr, 2.0)),
    )];
    if !validation.is_empty() {
        chart
            .configure_secondary_axes()
            .y_desc("validation R²")
            .label_style(font(dpr, 12.0))
            .axis_desc_style(font(dpr, 12.0))
            .axis_style(theme().grid)
            .draw()?;
        chart.draw_secondary_series(LineSeries::new(
            validation
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64 + 1.0, v.clamp(0.0, 1.0))),
            stroke(BLUE, dpr, 1.5),
        ))?;
        legend.push((
            "validation R² (right axis)".into(),
            Mark::Line(stroke(BLUE, dpr, 1.5)),
        ));
    }
    draw_legend(
        &chart.plotting_area().strip_coord_spec(),
        Corner::UpperRight,
        &legend,
        dpr,
    )?;
    Ok(())
}
