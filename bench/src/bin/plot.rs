//! Draws the plots of `bench/compare`: one plot per metric against message size, both axes
//! logarithmic, one line per implementation with the spread over the rounds as a band, as SVG
//! and PNG.
//!
//! ```text
//! plot PLOT.csv OUTDIR [CAPTION]
//! ```
//!
//! `PLOT.csv` has the header `metric,size,series,value[,min,max]`, one row per point: `metric`
//! is `latency` (us), `bandwidth` (MB/s) or a collective (`allreduce`, `bcast`, `alltoall`,
//! ...: us), `size` in bytes (size 0 is left out: a log axis has no 0), `series` the name in
//! the legend, `value` the median over the rounds and `min`/`max` (optional) the fastest and
//! slowest round, drawn as a shaded band. Writes `OUTDIR/METRIC.{svg,png}` for the metrics
//! present. CAPTION (the machine, versions and date) is printed under each plot. Ticks read
//! 1 B, 4 B, ... 1 KiB, ... 1 MiB on the size axis and 1, 10, 100, 1K, ... on the other. The
//! text needs a TrueType font: `PLOT_FONT=path`, or DejaVu Sans or Liberation Sans where Debian
//! installs them.
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;

/// One point: size, median, and the spread over the rounds (min, max) when given.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    size: f64,
    value: f64,
    spread: Option<(f64, f64)>,
}

/// Points of one metric: series name -> points, in the order of the file.
type Curves = BTreeMap<String, Vec<Point>>;

/// The fonts tried when `PLOT_FONT` is not set.
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
];

fn read(path: &Path) -> Result<BTreeMap<String, Curves>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}:{e}", path.display()).into())
}

/// Parses the CSV text (see the module doc); errors name the line.
fn parse(text: &str) -> Result<BTreeMap<String, Curves>, String> {
    let mut metrics: BTreeMap<String, Curves> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 4 && f.len() != 6 {
            return Err(format!(
                "{}: expected metric,size,series,value[,min,max]",
                n + 1
            ));
        }
        let num = |i: usize, what: &str| -> Result<f64, String> {
            f[i].parse()
                .map_err(|_| format!("{}: bad {what} `{}`", n + 1, f[i]))
        };
        let (size, value) = (num(1, "size")?, num(3, "value")?);
        let spread = if f.len() == 6 {
            Some((num(4, "min")?, num(5, "max")?))
        } else {
            None
        };
        if size > 0.0 && value > 0.0 {
            metrics
                .entry(f[0].to_string())
                .or_default()
                .entry(f[2].to_string())
                .or_default()
                .push(Point {
                    size,
                    value,
                    spread: spread.filter(|&(lo, hi)| lo > 0.0 && hi >= lo),
                });
        }
    }
    Ok(metrics)
}

/// Size ticks: `1 B`, `512 B`, `4 KiB`, `1 MiB` (sizes are powers of two).
fn size_label(v: f64) -> String {
    let v = v.round() as u64;
    match v {
        v if v >= 1 << 30 && v % (1 << 30) == 0 => format!("{} GiB", v >> 30),
        v if v >= 1 << 20 && v % (1 << 20) == 0 => format!("{} MiB", v >> 20),
        v if v >= 1 << 10 && v % (1 << 10) == 0 => format!("{} KiB", v >> 10),
        v => format!("{v} B"),
    }
}

/// Value ticks: `0.5`, `1`, `10`, `100`, `1K`, `20K`, `1M`.
fn value_label(v: f64) -> String {
    let trim = |x: f64| {
        let s = format!("{:.2}", x);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}K", trim(v / 1e3))
    } else {
        trim(v)
    }
}

/// Powers of two from `lo` to `hi`, every `2^k`-th so that at most 12 remain.
fn size_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let all: Vec<f64> = (0..40)
        .map(|e| 2f64.powi(e))
        .filter(|&v| v >= lo * 0.999 && v <= hi * 1.001)
        .collect();
    let step = all.len().div_ceil(12).max(1).next_power_of_two();
    all.into_iter().step_by(step).collect()
}

