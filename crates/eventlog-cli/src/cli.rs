//! The command line: arguments (clap), the command they name, the exit
//! status.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory as _, Parser, Subcommand};

use crate::{aggregate, commands, follow, format, html, input, keys, report, scan, zone};

use crate::commands::{
    Settings, html_report_command, query_command, report_command, stats_command, trace_command,
    validate_command,
};
use crate::filter::{Condition, Filter, level_rank, parse_span, parse_time, time_said};
use crate::outcome::{CliError, Outcome};

#[derive(Debug, Parser)]
#[command(
    name = "eventlog",
    version,
    about = "Stats, queries, request timelines and validation over eventlog JSON lines",
    long_about = "Reads eventlog's JSON-lines files (plain or gzip-compressed, rotated ones included) \
                  and answers what the people on call ask: what happened, how often, to which request."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The files write envelope key NAME as KEY (repeatable), for layers
    /// with a renamed envelope: --key timestamp=@timestamp --key level=severity.
    #[arg(long = "key", value_name = "NAME=KEY", global = true)]
    keys: Vec<String>,
    /// Longest line read (bytes, or with a KiB, MiB or GiB suffix, at most 1GiB):
    /// far above any line the layer writes, far below what exhausts memory; a
    /// longer line is reported with its file and line number and skipped.
    #[arg(
        long = "max-line-bytes",
        value_name = "SIZE",
        global = true,
        default_value = "16MiB"
    )]
    max_line: String,
    /// Threads that read (default: one per core): big plain files are read in
    /// ranges, compressed files one per thread.
    #[arg(long, value_name = "N", global = true)]
    threads: Option<usize>,
    /// Shows times in this zone (Europe/Paris, local, UTC, +05:30), in text and JSON alike,
    /// and reads --since / --until times without an offset in it. Default: UTC, shown with Z.
    /// The files stay UTC; lines printed as they are in the files are not changed.
    #[arg(long, value_name = "ZONE", global = true)]
    tz: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Counts by level, category, service, event and error type; time range; distinct traces, requests, users.
    Stats {
        #[command(flatten)]
        paths: Paths,
        #[command(flatten)]
        filter: FilterArgs,
        /// How many names each row lists.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Also counts the values of KEY (a top-level key, dotted path or metadata
        /// field, as in --where), e.g. --by metadata.http.route (repeatable).
        #[arg(long = "by", value_name = "KEY")]
        by: Vec<String>,
        /// Prints the counts as one JSON object.
        #[arg(long)]
        json: bool,
        /// Also counts distinct traces, requests and users (keeps every id seen).
        #[arg(long)]
        distinct: bool,
    },
    /// Volume, warnings and errors over time, in buckets (a bar per bucket; `!` marks error spikes).
    Report(ReportArgs),
    /// Prints the records that match, as they are in the files (JSON lines), their
    /// count, some of their fields, or counts and percentiles by any keys.
    Query {
        #[command(flatten)]
        paths: Paths,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Prints at most this many records (or rows).
        #[arg(long)]
        limit: Option<u64>,
        /// Prints only how many records match.
        #[arg(long, conflicts_with = "follow")]
        count: bool,
        /// Keeps printing new matching records as they are written, following the
        /// appender's rotation (give the active file or its symlink, e.g. logs/checkout.jsonl):
        /// every rotated file's records once; files retention deleted before they were seen
        /// are named on stderr (exit status 2).
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Every record of one trace, request, correlation or session id, in time order.
    Trace {
        /// A `trace_id`, `request_id`, `correlation_id` or `session_id`.
        id: String,
        #[command(flatten)]
        paths: Paths,
        /// Prints the records as JSON lines, in time order, instead of a timeline.
        #[arg(long)]
        json: bool,
    },
    /// Checks every line against the envelope and, with --schema, the event schema.
    Validate {
        #[command(flatten)]
        paths: Paths,
        /// An event schema (.toml or .json), as given to the layer.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// How many problems to list with their file and line.
        #[arg(long, default_value_t = 20)]
        examples: usize,
        /// Prints the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Prints an event schema (.toml or .json) as JSON Schema (draft 2020-12) for other tools.
    Schema {
        /// The schema file.
        file: PathBuf,
    },
    /// Prints the shell completion script for SHELL, e.g.
    /// `eventlog completions bash > ~/.local/share/bash-completion/completions/eventlog`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Prints the man page (roff): `eventlog man | man -l -`. With --dir, writes
    /// eventlog.1 and one page per command (eventlog-stats.1, …) there instead.
    Man {
        /// Where to write the pages (e.g. ~/.local/share/man/man1).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `report`'s arguments.
#[derive(Debug, Args)]
struct ReportArgs {
    #[command(flatten)]
    paths: Paths,
    #[command(flatten)]
    filter: FilterArgs,
    /// Bucket width: auto (at most 40 buckets), or 10s, 1m, 15m, 1h, 1d …
    #[arg(long, default_value = "auto")]
    bucket: String,
    /// Prints the buckets as one JSON object.
    #[arg(long, conflicts_with = "html")]
    json: bool,
    /// Writes one self-contained HTML page (charts, filters, no network) to FILE; `-` for stdout.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// With --html: a funnel through these events, in order (checkout_started,payment_captured,order_placed).
    #[arg(long, value_delimiter = ',', requires = "html")]
    funnel: Vec<String>,
    /// Which id the funnel follows.
    #[arg(long, value_enum, default_value = "session", requires = "funnel")]
    funnel_by: html::FunnelBy,
}

#[derive(Debug, Args)]
struct Paths {
    /// Files or directories to read; `-` is stdin (plain or gzip). None given:
    /// stdin if it is piped or redirected, else ./logs.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

impl Paths {
    /// The paths to read: as given, else stdin when something is piped
    /// in, else `logs` (the appender's usual directory).
    fn resolve(self) -> Result<Vec<PathBuf>, CliError> {
        if !self.paths.is_empty() {
            return Ok(self.paths);
        }
        if input::stdin_has_input() {
            return Ok(vec![PathBuf::from("-")]);
        }
        let logs = PathBuf::from("logs");
        if std::fs::symlink_metadata(&logs).is_err() {
            return Err(CliError::NoPath);
        }
        Ok(vec![logs])
    }
}

/// What `query` prints instead of the records.
#[derive(Debug, Args)]
struct ShapeArgs {
    /// Counts the matching records by the values of these keys (a cross-tab with
    /// several: --by service,metadata.reason); records without a key count under null.
    #[arg(long = "by", value_name = "KEY[,KEY…]", value_delimiter = ',', conflicts_with_all = ["follow", "count"])]
    by: Vec<String>,
    /// Counts per time bucket of this width (10s, 5m, 1h, 1d), by record timestamp (UTC).
    #[arg(long, value_name = "WIDTH", conflicts_with_all = ["follow", "count"])]
    every: Option<String>,
    /// Counts the distinct values of KEY in each group (repeatable, or KEY,KEY).
    #[arg(long = "count-distinct", value_name = "KEY", value_delimiter = ',', conflicts_with_all = ["follow", "count"])]
    count_distinct: Vec<String>,
    /// Exact percentiles of the numeric FIELD in each group, interpolated linearly
    /// like DuckDB's quantile_cont (records without a number there are not counted in them).
    #[arg(long, value_name = "FIELD", conflicts_with_all = ["follow", "count"])]
    percentiles: Option<String>,
    /// Which percentiles --percentiles gives, from 0 to 100.
    #[arg(
        long = "p",
        value_name = "P,P…",
        default_value = "50,95,99",
        requires = "percentiles"
    )]
    p: String,
    /// Prints these values of each matching record (KEY paths as in --where), as rows.
    #[arg(long, value_name = "KEY[,KEY…]", value_delimiter = ',', conflicts_with_all = ["follow", "count"])]
    fields: Vec<String>,
    /// Orders the rows by COLUMN (repeatable; :desc for largest first). Default:
    /// bucket, then count largest first, then the keys.
    #[arg(long, value_name = "COLUMN[:asc|:desc]")]
    sort: Vec<String>,
    /// How rows print: table (default for counts), jsonl (default for --fields) or csv.
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,
}

/// The keys a list flag names: empty items (`a,,b`, a trailing comma) are
/// skipped, but a flag given with no key at all (`--by ''`) is an error,
/// not a silent "no grouping".
fn keys(arg: &'static str, given: Vec<String>) -> Result<Vec<String>, CliError> {
    let any = !given.is_empty();
    let keys: Vec<String> = given.into_iter().filter(|k| !k.trim().is_empty()).collect();
    if any && keys.is_empty() {
        return Err(CliError::BadArgument {
            arg,
            value: String::new(),
            expected: "at least one key name, such as event_name or metadata.error_type",
        });
    }
    Ok(keys)
}

impl ShapeArgs {
    fn build(self, limit: Option<u64>, count: bool) -> Result<commands::Ask, CliError> {
        let mut spec = aggregate::Spec {
            by: keys("--by", self.by)?,
            distinct: keys("--count-distinct", self.count_distinct)?,
            ..aggregate::Spec::default()
        };
        if let Some(every) = &self.every {
            spec.every = Some(report::parse_width_for("--every", every)?.ok_or(
                CliError::BadArgument {
                    arg: "--every",
                    value: every.clone(),
                    expected: "a width such as 10s, 5m, 1h, 1d",
                },
            )?);
        }
        if let Some(field) = self.percentiles {
            spec.percentiles = Some((field, aggregate::parse_percents(&self.p)?));
        }
        let sort = self
            .sort
            .iter()
            .map(|s| match s.rsplit_once(':') {
                Some((c, "desc")) => (c.to_owned(), true),
                Some((c, "asc")) => (c.to_owned(), false),
                _ => (s.clone(), false),
            })
            .collect();
        if !self.sort.is_empty() && !spec.is_some() && self.fields.is_empty() {
            return Err(CliError::BadArgument {
                arg: "--sort",
                value: self.sort.join(" "),
                expected: "rows to sort: --by, --every, --count-distinct, --percentiles or --fields",
            });
        }
        Ok(commands::Ask {
            limit,
            count,
            spec,
            fields: keys("--fields", self.fields)?,
            sort,
            format: self
                .format
                .as_deref()
                .map(format::Format::parse)
                .transpose()?,
        })
    }
}

#[derive(Debug, Args)]
struct FilterArgs {
    /// Only this event (repeatable).
    #[arg(long = "event", value_name = "NAME")]
    events: Vec<String>,
    /// Only this category: user_action, system_event, business, error, security, log (repeatable).
    #[arg(long = "type", value_name = "CATEGORY")]
    types: Vec<String>,
    /// Only this level and above (trace, debug, info, warn, error).
    #[arg(long)]
    level: Option<String>,
    /// Only records where KEY=VALUE, KEY!=VALUE, KEY>N (>=, <, <=: numbers), KEY~REGEX,
    /// KEY!~REGEX, 'KEY in (A,B)' or 'KEY not in (A,B)'; KEY is a top-level key, a dotted
    /// path (metadata.error_type, span.name) or a metadata field's name (repeatable).
    #[arg(long = "where", value_name = "KEY=VALUE")]
    conditions: Vec<String>,
    /// Only records that have KEY, whatever its value (repeatable).
    #[arg(long = "exists", value_name = "KEY")]
    exists: Vec<String>,
    /// Only records that do not have KEY (repeatable).
    #[arg(long = "missing", value_name = "KEY")]
    missing: Vec<String>,
    /// Only records at or after this time: RFC 3339; a date and time without offset, read
    /// in --tz (2026-12-01T09:30, 2026-12-01); now, today, yesterday (midnight in --tz);
    /// or back from now (90s, 15m or -15m, 2h, 1d).
    // `--since -15m`: a value, not a flag.
    #[arg(long, conflicts_with = "since_last", allow_hyphen_values = true)]
    since: Option<String>,
    /// Only records at most this long before the newest record (90s, 15m, 2h, 7d): for
    /// files that end before now. The newest is looked for at the end of each file.
    #[arg(long = "since-last", value_name = "SPAN", allow_hyphen_values = true)]
    since_last: Option<String>,
    /// Only records before this time, written as for --since.
    #[arg(long, allow_hyphen_values = true)]
    until: Option<String>,
    /// Only records of this trace, request, correlation or session id (repeatable).
    #[arg(long = "id")]
    ids: Vec<String>,
}

impl FilterArgs {
    fn build(self, paths: &[PathBuf], settings: Settings<'_>) -> Result<Filter, CliError> {
        let (max_line, zone) = (settings.max_line, settings.zone);
        let now = jiff::Timestamp::now();
        let mut since_said = self.since.as_deref().map(|s| time_said(s, now, zone));
        let mut since = self
            .since
            .map(|s| parse_time("--since", &s, now, zone))
            .transpose()?;
        if let Some(span) = &self.since_last {
            // Checked before the files are read.
            let Some(secs) = parse_span(span) else {
                return Err(CliError::BadArgument {
                    arg: "--since-last",
                    value: span.clone(),
                    expected: "a span back from the newest record (90s, 15m, 2h, 7d)",
                });
            };
            // The newest record is looked for before reading; stdin can be read only once.
            if paths.iter().any(|p| input::is_stdin(p)) {
                return Err(CliError::BadArgument {
                    arg: "--since-last",
                    value: span.clone(),
                    expected: "files, not stdin (it is read once; --since with an RFC 3339 time works on stdin)",
                });
            }
            if let Some(newest) = scan::newest_record(&input::collect(paths)?, max_line) {
                since = Some(
                    newest
                        .checked_sub(jiff::SignedDuration::from_secs(secs))
                        .map_err(|_| CliError::BadArgument {
                            arg: "--since-last",
                            value: span.clone(),
                            expected: "a span back from the newest record (90s, 15m, 2h, 7d)",
                        })?,
                );
                since_said = Some(format!(
                    "{span} (back from the newest record, {})",
                    zone.show(newest)
                ));
            }
        }
        let min_level = self
            .level
            .map(|l| {
                level_rank(&l).ok_or(CliError::BadArgument {
                    arg: "--level",
                    value: l,
                    expected: "trace, debug, info, warn or error",
                })
            })
            .transpose()?;
        Ok(Filter {
            events: self.events,
            types: self.types,
            min_level,
            conditions: self
                .conditions
                .iter()
                .map(|c| Condition::parse(c))
                .collect::<Result<_, _>>()?,
            since,
            since_said,
            exists: self.exists,
            missing: self.missing,
            until: self
                .until
                .map(|s| parse_time("--until", &s, now, zone))
                .transpose()?,
            ids: self.ids,
        })
    }
}

/// `report`, as text, JSON or an HTML page.
fn report(
    out: &mut commands::Out<'_>,
    settings: Settings<'_>,
    args: ReportArgs,
) -> Result<Outcome, CliError> {
    let paths = args.paths.resolve()?;
    let filter = args.filter.build(&paths, settings)?;
    match args.html {
        Some(page) => {
            // Given, even as `--funnel ''`: checked, never silently dropped.
            let funnel = (!args.funnel.is_empty()).then_some((args.funnel, args.funnel_by));
            html_report_command(out, settings, &paths, &filter, &page, funnel)
        }
        None => report_command(
            out,
            settings,
            &paths,
            &filter,
            report::parse_width(&args.bucket)?,
            args.json,
        ),
    }
}

fn run(command: Command, settings: Settings<'_>) -> Result<Outcome, CliError> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let outcome = match command {
        Command::Stats {
            paths,
            filter,
            top,
            by,
            json,
            distinct,
        } => {
            let paths = paths.resolve()?;
            stats_command(
                &mut out,
                settings,
                &paths,
                &filter.build(&paths, settings)?,
                (top, by, distinct),
                json,
            )?
        }
        Command::Query {
            paths,
            filter,
            limit,
            follow: true,
            ..
        } => {
            let paths = paths.resolve()?;
            let [path] = paths.as_slice() else {
                return Err(CliError::BadArgument {
                    arg: "--follow",
                    value: format!("{} paths", paths.len()),
                    expected: "exactly one file to follow, such as logs/checkout.jsonl",
                });
            };
            if input::is_stdin(path) {
                return Err(CliError::BadArgument {
                    arg: "--follow",
                    value: "-".to_owned(),
                    expected: "a file to follow (stdin is read to its end without --follow)",
                });
            }
            let filter = filter.build(&paths, settings)?;
            let how = follow::Following {
                renames: settings.renames,
                filter: &filter,
                limit,
                max_line: settings.max_line,
            };
            follow::follow(&mut out, path, how)?
        }
        Command::Query {
            paths,
            filter,
            shape,
            limit,
            count,
            follow: false,
        } => {
            let ask = shape.build(limit, count)?;
            let paths = paths.resolve()?;
            query_command(
                &mut out,
                settings,
                &paths,
                &filter.build(&paths, settings)?,
                &ask,
            )?
        }
        Command::Report(args) => report(&mut out, settings, args)?,
        Command::Trace { id, paths, json } => {
            trace_command(&mut out, settings, &paths.resolve()?, &id, json)?
        }
        Command::Validate {
            paths,
            schema,
            examples,
            json,
        } => validate_command(
            &mut out,
            settings,
            &paths.resolve()?,
            schema.as_deref(),
            examples,
            json,
        )?,
        Command::Schema { file } => {
            let schema = eventlog::Schema::from_file(&file)?;
            serde_json::to_writer_pretty(&mut out, &schema.to_json_schema())
                .map_err(|e| CliError::Output(e.into()))?;
            writeln!(out).map_err(CliError::Output)?;
            Outcome::Done
        }
        Command::Completions { shell } => commands::completions(&mut out, shell, Cli::command())?,
        Command::Man { dir } => commands::man(&mut out, dir.as_deref(), Cli::command())?,
    };
    out.flush().map_err(CliError::Output)?;
    Ok(outcome)
}

/// Parses the command line, runs the command, and says how it went.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = keys::parse(&cli.keys).and_then(|renames| {
        let max_line = input::parse_size("--max-line-bytes", &cli.max_line)?;
        let zone = cli
            .tz
            .as_deref()
            .map(zone::Zone::parse)
            .transpose()?
            .unwrap_or_default();
        run(
            cli.command,
            Settings {
                renames: &renames,
                max_line,
                zone: &zone,
                threads: cli
                    .threads
                    .unwrap_or_else(scan::default_threads)
                    .clamp(1, 64),
            },
        )
    });
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        Ok(Outcome::Incomplete) => ExitCode::from(2),
        // A closed pipe (`eventlog query … | head`) is not an error.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let mut message = format!("eventlog: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let _ = write!(message, ": {s}");
                source = s.source();
            }
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}
