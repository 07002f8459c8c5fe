//! Draws the plots of `bench/compare`: latency and bandwidth against message size, both axes
//! logarithmic, one line per implementation, as SVG and PNG.
//!
//! ```text
//! plot MEDIANS.csv OUTDIR
//! ```
//!
//! `MEDIANS.csv` has the header `metric,size,series,value`, one row per point: `metric` is
//! `latency` (us) or `bandwidth` (MB/s), `size` in bytes (size 0 is left out: a log axis has
//! no 0), `series` the name in the legend. Writes `OUTDIR/{latency,bandwidth}.{svg,png}` for
//! the metrics present. The text needs a TrueType font: `PLOT_FONT=path`, or DejaVu Sans or
//! Liberation Sans where Debian installs them.
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;

/// Points of one metric: series name -> (size, value), in the order of the file.
type Curves = BTreeMap<String, Vec<(f64, f64)>>;

/// The fonts tried when `PLOT_FONT` is not set.
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
];

fn read(path: &Path) -> Result<BTreeMap<String, Curves>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut metrics: BTreeMap<String, Curves> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 4 {
            return Err(format!(
                "{}:{}: expected metric,size,series,value",
                path.display(),
                n + 1
            )
            .into());
        }
        let size: f64 = f[1]
            .parse()
            .map_err(|_| format!("line {}: bad size", n + 1))?;
        let value: f64 = f[3]
            .parse()
            .map_err(|_| format!("line {}: bad value", n + 1))?;
        if size > 0.0 && value > 0.0 {
            metrics
                .entry(f[0].to_string())
                .or_default()
                .entry(f[2].to_string())
                .or_default()
                .push((size, value));
        }
    }
    Ok(metrics)
}

/// "1 KiB"-style labels for powers of two.
fn size_label(v: f64) -> String {
    let v = v.round() as u64;
    match v {
        v if v >= 1 << 20 && v % (1 << 20) == 0 => format!("{}M", v >> 20),
        v if v >= 1 << 10 && v % (1 << 10) == 0 => format!("{}K", v >> 10),
        v => v.to_string(),
    }
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

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    metric: &str,
    curves: &Curves,
) -> Result<(), Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (title, unit) = match metric {
        "latency" => ("One-way latency (lower is better)", "latency (us)"),
        "bandwidth" => ("Bandwidth (higher is better)", "bandwidth (MB/s)"),
        other => (other, other),
    };
    let all = curves.values().flatten();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, 0f64, f64::MAX, 0f64);
    for &(x, y) in all {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x0..x1 * 1.05).log_scale(),
            (y0 * 0.8..y1 * 1.25).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("message size (bytes)")
        .y_desc(unit)
        .x_label_formatter(&|v| size_label(*v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    for (i, (name, points)) in curves.iter().enumerate() {
        let color = series_color(name, i);
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        // Both curves rise with size, so the upper left corner stays free.
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
    let [csv, out] = &args[..] else {
        eprintln!("usage: plot MEDIANS.csv OUTDIR");
        std::process::exit(2);
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
            SVGBackend::new(&svg, (900, 560)).into_drawing_area(),
            &metric,
            &curves,
        )?;
        let png = out.join(format!("{metric}.png"));
        draw(
            BitMapBackend::new(&png, (900, 560)).into_drawing_area(),
            &metric,
            &curves,
        )?;
        println!("{} {}", svg.display(), png.display());
    }
    Ok(())
}
