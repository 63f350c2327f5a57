//! Reporting stage, plots: learning curves (loss, validation UA per epoch), the confusion
//! heatmap, and a study's bar chart (mean ± sd) and per-fold paired-difference dots, each as SVG
//! and PNG with plotters.
//!
//! Text needs a font: the first system TrueType font found (DejaVu, Liberation…) is registered
//! with plotters' `ab_glyph` renderer. Without one the charts are drawn without text (the
//! numbers are in report.md anyway). A plot that fails is a warning, never a failed run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hrf_audio::metrics::ConfusionMatrix;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::run::EpochRecord;

/// Where fonts are looked for, in order.
const FONT_CANDIDATES: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
];

/// Registers the first font found as `sans-serif`; `true` when text can be drawn.
/// `HRF_PLOT_FONT` names another font file, or `none` to draw without text.
fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let from_env = std::env::var("HRF_PLOT_FONT").ok();
        if from_env.as_deref() == Some("none") {
            return false;
        }
        let candidates = from_env
            .into_iter()
            .chain(FONT_CANDIDATES.map(String::from));
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// Draws `$draw(&root)` into `<base>.svg` and `<base>.png`; evaluates to the files written
/// and one warning per failure (a panic inside plotters is caught and reported too).
macro_rules! both_formats {
    ($base:expr, $size:expr, |$root:ident| $draw:expr) => {{
        let mut written = Vec::new();
        let mut warnings = Vec::new();
        let svg = $base.with_extension("svg");
        let png = $base.with_extension("png");
        let svg_result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let $root = SVGBackend::new(&svg, $size).into_drawing_area();
            $draw.and_then(|_| $root.present().map_err(|e| e.to_string()))
        }));
        let png_result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let $root = BitMapBackend::new(&png, $size).into_drawing_area();
            $draw.and_then(|_| $root.present().map_err(|e| e.to_string()))
        }));
        for (path, result) in [(svg, svg_result), (png, png_result)] {
            match result {
                Ok(Ok(())) => written.push(path),
                Ok(Err(e)) => warnings.push(format!("plot {} not written: {e}", path.display())),
                Err(_) => warnings.push(format!(
                    "plot {} not written: plotters panicked",
                    path.display()
                )),
            }
        }
        (written, warnings)
    }};
}

/// Learning curves of a run: training and validation loss, and validation UA, per epoch.
/// Writes `<base>.svg` and `<base>.png`; returns the files written and a warning per failure.
pub fn learning_curves(history: &[EpochRecord], base: &Path) -> (Vec<PathBuf>, Vec<String>) {
    if history.is_empty() {
        return (
            Vec::new(),
            vec!["no epochs in the history: learning curves skipped".to_owned()],
        );
    }
    let text = font_ready();
    both_formats!(base, (1000, 420), |root| draw_curves(&root, history, text))
}

/// Confusion heatmap: cell colour = row-normalised recall, text = count.
pub fn confusion_heatmap(
    confusion: &ConfusionMatrix,
    classes: &[String],
    title: &str,
    base: &Path,
) -> (Vec<PathBuf>, Vec<String>) {
    let text = font_ready();
    both_formats!(base, (560, 520), |root| draw_confusion(
        &root, confusion, classes, title, text
    ))
}

/// A bar per label: `mean ± sd` (in %) with error bars. Writes `<base>.svg` and `<base>.png`.
pub fn bars_with_errors(
    bars: &[(String, f64, f64)],
    title: &str,
    base: &Path,
) -> (Vec<PathBuf>, Vec<String>) {
    if bars.is_empty() {
        return (
            Vec::new(),
            vec!["no bars to draw: bar chart skipped".to_owned()],
        );
    }
    let text = font_ready();
    let width = (200 + 130 * bars.len() as u32).clamp(480, 2400);
    both_formats!(base, (width, 440), |root| draw_bars(
        &root, bars, title, text
    ))
}

/// Per comparison (one column each), one dot per fold: the fold's mean paired difference (in
/// points), with a line at 0. Writes `<base>.svg` and `<base>.png`.
pub fn paired_dots(
    columns: &[(String, Vec<f64>)],
    title: &str,
    base: &Path,
) -> (Vec<PathBuf>, Vec<String>) {
    if columns.iter().all(|(_, d)| d.is_empty()) {
        return (
            Vec::new(),
            vec!["no paired differences: dot plot skipped".to_owned()],
        );
    }
    let text = font_ready();
    let width = (240 + 180 * columns.len() as u32).clamp(480, 2400);
    both_formats!(base, (width, 440), |root| draw_dots(
        &root, columns, title, text
    ))
}