/// Powers of ten from `lo` to `hi`; with 1, 2 and 5 times each when fewer than three fit.
fn value_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades: Vec<f64> = (-3..10)
        .map(|e| 10f64.powi(e))
        .filter(|&v| v >= lo && v <= hi)
        .collect();
    if decades.len() >= 3 {
        return decades;
    }
    (-3..10)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(|&v| v >= lo && v <= hi)
        .collect()
}

/// A fixed colour for the usual series (so every plot reads the same), else a palette colour.
fn series_color(name: &str, i: usize) -> RGBAColor {
    match name {
        "pip-rs tasks" => RGBColor(0x1f, 0x4e, 0xb4).to_rgba(),
        "pip-rs threads" => RGBColor(0x5f, 0xa8, 0xe8).to_rgba(),
        "MPICH" => RGBColor(0xc8, 0x28, 0x28).to_rgba(),
        "Open MPI" => RGBColor(0x2a, 0x9a, 0x3c).to_rgba(),
        _ => Palette99::pick(i + 4).to_rgba(),
    }
}

/// The caption as one line, or as two split at the `; ` nearest its middle when longer than
/// `width` characters.
fn caption_lines(caption: &str, width: usize) -> Vec<String> {
    if caption.chars().count() <= width {
        return vec![caption.to_string()];
    }
    let mid = caption.len() / 2;
    match caption
        .match_indices("; ")
        .map(|(i, _)| i)
        .min_by_key(|&i| i.abs_diff(mid))
    {
        Some(i) => vec![caption[..i + 1].to_string(), caption[i + 2..].to_string()],
        None => vec![caption.to_string()],
    }
}

/// Title and unit of a metric.
fn describe(metric: &str) -> (String, &'static str) {
    match metric {
        "latency" => (
            "One-way latency, 2 ranks (lower is better)".into(),
            "latency (us)",
        ),
        "bandwidth" => (
            "Bandwidth, 2 ranks (higher is better)".into(),
            "bandwidth (MB/s)",
        ),
        other => {
            let name = match other {
                "allreduce" => "Allreduce (sum)".to_string(),
                "bcast" => "Broadcast".to_string(),
                "alltoall" => "All-to-all".to_string(),
                _ => {
                    let mut name = other.to_string();
                    if let Some(c) = name.get_mut(0..1) {
                        c.make_ascii_uppercase();
                    }
                    name
                }
            };
            (
                format!("{name}, 2 ranks (lower is better)"),
                "time per call (us)",
            )
        }
    }
}

/// The smallest and largest size and value of all curves (spreads included).
fn bounds(curves: &Curves) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, 0f64, f64::MAX, 0f64);
    for p in curves.values().flatten() {
        let (lo, hi) = p.spread.unwrap_or((p.value, p.value));
        (x0, x1) = (x0.min(p.size), x1.max(p.size));
        (y0, y1) = (y0.min(lo.min(p.value)), y1.max(hi.max(p.value)));
    }
    (x0, x1, y0, y1)
}

