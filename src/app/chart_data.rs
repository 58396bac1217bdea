//! Data reductions behind the charts: per-time-bucket score summaries and class histograms.
//!
//! Plain functions so they are tested natively; the UI only draws what they return. A chart of
//! 100,000 flows needs a few hundred buckets, not 100,000 shapes.

use serde::{Deserialize, Serialize};

/// Scores of the flows that started within one time bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeBucket {
    pub t0_s: f64,
    pub t1_s: f64,
    pub count: u32,
    pub max: f64,
    pub mean: f64,
    /// Flows whose score is above the threshold.
    pub flagged: u32,
    /// True when any flow in the bucket is an attack.
    pub has_attack: bool,
}

/// Splits [0, span] into `buckets` equal intervals and summarises the scores in each (and
/// counts those above `threshold`, as the report flags them); empty buckets are left out.
/// `t_s` must be ≥ 0.
pub fn time_buckets(
    t_s: &[f32],
    scores: &[f32],
    is_attack: &[bool],
    buckets: usize,
    threshold: f64,
) -> Vec<TimeBucket> {
    let buckets = buckets.max(1);
    let span = t_s.iter().copied().fold(0.0f32, f32::max) as f64;
    let width = if span > 0.0 {
        span / buckets as f64
    } else {
        1.0
    };
    let mut acc = vec![(0u32, f64::NEG_INFINITY, 0.0f64, false, 0u32); buckets];
    for ((&t, &s), &a) in t_s.iter().zip(scores).zip(is_attack) {
        let b = ((t as f64 / width) as usize).min(buckets - 1);
        let e = &mut acc[b];
        e.0 += 1;
        e.1 = e.1.max(s as f64);
        e.2 += s as f64;
        e.3 |= a;
        e.4 += u32::from(f64::from(s) > threshold);
    }
    acc.into_iter()
        .enumerate()
        .filter(|(_, e)| e.0 > 0)
        .map(|(b, (count, max, sum, has_attack, flagged))| TimeBucket {
            t0_s: b as f64 * width,
            t1_s: (b + 1) as f64 * width,
            count,
            max,
            mean: sum / f64::from(count),
            flagged,
            has_attack,
        })
        .collect()
}

/// Score histograms of benign and attack flows over shared bins, each normalised to sum 1 so
/// that a small attack class stays visible next to a large benign one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassHistogram {
    /// `bins + 1` edges.
    pub edges: Vec<f64>,
    pub benign: Vec<f64>,
    pub attack: Vec<f64>,
    pub benign_count: u64,
    pub attack_count: u64,
}