/// The label of the category drawn at integer x (none between categories).
fn category_at(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    labels.get(i as usize).cloned().unwrap_or_default()
}

/// The chart both category plots draw on: one x slot per label, `y` as given, white
/// background; with `text`, a caption, axis labels and the category names.
fn category_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &'a [String],
    y: std::ops::Range<f64>,
    (title, caption_size): (&str, u32),
    y_desc: &str,
    text: bool,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    root.fill(&WHITE).map_err(err)?;
    let n = labels.len();
    let mut builder = ChartBuilder::on(root);
    builder.margin(14);
    if text {
        builder
            .caption(title, ("sans-serif", caption_size))
            .x_label_area_size(40)
            .y_label_area_size(48);
    }
    let mut chart = builder
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y)
        .map_err(err)?;
    if text {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| category_at(labels, *x))
            .y_desc(y_desc)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
    }
    Ok(chart)
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bars: &[(String, f64, f64)],
    title: &str,
    text: bool,
) -> Result<(), String> {
    let top = bars
        .iter()
        .map(|(_, m, s)| m + s)
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = category_chart(root, &labels, 0.0..top, (title, 18), "%", text)?;
    let fill = RGBColor(33, 102, 172);
    for (i, (_, mean, sd)) in bars.iter().enumerate() {
        let x = i as f64;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.32, 0.0), (x + 0.32, *mean)],
                fill.mix(0.75).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(ErrorBar::new_vertical(
                x,
                mean - sd,
                *mean,
                mean + sd,
                BLACK.stroke_width(2),
                12,
            )))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_dots<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    columns: &[(String, Vec<f64>)],
    title: &str,
    text: bool,
) -> Result<(), String> {
    let n = columns.len();
    let reach = columns
        .iter()
        .flat_map(|(_, d)| d.iter())
        .filter(|x| x.is_finite())
        .fold(1.0f64, |m, x| m.max(x.abs()))
        * 1.15;
    let labels: Vec<String> = columns.iter().map(|c| c.0.clone()).collect();
    let mut chart = category_chart(
        root,
        &labels,
        -reach..reach,
        (title, 16),
        "paired difference (UA points)",
        text,
    )?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
            BLACK.mix(0.6).stroke_width(1),
        )))
        .map_err(err)?;
    for (i, (_, diffs)) in columns.iter().enumerate() {
        let x = i as f64;
        // Folds spread sideways a little so equal values stay visible.
        chart
            .draw_series(diffs.iter().enumerate().map(|(k, &d)| {
                let dx = 0.05 * (k as f64 - (diffs.len() as f64 - 1.0) / 2.0);
                Circle::new((x + dx, d), 5, RED.mix(0.8).filled())
            }))
            .map_err(err)?;
        if !diffs.is_empty() {
            let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x - 0.3, mean), (x + 0.3, mean)],
                    BLUE.stroke_width(2),
                )))
                .map_err(err)?;
        }
    }
    Ok(())
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    history: &[EpochRecord],
    text: bool,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let epochs = history.len() as f64;
    let x_range = 0.5..epochs + 0.5;
    let loss_max = history
        .iter()
        .flat_map(|r| [r.train_loss, r.val_loss])
        .filter(|x| x.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-3)
        * 1.1;
    let train: Vec<(f64, f64)> = history
        .iter()
        .map(|r| (r.epoch as f64, r.train_loss))
        .collect();
    let val: Vec<(f64, f64)> = history
        .iter()
        .map(|r| (r.epoch as f64, r.val_loss))
        .collect();
    let ua: Vec<(f64, f64)> = history
        .iter()
        .map(|r| (r.epoch as f64, 100.0 * r.val_ua))
        .collect();

    let mut builder = ChartBuilder::on(&left);
    builder.margin(12);
    if text {
        builder
            .caption("loss (cross-entropy)", ("sans-serif", 18))
            .x_label_area_size(32)
            .y_label_area_size(44);
    }
    let mut chart = builder
        .build_cartesian_2d(x_range.clone(), 0.0..loss_max)
        .map_err(err)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("epoch")
            .x_labels(history.len().min(12))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
    }
    let blue = ShapeStyle::from(&BLUE).stroke_width(2);
    let red = ShapeStyle::from(&RED).stroke_width(2);
    let train_series = chart
        .draw_series(LineSeries::new(train, blue).point_size(3))
        .map_err(err)?;
    if text {
        train_series
            .label("train")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], blue));
    }
    let val_series = chart
        .draw_series(LineSeries::new(val, red).point_size(3))
        .map_err(err)?;
    if text {
        val_series
            .label("validation")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(err)?;
    }

    let mut builder = ChartBuilder::on(&right);
    builder.margin(12);
    if text {
        builder
            .caption("validation UA (%)", ("sans-serif", 18))
            .x_label_area_size(32)
            .y_label_area_size(44);
    }
    let mut chart = builder
        .build_cartesian_2d(x_range, 0.0..100.0)
        .map_err(err)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("epoch")
            .x_labels(history.len().min(12))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
    }
    let green = ShapeStyle::from(&GREEN.mix(0.9)).stroke_width(2);
    chart
        .draw_series(LineSeries::new(ua, green).point_size(3))
        .map_err(err)?;
    Ok(())
}

