//! OSU's command-line options, as the point-to-point benchmarks take them.
//!
//! | option | meaning | default |
//! |---|---|---|
//! | `-m [MIN:]MAX` | message sizes: powers of two from MIN to MAX bytes (0 first if MIN is 0) | `0:4194304` |
//! | `-i N` | timed iterations per size | 10000 (1000 above 8 KiB) |
//! | `-x N` | warm-up iterations per size | 100 (10 above 8 KiB) |
//! | `-f` | also print min and max latency and the iteration count | off |
//! | `-W N` | window: messages in flight per iteration (bandwidth tests) | 64 |
//! | `-h` | print the usage | |
//!
//! As in OSU, `-i` and `-x` set the counts for every size. The bandwidth tests start from
//! other defaults ([`Options::bandwidth`]).

/// OSU's boundary between small and large messages (its `LARGE_MESSAGE_SIZE`): larger sizes
/// get fewer iterations by default.
pub const LARGE_MESSAGE_SIZE: usize = 8192;

/// What a point-to-point benchmark was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The smallest message size (bytes).
    pub min_size: usize,
    /// The largest message size (bytes).
    pub max_size: usize,
    /// Timed iterations for sizes up to [`LARGE_MESSAGE_SIZE`].
    pub iterations: usize,
    /// Warm-up iterations for sizes up to [`LARGE_MESSAGE_SIZE`].
    pub skip: usize,
    /// Timed iterations for larger sizes.
    pub iterations_large: usize,
    /// Warm-up iterations for larger sizes.
    pub skip_large: usize,
    /// Print min, max and iterations too (`-f`).
    pub full: bool,
    /// Messages in flight per iteration (`-W`; bandwidth tests only).
    pub window: usize,
}

impl Options {
    /// OSU's defaults for the bandwidth tests (`osu_bw`, `osu_bibw`): sizes 1 B to 4 MiB,
    /// 100 iterations and 10 warm-up ones up to 8 KiB, 20 and 2 above, a window of 64.
    pub fn bandwidth() -> Options {
        Options {
            min_size: 1,
            iterations: 100,
            skip: 10,
            iterations_large: 20,
            skip_large: 2,
            ..Options::default()
        }
    }

    /// The timed and warm-up iteration counts for messages of `size` bytes.
    pub fn counts(&self, size: usize) -> (usize, usize) {
        if size > LARGE_MESSAGE_SIZE {
            (self.iterations_large, self.skip_large)
        } else {
            (self.iterations, self.skip)
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            min_size: 0,
            max_size: 1 << 22,
            iterations: 10_000,
            skip: 100,
            iterations_large: 1_000,
            skip_large: 10,
            full: false,
            window: 64,
        }
    }
}

/// The result of parsing a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Run with these options.
    Run(Options),
    /// `-h` was given: print [`usage`] and stop.
    Help,
}

/// The usage text for benchmark `name` (with the latency tests' defaults).
pub fn usage(name: &str) -> String {
    usage_with(name, &Options::default(), "Run with exactly 2 ranks.")
}

/// The usage text for benchmark `name` with defaults `d` and a last line `note`.
pub fn usage_with(name: &str, d: &Options, note: &str) -> String {
    format!(
        "Usage: {name} [options]\n\
         \x20 -m, --message-size [MIN:]MAX  sizes from MIN (default {}) to MAX bytes (default {})\n\
         \x20 -i, --iterations N            timed iterations per size (default {}, {} above 8 KiB)\n\
         \x20 -x, --warmup N                warm-up iterations per size (default {}, {} above 8 KiB)\n\
         \x20 -W, --window-size N           messages in flight per iteration (bandwidth tests; default {})\n\
         \x20 -f, --full                    also print min and max latency and the iteration count\n\
         \x20 -h, --help                    print this help\n\
         Sizes take an optional k, m or g suffix. {note}\n",
        d.min_size, d.max_size, d.iterations, d.iterations_large, d.skip, d.skip_large, d.window
    )
}

/// Parses OSU-style arguments (without the program name).
///
/// ```
/// use bench::options::{parse, Parsed};
/// let Parsed::Run(o) = parse(["-m", "8:1k", "-i", "50", "-x", "5", "-f"]).unwrap() else { panic!() };
/// assert_eq!((o.min_size, o.max_size, o.iterations, o.iterations_large, o.skip, o.full), (8, 1024, 50, 50, 5, true));
/// assert!(parse(["-m", "9:3"]).is_err());
/// ```
///
/// # Errors
///
/// A message naming the bad option or value.
pub fn parse<I, S>(args: I) -> Result<Parsed, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    parse_with(args, Options::default())
}

