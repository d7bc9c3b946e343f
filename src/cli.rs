//! Command line: `kidsearch [serve] [--config PATH]` and `kidsearch check [--config PATH]`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::engines::Availability;
use crate::settings::{Settings, Sources};
use crate::store::NewDatabase;

#[derive(Debug, Parser)]
#[command(name = "kidsearch", version, about = "A child-safe, supervised search gateway for classroom devices")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, clap::Args, Clone, Default)]
pub struct Common {
    /// Server config file (TOML). Without one, built-in defaults are used.
    #[arg(long, global = true, env = "KIDSEARCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 0.0.0.0:8080 (overrides the config file).
    #[arg(long, global = true, env = "KIDSEARCH_LISTEN")]
    pub listen: Option<String>,
    /// Folder for kidsearch's data (overrides the config file).
    #[arg(long, global = true, env = "KIDSEARCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL database shared by a trust's instances (overrides the config file).
    #[arg(long, global = true, env = "KIDSEARCH_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Start with a new, empty database although this data dir was used before (its key files
    /// are there) and the database file is missing or empty: staff accounts, iPads, approvals
    /// and the incident register start again, incident numbers from 1. Without it kidsearch
    /// refuses to start, so that a lost file is restored instead (`kidsearch restore PATH`).
    #[arg(long, global = true)]
    pub new_database: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Validate the config and allowlist/ files; name file, line and fix for each problem.
    Check {
        /// Also ask every ready engine one known query and report which answer and parse
        /// (the result is kept for the staff Engine health page). Exit 1 if any fails.
        #[arg(long)]
        canary: bool,
        /// Also run the filter self-test: every probe in allowlist/probes.txt through the
        /// query check (no engine asked), per category. Exit 1 on an unexpected pass or refusal.
        #[arg(long)]
        filter_test: bool,
        /// Also run SQLite's full integrity check on the database and say what it found.
        /// Exit 1 if it is damaged. (On PostgreSQL, the server checks its own pages.)
        #[arg(long)]
        database: bool,
    },
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the schools of a trust's deployment (one install has one school already).
    #[command(subcommand)]
    School(SchoolCommand),
    /// The UT1 block lists the settings name (`lists_categories`), fetched into the data dir.
    #[command(subcommand)]
    Lists(ListsCommand),
    /// Write a consistent copy of the database to PATH while the server runs.
    Backup {
        /// The file to write (must not exist yet).
        path: PathBuf,
    },
    /// Write an Apple configuration profile (.mobileconfig) that puts kidsearch on class iPads.
    IpadProfile {
        /// The address iPads use to reach kidsearch, e.g. https://kidsearch.school.lan
        #[arg(long)]
        url: String,
        /// The class the iPads belong to, e.g. Oak.
        #[arg(long)]
        class: String,
        /// Also add a web content filter that allows only kidsearch and the walled garden's sites.
        #[arg(long)]
        filter: bool,
        /// The allowlist folder whose garden/domains the filter allows (default: ./allowlist, or
        /// the built-in copy).
        #[arg(long, default_value = "allowlist")]
        allowlist: PathBuf,
        /// Where to write the profile (default: kidsearch-<class>.mobileconfig).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Ask the running server on this machine whether it is healthy (`/healthz`); exit 0 if so.
    /// For container health checks and monitoring scripts.
    Health {
        /// The address to ask (default: this machine, on the configured port and scheme).
        #[arg(long)]
        url: Option<String>,
    },
    /// Put a backup back in place of the database. Stop the server first; the current
    /// database is kept beside it.
    Restore {
        /// A file made by `kidsearch backup`.
        path: PathBuf,
    },
}

/// `kidsearch ipad-profile --url URL --class NAME [--filter] [--out FILE]`.
pub fn ipad_profile(url: &str, class: &str, filter: bool, allowlist: &std::path::Path, out: Option<&std::path::Path>) -> i32 {
    use crate::deploy::ipad_profile::{build, to_xml, ProfileRequest};
    let also_allowed = if filter { crate::policy::garden_domains(allowlist) } else { Vec::new() };
    let profile = build(&ProfileRequest { url: url.to_string(), class: class.to_string(), filter, also_allowed }).and_then(|p| to_xml(&p));
    let bytes = match profile {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let default = PathBuf::from(format!("kidsearch-{}.mobileconfig", class.trim().replace(['/', '\\', ' '], "-")));
    let path = out.map(PathBuf::from).unwrap_or(default);
    match std::fs::write(&path, bytes) {
        Ok(()) => {
            println!("wrote {}: install it with Apple Configurator or upload it to your MDM", path.display());
            0
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            1
        }
    }
}

/// `kidsearch backup PATH` / `kidsearch restore PATH`.
pub fn backup_or_restore(common: &Common, command: &Command) -> i32 {
    let server = match Settings::load(&common.sources()) {
        Ok(s) => s.server,
        Err(problems) => {
            eprint!("kidsearch cannot read its configuration:\n{problems}");
            return 1;
        }
    };
    let data_dir = server.data_dir;
    use crate::store::backup;
    let result = match (command, server.database_url.as_deref()) {
        (Command::Backup { path }, Some(url)) => backup::backup_postgres(url, path).map(|()| format!("backup (pg_dump) written to {}", path.display())),
        (Command::Restore { path }, Some(url)) => backup::restore_postgres(url, &data_dir, path)
            .map(|kept| format!("restored {}; the database as it was is kept as {}", path.display(), kept.display())),
        (Command::Backup { path }, None) => backup::backup(&data_dir, path).map(|counts| {
            let rows = counts.iter().map(|(table, n)| format!("{table} {n}")).collect::<Vec<_>>().join(", ");
            format!("backup written to {}; verified: integrity check ok, rows as in the database ({rows})", path.display())
        }),
        (Command::Restore { path }, None) => backup::restore(&data_dir, path).map(|kept| match kept {
            Some(old) => format!("restored {}; the previous database is kept as {}", path.display(), old.display()),
            None => format!("restored {}", path.display()),
        }),
        _ => return 2,
    };
    match result {
        Ok(message) => {
            println!("{message}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account. The password is read from standard input (a prompt, or a pipe),
    /// never from the command line, where other users of the machine could see it.
    Add {
        /// teacher, dsl (designated safeguarding lead) or admin (ICT technician).
        #[arg(long, default_value = "teacher")]
        role: String,
        /// The name staff sign in with.
        name: String,
        /// The school the account belongs to (needed once there are several).
        #[arg(long, conflicts_with = "trust")]
        school: Option<String>,
        /// A trust-wide admin, who sees every school.
        #[arg(long)]
        trust: bool,
    },
    /// Set a new password for an account (read from standard input, never the command line)
    /// and sign it out everywhere: a forgotten password, even the last admin's.
    Passwd {
        /// The account's name.
        name: String,
    },
    /// Remove an account (someone who left): it can never sign in again and is signed out
    /// everywhere. What it did stays in the records under its name.
    Remove {
        /// The account's name.
        name: String,
    },
    /// List the current accounts: name, role, school.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Fetch every category in `lists_categories` from `lists_url` (UT1), check it and install
    /// it in the data dir; a running server picks the new lists up within seconds. A download
    /// that is damaged, too large or not a UT1 list is refused and the list in force stays.
    /// Exit 1 if any category was not installed. Run nightly by deploy/kidsearch-lists.timer.
    Update,
}

/// `kidsearch lists update`: one line per category, then what to do if any failed.
pub fn lists(common: &Common, command: &ListsCommand) -> i32 {
    let ListsCommand::Update = command;
    let server = match Settings::load(&common.sources()) {
        Ok(s) => s.server,
        Err(problems) => {
            eprint!("kidsearch cannot read its configuration:\n{problems}");
            return 1;
        }
    };
    if server.lists_categories.is_empty() {
        println!("lists_categories is empty in the settings: nothing to fetch (name UT1's categories there, e.g. [\"adult\", \"gambling\"])");
        return 0;
    }
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("error: cannot start the runtime");
        return 1;
    };
    println!("fetching {} UT1 list(s) from {} into {}:", server.lists_categories.len(), server.lists_url, server.fetched_lists_dir().display());
    match runtime.block_on(crate::lists::update(&server)) {
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
        Ok(outcomes) => {
            for o in &outcomes {
                println!("  {:<14} {}", o.category, o.message);
            }
            let failed = outcomes.iter().filter(|o| !o.installed).count();
            if failed == 0 {
                println!("ok: every list installed; a running kidsearch reads them within seconds");
                0
            } else {
                println!("{failed} list(s) not installed (see above); the ones installed before stay in force");
                1
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SchoolCommand {
    /// Add a school.
    Add { name: String },
    /// List the schools.
    List,
    /// Rename a school (a new install's one school is called "Our school").
    Rename { old: String, new: String },
}

/// Runs `f` on the configured database (the commands that change accounts and schools).
fn on_store<T>(common: &Common, f: impl AsyncFnOnce(crate::store::Store) -> Result<T, String>) -> Result<T, String> {
    let settings = Settings::load(&common.sources()).map_err(|problems| format!("kidsearch cannot read its configuration:\n{problems}"))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        crate::store::private::data_dir(&settings.server.data_dir).map_err(|e| e.to_string())?;
        let server = &settings.server;
        let store = crate::store::Store::open_with(&server.data_dir, server.database_url.as_deref(), NewDatabase::from_flag(server.new_database))
            .map_err(|e| e.to_string())?;
        f(store).await
    })
}

/// `kidsearch school add|list|rename`.
pub fn school(common: &Common, command: &SchoolCommand) -> i32 {
    use crate::store::schools;
    let result = on_store(common, async |store| match command {
        SchoolCommand::Add { name } => schools::add(&store, name).await.map(|s| format!("added school {} (id {})", s.name, s.id)).map_err(|e| e.to_string()),
        SchoolCommand::Rename { old, new } => schools::rename(&store, old, new).await.map(|s| format!("renamed to {}", s.name)).map_err(|e| e.to_string()),
        SchoolCommand::List => {
            let all = schools::list(&store).await.map_err(|e| e.to_string())?;
            Ok(all.iter().map(|s| format!("{}\t{}", s.id, s.name)).collect::<Vec<_>>().join("\n"))
        }
    });
    match result {
        Ok(message) => {
            println!("{message}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// The school a new account joins: the one named, none (trust-wide), or the only one there is.
async fn school_for_account(store: &crate::store::Store, named: Option<&str>, trust: bool) -> Result<Option<crate::schools::SchoolId>, String> {
    use crate::store::schools;
    if trust {
        return Ok(None);
    }
    if let Some(name) = named {
        return match schools::by_name(store, name).await.map_err(|e| e.to_string())? {
            Some(s) => Ok(Some(s.id)),
            None => Err(schools::SchoolError::Unknown(name.to_string()).to_string()),
        };
    }
    match schools::only_school(store).await.map_err(|e| e.to_string())? {
        Ok(only) => Ok(Some(only.id)),
        Err(several) => {
            let names: Vec<String> = several.into_iter().map(|s| s.name).collect();
            Err(format!("there are several schools ({}): name one with --school, or --trust for a trust-wide admin", names.join(", ")))
        }
    }
}

/// `kidsearch user add --role ROLE [--school NAME | --trust] NAME`, `user passwd NAME`,
/// `user remove NAME`, `user list`.
pub fn user(common: &Common, command: &UserCommand) -> i32 {
    use crate::staff::accounts;
    if let Err(problems) = Settings::load(&common.sources()) {
        eprint!("kidsearch cannot read its configuration:\n{problems}");
        return 1;
    }
    let result = match command {
        UserCommand::Add { role, name, school, trust } => {
            let Some(role) = crate::staff::Role::parse(role) else {
                eprintln!("error: role must be teacher, dsl or admin");
                return 2;
            };
            let Some(password) = read_password(name) else { return 1 };
            on_store(common, async |store| {
                let school = school_for_account(&store, school.as_deref(), *trust).await?;
                let account = accounts::add_account(&store, name, role, &password, school).await.map_err(|e| e.to_string())?;
                Ok(format!("added {} ({})", account.name, account.role.as_str()))
            })
        }
        UserCommand::Passwd { name } => {
            let Some(password) = read_password(name) else { return 1 };
            on_store(common, async |store| {
                let account = existing_account(&store, name).await?;
                accounts::set_password(&store, &account, &password).await.map_err(|e| e.to_string())?;
                accounts::security_event(&store, "password_reset", Some(&account.name), Some("by the command line")).await;
                Ok(format!("new password set for {}; signed out everywhere", account.name))
            })
        }
        UserCommand::Remove { name } => on_store(common, async |store| {
            let account = existing_account(&store, name).await?;
            accounts::remove_account(&store, &account).await.map_err(|e| e.to_string())?;
            accounts::security_event(&store, "account_removed", Some(&account.name), Some("by the command line")).await;
            Ok(format!("removed {}: can no longer sign in; signed out everywhere", account.name))
        }),
        UserCommand::List => on_store(common, async |store| {
            let staff = accounts::list_accounts(&store, None).await.map_err(|e| e.to_string())?;
            let schools = crate::store::schools::list(&store).await.map_err(|e| e.to_string())?;
            let school_of = |id: Option<crate::schools::SchoolId>| match id {
                None => "trust-wide".to_string(),
                Some(id) => schools.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.name.clone()),
            };
            Ok(staff.iter().map(|a| format!("{}\t{}\t{}", a.name, a.role.as_str(), school_of(a.school))).collect::<Vec<_>>().join("\n"))
        }),
    };
    match result {
        Ok(said) => {
            if !said.is_empty() {
                println!("{said}");
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// A password typed at a prompt or piped in: standard input, never the command line, where
/// other users of the machine could see it.
fn read_password(name: &str) -> Option<String> {
    eprint!("Password for {name} (at least {} characters): ", crate::staff::accounts::MIN_PASSWORD_CHARS);
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() {
        eprintln!("\nerror: could not read the password from standard input");
        return None;
    }
    eprintln!();
    Some(password.trim_end_matches(['\n', '\r']).to_string())
}

async fn existing_account(store: &crate::store::Store, name: &str) -> Result<crate::staff::StaffAccount, String> {
    crate::staff::accounts::account_named(store, name)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("there is no staff account named {name:?} (kidsearch user list shows them)"))
}

impl Common {
    pub fn sources(&self) -> Sources {
        Sources {
            config_path: self.config.clone(),
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            new_database: self.new_database,
        }
    }
}

/// `kidsearch check [--canary]`: prints every problem (exit 1) or a summary of the engines
/// (exit 0); with `--canary`, then asks every ready engine and reports (exit 1 if one fails).
pub fn check(common: &Common, canary: bool, filter_test: bool, database: bool) -> i32 {
    let config = check_config(common, canary, filter_test);
    if !database {
        return config;
    }
    let Ok(settings) = Settings::load(&common.sources()) else { return 1 };
    config.max(check_database(&settings.server))
}

/// `check --database`: the full `integrity_check` of the SQLite file, every finding printed.
fn check_database(server: &crate::config::ServerConfig) -> i32 {
    use crate::store::integrity;
    if server.database_url.is_some() {
        println!("database: PostgreSQL checks its own pages (initdb --data-checksums; pg_amcheck for a full check)");
        return 0;
    }
    let path = server.data_dir.join(crate::store::DB_FILE);
    if !path.exists() {
        println!("database: {} does not exist yet", path.display());
        return 0;
    }
    match integrity::full_check(&path) {
        Ok(()) => {
            println!("database {}: integrity check: ok", path.display());
            0
        }
        Err(findings) => {
            println!("database {} is damaged; SQLite's integrity check found {} problem(s):", path.display(), findings.len());
            for line in &findings {
                println!("  {line}");
            }
            println!("{}.", integrity::how_to_recover().replace("Run `kidsearch check --database` for the full report, then put", "Put"));
            1
        }
    }
}

/// The configuration part of `check [--canary]`.
fn check_config(common: &Common, canary: bool, filter_test: bool) -> i32 {
    match Settings::load(&common.sources()) {
        Err(problems) => {
            for p in &problems.0 {
                println!("error: {p}");
            }
            println!("{} problem(s) found; the server will not start until they are fixed.", problems.0.len());
            1
        }
        Ok(settings) => {
            println!("engines from {}:", settings.engines_source);
            for e in settings.engines.all() {
                let state = match &e.availability {
                    Availability::Ready => "ready".to_string(),
                    Availability::Off(why) => format!("off — {why}"),
                };
                println!("  {:<18} {:<8} {}", e.id, format!("{:?}", e.audience).to_lowercase(), state);
            }
            for u in settings.engines.unsearchable() {
                println!("  {:<18} {:<8} off — {}", u.id, "", u.reason);
            }
            let policy = &settings.policy;
            println!(
                "safety policy: {} term entries in {} categories ({}); block lists: {}; kids' sites: {}; trusted: {}; walled garden: {}",
                policy.terms.len(),
                policy.terms.categories().len(),
                policy.terms.categories().join(", "),
                policy.blocked.iter().map(|(c, s)| format!("{c} {}", s.len())).collect::<Vec<_>>().join(", "),
                policy.kids.len(),
                policy.trusted.len(),
                policy.garden.as_ref().map_or("off".to_string(), |g| format!("{} domains", g.len())),
            );
            print_fetched_lists(&settings);
            for w in &settings.warnings {
                println!("warning: {w}");
            }
            let live = settings.engines.for_pupils().count();
            if live == 0 {
                println!("warning: no engine is ready for pupils' live searches");
            }
            let warnings = settings.warnings.len();
            let filter = filter_test.then(|| run_filter_test(&settings));
            if filter.as_ref().is_some_and(|t| !t.ok()) && !canary {
                return 1;
            }
            if canary {
                // With the canary the database is open anyway: the filter test is kept too.
                let filter_ok = filter.as_ref().is_none_or(|t| t.ok());
                let canary_code = run_canary(settings, filter);
                if !filter_ok {
                    return 1;
                }
                if canary_code != 0 || warnings > 0 {
                    return 1;
                }
                return 0;
            }
            if settings.warnings.is_empty() {
                println!("ok: configuration is valid ({live} engine(s) ready for pupils)");
                0
            } else {
                println!("{} warning(s): the server would start, but fix them to be sure the lists do what you expect.", settings.warnings.len());
                1
            }
        }
    }
}

/// `check`'s lines on the fetched UT1 lists: each one's domains and age, or that it was never
/// fetched, and a last update that did not install it. Notes, not warnings: a new install has
/// fetched nothing yet and is still sound (the shipped lists apply).
fn print_fetched_lists(settings: &Settings) {
    let fetched = crate::policy::FetchedLists::of(&settings.server);
    if fetched.categories.is_empty() {
        return;
    }
    let now = jiff::Timestamp::now().as_millisecond();
    println!("fetched lists (UT1, {}):", fetched.dir.display());
    for list in crate::lists::states(&fetched) {
        let in_force = settings.policy.fetched.iter().find(|(c, _)| *c == list.category).map_or(0, |(_, s)| s.len());
        // `ut1/<category>`: a UT1 name may be a term list's too (gambling), whose filter-test
        // line below starts with the bare name.
        let name = format!("ut1/{}", list.category);
        match (&list.fetched, list.age_words(now)) {
            (Some(f), Some(age)) => println!(
                "  {name:<14} {in_force} domains, fetched {age} ago ({})",
                jiff::Timestamp::from_millisecond(f.at_ms).map(|t| t.to_string()).unwrap_or_default()
            ),
            _ => println!("  {name:<14} never fetched: run `kidsearch lists update`"),
        }
        if let Some(last) = list.last.as_ref().filter(|o| !o.installed) {
            println!("  {:<14} the last update did not install it: {}", "", last.message);
        }
    }
}

/// The health address for `--url`: the server's base address ("https://kidsearch.school.lan")
/// or its `/healthz` itself, with or without a trailing slash.
fn healthz_url(given: &str) -> String {
    let (address, query) = given.split_once('?').map_or((given, None), |(a, q)| (a, Some(q)));
    let base = address.trim_end_matches('/');
    let path = if base.ends_with("/healthz") { base.to_string() } else { format!("{base}/healthz") };
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    }
}

/// The filter self-test part of `check --filter-test`: one line per category, then every
/// problem. `ok()` when every probe did as expected.
fn run_filter_test(settings: &Settings) -> crate::policy::probes::FilterTest {
    let (text, file) = crate::policy::probes::read(&settings.server.allowlist_dir);
    let test = crate::policy::probes::run(&settings.policy, &text, &file, &settings.server.categories_off);
    println!("filter test ({file}), no engine asked:");
    for c in &test.categories {
        if c.off {
            println!("  {:<14} off (categories_off)", c.category);
        } else if c.category == crate::policy::probes::ORDINARY {
            println!("  {:<14} {}/{} allowed", c.category, c.as_expected, c.probes);
        } else {
            println!("  {:<14} {}/{} refused", c.category, c.as_expected, c.probes);
        }
    }
    for n in &test.notes {
        println!("note: {n}");
    }
    for p in &test.problems {
        println!("problem: {p}");
    }
    if test.ok() {
        println!("ok: every probe did as expected");
    } else {
        println!("{} problem(s): the filter does not do what the probes expect", test.problems.len());
    }
    test
}

/// `kidsearch health [--url URL]`: 0 when `/healthz` answers `200 ok` within 5 s, else 1.
pub fn health(common: &Common, url: Option<&str>) -> i32 {
    let url = match url {
        Some(u) => healthz_url(u),
        None => {
            let config = match &common.config {
                Some(path) => match crate::config::ServerConfig::from_file(path) {
                    Ok(c) => c,
                    Err(problems) => {
                        eprint!("kidsearch cannot read its configuration:\n{problems}");
                        return 1;
                    }
                },
                None => crate::config::ServerConfig::default(),
            };
            let listen = common.listen.clone().unwrap_or(config.listen);
            let port = listen.parse::<std::net::SocketAddr>().map_or(8080, |a| a.port());
            let scheme = if config.tls_cert.is_some() { "https" } else { "http" };
            format!("{scheme}://127.0.0.1:{port}/healthz")
        }
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return 1 };
    runtime.block_on(async {
        // Liveness of our own server on loopback: its certificate names the school's host, not
        // 127.0.0.1, so it is not verified here (nothing secret is sent).
        let client = match reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).danger_accept_invalid_certs(true).build() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                return 1;
            }
        };
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                println!("healthy: {url}");
                0
            }
            Ok(r) => {
                eprintln!("unhealthy: {url} answered {}", r.status());
                1
            }
            Err(e) => {
                eprintln!("unhealthy: {url}: {e}");
                1
            }
        }
    })
}

/// The canary part of `check --canary`: prints one line per engine, records the results in
/// the data dir's database (for the staff Engine health page and the annual review), with the
/// filter test's run when `--filter-test` came too.
fn run_canary(settings: Settings, filter: Option<crate::policy::probes::FilterTest>) -> i32 {
    let config = settings.server.clone();
    let Ok(runtime) = tokio::runtime::Runtime::new() else {
        eprintln!("error: cannot start the canary's runtime");
        return 1;
    };
    runtime.block_on(async move {
        if let Err(e) = crate::store::private::data_dir(&config.data_dir) {
            eprintln!("error: {e}");
            return 1;
        }
        // Opened before any key is made: a key file in the data dir means a database was made
        // here (`store::lost`), also when the canary is the first thing ever run.
        let store = match crate::store::Store::open_with(&config.data_dir, config.database_url.as_deref(), NewDatabase::from_flag(config.new_database)) {
            Ok(store) => store,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        };
        if let Some(test) = filter {
            let run = crate::checks::CheckRun {
                at_ms: crate::store::now_ms(),
                kind: crate::checks::FILTER_TEST.into(),
                ok: test.ok(),
                summary: test.summary(),
                by: None,
            };
            if let Err(e) = crate::checks::record(&store, run).await {
                eprintln!("warning: the filter test could not be kept for the annual review: {e}");
            }
        }
        let keys = crate::secrets::Keys::from_config(&config.data_dir, config.shared_secret_file.as_deref());
        let links = match keys.and_then(|keys| crate::policy::golink::LinkSigner::new(&keys)) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        };
        let hidden = std::sync::Arc::new(crate::safeguarding::hidden::HiddenResults::default());
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
        let search = match crate::search::SearchService::new(
            settings.engines,
            std::sync::Arc::new(crate::policy::LivePolicy::fixed(settings.policy)),
            links,
            hidden,
            metrics,
            std::sync::Arc::new(crate::clock::SystemClock),
            &config,
        ) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        };
        let Ok(query) = crate::query::Query::parse(crate::canary::QUERY) else { return 1 };
        let results = search.canary(&query).await;
        println!("engine canary (\"{}\", page 1, straight to each engine):", crate::canary::QUERY);
        for r in &results {
            match &r.error {
                None => println!("  {:<18} ok      {} results in {} ms", r.engine, r.results, r.millis),
                Some(e) => println!("  {:<18} FAILED  {e} ({} ms)", r.engine, r.millis),
            }
        }
        let failed = results.iter().filter(|r| !r.ok).count();
        let summary = crate::canary::summary(&results, &search.engines());
        if let Err(e) = crate::canary::record(&store, results, summary.clone(), None).await {
            eprintln!("warning: the result could not be kept for the staff page: {e}");
        }
        if failed == 0 {
            println!("ok: every ready engine answered and parsed");
            0
        } else {
            println!("{summary}. {failed} engine(s) failed: see README (Adding or repairing an engine)");
            1
        }
    })
}

#[cfg(test)]
mod tests {
    use super::healthz_url;

    #[test]
    fn health_takes_the_base_address_or_healthz_itself() {
        assert_eq!(healthz_url("https://kidsearch.school.lan"), "https://kidsearch.school.lan/healthz");
        assert_eq!(healthz_url("https://kidsearch.school.lan/"), "https://kidsearch.school.lan/healthz");
        assert_eq!(healthz_url("http://127.0.0.1:8080/healthz"), "http://127.0.0.1:8080/healthz");
        assert_eq!(healthz_url("http://127.0.0.1:8080/healthz?strict"), "http://127.0.0.1:8080/healthz?strict");
    }
}