/// Histogram over [lo, hi] where lo/hi are the 0.1 % and 99.9 % quantiles, so a handful of
/// extreme scores do not squash everything into one bin; values outside go to the end bins.
pub fn class_histogram(scores: &[f32], is_attack: &[bool], bins: usize) -> Option<ClassHistogram> {
    if scores.is_empty() {
        return None;
    }
    let bins = bins.max(1);
    // Selection, not a sort: a million scores cost a few milliseconds on the page thread.
    let mut values: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
    let lo = crate::util::quantile::quantile_in_place(&mut values, 0.001);
    let mut hi = crate::util::quantile::quantile_in_place(&mut values, 0.999);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| lo + i as f64 * width).collect();
    let mut benign = vec![0.0; bins];
    let mut attack = vec![0.0; bins];
    let (mut nb, mut na) = (0u64, 0u64);
    for (&s, &a) in scores.iter().zip(is_attack) {
        let b = (((s as f64 - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        if a {
            attack[b] += 1.0;
            na += 1;
        } else {
            benign[b] += 1.0;
            nb += 1;
        }
    }
    let norm = |v: &mut Vec<f64>, n: u64| {
        if n > 0 {
            v.iter_mut().for_each(|c| *c /= n as f64);
        }
    };
    norm(&mut benign, nb);
    norm(&mut attack, na);
    Some(ClassHistogram {
        edges,
        benign,
        attack,
        benign_count: nb,
        attack_count: na,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_summarise_max_mean_and_attacks() {
        let t = [0.0, 1.0, 5.0, 9.0, 10.0];
        let s = [1.0, 3.0, 2.0, 7.0, 5.0];
        let a = [false, false, false, true, false];
        let b = time_buckets(&t, &s, &a, 2, 1.5);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].count, b[0].max, b[0].mean), (2, 3.0, 2.0));
        assert!(!b[0].has_attack);
        assert_eq!((b[1].count, b[1].max), (3, 7.0));
        assert!(b[1].has_attack);
        // Above 1.5: 3 in the first bucket; 2, 7 and 5 in the second.
        assert_eq!((b[0].flagged, b[1].flagged), (1, 3));
        assert_eq!(b[1].t1_s, 10.0);
    }

    #[test]
    fn empty_buckets_are_dropped() {
        let b = time_buckets(&[0.0, 100.0], &[1.0, 2.0], &[false, false], 10, 0.0);
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn histogram_normalises_each_class() {
        let scores: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let attack: Vec<bool> = (0..1000).map(|i| i >= 990).collect();
        let h = class_histogram(&scores, &attack, 20).unwrap();
        assert_eq!(h.edges.len(), 21);
        assert!((h.benign.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((h.attack.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!((h.benign_count, h.attack_count), (990, 10));
        // All attacks sit at the top of the range.
        assert_eq!(h.attack[19], 1.0);
        assert!(class_histogram(&[], &[], 10).is_none());
    }
}

/// Axis range covering `values` (finite ones), padded by 3 % so no point sits on the frame.
pub fn padded_range(values: &[f32]) -> (f64, f64) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v as f64), hi.max(v as f64))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.03).max(1e-6);
    (lo - pad, hi + pad)
}

/// Plots points into an RGBA pixel buffer (`width` × `height`, row-major, 4 bytes per pixel)
/// in one pass, so 100,000 points cost one blit instead of 100,000 canvas calls. Point `i`
/// lands at (`xs[i]`, `ys[i]`) mapped from the ranges (y up), as a `dot_px`-wide square in
/// `colours[classes[i]]` (classes beyond the palette use its last colour). Class 0 (benign, the
/// bulk) is drawn first so rarer classes stay visible on top. Non-finite points are skipped.
/// Returns how many points were drawn.
#[allow(clippy::too_many_arguments)]
pub fn rasterize_scatter(
    pixels: &mut [u8],
    width: usize,
    height: usize,
    xs: &[f32],
    ys: &[f32],
    classes: &[u8],
    x_range: (f64, f64),
    y_range: (f64, f64),
    colours: &[[u8; 3]],
    dot_px: usize,
) -> usize {
    [true, false]
        .into_iter()
        .map(|benign| {
            rasterize_scatter_pass(
                pixels, width, height, xs, ys, classes, x_range, y_range, colours, dot_px, benign,
            )
        })
        .sum()
}

/// One pass of [`rasterize_scatter`]: only the benign points (class 0), or only the others.
/// Drawing every slice's benign pass before any slice's other pass gives the same pixels as
/// one call over everything, so a large scatter can be drawn in several steps.
#[allow(clippy::too_many_arguments)]
pub fn rasterize_scatter_pass(
    pixels: &mut [u8],
    width: usize,
    height: usize,
    xs: &[f32],
    ys: &[f32],
    classes: &[u8],
    x_range: (f64, f64),
    y_range: (f64, f64),
    colours: &[[u8; 3]],
    dot_px: usize,
    benign: bool,
) -> usize {
    if width == 0 || height == 0 || colours.is_empty() || pixels.len() < width * height * 4 {
        return 0;
    }
    let n = xs.len().min(ys.len()).min(classes.len());
    let sx = (width - 1) as f64 / (x_range.1 - x_range.0).max(f64::MIN_POSITIVE);
    let sy = (height - 1) as f64 / (y_range.1 - y_range.0).max(f64::MIN_POSITIVE);
    let dot = dot_px.max(1);
    let mut drawn = 0;
    for i in 0..n {
        if (classes[i] == 0) != benign {
            continue;
        }
        let (x, y) = (xs[i] as f64, ys[i] as f64);
        if !x.is_finite() || !y.is_finite() {
            continue;
        }
        let px = ((x - x_range.0) * sx).round();
        let py = ((y_range.1 - y) * sy).round();
        if px < 0.0 || py < 0.0 || px >= width as f64 || py >= height as f64 {
            continue;
        }
        let colour = colours[(classes[i] as usize).min(colours.len() - 1)];
        let (px, py) = (px as usize, py as usize);
        for row in py..(py + dot).min(height) {
            let start = (row * width + px) * 4;
            let end = (row * width + (px + dot).min(width)) * 4;
            for pixel in pixels[start..end].chunks_exact_mut(4) {
                pixel[..3].copy_from_slice(&colour);
                pixel[3] = 255;
            }
        }
        drawn += 1;
    }
    drawn
}

#[cfg(test)]
mod scatter_tests {
    use super::*;

    #[test]
    fn drawing_in_slices_benign_first_equals_one_call() {
        let (w, h) = (40, 30);
        let n = 500;
        let xs: Vec<f32> = (0..n).map(|i| (i % 37) as f32 / 37.0).collect();
        let ys: Vec<f32> = (0..n).map(|i| (i % 23) as f32 / 23.0).collect();
        let classes: Vec<u8> = (0..n).map(|i| if i % 7 == 0 { 2 } else { 0 }).collect();
        let colours = [[10, 20, 30], [200, 0, 0], [0, 200, 0]];
        let draw = |pixels: &mut [u8], r: std::ops::Range<usize>, benign: bool| {
            rasterize_scatter_pass(
                pixels,
                w,
                h,
                &xs[r.clone()],
                &ys[r.clone()],
                &classes[r],
                (0.0, 1.0),
                (0.0, 1.0),
                &colours,
                2,
                benign,
            )
        };
        let mut whole = vec![0u8; w * h * 4];
        let all = rasterize_scatter(
            &mut whole,
            w,
            h,
            &xs,
            &ys,
            &classes,
            (0.0, 1.0),
            (0.0, 1.0),
            &colours,
            2,
        );
        let mut sliced = vec![0u8; w * h * 4];
        let mut drawn = 0;
        for benign in [true, false] {
            for r in [0..120, 120..121, 121..n] {
                drawn += draw(&mut sliced, r, benign);
            }
        }
        assert_eq!(drawn, all);
        assert_eq!(sliced, whole);
        // Interleaving the passes slice by slice would let later benign dots cover attacks.
        let mut interleaved = vec![0u8; w * h * 4];
        for r in [0..250, 250..n] {
            for benign in [true, false] {
                draw(&mut interleaved, r.clone(), benign);
            }
        }
        assert_ne!(interleaved, whole);
    }

    fn pixel(buf: &[u8], width: usize, x: usize, y: usize) -> [u8; 4] {
        let i = (y * width + x) * 4;
        [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]
    }

    #[test]
    fn corners_map_to_corners_with_y_up() {
        let (w, h) = (10, 5);
        let mut buf = vec![0u8; w * h * 4];
        let colours = [[1, 2, 3], [200, 100, 0]];
        let n = rasterize_scatter(
            &mut buf,
            w,
            h,
            &[0.0, 1.0, f32::NAN, 5.0],
            &[0.0, 1.0, 0.5, 0.5],
            &[0, 1, 0, 0],
            (0.0, 1.0),
            (0.0, 1.0),
            &colours,
            1,
        );
        assert_eq!(n, 2, "NaN and out-of-range points are skipped");
        assert_eq!(pixel(&buf, w, 0, h - 1), [1, 2, 3, 255]);
        assert_eq!(pixel(&buf, w, w - 1, 0), [200, 100, 0, 255]);
        assert_eq!(pixel(&buf, w, 5, 2), [0, 0, 0, 0]);
    }

    #[test]
    fn attacks_are_drawn_over_benign_and_dots_clip_at_the_edge() {
        let (w, h) = (4, 4);
        let mut buf = vec![0u8; w * h * 4];
        // The attack comes first in the input but must end on top.
        rasterize_scatter(
            &mut buf,
            w,
            h,
            &[1.0, 1.0],
            &[1.0, 1.0],
            &[2, 0],
            (0.0, 1.0),
            (0.0, 1.0),
            &[[9, 9, 9], [7, 7, 7]],
            3,
        );
        assert_eq!(
            pixel(&buf, w, 3, 0),
            [7, 7, 7, 255],
            "class 2 uses the last colour"
        );
        assert_eq!(
            pixel(&buf, w, 2, 0),
            [0, 0, 0, 0],
            "the dot clips at the right edge"
        );
        assert_eq!(pixel(&buf, w, 3, 2), [7, 7, 7, 255]);
    }

    #[test]
    fn ranges_pad_and_survive_degenerate_input() {
        let (lo, hi) = padded_range(&[1.0, 3.0, f32::INFINITY]);
        assert!(lo < 1.0 && hi > 3.0 && hi < 3.1);
        assert_eq!(padded_range(&[]), (0.0, 1.0));
        let (lo, hi) = padded_range(&[2.0, 2.0]);
        assert!(lo < 2.0 && hi > 2.0);
    }
}