/// Parses OSU-style arguments (without the program name), starting from `defaults`.
///
/// ```
/// use bench::options::{parse_with, Options, Parsed};
/// let Parsed::Run(o) = parse_with(["-W", "8"], Options::bandwidth()).unwrap() else { panic!() };
/// assert_eq!((o.min_size, o.iterations, o.iterations_large, o.window), (1, 100, 20, 8));
/// ```
///
/// # Errors
///
/// A message naming the bad option or value.
pub fn parse_with<I, S>(args: I, defaults: Options) -> Result<Parsed, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut o = defaults;
    let mut args = args.into_iter().map(|a| a.as_ref().to_string());
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ if arg.len() > 2 && arg.starts_with('-') && !arg.starts_with("--") => {
                (arg[..2].to_string(), Some(arg[2..].to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-f" | "--full" => o.full = true,
            "-m" | "--message-size" => {
                let v = value("-m")?;
                let (min, max) = match v.split_once(':') {
                    Some((min, max)) => {
                        (if min.is_empty() { Some(0) } else { size(min) }, size(max))
                    }
                    None => (Some(0), size(&v)),
                };
                match (min, max) {
                    (Some(min), Some(max)) if min <= max => (o.min_size, o.max_size) = (min, max),
                    _ => return Err(format!("-m {v}: expected [MIN:]MAX with MIN <= MAX")),
                }
            }
            "-i" | "--iterations" => {
                let v = value("-i")?;
                let n = count(&v).ok_or_else(|| format!("-i {v}: expected a positive number"))?;
                (o.iterations, o.iterations_large) = (n, n);
            }
            "-W" | "--window-size" => {
                let v = value("-W")?;
                o.window =
                    count(&v).ok_or_else(|| format!("-W {v}: expected a positive number"))?;
            }
            "-x" | "--warmup" => {
                let v = value("-x")?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("-x {v}: expected a number"))?;
                (o.skip, o.skip_large) = (n, n);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(Parsed::Run(o))
}

fn size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, shift) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 10),
        b'm' | b'M' => (&s[..s.len() - 1], 20),
        b'g' | b'G' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits.parse::<usize>().ok()?.checked_mul(1 << shift)
}

fn count(s: &str) -> Option<usize> {
    s.parse::<usize>().ok().filter(|&n| n > 0)
}

/// The message sizes of a run: 0 (if `min` is 0), then powers of two from `max(min, 1)` up
/// to `max`, as OSU does.
///
/// ```
/// assert_eq!(bench::options::sizes(0, 8), vec![0, 1, 2, 4, 8]);
/// assert_eq!(bench::options::sizes(3, 20), vec![4, 8, 16]);
/// ```
pub fn sizes(min: usize, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    if min == 0 {
        out.push(0);
    }
    let mut s = min.max(1).next_power_of_two();
    while s <= max {
        out.push(s);
        s *= 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_forms() {
        assert_eq!(
            parse::<[&str; 0], &str>([]).unwrap(),
            Parsed::Run(Options::default())
        );
        assert_eq!(parse(["-h"]).unwrap(), Parsed::Help);
        let Parsed::Run(o) = parse(["-m", "64"]).unwrap() else {
            panic!()
        };
        assert_eq!((o.min_size, o.max_size), (0, 64));
        let Parsed::Run(o) = parse(["-m:4m", "-i7", "--warmup=3"]).unwrap() else {
            panic!()
        };
        assert_eq!(
            (o.min_size, o.max_size, o.iterations, o.skip_large),
            (0, 4 << 20, 7, 3)
        );
        assert!(parse(["-i", "0"]).is_err());
        assert!(parse(["-i"]).is_err());
        assert!(parse(["-q"]).is_err());
        assert!(parse(["-m", "x"]).is_err());
    }

    #[test]
    fn size_lists() {
        assert_eq!(sizes(0, 0), vec![0]);
        assert_eq!(sizes(1, 1), vec![1]);
        assert_eq!(sizes(0, 4 << 20).len(), 24);
    }
}