fn draw_confusion<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    confusion: &ConfusionMatrix,
    classes: &[String],
    title: &str,
    text: bool,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let n = confusion.classes() as u32;
    let mut builder = ChartBuilder::on(root);
    builder.margin(16);
    if text {
        builder
            .caption(title, ("sans-serif", 18))
            .x_label_area_size(40)
            .y_label_area_size(80);
    }
    let mut chart = builder
        .build_cartesian_2d(
            (0..n.saturating_sub(1)).into_segmented(),
            (0..n.saturating_sub(1)).into_segmented(),
        )
        .map_err(err)?;
    // An integer range a..b is inclusive on plotters' discrete axes: 0..n−1 gives n cells.
    // Row t of the matrix is drawn at y = n − 1 − t so that the first class is on top.
    let name = |v: &SegmentValue<u32>, flip: bool| match v {
        SegmentValue::CenterOf(i) if *i < n => {
            let c = if flip { n - 1 - i } else { *i };
            classes.get(c as usize).cloned().unwrap_or_default()
        }
        _ => String::new(),
    };
    if text {
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted")
            .y_desc("true")
            .x_labels(n as usize)
            .y_labels(n as usize)
            .x_label_formatter(&|v| name(v, false))
            .y_label_formatter(&|v| name(v, true))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
    }
    let rows = confusion.rows();
    for (t, row) in rows.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            // White (0) → dark blue (1).
            let shade = |full: f64| (255.0 - share * (255.0 - full)).round() as u8;
            let colour = RGBColor(shade(33.0), shade(102.0), shade(172.0));
            let (x, y) = (p as u32, n - 1 - t as u32);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                    ],
                    colour.filled(),
                )))
                .map_err(err)?;
            if text {
                let ink = if share > 0.5 { WHITE } else { BLACK };
                let style = ("sans-serif", 16)
                    .into_font()
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart
                    .draw_series(std::iter::once(Text::new(
                        count.to_string(),
                        (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                        style,
                    )))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_written_as_svg_and_png() {
        let dir = std::env::temp_dir().join(format!("hrf-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let history: Vec<EpochRecord> = (1..=3)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: 1.4 / e as f64,
                val_loss: 1.3 / e as f64,
                val_ua: 0.3 + 0.1 * e as f64,
                val_wa: 0.3,
                val_macro_f1: 0.3,
                lr: 1e-3,
            })
            .collect();
        let (files, warnings) = learning_curves(&history, &dir.join("curves"));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(files.len(), 2);
        let m = ConfusionMatrix::from_labels(2, &[0, 0, 1], &[0, 1, 1]).unwrap();
        let classes = vec!["a".to_owned(), "b".to_owned()];
        let (files, warnings) = confusion_heatmap(&m, &classes, "test", &dir.join("confusion"));
        assert!(warnings.is_empty(), "{warnings:?}");
        for f in &files {
            assert!(std::fs::metadata(f).unwrap().len() > 100, "{}", f.display());
        }
        let svg = std::fs::read_to_string(dir.join("confusion.svg")).unwrap();
        assert!(svg.contains("<rect"), "heatmap cells are drawn");
        let bars = vec![("a".to_owned(), 80.0, 3.0), ("b".to_owned(), 84.0, 2.0)];
        let (files, warnings) = bars_with_errors(&bars, "UA", &dir.join("bars"));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(files.len(), 2);
        let svg = std::fs::read_to_string(dir.join("bars.svg")).unwrap();
        assert!(svg.contains("<rect"), "bars are drawn");
        let cols = vec![("b − a".to_owned(), vec![1.0, -0.5, 2.5])];
        let (files, warnings) = paired_dots(&cols, "paired", &dir.join("dots"));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(files.len(), 2);
        let svg = std::fs::read_to_string(dir.join("dots.svg")).unwrap();
        assert_eq!(svg.matches("<circle").count(), 3, "one dot per fold");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