/// Draws the caption under the plot (on two lines when long) and returns the area above it.
fn draw_caption<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    caption: &str,
) -> Result<DrawingArea<DB, Shift>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let lines = caption_lines(caption, 110);
    let (plot_area, caption_area) =
        root.split_vertically(root.dim_in_pixel().1 - 10 - 18 * lines.len() as u32);
    for (i, line) in lines.iter().enumerate() {
        caption_area
            .draw_text(
                line,
                &("sans-serif", 14)
                    .into_font()
                    .color(&RGBColor(0x55, 0x55, 0x55)),
                (14, 4 + 18 * i as i32),
            )
            .map_err(err)?;
    }
    Ok(plot_area)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    metric: &str,
    curves: &Curves,
    caption: &str,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (title, unit) = describe(metric);
    let (x0, x1, y0, y1) = bounds(curves);
    root.fill(&WHITE).map_err(err)?;
    let plot_area = draw_caption(&root, caption)?;
    let (ylo, yhi) = (y0 * 0.8, y1 * 1.25);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1 * 1.05)
                .log_scale()
                .with_key_points(size_ticks(x0, x1)),
            (ylo..yhi)
                .log_scale()
                .with_key_points(value_ticks(ylo, yhi)),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("message size")
        .y_desc(unit)
        .x_label_formatter(&|v| size_label(*v))
        .y_label_formatter(&|v| value_label(*v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for (i, (name, points)) in curves.iter().enumerate() {
        let color = series_color(name, i);
        // The spread over the rounds: a band from the fastest to the slowest round.
        let band: Vec<(f64, f64)> = points
            .iter()
            .filter_map(|p| p.spread.map(|(lo, _)| (p.size, lo)))
            .chain(
                points
                    .iter()
                    .rev()
                    .filter_map(|p| p.spread.map(|(_, hi)| (p.size, hi))),
            )
            .collect();
        if band.len() >= 4 {
            chart
                .draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.size, p.value)),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.size, p.value), 3, color.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        // The curves rise with size (bandwidth too, up to its plateau), so the upper left
        // corner stays free.
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (csv, out, caption) = match &args[..] {
        [csv, out] => (csv, out, String::new()),
        [csv, out, caption] => (csv, out, caption.clone()),
        _ => {
            eprintln!("usage: plot PLOT.csv OUTDIR [CAPTION]");
            std::process::exit(2);
        }
    };
    let font_path = std::env::var("PLOT_FONT").ok().or_else(|| {
        FONTS
            .iter()
            .find(|p| Path::new(p).exists())
            .map(|p| p.to_string())
    });
    let Some(font_path) = font_path else {
        return Err("no TrueType font found: set PLOT_FONT, or install fonts-dejavu-core".into());
    };
    // The font must live as long as the program: plotters keeps a &'static to it.
    let font: &'static [u8] = Box::leak(std::fs::read(&font_path)?.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| format!("{font_path}: not a usable TrueType font"))?;
    let out = Path::new(out);
    std::fs::create_dir_all(out)?;
    for (metric, curves) in read(Path::new(csv))? {
        let svg = out.join(format!("{metric}.svg"));
        draw(
            SVGBackend::new(&svg, (900, 600)).into_drawing_area(),
            &metric,
            &curves,
            &caption,
        )?;
        let png = out.join(format!("{metric}.png"));
        draw(
            BitMapBackend::new(&png, (900, 600)).into_drawing_area(),
            &metric,
            &curves,
            &caption,
        )?;
        println!("{} {}", svg.display(), png.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_as_people_write_them() {
        assert_eq!(size_label(1.0), "1 B");
        assert_eq!(size_label(512.0), "512 B");
        assert_eq!(size_label(4096.0), "4 KiB");
        assert_eq!(size_label(4194304.0), "4 MiB");
        assert_eq!(value_label(1.0), "1");
        assert_eq!(value_label(100.0), "100");
        assert_eq!(value_label(1000.0), "1K");
        assert_eq!(value_label(20000.0), "20K");
        assert_eq!(value_label(1e6), "1M");
        assert_eq!(value_label(0.5), "0.5");
        assert_eq!(value_label(0.09999999), "0.1");
    }

    #[test]
    fn tick_positions_stay_few_and_round() {
        let x = size_ticks(1.0, 4194304.0);
        assert!(x.len() <= 12, "{x:?}");
        assert_eq!(x[0], 1.0);
        assert!(x.iter().all(|v| v.log2().fract() == 0.0), "{x:?}");
        assert_eq!(value_ticks(0.2, 3000.0), vec![1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(value_ticks(0.3, 4.0), vec![0.5, 1.0, 2.0]);
    }

    #[test]
    fn a_long_caption_takes_two_lines() {
        assert_eq!(caption_lines("short", 110), vec!["short"]);
        let long = format!("{}; {}; {}", "a".repeat(50), "b".repeat(50), "c".repeat(50));
        let l = caption_lines(&long, 110);
        assert_eq!(l.len(), 2, "{l:?}");
        assert!(
            l[0].ends_with(';') && l.iter().all(|x| x.len() <= 110),
            "{l:?}"
        );
    }

    #[test]
    fn rows_take_an_optional_spread() {
        let m = parse("metric,size,series,value,min,max\nlatency,8,A,1.5,1.2,2\nlatency,16,A,2\nlatency,0,A,1\n").unwrap();
        let a = &m["latency"]["A"];
        assert_eq!(a.len(), 2, "size 0 is left out");
        assert_eq!(a[0].spread, Some((1.2, 2.0)));
        assert_eq!(a[1].spread, None);
        let e = parse("h\nlatency,8,A\n").unwrap_err();
        assert!(e.contains("2: expected"), "{e}");
    }
}
